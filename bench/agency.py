"""Time the whole `deck simulate` report (agency block included) per bundled deck.

    python bench/agency.py [--runs 1000] [DECK ...]

For each deck: the time of today's per-pattern simulation alone (the report without its
agency block, under the deck's claim strategy) and of the whole report, in the same run, on
one core. The target is at most 30 s per deck at 1,000 games per strategy.
"""

from __future__ import annotations

import argparse
import time

from game.core.rulebook import Rulebook
from game.core.simulate import simulate
from game.deckfiles import bundled_decks, load_deck


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("decks", nargs="*", help="bundled deck names (default: all)")
    parser.add_argument("--runs", type=int, default=1000)
    args = parser.parse_args()
    decks = bundled_decks()
    names = args.decks or list(decks)
    print(f"{'deck':<20} {'simulate':>10} {'whole report':>13}   ({args.runs} games per strategy and pattern)")
    for name in names:
        deck = load_deck(decks[name])
        strategy = deck.claim.strategy if deck.claim else "random"
        start = time.perf_counter()
        simulate(Rulebook(deck), runs=args.runs, strategy=strategy, agency=False)
        baseline = time.perf_counter() - start
        start = time.perf_counter()
        report = simulate(Rulebook(deck), runs=args.runs, strategy=strategy)
        whole = time.perf_counter() - start
        print(f"{name:<20} {baseline:9.1f}s {whole:12.1f}s", flush=True)
        if "agency" in report:
            print("    " + summary(report["agency"]), flush=True)


def _share(value: float | None) -> str:
    return "null" if value is None else f"{value:.2f}"


def summary(agency: dict) -> str:
    """One line of the agency figures."""
    table = " ".join(f"{name} {row['holds']:.0%}/{row['gap']:+.1f}" for name, row in agency["claim_by_strategy"].items())
    play = " ".join(f"{p} {agency['worst_play'][p]:.1f}..{agency['best_play'][p]:.1f}" for p in (agency["better"], agency["than"]))
    return (
        f"holds/gap: {table} | behaviour {_share(agency['gap_from_behaviour'])} structure {_share(agency['gap_from_structure'])} "
        f"decrees {_share(agency['gap_from_decrees'])} | pattern-dependent decisions {_share(agency['pattern_dependent_decisions'])} "
        f"| worst..best play: {play}"
    )


if __name__ == "__main__":
    main()
