"""The wire protocol: versioned JSON messages with a ``type`` tag (see docs/protocol.md).

Incoming frames are parsed here into commands, frozen attrs classes that
:func:`game.core.session.decide` takes as they are; every way a frame can be wrong becomes a
:class:`BadFrame` with an error code and a sentence, never an exception the server did not
expect. What the server sends back is declared in :mod:`game.core.messages`. This module owns
the protocol's numbers and codes: its version, frame limits, close codes and error codes.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any, ClassVar

import attrs
import cattrs
import orjson
from attrs import frozen
from cattrs.errors import ClassValidationError, ForbiddenExtraKeysError

from game.core.convert import format_path, problems, strict_converter

PROTOCOL_VERSION = 1
MAX_FRAME = 64 * 1024
MAX_DECK_UPLOAD = 60 * 1024
MAX_REF = 64

# Close codes (besides the standard 1000, 1001, 1008, 1009, 1011)
CLOSE_KICKED = 4001
CLOSE_REPLACED = 4002
CLOSE_ENDED = 4003
CLOSE_TOO_SLOW = 4008  # a /v1/join connection that did not join in time
CLOSE_FLOOD = 4029

MAX_JOIN_ID = 64
MIN_JOIN_ID = 16

ERROR_CODES = {
    "bad_json": "the frame is not a JSON object",
    "unknown_type": "no message of that type exists for this connection",
    "bad_field": "a field is missing, has the wrong type, or is not allowed",
    "wrong_phase": "the command is not allowed in the current phase",
    "stale_round": "the message names a round that is not the current one",
    "not_your_option": "the option is not one of your group's options on this card",
    "not_their_option": "the option asked for is not one of that group's options on this card",
    "channel_closed": "your organisation's structure does not open that channel for your group",
    "too_long": "the text is longer than allowed",
    "rate_limited": "too many messages in a short time; the message was not read; wait a moment and send it again",
    "bad_code": "no session has that join code",
    "session_ended": "the session of that join code has ended",
    "bad_name": "the name is empty or unusable",
    "name_taken": "someone in the session already has that name",
    "lobby_locked": "the facilitator has locked the lobby",
    "removed": "the facilitator removed this participant; only the facilitator can let them back in",
    "not_found": "no such seat",
    "forbidden": "this connection may not do that",
    "no_session": "no session is open on this connection, or none has that code",
    "session_exists": "no free join code could be found for a new session",
    "deck_invalid": "the deck does not load; the message lists the problems",
    "too_many_joins": "too many wrong join codes from this address; wait a minute",
    "unavailable": "the server cannot write its journal; nothing was accepted; it retries by itself",
}


class BadFrame(Exception):
    def __init__(self, code: str, message: str, ref: Any = None) -> None:
        super().__init__(message)
        self.code, self.message, self.ref = code, message, ref


# --- commands: one class per message type ---------------------------------------------------
# ``TYPE`` is the name on the wire, in acknowledgements and in errors.


@frozen
class Ping:
    TYPE: ClassVar[str] = "ping"


@frozen
class Join:
    TYPE: ClassVar[str] = "join"
    code: str
    name: str
    join_id: str = ""  # chosen by the client, kept until joined: a retry returns the same seat
    device: str = ""  # chosen by the client once and kept: a device whose seat was removed stays out


@frozen
class Choose:
    TYPE: ClassVar[str] = "choose"
    round: int
    option: str


@frozen
class Say:
    TYPE: ClassVar[str] = "say"
    text: str
    to: str = ""


@frozen
class Request:
    """Ask another group, along an open channel, for one of its options this round; an empty
    option withdraws the seat's request to that group."""

    TYPE: ClassVar[str] = "request"
    round: int
    to: str
    option: str


@frozen
class Answer:
    TYPE: ClassVar[str] = "answer"
    prompt: int
    text: str


@frozen
class CreateSession:
    TYPE: ClassVar[str] = "create_session"
    deck: str = ""
    deck_toml: str = ""
    orgs: int = 1
    patterns: tuple[str, ...] = ()
    seed: int | None = None
    early_close: bool = False
    bots: str = "adaptive"  # bots that play like people: they ask, and grant as often as they listen


@frozen
class ListSessions:
    TYPE: ClassVar[str] = "list_sessions"


@frozen
class OpenSession:
    TYPE: ClassVar[str] = "open_session"
    code: str


@frozen
class DeleteSession:
    TYPE: ClassVar[str] = "delete_session"
    code: str


@frozen
class Lock:
    TYPE: ClassVar[str] = "lock"


@frozen
class Unlock:
    TYPE: ClassVar[str] = "unlock"


@frozen
class Move:
    TYPE: ClassVar[str] = "move"
    seat: str
    org: int
    group: str


@frozen
class Start:
    TYPE: ClassVar[str] = "start"


@frozen
class Advance:
    TYPE: ClassVar[str] = "advance"


@frozen
class Pause:
    TYPE: ClassVar[str] = "pause"


@frozen
class Resume:
    TYPE: ClassVar[str] = "resume"


@frozen
class Extend:
    TYPE: ClassVar[str] = "extend"
    seconds: int = 60


@frozen
class CallTimeout:
    TYPE: ClassVar[str] = "call_timeout"


@frozen
class Inject:
    TYPE: ClassVar[str] = "inject"
    inject: str
    org: int | None = None


@frozen
class SetPattern:
    TYPE: ClassVar[str] = "set_pattern"
    org: int
    pattern: str


@frozen
class Botify:
    TYPE: ClassVar[str] = "botify"
    seat: str


@frozen
class BotifyStalled:
    TYPE: ClassVar[str] = "botify_stalled"


@frozen
class Kick:
    TYPE: ClassVar[str] = "kick"
    seat: str


@frozen
class End:
    TYPE: ClassVar[str] = "end"


@frozen
class Admit:
    """Let a removed participant join again with the code (under the name they had)."""

    TYPE: ClassVar[str] = "admit"
    seat: str


@frozen
class ShowAnswers:
    """Choose which time-out answers the room sees in the debrief (``answers`` are
    ``seat/round/prompt`` keys, shown or hidden by ``shown``), and whether with their authors' names."""

    TYPE: ClassVar[str] = "show_answers"
    answers: tuple[str, ...] = ()
    shown: bool = True
    names: bool = False


def _by_type(*schemas: type) -> dict[str, type]:
    return {schema.TYPE: schema for schema in schemas}  # type: ignore[attr-defined]


PARTICIPANT_MESSAGES: dict[str, type] = _by_type(Join, Choose, Say, Request, Answer, Ping)
FACILITATOR_MESSAGES: dict[str, type] = _by_type(
    CreateSession,
    ListSessions,
    OpenSession,
    DeleteSession,
    Lock,
    Unlock,
    Move,
    Start,
    Advance,
    Pause,
    Resume,
    Extend,
    CallTimeout,
    Inject,
    SetPattern,
    Botify,
    BotifyStalled,
    Kick,
    End,
    Admit,
    ShowAnswers,
    Ping,
)


def _frame_converter() -> cattrs.Converter:
    conv = strict_converter()

    def exact(kind: type, label: str) -> Any:
        def check(value: Any, _: Any) -> Any:
            if type(value) is not kind:
                raise ValueError(f"expected {label}")
            return value

        return check

    conv.register_structure_hook(int, exact(int, "a whole number"))
    conv.register_structure_hook(str, exact(str, "a string"))
    conv.register_structure_hook(bool, exact(bool, "true or false"))
    conv.register_structure_hook_func(
        lambda t: t == tuple[str, ...],
        lambda v, _: (
            tuple(v)
            if isinstance(v, list) and all(isinstance(i, str) for i in v) and len(v) <= 64
            else (_ for _ in ()).throw(ValueError("expected a list of strings"))
        ),
    )
    return conv


CONVERTER = _frame_converter()


@cache
def _flat_fields(schema: type) -> tuple[tuple[str, type, Any], ...] | None:
    """(name, exact type, default) for a schema whose fields are all int, str or bool; else None."""
    out = []
    for field in attrs.fields(schema):
        if field.type not in (int, str, bool, "int", "str", "bool"):
            return None
        kind = {"int": int, "str": str, "bool": bool}.get(field.type, field.type)  # type: ignore[arg-type]
        out.append((field.name, kind, field.default))
    return tuple(out)


@cache
def _fast_builder(schema: type) -> Callable[[dict[str, Any]], Any] | None:
    """For a flat schema, a function that builds the command from a well-formed frame's fields,
    checked by hand, and returns None for anything else; None for other schemas.

    Generated per schema, as attrs generates ``__init__``: a loop over the fields cost as much
    again as the rest of parsing, and most frames in a busy room are ``choose``."""
    fields = _flat_fields(schema)
    if fields is None:
        return None
    space: dict[str, Any] = {"schema": schema, "NOTHING": attrs.NOTHING, "int": int, "str": str, "bool": bool}
    lines = ["def build(data):", f"    if len(data) > {len(fields)}:", "        return None"]
    required, optional = 0, []
    for i, (name, kind, default) in enumerate(fields):
        space[f"default{i}"] = default  # attrs.NOTHING when required: never of the right type
        lines += [f"    v{i} = data.get({name!r}, default{i})", f"    if type(v{i}) is not {kind.__name__}:", "        return None"]
        if default is attrs.NOTHING:
            required += 1
        else:
            optional.append(f"({name!r} in data)")
    given = " + ".join([str(required), *optional])
    lines += [f"    if len(data) != {given}:", "        return None  # an unknown key: let the converter name it"]
    lines.append(f"    return schema({', '.join(f'v{i}' for i in range(len(fields)))})")
    exec("\n".join(lines), space)  # noqa: S102 - code made here from the schema's own field names
    return space["build"]


def _fast_structure(data: dict[str, Any], schema: type) -> Any:
    """The command of a well-formed frame for a flat schema; None sends the frame down the
    converter, which also words the error of a malformed one."""
    build = _fast_builder(schema)
    return None if build is None else build(data)


def parse_frame(frame: str | bytes, schemas: dict[str, type]) -> tuple[Any, Any]:
    """``(ref, command)``: the frame's optional ``id`` and its validated command, or :class:`BadFrame`."""
    if isinstance(frame, bytes):
        try:
            frame = frame.decode("utf-8")
        except UnicodeDecodeError:
            raise BadFrame("bad_json", "frames must be UTF-8 JSON text") from None
    try:
        data = orjson.loads(frame)
    except orjson.JSONDecodeError:
        raise BadFrame("bad_json", "the frame is not valid JSON") from None
    if not isinstance(data, dict):
        raise BadFrame("bad_json", 'a message is a JSON object with a "type"')
    ref = data.pop("id", None)
    if ref is not None and not (isinstance(ref, int | str) and not isinstance(ref, bool) and len(str(ref)) <= MAX_REF):
        raise BadFrame("bad_field", f"id must be a number or a string of at most {MAX_REF} characters")
    kind = data.pop("type", None)
    if not isinstance(kind, str):
        raise BadFrame("bad_field", 'every message needs a "type" string', ref)
    schema = schemas.get(kind)
    if schema is None:
        known = ", ".join(sorted(schemas))
        raise BadFrame("unknown_type", f'unknown message type "{kind[:40]}"; this connection may send {known}', ref)
    build = _fast_builder(schema)
    command = None if build is None else build(data)
    if command is not None:
        return ref, command
    try:
        return ref, CONVERTER.structure(data, schema)
    except (ClassValidationError, ForbiddenExtraKeysError, ValueError, TypeError) as exc:
        found = list(problems(exc))
        text = "; ".join(f"{format_path(p) or kind}: {m}" for p, m in found) or str(exc)
        raise BadFrame("bad_field", f"{kind}: {text}", ref) from None


def encode_bytes(message: Any) -> bytes:
    """Compact UTF-8 JSON, sent as a text frame without another round of encoding."""
    return orjson.dumps(message, option=orjson.OPT_NON_STR_KEYS)


def encode(message: Any) -> str:
    return encode_bytes(message).decode()
