"""Decrees: rules whose condition depends on the facilitator's pattern alone.

A condition is a decree when it reads no player input (``chose``, ``asked``, ``granted``,
``said``) and no metric, and it reads the pattern, or a piece of structure (``open``,
``listens``, ``sees``) that no option's or rule's ``structure`` table can change: then only
the pattern the facilitator picked decides whether it holds, and nothing the players do can.
The simulator (the share of the gap carried by decrees) and ``crossroads deck check`` (its
warning) both use :func:`is_decree`.
"""

from __future__ import annotations

from collections.abc import Iterable

from game.core.deck import Deck, Restructure, parse_channel

#: what players put into a round
PLAYER_READS = frozenset({"chose", "asked", "granted", "said"})
STRUCTURE_READS = frozenset({"open", "listens", "sees"})

Read = tuple[str, ...]


def structure_tables(deck: Deck) -> list[Restructure]:
    """Every option's and rule's ``structure`` table."""
    return [o.structure for c in deck.cards for o in c.options] + [r.structure for r in deck.rules]


def changeable_structure(deck: Deck) -> frozenset[Read]:
    """The reads (``("open", a, b)``, ``("listens", a, b)``, ``("sees", g, m)``) that some
    option or rule can change during a game."""
    out: set[Read] = set()
    for table in structure_tables(deck):
        for text in (*table.open, *table.close):
            channel = parse_channel(text)
            if channel:
                out.add(("open", *channel))
        for listener, speakers in table.listens.items():
            out.update(("listens", listener, speaker) for speaker in speakers)
        for group, metrics in (*table.show.items(), *table.hide.items()):
            out.update(("sees", group, m) for m in metrics)
    return frozenset(out)


def is_decree(reads: Iterable[Read], changeable: frozenset[Read]) -> bool:
    """Whether a condition reading ``reads`` depends on the pattern alone."""
    reads = tuple(reads)
    if any(r[0] in PLAYER_READS or r[0] == "metric" for r in reads):
        return False
    return any(r[0] == "pattern" or (r[0] in STRUCTURE_READS and r not in changeable) for r in reads)


def pattern_only_reads(reads: Iterable[Read], changeable: frozenset[Read]) -> list[Read]:
    """The reads that make a decree a decree: the pattern, and structure nobody can change."""
    return sorted(r for r in reads if r[0] == "pattern" or (r[0] in STRUCTURE_READS and r not in changeable))


def decree_rules(deck: Deck, reads_by_rule: Iterable[tuple[str, Iterable[Read]]]) -> frozenset[str]:
    """The ids of the rules whose condition is a decree; ``reads_by_rule`` is (rule id, reads) as
    compiled (a :class:`game.core.engine.Rulebook` has them as ``rule.when.reads``)."""
    changeable = changeable_structure(deck)
    return frozenset(rid for rid, reads in reads_by_rule if is_decree(reads, changeable))
