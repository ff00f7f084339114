"""An organisation's structure: who can talk to whom, who listens to whom, who sees what.

The facilitator's pattern is where it starts (:meth:`game.core.rulebook.Rulebook.pattern`);
options and rules change it with :class:`Shift` records, applied in order by :func:`restructure`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import NamedTuple

from attrs import frozen

Channel = tuple[str, str]


class Shift(NamedTuple):
    """One change to an organisation's structure, with its cause; in force from the round after ``round``."""

    round: int  # the round whose resolution made it
    kind: str  # "open", "close", "listens", "show", "hide"
    subject: tuple[str, str]  # the channel (from, to), the listening pair (listener, speaker), or (group, metric)
    amount: float  # for "listens": the change of weight that really happened; else 1
    lever: str
    cause_kind: str  # "option" or "rule"
    cause: str  # option or rule id
    explain: str
    group: str = ""  # for options: the group that chose


@frozen
class Structure:
    """Who can talk to whom, who listens to whom, and who sees what, at one moment."""

    open: frozenset[Channel]
    listens: Mapping[Channel, float]  # (a, b): how much a acts on what b says
    sees: frozenset[tuple[str, str]]  # (group, metric)

    def talks_to(self, group: str) -> tuple[str, ...]:
        return _talks_to(self.open, group)

    def visible(self, group: str) -> frozenset[str]:
        return _visible(self.sees, group)


# Bots and views ask these for every group of every round; a game has only a few structures.
@lru_cache(maxsize=4096)
def _talks_to(opened: frozenset[Channel], group: str) -> tuple[str, ...]:
    return tuple(sorted(b for a, b in opened if a == group))


@lru_cache(maxsize=4096)
def _visible(sees: frozenset[tuple[str, str]], group: str) -> frozenset[str]:
    return frozenset(m for g, m in sees if g == group)


def describe_shift(shift: Shift, groups: Mapping[str, str], metrics: Mapping[str, str]) -> str:
    """A structural change as a sentence, in the deck's names for ``groups`` and ``metrics``."""
    a, b = shift.subject
    if shift.kind in ("open", "close"):
        return f"{groups[a]} → {groups[b]}: the channel {'opens' if shift.kind == 'open' else 'closes'}"
    if shift.kind == "listens":
        return f"{groups[a]} listen to {groups[b]} {'more' if shift.amount > 0 else 'less'} ({shift.amount:+.2f})"
    return f"{groups[a]} {'now see' if shift.kind == 'show' else 'no longer see'} {metrics[b]}"


def restructure(structure: Structure, shifts: Iterable[Shift]) -> Structure:
    """``structure`` with ``shifts`` applied in order."""
    opened, listens, sees = set(structure.open), dict(structure.listens), set(structure.sees)
    for shift in shifts:
        if shift.kind == "open":
            opened.add(shift.subject)
        elif shift.kind == "close":
            opened.discard(shift.subject)
        elif shift.kind == "listens":
            listens[shift.subject] = min(1.0, max(0.0, listens.get(shift.subject, 0.0) + shift.amount))
        elif shift.kind == "show":
            sees.add(shift.subject)
        elif shift.kind == "hide":
            sees.discard(shift.subject)
    return Structure(frozenset(opened), listens, frozenset(sees))
