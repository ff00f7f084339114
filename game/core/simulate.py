"""Play a deck many times with bots and summarise what it teaches.

Used by ``crossroads deck simulate``, the deck tests and the engine benchmark.
Games are paired across patterns: game k uses seed ``seed + k`` under every pattern, and
the bots' choices draw from a random source that does not depend on the pattern, so a
difference between patterns comes from the pattern alone.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import attrs
from attrs import frozen

from game.core.agency import GameSet, agency_report, claim_holds
from game.core.bots import STRATEGIES, Strategy, get_strategy
from game.core.deck import GROUPS, LEVERS
from game.core.engine import OrgState, RoundInputs, attribution, deal_card, new_state, resolve_round
from game.core.rounds import RoundRandom, round_inputs
from game.core.rulebook import Rulebook


@frozen
class GameRecord:
    seed: int
    pattern: str
    final: OrgState
    log: tuple[RoundInputs, ...]


def play_game(
    book: Rulebook,
    seed: int,
    pattern: str,
    strategy: Strategy | dict[str, Strategy],
    *,
    players: int = 1,
    rounds: int | None = None,
) -> GameRecord:
    """Play one whole game with bots in every seat; ``strategy`` may differ per group."""
    rng = RoundRandom(random.Random(seed * 2 + 3), random.Random(seed * 2 + 1), random.Random(seed * 2 + 2))
    seats = dict.fromkeys(GROUPS, (None,) * players)
    state = new_state(book, seed, pattern)
    log = []
    for _ in range(rounds or book.deck.deck.rounds):
        card = deal_card(book, state)
        bot = strategy if not isinstance(strategy, dict) else _PerGroup(strategy)
        inputs = round_inputs(book, state, card.id, bot, rng, seats=seats)
        state, _ = resolve_round(book, state, inputs)
        log.append(inputs)
    return GameRecord(seed, pattern, state, tuple(log))


@frozen
class _PerGroup:
    """A strategy per group, as one strategy."""

    by_group: dict[str, Strategy]
    name = "per group"
    description = "a strategy for each group"

    @property
    def asks(self) -> bool:
        return any(s.asks for s in self.by_group.values())

    def ask(self, book, state, card_id, group, rng):  # type: ignore[no-untyped-def]
        return self.by_group[group].ask(book, state, card_id, group, rng)

    def choose(self, book, state, card_id, group, rng, requests):  # type: ignore[no-untyped-def]
        return self.by_group[group].choose(book, state, card_id, group, rng, requests)

    def talk(self, book, state, group, rng, asked):  # type: ignore[no-untyped-def]
        return self.by_group[group].talk(book, state, group, rng, asked)


def _quantile(sorted_values: Sequence[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    pos = q * (len(sorted_values) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


@attrs.define
class _Tally:
    finals: dict[str, list[float]]
    levers: dict[str, dict[str, float]]
    rule_games: dict[str, int]
    rule_fires: dict[str, int]
    picks: dict[tuple[str, str, str], int]
    games: int = 0


def simulate(
    book: Rulebook,
    *,
    runs: int = 1000,
    seed: int = 0,
    strategy: str = "random",
    patterns: Iterable[str] | None = None,
    progress: Callable[[int], None] | None = None,
    agency: bool = True,
    search_seeds: int = 3,
    beam: int = 5,
    decision_games: int = 100,
) -> dict[str, Any]:
    """Play ``runs`` games per pattern and return a JSON-ready report (see docs/simulate.md).

    When the deck states a ``[claim]`` (and ``agency`` is on) the report has an ``agency`` block
    (:mod:`game.core.agency`); the games it plays under the claim's patterns are shared with the
    per-pattern summaries and the claim check, so no game is played twice."""
    deck = book.deck
    bot = get_strategy(strategy)
    names = list(patterns or deck.patterns)
    report: dict[str, Any] = {
        "deck": deck.id,
        "title": deck.deck.title,
        "runs": runs,
        "seed": seed,
        "strategy": strategy,
        "patterns": {},
    }
    claim = deck.claim
    kept = {claim.better, claim.than} if claim else set()
    played: dict[tuple[str, str], GameSet] = {}
    all_options = {(c.id, o.group, o.id) for c in deck.cards for o in c.options}
    for pattern in names:
        tally = _Tally(
            {m: [] for m in deck.metrics},
            {m: dict.fromkeys(LEVERS, 0.0) for m in deck.metrics},
            {r.id: 0 for r in deck.rules},
            {r.id: 0 for r in deck.rules},
            {},
        )
        finals, logs = [], []
        for k in range(runs):
            record = play_game(book, seed + k, pattern, bot)
            _count(tally, record)
            if pattern in kept:
                finals.append(record.final)
                logs.append(record.log)
            if progress:
                progress(1)
        if pattern in kept:
            played[(strategy, pattern)] = GameSet(tuple(finals), tuple(logs))
        report["patterns"][pattern] = _summary(book, tally, all_options)
    if claim and set(names) >= {claim.better, claim.than} and strategy == claim.strategy:
        report["claim"] = check_claim(book, runs=runs, seed=seed, games=(played[(strategy, claim.better)], played[(strategy, claim.than)]))
    report["dominant_options"] = dominant_options(book)
    if claim and agency:

        def games(name: str, pattern: str, keep_logs: bool) -> GameSet:
            found = played.get((name, pattern))
            if found is None:
                found = play_games(book, runs, seed, pattern, get_strategy(name), keep_logs=keep_logs, progress=progress)
                if keep_logs:
                    played[(name, pattern)] = found
            return found

        report["agency"] = agency_report(
            book, runs=runs, seed=seed, games=games, search_seeds=search_seeds, beam=beam, decision_games=decision_games
        )
    return report


def planned_games(book: Rulebook, *, runs: int, strategy: str, patterns: Iterable[str], agency: bool = True) -> int:
    """How many games :func:`simulate` plays (for a progress bar)."""
    names = list(patterns)
    total = runs * len(names)
    claim = book.deck.claim
    if claim and agency:
        shared = {claim.better, claim.than} & set(names)
        total += sum(runs for name in STRATEGIES for p in (claim.better, claim.than) if not (name == strategy and p in shared))
    return total


def play_games(
    book: Rulebook,
    runs: int,
    seed: int,
    pattern: str,
    strategy: Strategy,
    *,
    keep_logs: bool = False,
    progress: Callable[[int], None] | None = None,
) -> GameSet:
    """Games ``seed .. seed + runs - 1`` of ``strategy`` under ``pattern``."""
    finals, logs = [], []
    for k in range(runs):
        record = play_game(book, seed + k, pattern, strategy)
        finals.append(record.final)
        if keep_logs:
            logs.append(record.log)
        if progress:
            progress(1)
    return GameSet(tuple(finals), tuple(logs) if keep_logs else None)


def _count(tally: _Tally, record: GameRecord) -> None:
    tally.games += 1
    for metric, value in record.final.metrics.items():
        tally.finals[metric].append(value)
    for change in record.final.history:
        tally.levers[change.metric][change.lever] += change.delta
    for rule_id, times in record.final.fired.items():
        tally.rule_games[rule_id] += 1
        tally.rule_fires[rule_id] += times
    for inputs in record.log:
        for group, picks in inputs.choices.items():
            for option in picks:
                key = (inputs.card, group, option)
                tally.picks[key] = tally.picks.get(key, 0) + 1


def _summary(book: Rulebook, tally: _Tally, all_options: set[tuple[str, str, str]]) -> dict[str, Any]:
    n = max(tally.games, 1)
    metrics = {}
    for name, values in tally.finals.items():
        values.sort()
        metrics[name] = {
            "start": book.deck.metrics[name].start,
            "mean": sum(values) / n,
            "p10": _quantile(values, 0.1),
            "p90": _quantile(values, 0.9),
        }
    levers = {}
    for name, per_lever in tally.levers.items():
        total = sum(abs(v) for v in per_lever.values())
        levers[name] = {
            lever: {"mean_change": value / n, "share": abs(value) / total if total else 0.0} for lever, value in per_lever.items()
        }
    rules = {rid: {"games_fired": tally.rule_games[rid] / n, "mean_fires": tally.rule_fires[rid] / n} for rid in tally.rule_games}
    dealt = {card for card, _, _ in tally.picks}
    return {
        "metrics": metrics,
        "levers": levers,
        "rules": rules,
        "never_fired": [rid for rid, count in tally.rule_games.items() if count == 0],
        "never_picked": [{"card": c, "group": g, "option": o} for c, g, o in sorted(all_options - set(tally.picks)) if c in dealt],
        "never_dealt": sorted({c for c, _, _ in all_options} - dealt),
    }


def dominant_options(book: Rulebook) -> list[dict[str, str]]:
    """Options whose constant effects are at least as good as every alternative on every
    metric their group can see, and better on one: a choice that needs no thought."""
    deck = book.deck
    found = []
    for card in deck.cards:
        for group in GROUPS:
            opts = deck.options_for(card, group)
            if len(opts) < 2:
                continue
            visible = deck.visible_metrics(group)

            def value(option: Any, metric: str) -> float | None:
                amount = option.effects.get(metric, 0.0)
                if isinstance(amount, str):
                    return None
                return amount if deck.metrics[metric].better == "higher" else -amount

            for a in opts:
                beats_all = True
                for b in opts:
                    if a is b:
                        continue
                    pairs = [(value(a, m), value(b, m)) for m in visible]
                    if any(x is None or y is None for x, y in pairs):
                        beats_all = False
                        break
                    if not (all(x >= y for x, y in pairs) and any(x > y for x, y in pairs)):  # type: ignore[operator]
                        beats_all = False
                        break
                if beats_all:
                    found.append({"card": card.id, "group": group, "option": a.id})
    return found


def check_claim(book: Rulebook, *, runs: int = 1000, seed: int = 0, games: tuple[GameSet, GameSet] | None = None) -> dict[str, Any]:
    """Test the deck's ``[claim]`` over paired seeded games (``games``: the claim strategy's games
    under ``better`` and ``than``, when they were played already)."""
    claim = book.deck.claim
    if claim is None:
        raise ValueError(f'deck "{book.deck.id}" states no [claim]')
    if games is None:
        bot = get_strategy(claim.strategy)
        games = (play_games(book, runs, seed, claim.better, bot), play_games(book, runs, seed, claim.than, bot))
    wins = 0
    lever_diff = dict.fromkeys(LEVERS, 0.0)
    metric_diff = dict.fromkeys([*claim.higher, *claim.lower], 0.0)
    for better, than in zip(games[0].finals, games[1].finals, strict=True):
        ok = claim_holds(book, better.metrics, than.metrics)
        wins += ok
        a, b = attribution(better.history), attribution(than.history)
        zero = dict.fromkeys(LEVERS, 0.0)
        for m in metric_diff:
            sign = 1.0 if m in claim.higher else -1.0
            span = book.bounds[m][1] - book.bounds[m][0]
            metric_diff[m] += (better.metrics[m] - than.metrics[m]) / runs
            for lever in LEVERS:
                # scaled by each metric's range so that metrics of different sizes weigh alike
                lever_diff[lever] += sign * (a.get(m, zero)[lever] - b.get(m, zero)[lever]) / span
    total = sum(abs(v) for v in lever_diff.values())
    shares = {lv: (abs(v) / total if total else 0.0) for lv, v in lever_diff.items()}
    top = max(shares, key=lambda lv: shares[lv])
    share = wins / runs if runs else 0.0
    return {
        "point": claim.point,
        "better": claim.better,
        "than": claim.than,
        "strategy": claim.strategy,
        "runs": runs,
        "share_of_runs": share,
        "at_least": claim.at_least,
        "mean_difference": metric_diff,
        "lever_shares": shares,
        "largest_lever": top,
        "expected_lever": claim.lever,
        "holds": share >= claim.at_least and top == claim.lever,
    }
