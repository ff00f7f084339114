"""A deck compiled for fast, repeated resolution: options, rules, injects and drift with their
expressions compiled once, the patterns' starting structures, and the lookups bots and the
engine need. Build one per deck; it never changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from attrs import frozen

from game.core.deck import GROUPS, Deck, parse_channel
from game.core.expr import Expr, Names, compile_expr
from game.core.structure import Channel, Structure


class EngineError(Exception):
    """An input the engine cannot resolve (unknown card, option or pattern)."""


@frozen
class _Effect:
    metric: str
    amount: Expr


@frozen
class _Restructure:
    """A structure table, compiled: (kind, subject, amount) steps."""

    steps: tuple[tuple[str, tuple[str, str], float], ...] = ()


@frozen
class _Option:
    id: str
    group: str
    lever: str
    explain: str
    effects: tuple[_Effect, ...]
    structure: _Restructure = _Restructure()


@frozen
class _Rule:
    id: str
    when: Expr
    effects: tuple[_Effect, ...]
    after: int
    lever: str
    explain: str
    once: bool
    structure: _Restructure = _Restructure()


@frozen
class _Inject:
    id: str
    effects: tuple[_Effect, ...]
    lever: str
    explain: str


class Rulebook:
    """A deck compiled for fast, repeated resolution. Build once per deck."""

    def __init__(self, deck: Deck) -> None:
        self.deck = deck
        options: dict[str, set[str]] = {g: set() for g in GROUPS}
        for card in deck.cards:
            for o in card.options:
                options[o.group].add(o.id)
        self.names = Names(frozenset(deck.metrics), {g: frozenset(v) for g, v in options.items()}, frozenset(deck.patterns))
        self.bounds = {name: m.bounds for name, m in deck.metrics.items()}
        self.drift = tuple(
            (name, compile_expr(m.drift, self.names), m.drift_explain or f"{m.label} drifts by itself each round")
            for name, m in deck.metrics.items()
            if m.drift != 0
        )
        self.cards = {card.id: card for card in deck.cards}
        self.options: dict[tuple[str, str], dict[str, _Option]] = {}
        self.defaults: dict[tuple[str, str], str] = {}
        for card in deck.cards:
            for o in card.options:
                compiled = _Option(o.id, o.group, o.lever, o.explain or o.label, self._effects(o.effects), _compile_structure(o.structure))
                self.options.setdefault((card.id, o.group), {})[o.id] = compiled
                if o.default:
                    self.defaults[(card.id, o.group)] = o.id
        self.rules = tuple(
            _Rule(
                r.id,
                compile_expr(r.when, self.names, want="bool"),
                self._effects(r.effects),
                r.after,
                r.lever,
                r.explain,
                r.once,
                _compile_structure(r.structure),
            )
            for r in deck.rules
        )
        self.injects = {i.id: _Inject(i.id, self._effects(i.effects), i.lever, i.explain or i.label) for i in deck.injects}
        self.patterns = {name: self._pattern(name) for name in deck.patterns}
        # for bots: option ids in a stable order, and who each group can talk to
        self.option_ids = {key: tuple(sorted(opts)) for key, opts in self.options.items()}
        self.targets = {(name, g): tuple(sorted(b for a, b in view.open if a == g)) for name, view in self.patterns.items() for g in GROUPS}
        self.fixed = {c.round: c for c in deck.cards if c.round is not None}
        # per card: the groups with options on it, in the order of GROUPS (looked up every round)
        self._with_options = {c.id: tuple(g for g in GROUPS if (c.id, g) in self.options) for c in deck.cards}
        self.by_chance = tuple(
            (c, c.weight if c.weight > 0 else 1.0, compile_expr(c.when, self.names, want="bool") if c.when else None)
            for c in deck.cards
            if c.round is None
        )

    def _effects(self, effects: Mapping[str, Any]) -> tuple[_Effect, ...]:
        return tuple(_Effect(m, compile_expr(a, self.names)) for m, a in effects.items())

    def _pattern(self, name: str) -> Structure:
        pattern = self.deck.patterns[name]
        opened = frozenset(c for c in (parse_channel(t) for t in pattern.channels) if c)
        weights: dict[Channel, float] = {}
        for a in GROUPS:
            for b in GROUPS:
                if a == b:
                    continue
                explicit = pattern.listens.get(a, {}).get(b)
                weights[(a, b)] = explicit if explicit is not None else (0.5 if (b, a) in opened else 0.0)
        sees = frozenset((g, m) for g in GROUPS for m in self.deck.visible_metrics(g, name))
        return Structure(opened, weights, sees)

    def pattern(self, name: str) -> Structure:
        """The structure pattern ``name`` starts an organisation with."""
        try:
            return self.patterns[name]
        except KeyError:
            raise EngineError(f'unknown pattern "{name}"') from None

    def default_choice(self, card_id: str, group: str) -> str | None:
        return self.defaults.get((card_id, group))

    def groups_with_options(self, card_id: str) -> tuple[str, ...]:
        found = self._with_options.get(card_id)
        return found if found is not None else tuple(g for g in GROUPS if (card_id, g) in self.options)


def _compile_structure(table: Any) -> _Restructure:
    steps: list[tuple[str, tuple[str, str], float]] = []
    for text in table.open:
        steps.append(("open", parse_channel(text), 1.0))
    for text in table.close:
        steps.append(("close", parse_channel(text), 1.0))
    for listener, speakers in table.listens.items():
        for speaker, amount in speakers.items():
            steps.append(("listens", (listener, speaker), float(amount)))
    for group, metrics in table.show.items():
        steps.extend(("show", (group, m), 1.0) for m in metrics)
    for group, metrics in table.hide.items():
        steps.extend(("hide", (group, m), 1.0) for m in metrics)
    return _Restructure(tuple(steps))  # type: ignore[arg-type]
