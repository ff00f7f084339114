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
from game.core.convert import format_path, problems, strict_converter
from game.core.expr import Names, suggest
from game.core.references import ReferenceChecks
from game.core.tomlpos import Path, find_position, locate_keys

MAX_DECK_BYTES = 1_000_000
SECTIONS = ("deck", "groups", "metrics", "patterns", "cards", "rules", "injects", "phases", "claim")


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

    ReferenceChecks(out, info, groups, metrics, patterns, cards, rules, injects, phases, claim, _raw_names(raw)).run()
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
