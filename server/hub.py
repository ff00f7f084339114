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
import contextlib
import logging
import time
from functools import partial
from pathlib import Path
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from game.core import messages
from game.core.protocol import (
    CLOSE_ENDED,
    CLOSE_FLOOD,
    MAX_FRAME,
    Advance,
)
from game.core.session import (
    FACILITATOR,
    SYSTEM,
    Actor,
    Deadline,
    Event,
    Refused,
    Session,
    all_chosen,
    decide,
    new_code,
    replay,
)
from server.auth import PROJECTOR_FILE, SECRET_FILE, Gate, load_or_create_secret, parse_proxies
from server.commit import STORAGE_FAULT, STORAGE_OK, Committed, GroupCommit, settle_future
from server.console import Console
from server.heap import release_heap, settle_heap
from server.journal import Journal
from server.live import LiveSession
from server.participants import Flooded, Participants
from server.ratelimit import FailedJoins, RateLimit
from server.rooms import FLUSH_INTERVAL, Outbox
from server.web import select_subprotocol

log = logging.getLogger("crossroads.server")


class Hub(Participants, Console):
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
        self.last_input = 0.0  # monotonic time of the latest frame from anyone, in any session
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
                live.rooms.tick(now, self.last_input)

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
