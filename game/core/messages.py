"""What the server sends: every outgoing message's shape, declared once, with the small
function that builds it. The server builds every message through these (docs/protocol.md
describes them for people). They are plain dicts at run time, encoded once per audience.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

from game.core.protocol import PROTOCOL_VERSION

Ref = int | str | None  # the ``id`` a request carried, echoed as ``ref``

# --- parts of views -------------------------------------------------------------------------

GroupView = dict[str, Any]  # what a group may see: game.core.session.views.group_view
FacilitatorView = dict[str, Any]  # everything: game.core.session.overview.facilitator_view


class Clock(TypedDict):
    phase: str
    round: int
    deadline: float | None
    paused: bool
    remaining: float | None
    duration: int


class Progress(TypedDict):
    chosen: int
    of: int


class Personal(TypedDict):
    note: str  # what the participant is told about their seat ("" when nothing to tell)
    seat: str
    name: str
    org: int
    group: str
    bot: bool
    choice: str | None
    answers: dict[str, str]  # prompt index as text -> this round's answer


ChatLine = TypedDict(
    "ChatLine",
    {
        "name": str,
        "from": str,
        "to": str,
        "text": str,
        "round": int,
        "at": float,
        "org": int,
        # on a request: the option asked for and its label ("" withdraws it); "text" is then empty
        "request": NotRequired[str],
        "label": NotRequired[str],
    },
)


class DeckSummary(TypedDict):
    title: str
    rounds: int
    patterns: dict[str, str]  # pattern id -> label
    default_pattern: str
    phases: dict[str, int]  # phase -> default duration in seconds (0: no timer)


class SessionSummary(TypedDict):
    code: str
    session: str
    title: str
    deck: str
    phase: str
    round: int
    rounds: int
    orgs: int
    seats: int  # seats not removed
    connected: int  # seats connected now
    ended_at: float | None


# --- the messages ----------------------------------------------------------------------------


class Welcome(TypedDict):
    type: Literal["welcome"]
    protocol: int
    role: str
    seat: NotRequired[str]
    decks: NotRequired[list[str]]
    catalog: NotRequired[dict[str, DeckSummary]]  # what each bundled deck offers, before create_session
    session: NotRequired[str | None]  # the join code of the session this facilitator connection has open
    sessions: NotRequired[list[SessionSummary]]  # every session the server keeps


class Joined(TypedDict):
    type: Literal["joined"]
    ref: Ref
    seat: str
    token: str


class Ack(TypedDict):
    type: Literal["ack"]
    ref: Ref
    command: str
    you: NotRequired[Personal]  # after choose and answer
    code: NotRequired[str]  # after create_session and open_session
    session: NotRequired[str]
    sessions: NotRequired[list[SessionSummary]]  # after list_sessions


class Error(TypedDict):
    type: Literal["error"]
    code: str
    message: str
    ref: NotRequired[Ref]


class View(TypedDict):
    type: Literal["view"]
    view: GroupView


class You(TypedDict):
    type: Literal["you"]
    you: Personal


class ClockMessage(TypedDict):
    type: Literal["clock"]
    session: Clock


class ProgressMessage(TypedDict):
    type: Literal["progress"]
    org: int
    chosen: int
    of: int


class Message(TypedDict):
    type: Literal["message"]
    message: ChatLine


class FacilitatorViewMessage(TypedDict):
    type: Literal["facilitator_view"]
    view: FacilitatorView


class Notice(TypedDict):
    type: Literal["notice"]
    code: str  # "storage_fault" or "storage_ok"
    message: str  # a sentence for people


class ProjectorViewMessage(TypedDict):
    type: Literal["projector_view"]
    view: dict[str, Any]  # game.core.session.overview.projector_view: no name, message or metric before the debrief


class Pong(TypedDict):
    type: Literal["pong"]
    ref: Ref


def welcome_join() -> Welcome:
    return {"type": "welcome", "protocol": PROTOCOL_VERSION, "role": "join"}


def welcome_seat(seat: str) -> Welcome:
    return {"type": "welcome", "protocol": PROTOCOL_VERSION, "role": "seat", "seat": seat}


def welcome_facilitator(catalog: dict[str, DeckSummary], session: str | None, sessions: list[SessionSummary]) -> Welcome:
    return {
        "type": "welcome",
        "protocol": PROTOCOL_VERSION,
        "role": "facilitator",
        "decks": sorted(catalog),
        "catalog": catalog,
        "session": session,
        "sessions": sessions,
    }


def welcome_projector() -> Welcome:
    return {"type": "welcome", "protocol": PROTOCOL_VERSION, "role": "projector"}


def projector_view(view: dict[str, Any]) -> ProjectorViewMessage:
    return {"type": "projector_view", "view": view}


def joined(ref: Ref, seat: str, token: str) -> Joined:
    return {"type": "joined", "ref": ref, "seat": seat, "token": token}


def ack(ref: Ref, command: str) -> Ack:
    return {"type": "ack", "ref": ref, "command": command}


def ack_with_you(ref: Ref, command: str, you: Personal) -> Ack:
    return {"type": "ack", "ref": ref, "command": command, "you": you}


def ack_created(ref: Ref, command: str, code: str, session: str) -> Ack:
    return {"type": "ack", "ref": ref, "command": command, "code": code, "session": session}


def ack_sessions(ref: Ref, command: str, sessions: list[SessionSummary]) -> Ack:
    return {"type": "ack", "ref": ref, "command": command, "sessions": sessions}


def notice(code: str, text: str) -> Notice:
    return {"type": "notice", "code": code, "message": text}


def error(code: str, message: str, ref: Ref = None) -> Error:
    out: Error = {"type": "error", "code": code, "message": message}
    if ref is not None:
        out["ref"] = ref
    return out


def view(group_view: GroupView) -> View:
    return {"type": "view", "view": group_view}


def you(personal: Personal) -> You:
    return {"type": "you", "you": personal}


def clock(session_clock: Clock) -> ClockMessage:
    return {"type": "clock", "session": session_clock}


def progress(org: int, counts: Progress) -> ProgressMessage:
    return {"type": "progress", "org": org, "chosen": counts["chosen"], "of": counts["of"]}


def message(line: ChatLine) -> Message:
    return {"type": "message", "message": line}


def facilitator_view(everything: FacilitatorView) -> FacilitatorViewMessage:
    return {"type": "facilitator_view", "view": everything}


def pong(ref: Ref) -> Pong:
    return {"type": "pong", "ref": ref}
