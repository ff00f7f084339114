"""Loading, step 3: the structured deck's references and expressions, checked against the
deck's own names (:mod:`game.core.loader` does steps 1 and 2 and collects the problems)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import attrs

from game.core import deck as model
from game.core.bots import STRATEGIES
from game.core.expr import FUNCTIONS, VARIABLES, ExprError, Names, compile_expr, suggest
from game.core.tomlpos import Path

if TYPE_CHECKING:
    from game.core.loader import _Collector

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@attrs.define
class ReferenceChecks:
    """Step 3 of loading: every name a deck uses refers to something it declares, and every
    expression compiles; each problem is added to the loader's collector with its location."""

    out: _Collector
    info: model.DeckInfo | None
    groups: dict[str, model.Group]
    metrics: dict[str, model.Metric]
    patterns: dict[str, model.Pattern]
    cards: list[model.Card | None]
    rules: list[model.Rule | None]
    injects: list[model.Inject | None]
    phases: model.Phases | None
    claim: model.Claim | None
    names: Names

    def run(self) -> None:
        self.check_info()
        self.check_groups()
        self.check_metrics()
        self.check_patterns()
        self.check_cards()
        self.check_rules()
        self.check_injects()
        self.check_phases()
        self.check_claim()

    def add(self, path: Path, message: str) -> None:
        self.out.add(path, message)

    def group(self, path: Path, name: str, *, allow: tuple[str, ...] = ()) -> None:
        if name not in model.GROUPS and name not in allow:
            known = model.GROUPS + allow
            self.add(path, f'unknown group "{name}"{suggest(name, known)}; groups are {", ".join(known)}')

    def lever(self, path: Path, name: str) -> None:
        if name not in model.LEVERS:
            self.add(path, f'unknown lever "{name}"{suggest(name, model.LEVERS)}; levers are {", ".join(model.LEVERS)}')

    def expr(self, path: Path, source: Any, want: str = "num") -> None:
        try:
            compile_expr(source, self.names, want=want)
        except ExprError as exc:
            text = source if isinstance(source, str) else None
            self.out.add(path, f"in {'condition' if want == 'bool' else 'amount'} {source!r}: {exc.message}", text, exc.col)

    def effects(self, path: Path, effects: dict[str, Any]) -> None:
        if not effects:
            return
        for metric, amount in effects.items():
            if metric not in self.names.metrics:
                self.add(path + (metric,), f'unknown metric "{metric}"{suggest(metric, self.names.metrics)}')
            elif metric in self.metrics:
                self.expr(path + (metric,), amount)

    def unique(self, kind: str, items: list[Any], key: str) -> None:
        seen: dict[str, int] = {}
        for i, item in enumerate(items):
            if item is None:
                continue
            ident = item.id
            if not _ID.match(ident):
                self.add((kind, i, "id"), f'id "{ident}" must be letters, digits, "_", "-" or "."')
            if ident in seen:
                self.add((kind, i, "id"), f'{key} id "{ident}" is used twice (first at {kind}[{seen[ident]}])')
            seen.setdefault(ident, i)

    def check_info(self) -> None:
        if self.info is None:
            return
        if not _ID.match(self.info.id):
            self.add(("deck", "id"), 'deck id must be letters, digits, "_", "-" or "."')
        if not 1 <= self.info.rounds <= 50:
            self.add(("deck", "rounds"), f"rounds must be between 1 and 50, not {self.info.rounds}")
        if self.info.default_pattern and self.info.default_pattern not in self.names.patterns:
            name = self.info.default_pattern
            self.add(("deck", "default_pattern"), f'unknown pattern "{name}"{suggest(name, self.names.patterns)}')

    def check_groups(self) -> None:
        for name, group in self.groups.items():
            self.group(("groups", name), name)
            if not group.share > 0:
                self.add(("groups", name, "share"), "share must be more than 0")
        missing = [g for g in model.GROUPS if g not in self.groups]
        if missing and ("groups",) in self.out.positions or missing and self.groups:
            self.add(("groups",), "missing groups: " + ", ".join(f"[groups.{g}]" for g in missing))

    def check_metrics(self) -> None:
        if not self.metrics and ("metrics",) in self.out.positions:
            self.add(("metrics",), "a deck needs at least one metric")
        reserved = set(FUNCTIONS) | set(VARIABLES) | {"and", "or", "not", "if", "else", "True", "False"}
        for name, metric in self.metrics.items():
            path = ("metrics", name)
            if not _NAME.match(name) or name in reserved:
                self.add(path, f'metric name "{name}" must be lower-case letters, digits and "_", and not one of the reserved words')
            low, high = metric.bounds
            if not low < high:
                self.add(path + ("bounds",), f"bounds must be [low, high] with low < high, not [{low:g}, {high:g}]")
            elif not low <= metric.start <= high:
                self.add(path + ("start",), f"start {metric.start:g} lies outside the bounds [{low:g}, {high:g}]")
            for group in metric.visible_to:
                self.group(path + ("visible_to",), group)
            if metric.better not in ("higher", "lower"):
                self.add(path + ("better",), f'better must be "higher" or "lower", not "{metric.better}"')
            self.expr(path + ("drift",), metric.drift)

    def check_patterns(self) -> None:
        if not self.patterns and ("patterns",) in self.out.positions:
            self.add(("patterns",), "a deck needs at least one pattern")
        for name, pattern in self.patterns.items():
            path = ("patterns", name)
            if not _NAME.match(name):
                self.add(path, f'pattern name "{name}" must be lower-case letters, digits and "_"')
            seen = set()
            for text in pattern.channels:
                self.channel(path + ("channels",), text)
                channel = model.parse_channel(text)
                if channel is None:
                    continue
                if channel in seen:
                    self.add(path + ("channels",), f'channel "{text}" is listed twice')
                seen.add(channel)
            for listener, weights in pattern.listens.items():
                self.group(path + ("listens", listener), listener)
                for speaker, weight in weights.items():
                    self.group(path + ("listens", listener, speaker), speaker)
                    if not 0 <= weight <= 1:
                        self.add(path + ("listens", listener, speaker), f"a listening weight lies between 0 and 1, not {weight:g}")
            for key in ("shows", "hides"):
                self.sight(path + (key,), getattr(pattern, key))

    def channel(self, path: Path, text: str) -> None:
        channel = model.parse_channel(text)
        if channel is None:
            self.add(path, f'channel "{text}" must look like "bottom->middle"')
            return
        for g in channel:
            self.group(path, g)
        if channel[0] == channel[1]:
            self.add(path, f'channel "{text}" goes from a group to itself; a group always talks within itself')

    def sight(self, path: Path, table: dict[str, tuple[str, ...]]) -> None:
        for group, metrics in table.items():
            self.group(path + (group,), group)
            for metric in metrics:
                if metric not in self.names.metrics:
                    self.add(path + (group,), f'unknown metric "{metric}"{suggest(metric, self.names.metrics)}')

    def structure(self, path: Path, table: model.Restructure) -> None:
        for key in ("open", "close"):
            for text in getattr(table, key):
                self.channel(path + (key,), text)
        for listener, speakers in table.listens.items():
            self.group(path + ("listens", listener), listener)
            for speaker, amount in speakers.items():
                self.group(path + ("listens", listener, speaker), speaker)
                if listener == speaker:
                    self.add(path + ("listens", listener, speaker), "a group always listens to itself; name another group")
                if not -1 <= amount <= 1 or amount == 0:
                    self.add(
                        path + ("listens", listener, speaker),
                        f"a change of listening weight lies between -1 and 1 and is not 0, not {amount:g}",
                    )
        for key in ("show", "hide"):
            self.sight(path + (key,), getattr(table, key))

    def check_cards(self) -> None:
        rounds = self.info.rounds if self.info else 0
        self.unique("cards", self.cards, "card")
        fixed: dict[int, int] = {}
        dealt_by_chance = False
        for i, card in enumerate(self.cards):
            if card is None:
                continue
            path: Path = ("cards", i)
            if card.round is not None:
                if rounds and not 1 <= card.round <= rounds:
                    self.add(path + ("round",), f"round {card.round} is outside the deck's rounds 1..{rounds}")
                elif card.round in fixed:
                    self.add(
                        path + ("round",),
                        f"round {card.round} already has card cards[{fixed[card.round]}]; use weight or when for alternatives",
                    )
                fixed.setdefault(card.round, i)
            if card.weight < 0:
                self.add(path + ("weight",), "weight cannot be negative")
            if card.when:
                self.expr(path + ("when",), card.when, "bool")
            if card.round is None and card.weight == 0 and not card.when:
                self.add(path, f'card "{card.id}" is never dealt: give it a round, a weight, or a when')
            if card.round is None and (card.weight > 0 or card.when):
                dealt_by_chance = True
            for key in card.text:
                self.group(path + ("text", key), key, allow=("all",))
            self.check_options(path, card)
        if rounds and not dealt_by_chance:
            missing = [r for r in range(1, rounds + 1) if r not in fixed]
            if missing and any(c is not None for c in self.cards):
                self.add(
                    ("cards",),
                    "no card for round " + ", ".join(map(str, missing)) + "; fix a card to each round or give some cards a weight",
                )
            elif not any(c is not None for c in self.cards) and "cards" not in self.out.positions:
                self.add((), "the deck has no [[cards]]; a deck needs at least one situation")

    def check_options(self, path: Path, card: model.Card) -> None:
        defaults: dict[str, int] = {}
        ids: set[tuple[str, str]] = set()
        for j, option in enumerate(card.options):
            opath = path + ("options", j)
            self.group(opath + ("group",), option.group)
            if not _ID.match(option.id):
                self.add(opath + ("id",), f'option id "{option.id}" must be letters, digits, "_", "-" or "."')
            if (option.group, option.id) in ids:
                self.add(opath + ("id",), f'option "{option.id}" is offered to {option.group} twice on this card')
            ids.add((option.group, option.id))
            self.lever(opath + ("lever",), option.lever)
            self.effects(opath + ("effects",), option.effects)
            self.structure(opath + ("structure",), option.structure)
            if option.default:
                if option.group in defaults:
                    self.add(opath + ("default",), f"{option.group} already has a default on this card (options[{defaults[option.group]}])")
                defaults.setdefault(option.group, j)
        for group in sorted({o.group for o in card.options} - set(defaults)):
            if group in model.GROUPS:
                self.add(
                    path + ("options",),
                    f'{group} has options on card "{card.id}" but none is marked default = true (what stands when nobody chooses?)',
                )

    def check_rules(self) -> None:
        rounds = self.info.rounds if self.info else 50
        self.unique("rules", self.rules, "rule")
        for i, rule in enumerate(self.rules):
            if rule is None:
                continue
            path: Path = ("rules", i)
            self.expr(path + ("when",), rule.when, "bool")
            self.lever(path + ("lever",), rule.lever)
            if not rule.effects and not rule.structure:
                self.add(path, "a rule needs at least one effect or a structure change")
            self.effects(path + ("effects",), rule.effects)
            self.structure(path + ("structure",), rule.structure)
            if rule.structure and rule.after:
                self.add(
                    path + ("after",),
                    "a rule's structure change applies from the next round; after only delays its effects, so split it into two rules",
                )
            if not 0 <= rule.after <= rounds:
                self.add(path + ("after",), f"after must be between 0 and {rounds} rounds, not {rule.after}")
            if not rule.explain.strip():
                self.add(path + ("explain",), "explain the rule in a sentence; the debrief shows it")

    def check_injects(self) -> None:
        self.unique("injects", self.injects, "inject")
        for i, inject in enumerate(self.injects):
            if inject is None:
                continue
            path: Path = ("injects", i)
            if inject.group:
                self.group(path + ("group",), inject.group)
            self.lever(path + ("lever",), inject.lever)
            self.effects(path + ("effects",), inject.effects)

    def check_phases(self) -> None:
        if self.phases is None:
            return
        for field in attrs.fields(model.Phases):
            value = getattr(self.phases, field.name)
            if not 0 <= value <= 3600:
                self.add(("phases", field.name), f"a phase lasts 0 to 3600 seconds, not {value}")

    def check_claim(self) -> None:
        claim = self.claim
        if claim is None:
            return
        for key in ("better", "than"):
            name = getattr(claim, key)
            if name not in self.names.patterns:
                self.add(("claim", key), f'unknown pattern "{name}"{suggest(name, self.names.patterns)}')
        for key in ("higher", "lower"):
            for name in getattr(claim, key):
                if name not in self.names.metrics:
                    self.add(("claim", key), f'unknown metric "{name}"{suggest(name, self.names.metrics)}')
        if not claim.higher and not claim.lower:
            self.add(("claim",), "name the metrics the claim is about in higher or lower")
        self.lever(("claim", "lever"), claim.lever)
        if claim.strategy not in STRATEGIES:
            self.add(("claim", "strategy"), f'unknown bot strategy "{claim.strategy}"{suggest(claim.strategy, STRATEGIES)}')
        if not 0 < claim.at_least <= 1:
            self.add(("claim", "at_least"), "at_least is a share between 0 and 1")
