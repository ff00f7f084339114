"""Events: the facts the session is a fold of, as the journal stores them.

Each event is a frozen class that knows its journal type (``TYPE``); :func:`to_record` and
:func:`from_record` turn it into the journal's ``(type, data)`` and back. The data dicts are
exactly what earlier versions wrote (the same keys, in the same order), so old journals
replay. Fields hold JSON values only: lists and dicts, not tuples, so that a record read back
equals the event that was written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from attrs import field, fields, frozen


@frozen
class SessionCreated:
    """A new session; the deck text travels in the event, so a replay needs nothing else."""

    TYPE: ClassVar[str] = "session_created"
    session: str
    code: str
    deck_text: str
    deck_name: str
    patterns: list[str]
    seed: int
    bots: str = "by_the_book"  # absent from the oldest journals
    early_close: bool = False


@frozen
class SeatJoined:
    TYPE: ClassVar[str] = "seat_joined"
    seat: str
    name: str
    org: int
    group: str
    token_hash: str
    at: float
    # the hash of the client's join id, so that a retried join finds its seat (absent before)
    join_key: str | None = field(default=None, metadata={"omit_if_none": True})
    # the hash of the client's device id, so that a removed person's device stays out (absent before)
    device_key: str | None = field(default=None, metadata={"omit_if_none": True})


@frozen
class SeatMoved:
    TYPE: ClassVar[str] = "seat_moved"
    seat: str
    org: int
    group: str


@frozen
class SeatBotified:
    TYPE: ClassVar[str] = "seat_botified"
    seat: str


@frozen
class SeatReclaimed:
    """A human acted in a seat a bot was playing: the seat is theirs again."""

    TYPE: ClassVar[str] = "seat_reclaimed"
    seat: str


@frozen
class SeatKicked:
    TYPE: ClassVar[str] = "seat_kicked"
    seat: str


@frozen
class SeatAdmitted:
    """A removed participant may join again with the code."""

    TYPE: ClassVar[str] = "seat_admitted"
    seat: str


@frozen
class AnswersShown:
    """The facilitator shows (or hides) time-out answers to the room, with names or without."""

    TYPE: ClassVar[str] = "answers_shown"
    answers: list[str]
    shown: bool
    names: bool


@frozen
class LobbyLocked:
    TYPE: ClassVar[str] = "lobby_locked"
    locked: bool


@frozen
class PatternSet:
    TYPE: ClassVar[str] = "pattern_set"
    org: int
    pattern: str


@frozen
class InjectFired:
    TYPE: ClassVar[str] = "inject_fired"
    org: int
    inject: str


@frozen
class PhaseStarted:
    """A phase begins; ``cards`` (organisation index as text -> card id) only with a brief."""

    TYPE: ClassVar[str] = "phase_started"
    phase: str
    round: int
    deadline: float | None
    cards: dict[str, str] | None = field(default=None, metadata={"omit_if_none": True})


@frozen
class Paused:
    TYPE: ClassVar[str] = "paused"
    remaining: float | None


@frozen
class Resumed:
    TYPE: ClassVar[str] = "resumed"
    deadline: float | None


@frozen
class TimerExtended:
    TYPE: ClassVar[str] = "timer_extended"
    deadline: float | None
    remaining: float | None


@frozen
class ChoiceMade:
    TYPE: ClassVar[str] = "choice_made"
    seat: str
    option: str
    round: int


@frozen
class MessageSent:
    TYPE: ClassVar[str] = "message_sent"
    seat: str
    org: int
    sender: str  # the sender's group ("from" in views)
    to: str
    text: str
    round: int
    at: float
    name: str


@frozen
class RequestMade:
    """A group asks another, along an open channel, for one of its options this round. ``seat`` is
    the asking seat (empty for the bot of a group nobody plays); an empty ``option`` withdraws
    that seat's request to ``to``."""

    TYPE: ClassVar[str] = "request_made"
    seat: str
    org: int
    asker: str  # the asking group
    to: str
    option: str
    round: int
    at: float
    name: str


@frozen
class AnswerGiven:
    TYPE: ClassVar[str] = "answer_given"
    seat: str
    round: int
    prompt: int
    text: str


@frozen
class RoundResolved:
    """Each organisation's round inputs as :func:`game.core.session.inputs.resolution_inputs`
    assembled them: ``{"org", "card", "choices", "messages", "pattern", "injects", "requests"}``
    (``requests``, a list of ``[asker, asked, option, share]``, is absent from older journals)."""

    TYPE: ClassVar[str] = "round_resolved"
    round: int
    orgs: list[dict[str, Any]]


@frozen
class SessionEnded:
    TYPE: ClassVar[str] = "session_ended"
    at: float


Event = (
    SessionCreated
    | SeatJoined
    | SeatMoved
    | SeatBotified
    | SeatReclaimed
    | SeatKicked
    | SeatAdmitted
    | AnswersShown
    | LobbyLocked
    | PatternSet
    | InjectFired
    | PhaseStarted
    | Paused
    | Resumed
    | TimerExtended
    | ChoiceMade
    | MessageSent
    | RequestMade
    | AnswerGiven
    | RoundResolved
    | SessionEnded
)

EVENT_TYPES: dict[str, type[Event]] = {cls.TYPE: cls for cls in Event.__args__}  # type: ignore[attr-defined]


def _record_maker(cls: type) -> Callable[[Any], tuple[str, dict[str, Any]]]:
    """A function from an event of ``cls`` to its record, generated (as attrs generates
    ``__init__``) so that it is one dict display: a record is made for every event journalled,
    a thousand in one commit when a room chooses at once."""
    entries = ", ".join(f"{f.name!r}: e.{f.name}" for f in fields(cls))
    lines = ["def record(e):", f"    data = {{{entries}}}"]
    for f in fields(cls):
        if f.metadata.get("omit_if_none"):
            lines += [f"    if e.{f.name} is None:", f"        del data[{f.name!r}]"]
    lines.append(f"    return {cls.TYPE!r}, data")  # type: ignore[attr-defined]
    space: dict[str, Any] = {}
    exec("\n".join(lines), space)  # noqa: S102 - code made here from the class's own field names
    return space["record"]


_RECORD_MAKERS = {cls: _record_maker(cls) for cls in EVENT_TYPES.values()}


def to_record(event: Event) -> tuple[str, dict[str, Any]]:
    """The journal's ``(type, data)`` for an event."""
    return _RECORD_MAKERS[type(event)](event)


def from_record(kind: str, data: dict[str, Any]) -> Event:
    """The event a journal row holds; a type no version ever wrote is a ``KeyError``."""
    return EVENT_TYPES[kind](**data)
