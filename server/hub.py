"""The session server: the thin I/O shell around :mod:`game.core.session`, and the coordinator
of its parts: :mod:`server.auth` (the handshake), :mod:`server.ratelimit`,
:mod:`server.commit` (the group commit to :mod:`server.journal`), :mod:`server.live` (one
session: state, timer, and :mod:`server.rooms` for its connections and fan-out) and
:mod:`server.heap`.

A server keeps several sessions, each found by its join code; they share the journal, the
group commit and the event loop, nothing else.

Order of work for every accepted command: ``decide`` -> apply the events in memory ->
append them to the commit group -> (the group is written and fsynced) -> acknowledge the
sender -> fan out. Nothing reaches anyone before its commit, except the coalesced progress
counts and facilitator view, which may run ahead of the disk by at most one commit group; if
that commit fails, the session is rebuilt from what is on disk and everyone is sent it again.
A connection need not wait for its commit to read its next frame: that keeps a storm of
choices moving.
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
from pathlib import Path
from typing import Any

import orjson
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from game.core import messages
from game.core.loader import DeckError, load_deck_text
from game.core.protocol import (
    CLOSE_ENDED,
    CLOSE_FLOOD,
    CLOSE_KICKED,
    CLOSE_REPLACED,
    CLOSE_TOO_SLOW,
    FACILITATOR_MESSAGES,
    MAX_DECK_UPLOAD,
    MAX_FRAME,
    MAX_JOIN_ID,
    MAX_REF,
    MIN_JOIN_ID,
    PARTICIPANT_MESSAGES,
    Advance,
    Answer,
    BadFrame,
    Choose,
    CreateSession,
    DeleteSession,
    Join,
    ListSessions,
    OpenSession,
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
from server.auth import PROJECTOR_FILE, SECRET_FILE, Gate, load_or_create_secret, parse_proxies
from server.commit import Committed, GroupCommit, settle_future
from server.heap import release_heap, settle_heap
from server.journal import Journal
from server.live import LiveSession
from server.ratelimit import FailedJoins, RateLimit
from server.rooms import FLUSH_INTERVAL, Outbox
from server.web import select_subprotocol

log = logging.getLogger("crossroads.server")

SEAT_MESSAGES = {k: v for k, v in PARTICIPANT_MESSAGES.items() if k != "join"}
JOIN_MESSAGES = {"join": Join, "ping": Ping}
ACK_WITH_YOU = (Choose, Answer)  # commands whose acknowledgement carries the seat's new state

STORAGE_FAULT = (
    "The room is paused: the server cannot save to its disk, so it is not taking any input. "
    "Nothing already confirmed is lost. It retries by itself and the room goes on as soon as the disk works again; "
    "the facilitator may need to free disk space."
)
STORAGE_OK = "The server can save again and the room goes on. Anything refused while it was paused must be sent again."


class Flooded(Exception):
    """A connection sent more frames than the rate limit allows, for too long: close it."""


class Hub:
    """One server: any number of sessions, each found by its join code."""

    def __init__(
        self,
        data_dir: str | Path,
        *,
        frame_rate: float = 20.0,
        frame_burst: float = 40.0,
        flood_limit: int = 100,
        failed_joins_per_minute: int = 10,
        pending_per_address: int = 50,
        join_timeout: float = 10.0,
        write_limit: int = 512 * 1024,
        slow_reader_seconds: float = 10.0,
        trusted_proxies: tuple[str, ...] | list[str] = (),
        retry_interval: float = 1.0,
        flush_interval: float = FLUSH_INTERVAL,
        code_factory: Any = None,
        journal: Journal | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.secret = load_or_create_secret(self.data_dir)
        self.secret_path = self.data_dir / SECRET_FILE
        self.projector_token = load_or_create_secret(self.data_dir, PROJECTOR_FILE)
        self.projector_path = self.data_dir / PROJECTOR_FILE
        self.journal = journal or Journal(self.data_dir / "journal.sqlite")
        self.frame_rate, self.frame_burst, self.flood_limit = frame_rate, frame_burst, flood_limit
        self.join_timeout = join_timeout
        self.slow_reader_seconds = slow_reader_seconds
        self.flush_interval = flush_interval
        self.code_factory = code_factory or new_code  # tests inject a fixed code
        self.stats = {"frames": 0, "refused": 0, "committed": 0, "commits": 0, "dropped_slow": 0, "rate_limited": 0}
        self.live: dict[str, LiveSession] = {}  # join code -> session, in the order they were created
        self.fac_open: dict[ServerConnection, LiveSession] = {}  # the session each facilitator connection has open
        self.failed_joins = FailedJoins(failed_joins_per_minute)
        self.gate = Gate(
            self.secret,
            self.failed_joins,
            self.seat_by_token,
            pending_per_address=pending_per_address,
            trusted_proxies=parse_proxies(trusted_proxies),
            projector=self.projector_token,
        )
        self.waiting_projectors: set[ServerConnection] = set()  # screens connected before any session runs
        self.commits = GroupCommit(
            self.journal, self.stats, on_fault=self.on_fault, on_recovered=self.on_recovered, retry_interval=retry_interval
        )
        self.outbox = Outbox(write_limit, slow_reader_seconds, self.stats)
        self.server: Server | None = None
        self.tasks: list[asyncio.Task[Any]] = []
        self._catalog: dict[str, messages.DeckSummary] | None = None
        self.restore()

    @property
    def sessions(self) -> dict[str, Session]:
        """Every session kept, running or ended: join code -> session."""
        return {code: live.session for code, live in self.live.items()}

    @property
    def session(self) -> Session | None:
        """The most recently created session (the one a server with a single room runs)."""
        newest = next(reversed(self.live.values()), None)
        return newest.session if newest else None

    @property
    def seat_conns(self) -> dict[str, ServerConnection]:
        """The connected seats of the most recently created session: seat id -> its connection."""
        newest = next(reversed(self.live.values()), None)
        return newest.rooms.seat_conns if newest else {}

    # -- lifecycle ------------------------------------------------------------------------

    def restore(self) -> None:
        """Rebuild every session the journal holds."""
        for session_id in self.journal.session_ids():
            events = self.journal.events(session_id)
            try:
                session = replay(events)
            except Exception as exc:  # noqa: BLE001 - one unreadable session must not keep the others down
                log.error("session %s in the journal cannot be replayed (%s: %s); it is left out", session_id, type(exc).__name__, exc)
                continue
            self.add_live(session, events)
            log.info(
                "restored session %s (%s) from %d journalled events, phase %s round %d",
                session.code,
                session.deck.id,
                len(events),
                session.phase,
                session.round,
            )

    def add_live(self, session: Session, log_: list[Event]) -> LiveSession:
        live = LiveSession(session, log_, self.outbox, self.flush_interval, self.on_deadline)
        self.live[session.code] = live
        for ws in list(self.waiting_projectors):  # screens that waited for a session
            self.waiting_projectors.discard(ws)
            self.show_projector(ws, live)
        return live

    async def start(self, host: str = "127.0.0.1", port: int = 8765, ssl: Any = None) -> Server:
        self.loop = asyncio.get_running_loop()
        self.tasks = [self.commits.start(), asyncio.create_task(self.flusher())]
        self.server = await serve(
            self.handler,
            host,
            port,
            process_request=self.gate.process_request,
            select_subprotocol=select_subprotocol,
            max_size=MAX_FRAME,
            compression=None,
            ssl=ssl,
            # The kernel's buffers can absorb hundreds of KiB for a reader that has stopped, out
            # of the outbox's sight: a ping it does not answer bounds the time it is kept.
            ping_interval=self.slow_reader_seconds / 2,
            ping_timeout=self.slow_reader_seconds / 2,
            max_queue=8,
            close_timeout=2,
        )
        for live in self.live.values():
            live.timer.arm(live.session)
        return self.server

    @property
    def port(self) -> int:
        assert self.server is not None
        return self.server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        for live in self.live.values():
            live.timer.cancel()
        self.commits.stop()
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

    async def flusher(self) -> None:
        """The coalesced updates of every session, and the sweep for stalled readers."""
        while True:
            await asyncio.sleep(self.flush_interval)
            now = time.monotonic()
            self.outbox.sweep()
            for live in list(self.live.values()):
                live.rooms.tick(now)

    # -- connections ------------------------------------------------------------------------

    def seat_by_token(self, token: str) -> tuple[str, str] | None:
        """(join code, seat id) of the seat a token opens, in any session kept."""
        for code, live in self.live.items():
            seat = live.session.seat_by_token(token)
            if seat is not None:
                return code, seat.id
        return None

    async def handler(self, ws: ServerConnection) -> None:
        admitted = self.gate.take(ws)
        limit = RateLimit(self.frame_rate, self.frame_burst)
        live, seat_id = self.live.get(admitted.code), admitted.seat
        try:
            if admitted.role == "facilitator":
                await self.serve_facilitator(ws, limit)
            elif admitted.role == "join":
                timer = self.loop.call_later(self.join_timeout, self.join_timed_out, ws)
                try:
                    joined = await self.serve_join(ws, limit, admitted.address)
                finally:
                    timer.cancel()
                if joined:
                    live, seat_id = joined
                    self.gate.settled(ws)
                    await self.serve_seat(ws, live, seat_id, limit, fresh=True)
            elif admitted.role == "seat":
                if live is None or live.ended:
                    await ws.close(CLOSE_ENDED, "the session has ended")
                else:
                    await self.serve_seat(ws, live, seat_id, limit)
            elif admitted.role == "projector":
                await self.serve_projector(ws, limit, admitted.code)
        except Flooded:
            await ws.close(CLOSE_FLOOD, f"flooding: {self.flood_limit} messages refused by the rate limit; wait, then reconnect")
        except ConnectionClosed:
            pass
        except Exception as exc:  # noqa: BLE001 - a bug must cost one connection, not the server
            log.error("connection error (%s): %s", type(exc).__name__, exc)
        finally:
            self.gate.settled(ws)
            self.outbox.backlog.pop(ws, None)
            opened = self.fac_open.pop(ws, None)
            if opened is not None:
                opened.rooms.fac_conns.discard(ws)
            if live is not None:
                live.rooms.disconnected(ws, seat_id)

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
        seat_id = f"p{len(session.seats) + 1}"
        await self.submit(live, Actor("seat", seat_id), TakeSeat(join.name, seat_id, token_hash(token), key))
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

    def catalog(self) -> dict[str, messages.DeckSummary]:
        """What each bundled deck offers, so that a client can build ``create_session`` first."""
        if self._catalog is None:
            self._catalog = {}
            for name, path in sorted(bundled_decks().items()):
                try:
                    deck = load_deck_text(path.read_text(encoding="utf-8"), path.name)
                except (DeckError, OSError) as exc:
                    log.error("bundled deck %s does not load: %s", name, exc)
                    continue
                self._catalog[name] = {
                    "title": deck.deck.title,
                    "rounds": deck.deck.rounds,
                    "patterns": {p: pattern.label or p for p, pattern in deck.patterns.items()},
                    "default_pattern": deck.default_pattern,
                    "phases": {phase: int(getattr(deck.phases, phase) or 0) for phase in ("brief", "talk", "choose", "reveal", "timeout")},
                }
        return self._catalog

    def session_list(self) -> list[messages.SessionSummary]:
        return [live.summary() for live in self.live.values()]

    def open_for(self, ws: ServerConnection, live: LiveSession | None) -> None:
        """``ws`` now shows ``live``: its facilitator views and messages, and its commands go there."""
        before = self.fac_open.pop(ws, None)
        if before is not None:
            before.rooms.fac_conns.discard(ws)
        if live is not None:
            self.fac_open[ws] = live
            live.rooms.fac_conns.add(ws)

    def find(self, code: str) -> LiveSession:
        live = self.live.get(code.strip().upper())
        if live is None:
            known = ", ".join(self.live) or "none yet"
            raise Refused("no_session", f'no session has the code "{code[:12]}"; the sessions kept are: {known}')
        return live

    async def serve_projector(self, ws: ServerConnection, limit: RateLimit, code: str = "") -> None:
        """The room's screen: the projector view alone (no names, no messages, no metric before
        the debrief), sent again whenever it changes; it may only ping. It shows the session
        whose code it names, else the newest running one, else the next one created."""
        self.reply(ws, messages.welcome_projector())
        running = [live for live in self.live.values() if not live.ended]
        live = self.live.get(code) if code else (running[-1] if running else None)
        if live is None:
            self.waiting_projectors.add(ws)
        else:
            self.show_projector(ws, live)
        try:
            async for frame in ws:
                self.command(ws, frame, limit, {"ping": Ping})
        finally:
            self.waiting_projectors.discard(ws)
            for each in self.live.values():
                each.rooms.projector_conns.discard(ws)

    def show_projector(self, ws: ServerConnection, live: LiveSession) -> None:
        live.rooms.projector_conns.add(ws)
        self.reply(ws, messages.projector_view(projector_view(live.session)))

    async def serve_facilitator(self, ws: ServerConnection, limit: RateLimit) -> None:
        reply = self.reply
        running = [live for live in self.live.values() if not live.ended]
        opened = running[-1] if running else None
        self.open_for(ws, opened)
        reply(ws, messages.welcome_facilitator(self.catalog(), opened.code if opened else None, self.session_list()))
        if self.commits.broken:
            reply(ws, messages.notice("storage_fault", STORAGE_FAULT))
        if opened is not None:
            reply(ws, opened.rooms.facilitator_message(opened.session))
        async for frame in ws:
            received = self.command(ws, frame, limit, FACILITATOR_MESSAGES)
            if received is None:
                continue
            ref, command = received
            try:
                if isinstance(command, CreateSession | OpenSession):
                    live = await self.create(command) if isinstance(command, CreateSession) else self.find(command.code)
                    self.open_for(ws, live)
                    reply(ws, messages.ack_created(ref, command.TYPE, live.code, live.session.id))
                    reply(ws, live.rooms.facilitator_message(live.session))
                    continue
                if isinstance(command, ListSessions):
                    reply(ws, messages.ack_sessions(ref, command.TYPE, self.session_list()))
                    continue
                if isinstance(command, DeleteSession):
                    await self.delete(self.find(command.code))
                else:
                    live = self.fac_open.get(ws)
                    if live is None:
                        raise Refused("no_session", "no session is open here: create one, or open one of list_sessions by its code")
                    await self.submit(live, FACILITATOR, command)
            except Refused as refused:
                reply(ws, messages.error(refused.code, refused.message, ref))
                continue
            reply(ws, messages.ack(ref, command.TYPE))

    # -- sessions ---------------------------------------------------------------------------

    async def create(self, command: CreateSession) -> LiveSession:
        if self.commits.broken:
            raise Refused("unavailable", "the server cannot save to its disk right now; it retries by itself, try again in a moment")
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
            secrets.token_hex(8), self.new_code(), deck, text, name, patterns, seed, command.bots, command.early_close
        )
        await self.commits.write(session.id, [event])
        live = self.add_live(session, [event])
        log.info("session %s created: deck %s, %d organisations", session.code, deck.id, len(patterns))
        return live

    def new_code(self) -> str:
        """A join code no kept session has (codes of ended sessions stay taken until deleted)."""
        for _ in range(100):
            code = self.code_factory()
            if code not in self.live:
                return code
        raise Refused("session_exists", "no free join code could be found; delete some ended sessions")

    async def delete(self, live: LiveSession) -> None:
        if not live.ended:
            raise Refused("wrong_phase", f"session {live.code} is still running; end it before deleting it")
        if self.commits.broken:
            raise Refused("unavailable", "the server cannot write to its disk right now; try again in a moment")
        await self.commits.write(live.session.id, [])  # its last events are on disk before it goes
        removed = self.journal.delete(live.session.id)
        for conn in list(live.rooms.fac_conns):
            self.open_for(conn, None)
        live.timer.cancel()
        self.live.pop(live.code, None)
        log.info("session %s deleted: %d journalled events removed", live.code, removed)

    # -- commands ---------------------------------------------------------------------------

    def accept(self, live: LiveSession, actor: Actor, command: Any, committed: Committed) -> list[Event]:
        """Decide and apply at once; journal in the next group commit, then fan out and call
        ``committed(None)`` (or ``committed(Refused)`` if the journal failed: the session has
        then been rebuilt from the journal). Raises :class:`Refused` when the command is
        refused."""
        if self.commits.broken:
            raise Refused(
                "unavailable", "the room is paused: the server cannot save to its disk; it retries by itself, try again in a moment"
            )
        session = live.session
        events = decide(session, actor, command, time.time())
        if not events:
            committed(None)
            return events
        for event in events:
            session.apply(event)

        def fan_out_then_tell(failure: BaseException | None) -> None:
            if failure is None:
                live.log.extend(events)
                self.after(live, events)
            committed(failure)

        self.commits.add(session.id, events, fan_out_then_tell)
        return events

    async def submit(self, live: LiveSession, actor: Actor, command: Any) -> list[Event]:
        """:meth:`accept`, returning once the events are on disk and fanned out."""
        done: asyncio.Future[None] = self.loop.create_future()
        events = self.accept(live, actor, command, partial(settle_future, done))
        await done
        return events

    # -- storage faults ---------------------------------------------------------------------

    def on_fault(self, session_ids: set[str]) -> None:
        """A commit failed: the sessions it held go back to what is on disk, and every room
        is told it is paused."""
        for live in self.live.values():
            if live.session.id in session_ids:
                live.roll_back()
        self.tell_everyone(messages.notice("storage_fault", STORAGE_FAULT))

    def on_recovered(self) -> None:
        """The journal writes again: timers that fell due meanwhile fire now."""
        self.tell_everyone(messages.notice("storage_ok", STORAGE_OK))
        for live in self.live.values():
            live.timer.arm(live.session)

    def tell_everyone(self, message: Any) -> None:
        for live in self.live.values():
            live.rooms.send_everyone(message)

    # -- after a commit ---------------------------------------------------------------------

    def after(self, live: LiveSession, events: list[Event]) -> None:
        session = live.session
        rooms = live.rooms
        noted = rooms.note(session, events)
        if noted.clock_only:
            live.timer.arm(session)
            rooms.send_clock(session)
        if noted.urgent:
            live.timer.arm(session)
            # participants first; the facilitator's large view follows on the next tick
            rooms.flush(everyone=noted.personal_reset, facilitator=False)
        if session.early_close and all_chosen(session):
            asyncio.create_task(self.auto_advance(live, session.round))
        if noted.new_round:
            self.loop.call_soon(settle_heap)  # after the brief has gone out
        if session.phase == "ended":
            if not any(not other.ended for other in self.live.values()):
                release_heap()
            for conn in list(rooms.seat_conns.values()):
                asyncio.create_task(conn.close(CLOSE_ENDED, "the session has ended"))

    async def auto_advance(self, live: LiveSession, round_: int) -> None:
        session = live.session
        if session.phase != "choose" or session.round != round_:
            return
        with contextlib.suppress(Refused):
            await self.submit(live, FACILITATOR, Advance())

    async def on_deadline(self, live: LiveSession, phase: str, round_: int) -> None:
        if live.code not in self.live:
            return  # deleted
        try:
            events = await self.submit(live, SYSTEM, Deadline(phase, round_))
        except Refused as refused:
            if refused.code == "unavailable":
                self.stats["timers_held"] = self.stats.get("timers_held", 0) + 1
                log.warning("session %s: the %s timer fell due while the journal was unavailable; it fires on recovery", live.code, phase)
            return
        if not events:
            live.timer.arm(live.session)  # the deadline moved (extended) while the timer slept
