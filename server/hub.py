"""The session server: the thin I/O shell around :mod:`game.core.session`, and the coordinator
of its parts: :mod:`server.auth` (the handshake), :mod:`server.ratelimit`,
:mod:`server.commit` (the group commit to :mod:`server.journal`), :mod:`server.rooms`
(connections and fan-out), :mod:`server.timers` and :mod:`server.heap`.

Order of work for every accepted command: ``decide`` -> apply the events in memory ->
append them to the commit group -> (the group is written and fsynced) -> acknowledge the
sender -> fan out. Views are computed from memory and may run ahead of the disk by at most
one commit group; acknowledgements never do. A connection need not wait for its commit to
read its next frame: that keeps a storm of choices moving.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import secrets
import time
from functools import partial
from pathlib import Path
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from game.core import messages
from game.core.loader import DeckError, load_deck_text
from game.core.protocol import (
    CLOSE_ENDED,
    CLOSE_FLOOD,
    CLOSE_KICKED,
    CLOSE_REPLACED,
    FACILITATOR_MESSAGES,
    MAX_DECK_UPLOAD,
    MAX_FRAME,
    PARTICIPANT_MESSAGES,
    Advance,
    Answer,
    BadFrame,
    Choose,
    CreateSession,
    Join,
    Ping,
    parse_frame,
)
from game.core.session import (
    FACILITATOR,
    SYSTEM,
    Actor,
    Deadline,
    Event,
    Refused,
    Session,
    TakeSeat,
    all_chosen,
    create_session,
    decide,
    group_view,
    new_code,
    personal,
    projector_view,
    replay,
    token_hash,
)
from game.core.session.setup import org_patterns
from game.deckfiles import bundled_decks
from server.auth import PROJECTOR_FILE, SECRET_FILE, Gate, load_or_create_secret
from server.commit import Committed, GroupCommit, settle_future
from server.heap import release_heap, settle_heap
from server.journal import Journal
from server.ratelimit import JoinLimits, RateLimit
from server.rooms import FLUSH_INTERVAL, Rooms
from server.timers import PhaseTimer

log = logging.getLogger("crossroads.server")

SEAT_MESSAGES = {k: v for k, v in PARTICIPANT_MESSAGES.items() if k != "join"}
JOIN_MESSAGES = {"join": Join, "ping": Ping}
ACK_WITH_YOU = (Choose, Answer)  # commands whose acknowledgement carries the seat's new state


class Hub:
    """One server, at most one live session (a new one may follow when it has ended)."""

    def __init__(
        self,
        data_dir: str | Path,
        *,
        frame_rate: float = 20.0,
        frame_burst: float = 40.0,
        joins_per_minute: int = 30,
        write_limit: int = 512 * 1024,
        flush_interval: float = FLUSH_INTERVAL,
        code_factory: Any = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.secret = load_or_create_secret(self.data_dir)
        self.secret_path = self.data_dir / SECRET_FILE
        self.projector_token = load_or_create_secret(self.data_dir, PROJECTOR_FILE)
        self.projector_path = self.data_dir / PROJECTOR_FILE
        self.journal = Journal(self.data_dir / "journal.sqlite")
        self.frame_rate, self.frame_burst = frame_rate, frame_burst
        self.code_factory = code_factory or new_code  # tests inject a fixed code
        self.session: Session | None = None
        self.stats = {"frames": 0, "refused": 0, "committed": 0, "commits": 0, "dropped_slow": 0}
        self.joins = JoinLimits(joins_per_minute)
        self.gate = Gate(
            self.secret, self.joins, lambda token: self.session.seat_by_token(token) if self.session else None, self.projector_token
        )
        self.commits = GroupCommit(self.journal, self.stats)
        self.rooms = Rooms(lambda: self.session, write_limit, flush_interval, self.stats)
        self.timer = PhaseTimer(self.on_deadline)
        self.server: Server | None = None
        self.tasks: list[asyncio.Task[Any]] = []
        self.restore()

    @property
    def seat_conns(self) -> dict[str, ServerConnection]:
        """The connected seats: seat id -> its connection."""
        return self.rooms.seat_conns

    # -- lifecycle ------------------------------------------------------------------------

    def restore(self) -> None:
        """Rebuild the latest session from the journal."""
        events = self.journal.latest_session()
        if not events:
            return
        session = self.session = replay(events)
        log.info(
            "restored session %s (%s) from %d journalled events, phase %s round %d",
            session.code,
            session.deck.id,
            len(events),
            session.phase,
            session.round,
        )

    async def start(self, host: str = "127.0.0.1", port: int = 8765, ssl: Any = None) -> Server:
        self.loop = asyncio.get_running_loop()
        self.tasks = [self.commits.start(), asyncio.create_task(self.rooms.flusher())]
        self.server = await serve(
            self.handler,
            host,
            port,
            process_request=self.gate.process_request,
            max_size=MAX_FRAME,
            compression=None,
            ssl=ssl,
            ping_interval=20,
            ping_timeout=40,
            max_queue=8,
            close_timeout=2,
        )
        self.timer.arm(self.session)
        return self.server

    @property
    def port(self) -> int:
        assert self.server is not None
        return self.server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        self.timer.cancel()
        if self.server:
            self.server.close()
            await self.server.wait_closed()
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.journal.close()
        release_heap()  # what the rounds set aside is collectable again once the server stops

    # -- connections ------------------------------------------------------------------------

    async def handler(self, ws: ServerConnection) -> None:
        role, seat_id = self.gate.take_role(ws)
        limit = RateLimit(self.frame_rate, self.frame_burst)
        try:
            if role == "facilitator":
                await self.serve_facilitator(ws, limit)
            elif role == "join":
                seat_id = await self.serve_join(ws, limit)
                if seat_id:
                    await self.serve_seat(ws, seat_id, limit, fresh=True)
            elif role == "seat":
                await self.serve_seat(ws, seat_id, limit)
            elif role == "projector":
                await self.serve_projector(ws, limit)
        except ConnectionClosed:
            pass
        except Exception as exc:  # noqa: BLE001 - a bug must cost one connection, not the server
            log.error("connection error (%s): %s", type(exc).__name__, exc)
        finally:
            self.rooms.disconnected(ws, seat_id)

    def command(self, ws: ServerConnection, frame: str | bytes, limit: RateLimit, schemas: dict[str, type]) -> tuple[Any, Any] | None:
        """``(ref, command)`` from a frame, or None when the frame was answered here: a ping
        gets its pong, a bad frame its error, a flood first a warning and then the connection
        closed."""
        self.stats["frames"] += 1
        self.rooms.last_input = time.monotonic()
        if not limit.allow():
            limit.denied += 1
            if limit.denied == 101:
                asyncio.create_task(ws.close(CLOSE_FLOOD, "flooding"))
            elif limit.denied % 10 == 1 and limit.denied < 101:
                self.rooms.reply(ws, messages.error("rate_limited", "too many messages; slow down"))
            return None
        try:
            ref, command = parse_frame(frame, schemas)
        except BadFrame as bad:
            self.stats["refused"] += 1
            self.rooms.reply(ws, messages.error(bad.code, bad.message, bad.ref))
            return None
        if type(command) is Ping:
            self.rooms.reply(ws, messages.pong(ref))
            return None
        return ref, command

    async def serve_join(self, ws: ServerConnection, limit: RateLimit) -> str:
        reply = self.rooms.reply
        reply(ws, messages.welcome_join())
        async for frame in ws:
            received = self.command(ws, frame, limit, JOIN_MESSAGES)
            if received is None:
                continue
            ref, join = received
            session = self.session
            code = join.code.strip().upper()
            if session is None or session.phase == "ended":
                reply(ws, messages.error("no_session", "no session is running on this server yet", ref))
                continue
            if not hmac.compare_digest(code.encode(), session.code.encode()):
                if not self.joins.allow(ws):
                    reply(ws, messages.error("too_many_joins", "too many join attempts from this address; wait a minute", ref))
                    await ws.close(1008, "too many join attempts")
                    return ""
                wrong = f'no session has the code "{code[:12]}"; check the code on the facilitator\'s screen'
                reply(ws, messages.error("bad_code", wrong, ref))
                continue
            token = secrets.token_urlsafe(32)
            seat_id = f"p{len(session.seats) + 1}"
            try:
                await self.submit(Actor("seat", seat_id), TakeSeat(join.name, seat_id, token_hash(token)))
            except Refused as refused:
                reply(ws, messages.error(refused.code, refused.message, ref))
                continue
            reply(ws, messages.joined(ref, seat_id, token))
            return seat_id
        return ""

    async def serve_seat(self, ws: ServerConnection, seat_id: str, limit: RateLimit, fresh: bool = False) -> None:
        session = self.session
        assert session is not None
        old = self.rooms.seat_connected(seat_id, ws)
        if old is not None:
            asyncio.create_task(old.close(CLOSE_REPLACED, "replaced by a newer connection"))
        seat = session.seats[seat_id]
        if not fresh:
            self.rooms.reply(ws, messages.welcome_seat(seat_id))
        self.rooms.reply(ws, messages.view(group_view(session, seat.org, seat.group)))
        self.rooms.reply(ws, messages.you(personal(session, seat)))
        actor = Actor("seat", seat_id)
        async for frame in ws:
            received = self.command(ws, frame, limit, SEAT_MESSAGES)
            if received is None:
                continue
            ref, command = received
            try:
                self.accept(actor, command, partial(self.acknowledge, ws, seat_id, ref, command))
            except Refused as refused:
                self.stats["refused"] += 1
                self.rooms.reply(ws, messages.error(refused.code, refused.message, ref))
                if refused.code == "not_found":
                    await ws.close(CLOSE_KICKED, "this seat was removed")
                    return

    def acknowledge(self, ws: ServerConnection, seat_id: str, ref: Any, command: Any, failure: BaseException | None) -> None:
        """A participant's command is on disk (or could not be saved): tell them."""
        if isinstance(failure, Refused):
            self.rooms.reply(ws, messages.error(failure.code, failure.message, ref))
            return
        session = self.session
        if isinstance(command, ACK_WITH_YOU) and session is not None and seat_id in session.seats:
            self.rooms.reply(ws, messages.ack_with_you(ref, command.TYPE, personal(session, session.seats[seat_id])))
        else:
            self.rooms.reply(ws, messages.ack(ref, command.TYPE))

    async def serve_projector(self, ws: ServerConnection, limit: RateLimit) -> None:
        """The room's screen: the projector view alone (no names, no messages, no metric before
        the debrief), sent again whenever it changes; it may only ping."""
        self.rooms.projector_conns.add(ws)
        self.rooms.reply(ws, messages.welcome_projector())
        if self.session:
            self.rooms.reply(ws, messages.projector_view(projector_view(self.session)))
        async for frame in ws:
            self.command(ws, frame, limit, {"ping": Ping})

    async def serve_facilitator(self, ws: ServerConnection, limit: RateLimit) -> None:
        reply = self.rooms.reply
        self.rooms.fac_conns.add(ws)
        running = self.session.code if self.session is not None and self.session.phase != "ended" else None
        reply(ws, messages.welcome_facilitator(sorted(bundled_decks()), running))
        if self.session:
            reply(ws, self.rooms.facilitator_message(self.session))
        async for frame in ws:
            received = self.command(ws, frame, limit, FACILITATOR_MESSAGES)
            if received is None:
                continue
            ref, command = received
            try:
                if isinstance(command, CreateSession):
                    session = await self.create(command)
                    reply(ws, messages.ack_created(ref, command.TYPE, session.code, session.id))
                    reply(ws, self.rooms.facilitator_message(session))
                    continue
                if self.session is None:
                    raise Refused("no_session", "create a session first")
                await self.submit(FACILITATOR, command)
            except Refused as refused:
                reply(ws, messages.error(refused.code, refused.message, ref))
                continue
            reply(ws, messages.ack(ref, command.TYPE))

    # -- commands ---------------------------------------------------------------------------

    async def create(self, command: CreateSession) -> Session:
        if self.session is not None and self.session.phase != "ended":
            raise Refused("session_exists", f"session {self.session.code} is still running; end it first")
        if command.deck_toml:
            if len(command.deck_toml.encode()) > MAX_DECK_UPLOAD:
                raise Refused("deck_invalid", f"an uploaded deck may be at most {MAX_DECK_UPLOAD // 1024} KiB")
            text, name = command.deck_toml, "uploaded deck"
        else:
            decks = bundled_decks()
            wanted = command.deck or "interlodge"
            if wanted not in decks:
                raise Refused("bad_field", f'no bundled deck "{wanted}"; there are {", ".join(sorted(decks))}')
            text, name = decks[wanted].read_text(encoding="utf-8"), f"{wanted}.toml"
        try:
            deck = load_deck_text(text, name)
        except DeckError as exc:
            raise Refused("deck_invalid", "\n".join(str(p) for p in exc.problems[:20])) from None
        patterns = org_patterns(command, deck)
        seed = command.seed if command.seed is not None else secrets.randbelow(2**31)
        session, event = create_session(
            secrets.token_hex(8), self.code_factory(), deck, text, name, patterns, seed, command.bots, command.early_close
        )
        previous = self.session
        self.session = session
        try:
            await self.commits.write(session.id, [event])
        except Exception:
            self.session = previous
            raise
        self.rooms.forget_seats()
        log.info("session %s created: deck %s, %d organisations", session.code, deck.id, len(patterns))
        return session

    def accept(self, actor: Actor, command: Any, committed: Committed) -> list[Event]:
        """Decide and apply at once; journal in the next group commit, then fan out and call
        ``committed(None)`` (or ``committed(Refused)`` if the journal failed). Raises
        :class:`Refused` when the command is refused."""
        session = self.session
        if session is None:
            raise Refused("no_session", "no session is running")
        if self.commits.broken:
            raise Refused("unavailable", "the server cannot write its journal; ask the facilitator")
        events = decide(session, actor, command, time.time())
        if not events:
            committed(None)
            return events
        for event in events:
            session.apply(event)

        def fan_out_then_tell(failure: BaseException | None) -> None:
            if failure is None:
                self.after(events)
            committed(failure)

        self.commits.add(session.id, events, fan_out_then_tell)
        return events

    async def submit(self, actor: Actor, command: Any) -> list[Event]:
        """:meth:`accept`, returning once the events are on disk and fanned out."""
        done: asyncio.Future[None] = self.loop.create_future()
        events = self.accept(actor, command, partial(settle_future, done))
        await done
        return events

    # -- after a commit ---------------------------------------------------------------------

    def after(self, events: list[Event]) -> None:
        session = self.session
        assert session is not None
        noted = self.rooms.note(session, events)
        if noted.clock_only:
            self.timer.arm(session)
            self.rooms.send_clock(session)
        if noted.urgent:
            self.timer.arm(session)
            # participants first; the facilitator's large view follows on the next tick
            self.rooms.flush(everyone=noted.personal_reset, facilitator=False)
        if session.early_close and all_chosen(session):
            asyncio.create_task(self.auto_advance(session.round))
        if noted.new_round:
            self.loop.call_soon(settle_heap)  # after the brief has gone out
        if session.phase == "ended":
            release_heap()
            for conn in list(self.rooms.seat_conns.values()):
                asyncio.create_task(conn.close(CLOSE_ENDED, "the session has ended"))

    async def auto_advance(self, round_: int) -> None:
        session = self.session
        if session is None or session.phase != "choose" or session.round != round_:
            return
        with contextlib.suppress(Refused):
            await self.submit(FACILITATOR, Advance())

    async def on_deadline(self, phase: str, round_: int) -> None:
        try:
            events = await self.submit(SYSTEM, Deadline(phase, round_))
        except Refused:
            return
        if not events:
            self.timer.arm(self.session)  # the deadline moved (extended) while the timer slept
