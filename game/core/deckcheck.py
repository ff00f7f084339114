"""Warnings about a valid deck that would mislead a trainer (``crossroads deck check``).

Pure: it reads a loaded deck and the text it came from (for positions), never a file. Each
warning is a :class:`game.core.loader.Problem` whose message starts with ``warning:``, located
at the key it is about. Every warning is sound: it is only given when it can be decided from
the deck alone, for every game.

- **decree**: a rule whose condition depends on the pattern alone (:mod:`game.core.decrees`);
- **never holds**: a condition that reads only the pattern, the round and structure nobody can
  change, and is false for every pattern in every round (a constant ``False`` included); a
  comparison of a metric with a number outside the metric's bounds (``trust > 120`` with bounds
  0..100); ``chose``, ``asked`` or ``granted`` of an option that is offered only on cards that
  can never be dealt (fixed to a round past the last, or to a round another card takes, or
  drawn by chance when every round has a fixed card), which is always 0;
- **closed channel**: a channel that an expression reads (``open``, ``said``, ``asked``,
  ``granted``; ``listens(a, b)`` reads b -> a, and only when no pattern or table gives that
  weight either) that no pattern opens and no option or rule ever opens;
- **inert option**: an option, not a card's default, with no effect and no structure, that
  no expression reads (``chose``, ``asked``, ``granted``);
- **unused lever**: a claim whose lever no option or rule carries (drift carries ``other``).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable

from game.core.deck import Deck, parse_channel
from game.core.decrees import changeable_structure, is_decree, pattern_only_reads, structure_tables
from game.core.expr import Expr, parse
from game.core.loader import Problem
from game.core.rulebook import Rulebook
from game.core.tomlpos import Path, find_position, locate_keys

KINDS = ("decree", "never_holds", "closed_channel", "inert_option", "unused_lever")


class _Out:
    def __init__(self, filename: str, text: str) -> None:
        self.filename = filename
        self.lines = text.splitlines()
        self.positions = locate_keys(text) if text else {}
        self.problems: list[Problem] = []

    def add(self, path: Path, message: str, snippet: str = "", offset: int = -1) -> None:
        pos = find_position(self.positions, path)
        line, col = pos if pos else (None, None)
        if pos and snippet and 0 < pos[0] <= len(self.lines):
            at = self.lines[pos[0] - 1].find(snippet)
            if at >= 0:
                col = at + 1 + max(offset, 0)
        self.problems.append(Problem(self.filename, f"warning: {message}", path, line, col))


def _show(read: tuple[str, ...]) -> str:
    if read[0] in ("pattern", "round"):
        return read[0]
    return f"{read[0]}(" + ", ".join(f'"{a}"' for a in read[1:]) + ")"


def dealable_cards(deck: Deck) -> frozenset[str]:
    """The cards that some game can be dealt."""
    fixed = {c.round: c.id for c in deck.cards if c.round is not None}  # a later card takes the round, as in the engine
    rounds = range(1, deck.deck.rounds + 1)
    free = any(r not in fixed for r in rounds)
    return frozenset({fixed[r] for r in rounds if r in fixed} | ({c.id for c in deck.cards if c.round is None} if free else set()))


def _out_of_bounds(deck: Deck, source: str) -> Iterable[tuple[str, int, str]]:
    """(comparison text, column, metric) for each comparison of a metric with a number it can never meet."""
    try:
        tree = parse(source)
    except Exception:  # noqa: BLE001 - the loader has checked it already
        return
    text = " ".join(source.split()).strip()

    def number(node: ast.AST) -> float | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
            return float(node.value)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            inner = number(node.operand)
            return None if inner is None else (-inner if isinstance(node.op, ast.USub) else inner)
        return None

    flipped = {ast.Lt: ast.Gt, ast.Gt: ast.Lt, ast.LtE: ast.GtE, ast.GtE: ast.LtE, ast.Eq: ast.Eq, ast.NotEq: ast.NotEq}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare):
            continue
        operands = [node.left, *node.comparators]
        for op, left, right in zip(node.ops, operands, operands[1:], strict=False):
            kind = type(op)
            if isinstance(left, ast.Name) and left.id in deck.metrics and number(right) is not None:
                metric, value = left.id, number(right)
            elif isinstance(right, ast.Name) and right.id in deck.metrics and number(left) is not None:
                metric, value, kind = right.id, number(left), flipped.get(kind, kind)
            else:
                continue
            low, high = deck.metrics[metric].bounds
            never = {
                ast.Gt: value >= high,
                ast.GtE: value > high,
                ast.Lt: value <= low,
                ast.LtE: value < low,
                ast.Eq: not low <= value <= high,
            }.get(kind, False)
            if never:
                segment = ast.get_source_segment(text, node) or ""
                yield segment, node.col_offset, metric


def deck_warnings(deck: Deck, text: str = "", filename: str = "<deck>") -> list[Problem]:
    """Every warning about ``deck`` (loaded from ``text``), in the order of the file."""
    book = Rulebook(deck)
    out = _Out(filename, text)
    changeable = changeable_structure(deck)
    dealt = dealable_cards(deck)
    offered_on: dict[tuple[str, str], set[str]] = {}
    for card in deck.cards:
        for option in card.options:
            offered_on.setdefault((option.group, option.id), set()).add(card.id)
    ever_open = {ch for view in book.patterns.values() for ch in view.open}
    for table in structure_tables(deck):
        ever_open.update(ch for ch in map(parse_channel, table.open) if ch)
    weighted = {pair for view in book.patterns.values() for pair, w in view.listens.items() if w > 0}
    weighted |= {(r[1], r[2]) for r in changeable if r[0] == "listens"}

    # every expression, where it sits
    exprs: list[tuple[Path, Expr]] = []
    for i, rule in enumerate(book.rules):
        exprs.append((("rules", i, "when"), rule.when))
        exprs.extend((("rules", i, "effects", e.metric), e.amount) for e in rule.effects)
    for ci, card in enumerate(deck.cards):
        for oi, option in enumerate(card.options):
            compiled = book.options[(card.id, option.group)][option.id]
            exprs.extend((("cards", ci, "options", oi, "effects", e.metric), e.amount) for e in compiled.effects)
    for name, amount, _ in book.drift:
        exprs.append((("metrics", name, "drift"), amount))
    for card, _, when in book.by_chance:
        if when is not None:
            exprs.append((("cards", deck.cards.index(card), "when"), when))
    all_reads = {r for _, e in exprs for r in e.reads}

    for i, rule in enumerate(book.rules):
        path = ("rules", i, "when")
        reads = rule.when.reads
        source = deck.rules[i].when
        if is_decree(reads, changeable):
            shown = ", ".join(_show(r) for r in pattern_only_reads(reads, changeable))
            out.add(
                path,
                f'rule "{rule.id}" is a decree: its condition depends on the pattern alone ({shown}); no play changes whether it fires',
            )
        fixed_only = all(r[0] in ("pattern", "round") or (r[0] in ("open", "listens", "sees") and r not in changeable) for r in reads)
        if fixed_only:
            holds = any(
                rule.when.fn({}, {}, view.listens, view.open, {}, r, pattern, {}, view.sees)
                for pattern, view in book.patterns.items()
                for r in range(1, deck.deck.rounds + 1)
            )
            if not holds:
                out.add(path, f'the condition of rule "{rule.id}" can never hold: it is false under every pattern in every round')
        for segment, col, metric in _out_of_bounds(deck, source):
            low, high = deck.metrics[metric].bounds
            out.add(path, f'"{segment}" can never hold: {metric} stays within {low:g}..{high:g}', source, col)

    for path, expr in exprs:
        for read in sorted(expr.reads):
            if read[0] in ("chose", "asked", "granted"):
                group, option = (read[1], read[2]) if read[0] == "chose" else (read[2], read[3])
                cards = offered_on.get((group, option), set())
                if cards and not cards & dealt:
                    out.add(
                        path,
                        f'{_show(read)} is always 0: "{option}" is offered only on cards that are never dealt ({", ".join(sorted(cards))})',
                    )
            if read[0] in ("open", "said", "asked", "granted"):
                channel = (read[1], read[2])
                if channel not in ever_open:
                    out.add(
                        path, f"{_show(read)} reads the channel {channel[0]}->{channel[1]}, which no pattern, option or rule ever opens"
                    )
            elif read[0] == "listens":
                channel = (read[2], read[1])
                if channel not in ever_open and (read[1], read[2]) not in weighted:
                    out.add(
                        path,
                        f"{_show(read)} is always 0: the channel {channel[0]}->{channel[1]} never opens "
                        "and no pattern, option or rule gives that weight",
                    )

    for ci, card in enumerate(deck.cards):
        for oi, option in enumerate(card.options):
            if option.default or option.structure:
                continue
            compiled = book.options[(card.id, option.group)][option.id]
            if any(e.amount.constant is None or e.amount.constant != 0 for e in compiled.effects):
                continue
            read = {("chose", option.group, option.id)} | {
                r for r in all_reads if r[0] in ("asked", "granted") and r[2] == option.group and r[3] == option.id
            }
            if not read & all_reads:
                out.add(
                    ("cards", ci, "options", oi),
                    f'option "{option.id}" of {option.group} on card "{card.id}" has no effect and no structure, and no rule reads it',
                )

    claim = deck.claim
    if claim is not None:
        carried = {o.lever for c in deck.cards for o in c.options if o.effects or o.structure}
        carried |= {r.lever for r in deck.rules if r.effects or r.structure}
        if book.drift:
            carried.add("other")
        if claim.lever not in carried:
            out.add(
                ("claim", "lever"),
                f'the claim\'s lever "{claim.lever}" is carried by no option or rule, so it can never explain the difference',
            )

    return sorted(out.problems, key=lambda p: (p.line or 0, p.col or 0))
