"""The participants' side of the server: reading frames (rate limit, parsing, pings), the join
door and the seat loop. A part of :class:`server.hub.Hub`, kept apart so that each file holds
one job; it uses the hub's sessions, gate, rooms and commit.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import logging
import secrets
import time
from functools import partial
from typing import Any

import orjson
from websockets.asyncio.server import ServerConnection

from game.core import messages
from game.core.protocol import (
    CLOSE_KICKED,
    CLOSE_REPLACED,
    CLOSE_TOO_SLOW,
    MAX_JOIN_ID,
    MAX_REF,
    MIN_JOIN_ID,
    PARTICIPANT_MESSAGES,
    Answer,
    BadFrame,
    Choose,
    Join,
    Ping,
    parse_frame,
)
from game.core.session import (
    Actor,
    Refused,
    TakeSeat,
    group_view,
    personal,
    token_hash,
)
from server.commit import STORAGE_FAULT
from server.live import LiveSession
from server.ratelimit import RateLimit

log = logging.getLogger("crossroads.server")

SEAT_MESSAGES = {k: v for k, v in PARTICIPANT_MESSAGES.items() if k != "join"}
JOIN_MESSAGES = {"join": Join, "ping": Ping}
ACK_WITH_YOU = (Choose, Answer)  # commands whose acknowledgement carries the seat's new state


class Flooded(Exception):
    """A connection sent more frames than the rate limit allows, for too long: close it."""


class Participants:
    """The participant connections' loops, mixed into the hub."""

    def join_timed_out(self, ws: ServerConnection) -> None:
        if ws in self.gate.pending_conns:
            asyncio.create_task(ws.close(CLOSE_TOO_SLOW, f"no join within {self.join_timeout:g} seconds; connect again to join"))

    def rate_limited(self, ws: ServerConnection, frame: str | bytes, limit: RateLimit) -> None:
        """Answer a frame the rate limit refused, by its ``id``; past the flood limit, close."""
        limit.denied += 1
        self.stats["rate_limited"] += 1
        ref = None
        with contextlib.suppress(Exception):
            data = orjson.loads(frame)
            candidate = data.get("id") if isinstance(data, dict) else None
            if isinstance(candidate, int | str) and not isinstance(candidate, bool) and len(str(candidate)) <= MAX_REF:
                ref = candidate
        text = f"too many messages (more than {self.frame_rate:g} a second); this one was not read: wait a moment and send it again"
        self.outbox.send((ws,), orjson.dumps(messages.error("rate_limited", text, ref)))
        if limit.denied >= self.flood_limit:
            raise Flooded

    def command(self, ws: ServerConnection, frame: str | bytes, limit: RateLimit, schemas: dict[str, type]) -> tuple[Any, Any] | None:
        """``(ref, command)`` from a frame, or None when the frame was answered here: a ping
        gets its pong, a bad frame its error, a frame over the rate limit ``rate_limited``
        (and a flood :class:`Flooded`)."""
        self.stats["frames"] += 1
        self.last_input = time.monotonic()  # any frame from anyone: cosmetic updates wait for a lull
        if not limit.allow():
            self.rate_limited(ws, frame, limit)
            return None
        try:
            ref, command = parse_frame(frame, schemas)
        except BadFrame as bad:
            self.stats["refused"] += 1
            self.outbox.send((ws,), orjson.dumps(messages.error(bad.code, bad.message, bad.ref)))
            return None
        if type(command) is Ping:
            self.outbox.send((ws,), orjson.dumps(messages.pong(ref)))
            return None
        return ref, command

    def reply(self, ws: ServerConnection, message: Any) -> None:
        self.outbox.send((ws,), orjson.dumps(message, option=orjson.OPT_NON_STR_KEYS))

    async def serve_join(self, ws: ServerConnection, limit: RateLimit, address: str) -> tuple[LiveSession, str] | None:
        reply = self.reply
        reply(ws, messages.welcome_join())
        if self.commits.broken:
            reply(ws, messages.notice("storage_fault", STORAGE_FAULT))
        async for frame in ws:
            received = self.command(ws, frame, limit, JOIN_MESSAGES)
            if received is None:
                continue
            ref, join = received
            code = join.code.strip().upper()
            live = self.live.get(code)
            if live is None:
                if not self.failed_joins.failed(address):
                    reply(ws, messages.error("too_many_joins", "too many wrong join codes from this address; wait a minute", ref))
                    await ws.close(1008, "too many wrong join codes")
                    return None
                wrong = f'no session has the code "{code[:12]}"; check the code on the facilitator\'s screen'
                reply(ws, messages.error("bad_code", wrong, ref))
                continue
            if live.ended:
                ended = f"session {code} has ended; ask the facilitator for the code of the session you are to join"
                reply(ws, messages.error("session_ended", ended, ref))
                continue
            try:
                seat_id, token = await self.take_seat(live, join)
            except Refused as refused:
                reply(ws, messages.error(refused.code, refused.message, ref))
                continue
            reply(ws, messages.joined(ref, seat_id, token))
            return live, seat_id
        return None

    async def take_seat(self, live: LiveSession, join: Join) -> tuple[str, str]:
        """A seat for a join (its id and token). With a join id, a retry of the same join
        returns the same seat and token, even after a restart."""
        session = live.session
        key = ""
        if join.join_id:
            if not MIN_JOIN_ID <= len(join.join_id) <= MAX_JOIN_ID:
                raise Refused("bad_field", f"join_id must be a random string of {MIN_JOIN_ID} to {MAX_JOIN_ID} characters")
            key = token_hash(f"{session.id}:{join.join_id}")
            token = base64.urlsafe_b64encode(hmac.digest(self.secret.encode(), key.encode(), hashlib.sha256)).decode().rstrip("=")
            existing = session.by_join.get(key)
            if existing is not None:
                if session.seats[existing].kicked:
                    raise Refused("not_found", "the facilitator removed this seat")
                await self.commits.write(session.id, [])  # the first attempt's seat may still be on its way to disk
                return existing, token
        else:
            token = secrets.token_urlsafe(32)
        device = ""
        if join.device:
            if not MIN_JOIN_ID <= len(join.device) <= MAX_JOIN_ID:
                raise Refused("bad_field", f"device must be a random string of {MIN_JOIN_ID} to {MAX_JOIN_ID} characters")
            device = token_hash(f"{session.id}:device:{join.device}")
        seat_id = f"p{len(session.seats) + 1}"
        await self.submit(live, Actor("seat", seat_id), TakeSeat(join.name, seat_id, token_hash(token), key, device))
        return seat_id, token

    async def serve_seat(self, ws: ServerConnection, live: LiveSession, seat_id: str, limit: RateLimit, fresh: bool = False) -> None:
        session = live.session
        rooms = live.rooms
        old = rooms.seat_connected(seat_id, ws)
        if old is not None:
            asyncio.create_task(old.close(CLOSE_REPLACED, "replaced by a newer connection"))
        seat = session.seats[seat_id]
        if not fresh:
            rooms.reply(ws, messages.welcome_seat(seat_id))
        rooms.reply(ws, messages.view(group_view(session, seat.org, seat.group)))
        rooms.reply(ws, messages.you(personal(session, seat)))
        if self.commits.broken:
            rooms.reply(ws, messages.notice("storage_fault", STORAGE_FAULT))
        actor = Actor("seat", seat_id)
        async for frame in ws:
            rooms.last_input = time.monotonic()
            received = self.command(ws, frame, limit, SEAT_MESSAGES)
            if received is None:
                continue
            ref, command = received
            try:
                self.accept(live, actor, command, partial(self.acknowledge, ws, live, seat_id, ref, command))
            except Refused as refused:
                self.stats["refused"] += 1
                rooms.reply(ws, messages.error(refused.code, refused.message, ref))
                if refused.code == "not_found":
                    await ws.close(CLOSE_KICKED, "this seat was removed")
                    return

    def acknowledge(
        self, ws: ServerConnection, live: LiveSession, seat_id: str, ref: Any, command: Any, failure: BaseException | None
    ) -> None:
        """A participant's command is on disk (or could not be saved): tell them."""
        if isinstance(failure, Refused):
            live.rooms.reply(ws, messages.error(failure.code, failure.message, ref))
            return
        session = live.session
        if isinstance(command, ACK_WITH_YOU) and seat_id in session.seats:
            live.rooms.reply(ws, messages.ack_with_you(ref, command.TYPE, personal(session, session.seats[seat_id])))
        else:
            live.rooms.reply(ws, messages.ack(ref, command.TYPE))

    # -- the facilitator --------------------------------------------------------------------
