"""Load a deck from TOML, reporting every problem at once with its location.

Reading happens in three steps, each of which collects problems instead of stopping:
1. bytes -> text -> TOML (size cap, UTF-8, syntax; ``tomllib`` gives line and column);
2. TOML -> model, one section entry at a time, with a strict cattrs converter
   (unknown keys, wrong types, missing keys);
3. the model -> references and expressions checked against the deck's own names.
Every problem carries its key path; the positions of keys come from :mod:`game.core.tomlpos`.
"""

from __future__ import annotations

import math
import re
import tomllib
from typing import Any

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn

from game.core import deck as model
from game.core.bots import STRATEGIES
from game.core.convert import format_path, problems, strict_converter
from game.core.expr import FUNCTIONS, VARIABLES, ExprError, Names, compile_expr, suggest
from game.core.tomlpos import Path, find_position, locate_keys

MAX_DECK_BYTES = 1_000_000
SECTIONS = ("deck", "groups", "metrics", "patterns", "cards", "rules", "injects", "phases", "claim")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@attrs.frozen
class Problem:
    """One thing wrong with a deck, located as well as it can be."""

    file: str
    message: str
    path: Path = ()
    line: int | None = None
    col: int | None = None

    def __str__(self) -> str:
        if self.line is not None:
            return f"{self.file}:{self.line}:{self.col or 1}: {self.message}"
        if self.path:
            return f"{self.file}: at {format_path(self.path)}: {self.message}"
        return f"{self.file}: {self.message}"


class DeckError(Exception):
    """A deck that cannot be used; ``problems`` lists every reason."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def describe(value: Any) -> str:
    kind = {bool: "true/false", int: "a number", float: "a number", str: "text", list: "a list", dict: "a table"}
    name = kind.get(type(value), type(value).__name__)
    if isinstance(value, str):
        shown = value if len(value) <= 30 else value[:27] + "..."
        return f'text "{shown}"'
    return name


# --- step 2: a strict converter -------------------------------------------------------


def _number(value: Any, _: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number, got {describe(value)}")
    if not math.isfinite(value):
        raise ValueError("numbers must be finite (not inf or nan)")
    return float(value)


def _integer(value: Any, _: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected a whole number, got {describe(value)}")
    return value


def _text(value: Any, _: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected text, got {describe(value)}")
    return value


def _flag(value: Any, _: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {describe(value)}")
    return value


def _amount(value: Any, _: Any) -> float | str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number or an expression in quotes, got {describe(value)}")
    return _number(value, None)


def _texts(value: Any, _: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ValueError(f"expected a list of texts, got {describe(value)}")
    for item in value:
        if not isinstance(item, str):
            raise ValueError(f"expected a list of texts, but it holds {describe(item)}")
    return tuple(value)


def _bounds(value: Any, _: Any) -> tuple[float, float]:
    if not isinstance(value, list) or len(value) != 2:
        raise ValueError(f"expected [low, high], got {describe(value)}")
    return (_number(value[0], None), _number(value[1], None))


def _make_converter() -> cattrs.Converter:
    conv = strict_converter()
    conv.register_structure_hook(float, _number)
    conv.register_structure_hook(int, _integer)
    conv.register_structure_hook(str, _text)
    conv.register_structure_hook(bool, _flag)
    conv.register_structure_hook_func(lambda t: t == model.Amount, _amount)
    # generic aliases are not classes, so these two are matched by predicate
    conv.register_structure_hook_func(lambda t: t == tuple[str, ...], _texts)
    conv.register_structure_hook_func(lambda t: t == tuple[float, float], _bounds)

    def table_of(cls: type) -> Any:
        inner = make_dict_structure_fn(cls, conv, _cattrs_forbid_extra_keys=True)

        def structure(value: Any, _: Any) -> Any:
            if not isinstance(value, dict):
                raise ValueError(f"expected a table, got {describe(value)}")
            return inner(value, cls)

        return structure

    conv.register_structure_hook_factory(attrs.has, table_of)
    return conv


CONVERTER = _make_converter()


# --- the loader -------------------------------------------------------------------------


class _Collector:
    def __init__(self, filename: str, text: str = "") -> None:
        self.filename = filename
        self.text = text
        self.lines = text.splitlines()
        self.positions = locate_keys(text) if text else {}
        self.problems: list[Problem] = []

    def add(self, path: Path, message: str, expr: str | None = None, expr_col: int = 0) -> None:
        pos = find_position(self.positions, path)
        line, col = pos if pos else (None, None)
        if pos and expr and expr_col > 0 and 0 < pos[0] <= len(self.lines):
            at = self.lines[pos[0] - 1].find(expr)
            if at >= 0:
                col = at + expr_col
        self.problems.append(Problem(self.filename, message, path, line, col))

    def structure(self, value: Any, cls: type, path: Path) -> Any:
        try:
            return CONVERTER.structure(value, cls)
        except Exception as exc:  # noqa: BLE001 - every structuring failure becomes a problem
            found = list(problems(exc, path))
            for sub_path, message in found or [(path, str(exc))]:
                self.add(sub_path, message)
            return None


def load_deck_bytes(data: bytes, filename: str = "<deck>") -> model.Deck:
    """Decode and check deck bytes (from a file or a facilitator's upload)."""
    if len(data) > MAX_DECK_BYTES:
        raise DeckError([Problem(filename, f"deck is {len(data):,} bytes; a deck may be at most {MAX_DECK_BYTES:,}")])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        raise DeckError([Problem(filename, "not UTF-8 text (is this a deck file?)", (), line, col)]) from None
    return load_deck_text(text, filename)


_TOML_POS = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


def load_deck_text(text: str, filename: str = "<deck>") -> model.Deck:
    """Parse and check deck text."""
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise DeckError([Problem(filename, "the file holds a NUL byte; is this a deck file?", (), line, 1)])
    if not text.strip():
        raise DeckError([Problem(filename, "the deck is empty; start from `crossroads deck new NAME`")])
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = _TOML_POS.search(message)
        line = col = None
        if found:
            line, col = int(found.group(1)), int(found.group(2))
            message = message[: found.start()]
        elif getattr(exc, "lineno", None):
            line, col = exc.lineno, exc.colno
            message = getattr(exc, "msg", message)
        if message.startswith("Illegal character '\\n'") or message.startswith("Unterminated string"):
            message += " (is a closing quote missing?)"
        raise DeckError([Problem(filename, f"TOML syntax: {message}", (), line, col)]) from None
    except RecursionError:
        raise DeckError([Problem(filename, "TOML is nested too deeply")]) from None
    return build_deck(raw, _Collector(filename, text))


def build_deck(raw: dict[str, Any], out: _Collector) -> model.Deck:
    for key in raw:
        if key not in SECTIONS:
            out.add((key,), f'unknown section "{key}"{suggest(key, SECTIONS)}; sections are {", ".join(SECTIONS)}')

    info = _required_table(raw, "deck", out)
    info = out.structure(info, model.DeckInfo, ("deck",)) if info is not None else None

    groups = _named_tables(raw, "groups", model.Group, out)
    metrics = _named_tables(raw, "metrics", model.Metric, out)
    patterns = _named_tables(raw, "patterns", model.Pattern, out)
    cards = _table_list(raw, "cards", model.Card, out)
    rules = _table_list(raw, "rules", model.Rule, out)
    injects = _table_list(raw, "injects", model.Inject, out)
    phases = out.structure(raw["phases"], model.Phases, ("phases",)) if "phases" in raw else model.Phases()
    claim = out.structure(raw["claim"], model.Claim, ("claim",)) if "claim" in raw else None

    _Checks(out, info, groups, metrics, patterns, cards, rules, injects, phases, claim, _raw_names(raw)).run()
    if out.problems or info is None or phases is None or ("claim" in raw and claim is None):
        raise DeckError(_sorted(out.problems))
    return model.Deck(
        deck=info,
        groups={g: groups[g] for g in model.GROUPS},
        metrics=metrics,
        patterns=patterns,
        cards=tuple(c for c in cards if c is not None),
        rules=tuple(r for r in rules if r is not None),
        injects=tuple(i for i in injects if i is not None),
        phases=phases,
        claim=claim,
    )


def _raw_names(raw: dict[str, Any]) -> Names:
    """The names the file declares, read from the raw TOML, so that an entry that failed to
    structure is still known by name and does not cause a cascade of "unknown" problems."""

    def keys(section: str) -> frozenset[str]:
        value = raw.get(section)
        return frozenset(value) if isinstance(value, dict) else frozenset()

    options: dict[str, set[str]] = {g: set() for g in model.GROUPS}
    cards = raw.get("cards")
    for card in cards if isinstance(cards, list) else ():
        entries = card.get("options") if isinstance(card, dict) else None
        for option in entries if isinstance(entries, list) else ():
            if isinstance(option, dict) and isinstance(option.get("id"), str) and option.get("group") in options:
                options[option["group"]].add(option["id"])
    return Names(keys("metrics"), {g: frozenset(v) for g, v in options.items()}, keys("patterns"))


def _sorted(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.line is None, p.line or 0, p.col or 0))


def _required_table(raw: dict[str, Any], key: str, out: _Collector) -> Any:
    if key not in raw:
        out.add((), f"missing the [{key}] table")
        return None
    return raw[key]


def _named_tables(raw: dict[str, Any], key: str, cls: type, out: _Collector) -> dict[str, Any]:
    section = raw.get(key)
    if section is None:
        out.add((), f"missing the [{key}] tables")
        return {}
    if not isinstance(section, dict):
        out.add((key,), f"[{key}] must hold tables such as [{key}.name], got {describe(section)}")
        return {}
    found = {}
    for name, value in section.items():
        obj = out.structure(value, cls, (key, name))
        if obj is not None:
            found[name] = obj
    return found


def _table_list(raw: dict[str, Any], key: str, cls: type, out: _Collector) -> list[Any]:
    section = raw.get(key, [])
    if not isinstance(section, list):
        out.add((key,), f"{key} must be written as [[{key}]] entries, got {describe(section)}")
        return []
    return [out.structure(value, cls, (key, i)) for i, value in enumerate(section)]


# --- step 3: references and expressions ------------------------------------------------


@attrs.define
class _Checks:
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
