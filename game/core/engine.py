"""The rules engine: resolve one round of one organisation, and explain every change.

Pure functions over frozen values; no I/O, no clocks, no global randomness. The order
of resolution is documented in ``docs/engine.md`` and is, for round r:

1. delayed effects that fall due in round r land;
2. injects fired before the round apply;
3. every group's option effects apply, scaled by the share of its players who chose them
   (amounts are evaluated against the metrics as they stood after step 2);
4. every rule's condition is evaluated against one snapshot taken after step 3; the rules
   that hold apply their effects in deck order, or schedule them ``after`` rounds later;
5. each metric's drift applies;
6. the structural changes of the round (options chosen by at least half their group, rules
   that fired) apply, in that order, and shape the organisation from the next round on.

Every change is clamped to the metric's bounds and recorded with the delta that really
happened, so the changes of a game always add up to its total change. The structure (open
channels, listening weights, who sees which metric) is part of the state: the facilitator's
pattern is where it starts, and what players earn is kept across a pattern switch.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

import attrs
from attrs import frozen

from game.core.deck import LEVERS, Card
from game.core.rulebook import EngineError, Rulebook, _Effect, _Restructure, _Rule
from game.core.structure import Channel, Shift, Structure, restructure


class Change(NamedTuple):
    """One change to one metric, with its cause.

    A NamedTuple rather than a frozen attrs class: it is just as immutable, and the
    simulator builds hundreds of thousands of them, where it is three times cheaper.
    """

    round: int
    metric: str
    delta: float  # what really happened, after clamping to bounds
    lever: str
    kind: str  # "option", "rule", "drift", "inject"
    cause: str  # option, rule or inject id; the metric's name for drift
    explain: str
    group: str = ""  # for options: the group that chose
    decided: int = 0  # for delayed rule effects: the round in which the rule fired
    asked: float = 0.0  # the delta before clamping


class Pending(NamedTuple):
    """A delayed effect waiting for its round."""

    due: int
    metric: str
    delta: float
    lever: str
    cause: str
    explain: str
    decided: int


@frozen
class OrgState:
    """The state of one organisation after ``round`` resolved rounds."""

    seed: int
    round: int
    pattern: str  # the facilitator's pattern: where the structure starts
    metrics: Mapping[str, float]
    structure: Structure  # the pattern's structure with every shift so far applied
    pending: tuple[Pending, ...] = ()
    history: tuple[Change, ...] = ()
    fired: Mapping[str, int] = attrs.Factory(dict)  # rule id -> times fired
    cards: tuple[str, ...] = ()  # card dealt in each resolved round
    shifts: tuple[Shift, ...] = ()  # every structural change, in order


@frozen
class RoundInputs:
    """Everything that happened in a round, as the engine needs it."""

    card: str
    choices: Mapping[str, Sequence[str]] = attrs.Factory(dict)  # group -> option id per player
    messages: Mapping[Channel, int] = attrs.Factory(dict)  # (from, to) -> message count
    pattern: str = ""  # empty: keep the state's pattern
    injects: tuple[str, ...] = ()
    # (asker, asked, option) -> share of the asking group's players who asked for it
    requests: Mapping[tuple[str, str, str], float] = attrs.Factory(dict)


def resolution_key(state: OrgState) -> tuple[object, ...]:
    """Everything resolving the next round reads from ``state`` (not its seed or history): two
    states with the same key resolve the same inputs to the same metrics, structure and fired
    rules, so the simulator and the bots can share work between them."""
    view = state.structure
    return (
        state.round,
        state.pattern,
        tuple(state.metrics.items()),
        state.pending,
        frozenset(state.fired.items()),
        view.open,
        frozenset(view.listens.items()),
        view.sees,
        state.cards,
    )


def new_state(book: Rulebook, seed: int, pattern: str = "") -> OrgState:
    """The state before round 1."""
    pattern = pattern or book.deck.default_pattern
    return OrgState(seed, 0, pattern, {n: m.start for n, m in book.deck.metrics.items()}, book.pattern(pattern))


def with_pattern(book: Rulebook, state: OrgState, pattern: str) -> OrgState:
    """``state`` after the facilitator switches it to ``pattern``: the new pattern's structure
    with every shift the organisation has made since the start kept."""
    if not pattern or pattern == state.pattern:
        return state
    return attrs.evolve(state, pattern=pattern, structure=restructure(book.pattern(pattern), state.shifts))


def deal_card(book: Rulebook, state: OrgState, pattern: str = "") -> Card:
    """The card for the next round: the one fixed to it, else one drawn by weight.

    The draw is seeded by the state's seed and the round, so it is the same on replay.
    Cards already dealt are drawn only once every eligible card has been dealt.
    """
    r = state.round + 1
    if r in book.fixed:
        return book.fixed[r]
    state = with_pattern(book, state, pattern)
    view = state.structure
    eligible = [
        (card, weight)
        for card, weight, when in book.by_chance
        if when is None or when.fn(state.metrics, {}, view.listens, view.open, {}, r, state.pattern, {}, view.sees)
    ]
    if not eligible:
        eligible = [(card, weight) for card, weight, _ in book.by_chance]
    if not eligible:
        raise EngineError(f"no card can be dealt in round {r}")
    fresh = [(c, w) for c, w in eligible if c.id not in state.cards] or eligible
    rng = random.Random(state.seed * 7919 + r)
    return rng.choices([c for c, _ in fresh], weights=[w for _, w in fresh])[0]


def choice_shares(book: Rulebook, card_id: str, choices: Mapping[str, Sequence[str]]) -> dict[Channel, float]:
    """(group, option) -> share of the group's players who chose it; defaults stand in for absent groups."""
    shares: dict[Channel, float] = {}
    for group in book.groups_with_options(card_id):
        picks = choices.get(group, ())
        offered = book.options[(card_id, group)]
        if len(picks) == 1 and picks[0] in offered:  # the common case: one player, a valid pick
            shares[(group, picks[0])] = 1.0
            continue
        default = book.defaults[(card_id, group)]
        picked = [c if c in offered else default for c in picks if c] or [default]
        unit = 1.0 / len(picked)
        for option_id in picked:
            shares[(group, option_id)] = shares.get((group, option_id), 0.0) + unit
    return shares


def resolve_round(book: Rulebook, state: OrgState, inputs: RoundInputs) -> tuple[OrgState, tuple[Change, ...]]:
    """Resolve the next round; return the new state and the changes it made, in order."""
    r = state.round + 1
    if inputs.card not in book.cards:
        raise EngineError(f'unknown card "{inputs.card}"')
    state = with_pattern(book, state, inputs.pattern)
    pattern = state.pattern
    view = state.structure
    metrics = dict(state.metrics)
    bounds = book.bounds
    changes: list[Change] = []

    def apply(metric: str, asked: float, lever: str, kind: str, cause: str, explain: str, group: str = "", decided: int = 0) -> None:
        if not asked:
            return
        old = metrics[metric]
        low, high = bounds[metric]
        new = old + asked
        new = low if new < low else high if new > high else new
        metrics[metric] = new
        changes.append(Change(r, metric, new - old, lever, kind, cause, explain, group, decided or r, asked))

    # 1. delayed effects falling due now
    still_pending = []
    for p in state.pending:
        if p.due == r:
            apply(p.metric, p.delta, p.lever, "rule", p.cause, p.explain, decided=p.decided)
        elif p.due > r:
            still_pending.append(p)

    shares = choice_shares(book, inputs.card, inputs.choices)
    said = {k: v for k, v in inputs.messages.items() if k in view.open and v > 0}
    listens, opened, sees = view.listens, view.open, view.sees
    # a request travels only along an open channel, and only for one of the asked group's options
    asked = {
        key: share
        for key, share in inputs.requests.items()
        if share > 0 and (key[0], key[1]) in opened and key[2] in book.options.get((inputs.card, key[1]), {})
    }

    # 2. injects
    for inject_id in inputs.injects:
        inject = book.injects.get(inject_id)
        if inject is None:
            raise EngineError(f'unknown inject "{inject_id}"')
        snapshot = dict(metrics)
        for e in inject.effects:
            apply(
                e.metric,
                float(e.amount.fn(snapshot, shares, listens, opened, said, r, pattern, asked, sees)),
                inject.lever,
                "inject",
                inject.id,
                inject.explain,
            )

    # 3. options, scaled by share
    snapshot = dict(metrics)
    for (group, option_id), share in shares.items():
        option = book.options[(inputs.card, group)][option_id]
        for e in option.effects:
            apply(
                e.metric,
                share * float(e.amount.fn(snapshot, shares, listens, opened, said, r, pattern, asked, sees)),
                option.lever,
                "option",
                option.id,
                option.explain,
                group,
            )

    # 4. rules, all judged on one snapshot
    snapshot = dict(metrics)
    fired = dict(state.fired)
    due_now: list[tuple[_Rule, _Effect, float]] = []
    restructuring: list[tuple[_Restructure, str, str, str, str, str]] = [
        (option.structure, option.lever, "option", option.id, option.explain, group)
        for (group, option_id), share in shares.items()
        if share >= 0.5 and (option := book.options[(inputs.card, group)][option_id]).structure.steps
    ]
    for rule in book.rules:
        if rule.once and fired.get(rule.id):
            continue
        if not rule.when.fn(snapshot, shares, listens, opened, said, r, pattern, asked, sees):
            continue
        fired[rule.id] = fired.get(rule.id, 0) + 1
        if rule.structure.steps:
            restructuring.append((rule.structure, rule.lever, "rule", rule.id, rule.explain, ""))
        for e in rule.effects:
            amount = float(e.amount.fn(snapshot, shares, listens, opened, said, r, pattern, asked, sees))
            if rule.after:
                still_pending.append(Pending(r + rule.after, e.metric, amount, rule.lever, rule.id, rule.explain, r))
            else:
                due_now.append((rule, e, amount))
    for rule, e, amount in due_now:
        apply(e.metric, amount, rule.lever, "rule", rule.id, rule.explain)

    # 5. drift
    if book.drift:
        snapshot = dict(metrics)
        for metric, amount, explain in book.drift:
            apply(
                metric,
                float(amount.fn(snapshot, shares, listens, opened, said, r, pattern, asked, sees)),
                "other",
                "drift",
                metric,
                explain,
            )

    # 6. structure, from the next round on
    structure, shifts = view, state.shifts
    if restructuring:
        made = []
        for table, lever, cause_kind, cause, explain, group in restructuring:
            for kind, subject, amount in table.steps:
                before = structure
                structure = restructure(structure, (Shift(r, kind, subject, amount, lever, cause_kind, cause, explain, group),))
                if structure != before:  # only what really changed is recorded, as with metrics
                    real = structure.listens[subject] - before.listens.get(subject, 0.0) if kind == "listens" else 1.0
                    made.append(Shift(r, kind, subject, real, lever, cause_kind, cause, explain, group))
        shifts = shifts + tuple(made)

    done = tuple(changes)
    new = OrgState(
        state.seed,
        r,
        pattern,
        metrics,
        structure,
        tuple(still_pending),
        state.history + done,
        fired,
        state.cards + (inputs.card,),
        shifts,
    )
    return new, done


def replay(book: Rulebook, seed: int, pattern: str, log: Iterable[RoundInputs]) -> OrgState:
    """Fold a log of round inputs into the state it produces."""
    state = new_state(book, seed, pattern)
    for inputs in log:
        state, _ = resolve_round(book, state, inputs)
    return state


def attribution(history: Iterable[Change]) -> dict[str, dict[str, float]]:
    """metric -> lever -> total change; every lever present, zeros included."""
    out: dict[str, dict[str, float]] = {}
    for change in history:
        per_lever = out.setdefault(change.metric, dict.fromkeys(LEVERS, 0.0))
        per_lever[change.lever] += change.delta
    return out


@frozen
class Counterfactual:
    """A finished game beside the same choices under another pattern or without a lever."""

    description: str
    actual: OrgState
    alternative: OrgState
    difference: Mapping[str, float]  # metric -> actual - alternative
    by_lever: Mapping[str, Mapping[str, float]]  # metric -> lever -> actual - alternative


def counterfactual(
    book: Rulebook,
    seed: int,
    pattern: str,
    log: Sequence[RoundInputs],
    *,
    other_pattern: str | None = None,
    withhold: str | None = None,
) -> Counterfactual:
    """Replay the game's choices under ``other_pattern`` and/or with every option of
    lever ``withhold`` replaced by its card's default. Messages on channels the other
    pattern closes are dropped; the same cards are dealt."""
    alt_log = []
    for inputs in log:
        choices = dict(inputs.choices)
        if withhold:
            for group, picks in inputs.choices.items():
                offered = book.options.get((inputs.card, group), {})
                default = book.defaults.get((inputs.card, group), "")
                choices[group] = tuple(default if p in offered and offered[p].lever == withhold else p for p in picks)
        alt_log.append(
            RoundInputs(inputs.card, choices, inputs.messages, other_pattern or inputs.pattern or pattern, inputs.injects, inputs.requests)
        )
    actual = replay(book, seed, pattern, log)
    alternative = replay(book, seed, other_pattern or pattern, alt_log)
    parts = []
    if other_pattern:
        parts.append(f'the same choices under pattern "{other_pattern}"')
    if withhold:
        parts.append(f"with {withhold.replace('_', ' ')} withheld")
    a, b = attribution(actual.history), attribution(alternative.history)
    zero = dict.fromkeys(LEVERS, 0.0)
    return Counterfactual(
        " and ".join(parts) or "the same game",
        actual,
        alternative,
        {m: actual.metrics[m] - alternative.metrics[m] for m in actual.metrics},
        {m: {lv: a.get(m, zero)[lv] - b.get(m, zero)[lv] for lv in LEVERS} for m in actual.metrics},
    )
