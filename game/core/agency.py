"""Agency: does the players' play carry a deck's lesson, or does the facilitator's pattern?

Everything here is measured on the **claim score** of a finished game (see
``docs/simulate.md``): the mean, over the claim's metrics, of (+1 for a ``higher`` metric, -1
for a ``lower`` one) x final value / the metric's range x 100. The **gap** of a seed is the
score under ``claim.better`` minus the score under ``claim.than``, the games paired by seed
(game k uses seed + k under both patterns).

The report (:func:`agency_report`) gives:

- the claim under every bot strategy (share of paired games in which it holds, mean gap);
- the adaptive gap split by cause: the ``than`` game's whole log replayed under ``better``
  isolates what the structure does alone; the rest is the players' different behaviour; the
  part of the structural share carried by decree rules (:mod:`game.core.decrees`);
- the best and worst achievable play per pattern, by a beam search over all groups' choices;
- per decision (card, group): whether its best option depends on the pattern, and which
  options are dominant or inert, by forcing each option into replays of adaptive games;
- the adaptive claim scores per pattern, for a histogram.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs

from game.core.bots import STRATEGIES, AdaptiveBot
from game.core.deck import GROUPS
from game.core.decrees import decree_rules
from game.core.engine import OrgState, RoundInputs, deal_card, new_state, replay, resolution_key, resolve_round
from game.core.rulebook import Rulebook

#: below this mean gap (in claim-score points) the split by cause is not reported (null)
GAP_EPSILON = 0.01
#: two mean claim scores closer than this count as equal when options are compared
TIE = 1e-9


def claim_terms(book: Rulebook) -> tuple[tuple[str, float], ...]:
    """(metric, factor) such that the claim score is sum(factor x value)."""
    claim = book.deck.claim
    if claim is None:
        raise ValueError(f'deck "{book.deck.id}" states no [claim]')
    named = [(m, 1.0) for m in claim.higher] + [(m, -1.0) for m in claim.lower]
    terms = []
    for metric, sign in named:
        low, high = book.bounds[metric]
        terms.append((metric, sign * 100.0 / ((high - low) or 1.0) / len(named)))
    return tuple(terms)


def claim_score(terms: Sequence[tuple[str, float]], metrics: Mapping[str, float]) -> float:
    """The claim score of a game that ended with ``metrics``."""
    return sum(factor * metrics[m] for m, factor in terms)


def claim_holds(book: Rulebook, better: Mapping[str, float], than: Mapping[str, float]) -> bool:
    """As :func:`game.core.simulate.check_claim` counts a game: every ``higher`` metric higher
    under ``better``, every ``lower`` metric lower."""
    claim = book.deck.claim
    assert claim is not None
    return all(better[m] > than[m] for m in claim.higher) and all(better[m] < than[m] for m in claim.lower)


def _decree_part(terms: Sequence[tuple[str, float]], decrees: frozenset[str], state: OrgState) -> float:
    """The claim-score contribution of the changes caused by decree rules in a game."""
    factors = dict(terms)
    return sum(factors[c.metric] * c.delta for c in state.history if c.kind == "rule" and c.cause in decrees and c.metric in factors)


def under_pattern(log: Iterable[RoundInputs], pattern: str) -> list[RoundInputs]:
    """The same round inputs (choices, requests, messages, injects) played under ``pattern``."""
    return [attrs.evolve(inputs, pattern=pattern) for inputs in log]


@attrs.frozen
class GameSet:
    """The games of one strategy under one pattern, game k with seed ``seed + k``."""

    finals: tuple[OrgState, ...]
    logs: tuple[tuple[RoundInputs, ...], ...] | None = None  # kept only where later replays need them


def split_by_cause(
    book: Rulebook, seed: int, better: GameSet, than: GameSet, terms: Sequence[tuple[str, float]], decrees: frozenset[str]
) -> dict[str, Any]:
    """Per seed: gap = structure + behaviour, where structure = score(than's play under better) -
    score(than game) and behaviour = score(better game) - score(than's play under better)."""
    claim = book.deck.claim
    assert claim is not None and than.logs is not None
    gaps, structure, behaviour, by_decree = [], [], [], []
    for k, (b, t, log) in enumerate(zip(better.finals, than.finals, than.logs, strict=True)):
        moved = replay(book, seed + k, claim.better, under_pattern(log, claim.better))
        sb, st, sx = claim_score(terms, b.metrics), claim_score(terms, t.metrics), claim_score(terms, moved.metrics)
        gaps.append(sb - st)
        structure.append(sx - st)
        behaviour.append(sb - sx)
        by_decree.append(_decree_part(terms, decrees, moved) - _decree_part(terms, decrees, t))
    n = len(gaps) or 1
    mean_gap = sum(gaps) / n
    means = {"gap": mean_gap, "structure": sum(structure) / n, "behaviour": sum(behaviour) / n, "decrees": sum(by_decree) / n}
    tiny = abs(mean_gap) < GAP_EPSILON
    return {
        "per_seed": {"gap": gaps, "structure": structure, "behaviour": behaviour, "decrees": by_decree},
        "means": means,
        "gap_from_structure": None if tiny else means["structure"] / mean_gap,
        "gap_from_behaviour": None if tiny else means["behaviour"] / mean_gap,
        "gap_from_decrees": None if tiny else means["decrees"] / mean_gap,
    }


# --- best and worst achievable play ------------------------------------------------------


def _round_moves(book: Rulebook, state: OrgState, card_id: str) -> list[RoundInputs]:
    """Every joint choice of the groups with options on the card, each played three ways: quietly;
    with every chosen non-default option asked for by every group with an open channel to the
    chooser (so that ``asked()`` and ``granted()`` rules can fire); and with that and one message
    along every open channel (so that ``said()`` rules can fire)."""
    groups = book.groups_with_options(card_id)
    opened = state.structure.open
    talk = dict.fromkeys(sorted(opened), 1)
    moves = []
    for joint in itertools.product(*(book.option_ids[(card_id, g)] for g in groups)):
        choices = {g: (o,) for g, o in zip(groups, joint, strict=True)}
        requests = {
            (a, g, o): 1.0
            for g, o in zip(groups, joint, strict=True)
            if o != book.defaults[(card_id, g)]
            for a in GROUPS
            if (a, g) in opened
        }
        moves.append(RoundInputs(card_id, choices))
        if requests:
            moves.append(RoundInputs(card_id, choices, requests=requests))
        if requests or talk:
            moves.append(RoundInputs(card_id, choices, talk, requests=requests))
    return moves


def search_play(book: Rulebook, seed: int, pattern: str, terms: Sequence[tuple[str, float]], *, best: bool, beam: int) -> float:
    """The best (or worst) final claim score a beam search finds for one seed under ``pattern``.

    Round by round, every state in the beam tries every move of :func:`_round_moves` on the card
    it is dealt; the ``beam`` states with the highest (lowest) score, counting the delayed
    effects already scheduled on the claim's metrics, go on to the next round."""
    sign = 1.0 if best else -1.0
    factors = dict(terms)
    frontier = [new_state(book, seed, pattern)]
    for _ in range(book.deck.deck.rounds):
        found: dict[tuple[Any, ...], tuple[float, OrgState]] = {}
        for state in frontier:
            card = deal_card(book, state)
            for move in _round_moves(book, state, card.id):
                after, _ = resolve_round(book, state, move)
                key = resolution_key(after)
                if key in found:
                    continue
                outlook = claim_score(terms, after.metrics) + sum(factors.get(p.metric, 0.0) * p.delta for p in after.pending)
                found[key] = (sign * outlook, after)
        ranked = sorted(found.values(), key=lambda pair: -pair[0])
        frontier = [state for _, state in ranked[:beam]]
    return sign * max(sign * claim_score(terms, s.metrics) for s in frontier)


# --- decisions ----------------------------------------------------------------------------


def _structure_key(state: OrgState) -> tuple[Any, ...]:
    view = state.structure
    return (view.open, tuple(sorted(view.listens.items())), view.sees)


def probe_decisions(
    book: Rulebook, seed: int, pattern: str, logs: Sequence[Sequence[RoundInputs]], terms: Sequence[tuple[str, float]]
) -> tuple[dict[tuple[str, str, str], list[float]], dict[tuple[str, str, str], bool]]:
    """Force each option of each decision into replays of the games in ``logs`` (game k with
    seed ``seed + k``): the same log with that one decision changed.

    Returns (card, group, option) -> [sum of final claim scores, number of replays, sum of what
    the option is worth to the group on what it sees (the adaptive bot's judgement of that
    round)], and (card, group, option) -> whether forcing it instead of the default changed no
    final metric and no structure in any replay."""
    totals: dict[tuple[str, str, str], list[float]] = {}
    inert: dict[tuple[str, str, str], bool] = {}
    judge = AdaptiveBot()
    for k, log in enumerate(logs):
        states = [new_state(book, seed + k, pattern)]
        for inputs in log:
            states.append(resolve_round(book, states[-1], inputs)[0])
        for r, inputs in enumerate(log):
            card = inputs.card
            for group in book.groups_with_options(card):
                options = book.option_ids[(card, group)]
                if len(options) < 2:
                    continue
                default = book.defaults[(card, group)]
                outcomes: dict[str, OrgState] = {}
                for option in options:
                    if tuple(inputs.choices.get(group, ())) == (option,):
                        after, final = states[r + 1], states[-1]
                    else:
                        state = after = resolve_round(book, states[r], attrs.evolve(inputs, choices={**inputs.choices, group: (option,)}))[
                            0
                        ]
                        for later in log[r + 1 :]:
                            state = resolve_round(book, state, later)[0]
                        final = state
                    outcomes[option] = final
                    slot = totals.setdefault((card, group, option), [0.0, 0, 0.0])
                    slot[0] += claim_score(terms, final.metrics)
                    slot[1] += 1
                    slot[2] += judge.value(book, states[r], after, group)
                base = outcomes[default]
                for option, final in outcomes.items():
                    if option == default:
                        continue
                    same = all(abs(final.metrics[m] - base.metrics[m]) <= TIE for m in base.metrics)
                    same = same and _structure_key(final) == _structure_key(base)
                    inert[(card, group, option)] = inert.get((card, group, option), True) and same
    return totals, inert


def judge_decisions(
    book: Rulebook, totals_by_pattern: Mapping[str, Mapping[tuple[str, str, str], list[float]]], inert: Mapping[tuple[str, str, str], bool]
) -> dict[str, Any]:
    """From the probes: per decision its best options under each pattern; the share of decisions
    whose best option depends on the pattern; dominant and inert options."""
    decisions: dict[tuple[str, str], dict[str, dict[str, float]]] = {}
    own: dict[tuple[str, str], dict[str, dict[str, float]]] = {}
    for pattern, totals in totals_by_pattern.items():
        for (card, group, option), (total, count, *seen) in totals.items():
            decisions.setdefault((card, group), {}).setdefault(pattern, {})[option] = total / count
            own.setdefault((card, group), {}).setdefault(pattern, {})[option] = (seen[0] if seen else 0.0) / count
    patterns = list(totals_by_pattern)
    table = []
    dependent = 0
    judged = 0
    dominant = []
    dilemmas = dict.fromkeys(GROUPS, 0)
    for (card, group), by_pattern in sorted(decisions.items()):
        best = {}
        for pattern, means in by_pattern.items():
            top = max(means.values())
            best[pattern] = sorted(o for o, v in means.items() if v >= top - TIE)
        entry: dict[str, Any] = {"card": card, "group": group, "best": best, "mean_score": by_pattern}
        # a dilemma: under some pattern, what looks best to the group on what it sees is not
        # what is best for the organisation's outcome
        tempting = {}
        for pattern, values in own.get((card, group), {}).items():
            top = max(values.values())
            tempting[pattern] = sorted(o for o, v in values.items() if v >= top - 1e-9)
        entry["tempting"] = tempting
        entry["dilemma"] = any(not set(tempting[p]) & set(best[p]) for p in tempting if p in best)
        dilemmas[group] += entry["dilemma"]
        if all(p in by_pattern for p in patterns):
            judged += 1
            common = set.intersection(*(set(best[p]) for p in patterns))
            entry["pattern_dependent"] = not common
            dependent += not common
            for option in sorted(common):
                # best under every pattern, and strictly better than something under one of them
                if any(by_pattern[p][option] > min(by_pattern[p].values()) + TIE for p in patterns):
                    dominant.append(f"{card}/{group}/{option}")
        table.append(entry)
    return {
        "decisions": table,
        "pattern_dependent_decisions": dependent / judged if judged else None,
        "dominant_options": dominant,
        "inert_options": sorted(f"{c}/{g}/{o}" for (c, g, o), flag in inert.items() if flag),
        "dilemmas": dilemmas,
    }


# --- the whole block ---------------------------------------------------------------------


def agency_report(
    book: Rulebook,
    *,
    runs: int,
    seed: int,
    games: Callable[[str, str, bool], GameSet],
    search_seeds: int = 3,
    beam: int = 5,
    decision_games: int = 100,
) -> dict[str, Any]:
    """The ``agency`` block of the simulate report. ``games(strategy, pattern, keep_logs)`` gives
    the ``runs`` games of a strategy under a pattern (so the caller can share them)."""
    claim = book.deck.claim
    if claim is None:
        raise ValueError(f'deck "{book.deck.id}" states no [claim]')
    terms = claim_terms(book)
    pair = (claim.better, claim.than)
    by_strategy: dict[str, Any] = {}
    adaptive: dict[str, GameSet] = {}
    for name in STRATEGIES:
        sets = {p: games(name, p, name == "adaptive") for p in pair}
        if name == "adaptive":
            adaptive = sets
        better, than = sets[claim.better].finals, sets[claim.than].finals
        gaps = [claim_score(terms, b.metrics) - claim_score(terms, t.metrics) for b, t in zip(better, than, strict=True)]
        holds = sum(claim_holds(book, b.metrics, t.metrics) for b, t in zip(better, than, strict=True))
        n = len(gaps) or 1
        by_strategy[name] = {
            "holds": holds / n,
            "gap": sum(gaps) / n,
            "score": {p: sum(claim_score(terms, s.metrics) for s in sets[p].finals) / n for p in pair},
        }
    decrees = decree_rules(book.deck, ((r.id, r.when.reads) for r in book.rules))
    split = split_by_cause(book, seed, adaptive[claim.better], adaptive[claim.than], terms, decrees)

    searched = range(seed, seed + max(0, min(search_seeds, runs)))
    best_play = {p: _mean([search_play(book, s, p, terms, best=True, beam=beam) for s in searched]) for p in pair}
    worst_play = {p: _mean([search_play(book, s, p, terms, best=False, beam=beam) for s in searched]) for p in pair}

    probes = {}
    inert: dict[tuple[str, str, str], bool] = {}
    for p in pair:
        logs = adaptive[p].logs or ()
        totals, flags = probe_decisions(book, seed, p, logs[:decision_games], terms)
        probes[p] = totals
        for key, flag in flags.items():
            inert[key] = inert.get(key, True) and flag
    judged = judge_decisions(book, probes, inert)

    return {
        "score": "mean over the claim's metrics of (+1 higher, -1 lower) x final value / range x 100",
        "better": claim.better,
        "than": claim.than,
        "claim_by_strategy": by_strategy,
        "mean_gap": split["means"]["gap"],
        "gap_parts": {k: v for k, v in split["means"].items() if k != "gap"},
        "gap_from_behaviour": split["gap_from_behaviour"],
        "gap_from_structure": split["gap_from_structure"],
        "gap_from_decrees": split["gap_from_decrees"],
        "decree_rules": sorted(decrees),
        "best_play": best_play,
        "worst_play": worst_play,
        "search": {"seeds": len(searched), "beam": beam},
        "pattern_dependent_decisions": judged["pattern_dependent_decisions"],
        "dominant_options": judged["dominant_options"],
        "inert_options": judged["inert_options"],
        "dilemmas": judged["dilemmas"],
        "median_adaptive": {p: _median([claim_score(terms, s.metrics) for s in adaptive[p].finals]) for p in pair},
        "decisions": judged["decisions"],
        "decision_games": min(decision_games, runs),
        "claim_scores": {p: [round(claim_score(terms, s.metrics), 3) for s in adaptive[p].finals] for p in pair},
    }


def _median(values: Sequence[float]) -> float | None:
    ordered = sorted(values)
    if not ordered:
        return None
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None
