"""Engine benchmark: the rules engine against the same game written by hand.

Prints microseconds per round resolution and games per second for InterLodge with
random bots, for the engine (``game.core.engine`` via ``game.core.simulate.play_game``) and for a
hand-written plain-Python version of the same deck, with the ratio. The hand-written
game must reproduce the engine's final metrics exactly, which the benchmark checks
first, so both sides do the same work (including recording every change with its cause).

    python bench/engine.py [--games 10000]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from game.core.bots import get_strategy  # noqa: E402
from game.core.deck import GROUPS  # noqa: E402
from game.core.engine import new_state, resolve_round  # noqa: E402
from game.core.rulebook import Rulebook
from game.core.simulate import play_game  # noqa: E402
from game.deckfiles import load_deck  # noqa: E402

# The hand-written game below mirrors this deck: the InterLodge of November 2026, frozen (without
# timers) for the tests' screens, so that reworking the bundled deck leaves the benchmark comparable.
DECK = Path(__file__).resolve().parent.parent / "tests" / "decks" / "untimed.toml"

# ---- the hand-written InterLodge -----------------------------------------------------------

SILOS = {
    "open": {
        ("top", "middle"),
        ("middle", "top"),
        ("middle", "bottom"),
        ("bottom", "middle"),
        ("customer", "bottom"),
        ("bottom", "customer"),
    },
    "listens": {("middle", "bottom"): 0.2, ("top", "middle"): 0.6},
}
DESK_VOICE = {
    "open": SILOS["open"] | {("top", "bottom"), ("bottom", "top"), ("customer", "middle")},
    "listens": {("middle", "bottom"): 1.0, ("middle", "customer"): 0.6, ("top", "middle"): 0.6, ("top", "bottom"): 0.5},
}
BOUNDS = (0.0, 100.0)


class HandGame:
    """InterLodge's rules as plain Python; option tables are read from the deck as data."""

    def __init__(self, deck) -> None:
        self.cards = {c.round: c.id for c in deck.cards}
        self.options: dict[tuple[str, str], dict[str, tuple[dict[str, float], str]]] = {}
        self.defaults = {}
        for card in deck.cards:
            for o in card.options:
                self.options.setdefault((card.id, o.group), {})[o.id] = ({k: float(v) for k, v in o.effects.items()}, o.lever)
                if o.default:
                    self.defaults[(card.id, o.group)] = o.id
        self.start = {n: m.start for n, m in deck.metrics.items()}

    def listens(self, pattern, a, b):
        if (a, b) in pattern["listens"]:
            return pattern["listens"][(a, b)]
        return 0.5 if (b, a) in pattern["open"] else 0.0

    def play(self, seed: int, pattern_name: str, rounds: int = 6):
        pattern = SILOS if pattern_name == "silos" else DESK_VOICE
        m = dict(self.start)
        history = []
        pending = []
        choice_rng = random.Random(seed * 2 + 1)
        talk_rng = random.Random(seed * 2 + 2)
        lmb = self.listens(pattern, "middle", "bottom")
        ltb = self.listens(pattern, "top", "bottom")
        lmc = self.listens(pattern, "middle", "customer")

        def apply(metric, asked, lever, cause, r):
            if not asked:
                return
            old = m[metric]
            new = min(BOUNDS[1], max(BOUNDS[0], old + asked))
            m[metric] = new
            history.append((r, metric, new - old, lever, cause))

        for r in range(1, rounds + 1):
            card = self.cards[r]
            picks = {}
            for g in GROUPS:
                if (card, g) in self.options:
                    picks[g] = choice_rng.choice(sorted(self.options[(card, g)]))
            said = {}
            for g in GROUPS:
                for a, b in sorted(c for c in pattern["open"] if c[0] == g):
                    if talk_rng.random() < 0.7:
                        said[(a, b)] = 1
            keep = []
            for due, metric, delta, lever, cause in pending:
                if due == r:
                    apply(metric, delta, lever, cause, r)
                else:
                    keep.append((due, metric, delta, lever, cause))
            pending = keep
            for g, option in picks.items():
                effects, lever = self.options[(card, g)][option]
                for metric, amount in effects.items():
                    apply(metric, amount, lever, option, r)
            bottom = picks.get("bottom")
            middle = picks.get("middle")
            s = dict(m)
            fire = []
            report = bottom == "report_fault"
            if report and lmb >= 0.8:
                pending += [
                    (r + 1, "faults", -6.0, "interaction", "ff"),
                    (r + 1, "satisfaction", 3.0, "interaction", "ff"),
                    (r + 1, "margin", 2.0, "interaction", "ff"),
                ]
            if report and lmb < 0.8:
                fire += [("engagement", -3.0, "interaction", "rv"), ("faults", 2.0, "interaction", "rv")]
            if said.get(("bottom", "middle")) and lmb >= 0.8:
                fire += [
                    ("faults", -3.0, "interaction", "hk"),
                    ("satisfaction", 1.0, "interaction", "hk"),
                    ("margin", 1.0, "interaction", "hk"),
                ]
            if said.get(("bottom", "middle")) and lmb < 0.5:
                fire += [("engagement", -2.0, "interaction", "du")]
            if said.get(("bottom", "top")) and ltb > 0:
                fire += [("considerateness", 4.0, "interaction", "ri"), ("margin", 1.0, "interaction", "ri")]
            if said.get(("customer", "middle")) and lmc > 0.5:
                fire += [("satisfaction", 1.0, "interaction", "gh"), ("faults", -1.0, "interaction", "gh")]
            if s["refunds"] > 30:
                fire += [("margin", -(s["refunds"] - 30) / 4, "other", "re")]
            if s["faults"] > 35:
                fire += [("satisfaction", -3.0, "other", "fd"), ("refunds", 2.0, "other", "fd")]
            if bottom in ("bend_rules", "upgrade") or middle == "back_desk":
                pending += [(r + 1, "satisfaction", 3.0, "special_treatment", "st"), (r + 1, "margin", 2.0, "special_treatment", "st")]
            if bottom in ("voucher", "refund_first", "keep_reserve"):
                pending += [(r + 2, "refunds", 3.0, "special_treatment", "vt"), (r + 2, "margin", -1.0, "special_treatment", "vt")]
            if s["considerateness"] >= 65:
                fire += [("engagement", 2.0, "considerateness", "ct"), ("satisfaction", 1.0, "considerateness", "ct")]
            if s["considerateness"] < 50:
                pending += [(r + 1, "engagement", -2.0, "considerateness", "it")]
            if s["engagement"] > 60:
                fire += [("satisfaction", 2.0, "other", "ef"), ("refunds", -2.0, "other", "ef")]
            if s["engagement"] < 35:
                fire += [("refunds", 3.0, "other", "bo"), ("satisfaction", -1.0, "other", "bo")]
            for metric, delta, lever, cause in fire:
                apply(metric, delta, lever, cause, r)
            apply("faults", 3.0, "other", "drift", r)
            apply("considerateness", -2.0, "other", "drift", r)
        return m, history


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", type=int, default=10_000, help="games per side (default 10,000)")
    args = parser.parse_args()

    deck = load_deck(DECK)
    t0 = time.perf_counter()
    book = Rulebook(deck)
    compile_ms = (time.perf_counter() - t0) * 1000
    hand = HandGame(deck)
    bot = get_strategy("random")

    # Fairness first: the hand-written game must give the engine's results.
    for seed in range(300):
        for pattern in ("silos", "desk_voice"):
            engine_final = play_game(book, seed, pattern, bot).final.metrics
            hand_final, _ = hand.play(seed, pattern)
            assert all(abs(engine_final[k] - hand_final[k]) < 1e-9 for k in hand_final), (seed, pattern, engine_final, hand_final)
    print("hand-written baseline agrees with the engine on 600 games")

    n = args.games
    t0 = time.perf_counter()
    for seed in range(n):
        play_game(book, seed, "desk_voice" if seed % 2 else "silos", bot)
    engine_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for seed in range(n):
        hand.play(seed, "desk_voice" if seed % 2 else "silos")
    hand_s = time.perf_counter() - t0

    # Resolution alone: replay recorded inputs without bots.
    logs = [play_game(book, seed, "desk_voice", bot).log for seed in range(500)]
    rounds = sum(len(log) for log in logs)
    t0 = time.perf_counter()
    for seed, log in enumerate(logs):
        state = new_state(book, seed, "desk_voice")
        for inputs in log:
            state, _ = resolve_round(book, state, inputs)
    resolve_us = (time.perf_counter() - t0) / rounds * 1e6
    hand_round_us = hand_s / (n * 6) * 1e6

    print(f"deck compile: {compile_ms:.1f} ms")
    print(
        f"engine: {n:,} InterLodge games with random bots in {engine_s:.2f} s = {n / engine_s:,.0f} games/s "
        "(target: 10,000 games in <= 10 s)"
    )
    print(f"hand-written: {n:,} games in {hand_s:.2f} s = {n / hand_s:,.0f} games/s")
    print(f"ratio engine / hand-written, whole games: {engine_s / hand_s:.2f}x (target <= 3x)")
    print(f"engine round resolution alone: {resolve_us:.1f} us/round; hand-written round incl. bots: {hand_round_us:.1f} us/round")


if __name__ == "__main__":
    main()
