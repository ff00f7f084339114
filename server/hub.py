"""The session server: the thin I/O shell around :mod:`game.core.session`.

Everything that awaits lives here: the websockets handshake (authentication happens in
``process_request``, before a connection is accepted), the journal commits, the phase
timers and the fan-out. The rules live in the pure core.

Order of work for every accepted command: ``decide`` -> apply the events in memory ->
append them to the commit group -> (the group is written and fsynced) -> acknowledge the
sender -> fan out. Views are computed from memory and may run ahead of the disk by at most
one commit group; acknowledgements never do.

The group commit runs on the event loop, not in a worker thread: on an SSD one commit of a
thousand choices takes 1 to 3 ms, while handing it to a thread and back took 20 to 45 ms in a
room of 2,000 (the completion waits behind everything else the loop has to do).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hmac
import logging
import os
import secrets
import time
from collections.abc import Callable, Iterable
from functools import partial
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from websockets.asyncio.server import Server, ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State

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
    PROTOCOL_VERSION,
    BadFrame,
    encode_bytes,
    error,
    parse_frame,
)
from game.core.session import (
    FACILITATOR,
    SYSTEM,
    Actor,
    Event,
    Refused,
    Session,
    all_chosen,
    clock_view,
    create_session,
    decide,
    facilitator_view,
    group_view,
    iter_group_views,
    new_code,
    personal,
    progress,
    session_from_event,
    token_hash,
)
from game.deckfiles import bundled_decks
from server.journal import Journal

log = logging.getLogger("crossroads.server")

SEAT_MESSAGES = {k: v for k, v in PARTICIPANT_MESSAGES.items() if k != "join"}
JOIN_MESSAGES = {"join": PARTICIPANT_MESSAGES["join"], "ping": PARTICIPANT_MESSAGES["ping"]}
MAX_ORGS = 100
FLUSH_INTERVAL = 0.25  # at most four coalesced updates a second


Committed = Callable[[BaseException | None], None]


def settle_future(done: asyncio.Future[None], failure: BaseException | None) -> None:
    if done.done():
        return
    if failure is None:
        done.set_result(None)
    else:
        done.set_exception(failure)


def settle_heap() -> None:
    """Collect young garbage, then take everything that survived out of the collector's sight.

    A room's long-lived objects (connections, seats, the deck) are made in the lobby. Left
    in the oldest generation, each full collection walks all of them: 25 to 130 ms at 2,000
    seats, a stall in the middle of a fan-out. Called as each round starts, when the room is
    reading its brief; ``gc.unfreeze`` gives them back when the session ends.
    """
    gc.collect(1)  # the young generations only: a full collection is the stall this avoids
    gc.freeze()


class RateLimit:
    """A token bucket: ``rate`` per second, bursts up to ``burst``."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self.last = burst, time.monotonic()
        self.denied = 0  # frames refused for flooding; past 100 the connection is closed

    def allow(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


def load_or_create_secret(data_dir: Path) -> str:
    """The facilitator secret, created with ``secrets`` on first start, readable only by its owner."""
    path = data_dir / "facilitator.secret"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(secret + "\n")
    return secret


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
        self.secret_path = self.data_dir / "facilitator.secret"
        self.journal = Journal(self.data_dir / "journal.sqlite")
        self.frame_rate, self.frame_burst = frame_rate, frame_burst
        self.joins_per_minute = joins_per_minute
        self.write_limit = write_limit
        self.flush_interval = flush_interval
        self.code_factory = code_factory or new_code  # tests inject a fixed code
        self.session: Session | None = None
        self.seat_conns: dict[str, ServerConnection] = {}
        self.fac_conns: set[ServerConnection] = set()
        self.last_seen: dict[str, float] = {}
        self.join_limits: dict[str, RateLimit] = {}
        self.roles: dict[ServerConnection, tuple[str, str]] = {}
        self.batch: list[tuple[str, list[Event], asyncio.Future[None]]] = []
        self.dirty_views = False
        self.dirty_progress: set[int] = set()
        self.dirty_facilitator = False
        self.last_input = 0.0  # monotonic time of the latest frame from anyone
        self.last_flush = 0.0
        self.timer: asyncio.TimerHandle | None = None
        self.server: Server | None = None
        self.tasks: list[asyncio.Task[Any]] = []
        self.broken = False
        self.stats = {"frames": 0, "refused": 0, "committed": 0, "commits": 0, "dropped_slow": 0}
        self.restore()

    # -- lifecycle ------------------------------------------------------------------------

    def restore(self) -> None:
        """Rebuild the latest session from the journal."""
        events = self.journal.latest_session()
        if not events:
            return
        session = session_from_event(events[0])
        for event in events[1:]:
            session.apply(event)
        self.session = session
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
        self.wake = asyncio.Event()
        self.tasks = [asyncio.create_task(self.writer()), asyncio.create_task(self.flusher())]
        self.server = await serve(
            self.handler,
            host,
            port,
            process_request=self.process_request,
            max_size=MAX_FRAME,
            compression=None,
            ssl=ssl,
            ping_interval=20,
            ping_timeout=40,
            max_queue=8,
            close_timeout=2,
        )
        self.arm_timer()
        return self.server

    @property
    def port(self) -> int:
        assert self.server is not None
        return self.server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self.timer:
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
        gc.unfreeze()  # what the rounds set aside is collectable again once the server stops

    # -- the handshake ----------------------------------------------------------------------

    def process_request(self, connection: ServerConnection, request: Any) -> Any:
        path = urlsplit(request.path).path
        auth = request.headers.get("Authorization", "")
        bearer = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        if path == "/v1/facilitator":
            if not bearer or not hmac.compare_digest(bearer.encode(), self.secret.encode()):
                return connection.respond(HTTPStatus.UNAUTHORIZED, "the facilitator secret is missing or wrong\n")
            self.roles[connection] = ("facilitator", "")
        elif path == "/v1/seat":
            seat = self.session.seat_by_token(bearer) if self.session and bearer else None
            if seat is None:
                return connection.respond(HTTPStatus.UNAUTHORIZED, "unknown or revoked seat token; join again with the code\n")
            self.roles[connection] = ("seat", seat.id)
        elif path == "/v1/join":
            if not self.join_allowed(connection):
                return connection.respond(HTTPStatus.TOO_MANY_REQUESTS, "too many join attempts from this address; wait a minute\n")
            self.roles[connection] = ("join", "")
        else:
            return connection.respond(HTTPStatus.NOT_FOUND, "connect to /v1/join, /v1/seat or /v1/facilitator\n")
        return None

    def join_allowed(self, connection: ServerConnection) -> bool:
        address = connection.remote_address[0] if connection.remote_address else ""
        limit = self.join_limits.get(address)
        if limit is None:
            if len(self.join_limits) > 10_000:
                self.join_limits.clear()
            limit = self.join_limits[address] = RateLimit(self.joins_per_minute / 60, self.joins_per_minute)
        return limit.allow()

    # -- connections ------------------------------------------------------------------------

    async def handler(self, ws: ServerConnection) -> None:
        role, seat_id = self.roles.pop(ws, ("", ""))
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
        except ConnectionClosed:
            pass
        except Exception as exc:  # noqa: BLE001 - a bug must cost one connection, not the server
            log.error("connection error (%s): %s", type(exc).__name__, exc)
        finally:
            self.fac_conns.discard(ws)
            if seat_id and self.seat_conns.get(seat_id) is ws:
                del self.seat_conns[seat_id]
                self.last_seen[seat_id] = time.time()
                self.dirty_facilitator = True

    def command(
        self, ws: ServerConnection, frame: str | bytes, limit: RateLimit, schemas: dict[str, type]
    ) -> tuple[Any, dict[str, Any]] | None:
        """``(ref, command)`` from a frame, or None when the frame was answered here: a ping
        gets its pong, a bad frame its error, a flood first a warning and then the connection
        closed."""
        self.stats["frames"] += 1
        self.last_input = time.monotonic()
        if not limit.allow():
            limit.denied += 1
            if limit.denied == 101:
                asyncio.create_task(ws.close(CLOSE_FLOOD, "flooding"))
            elif limit.denied % 10 == 1 and limit.denied < 101:
                self.reply(ws, error("rate_limited", "too many messages; slow down"))
            return None
        try:
            command = parse_frame(frame, schemas)
        except BadFrame as bad:
            self.stats["refused"] += 1
            self.reply(ws, error(bad.code, bad.message, bad.ref))
            return None
        ref = command.pop("ref")
        if command["type"] == "ping":
            self.reply(ws, {"type": "pong", "ref": ref})
            return None
        return ref, command

    def reply(self, ws: ServerConnection, message: dict[str, Any]) -> None:
        """Answer one connection. Like the fan-out, this writes without waiting, so replies and
        broadcasts reach a connection in the order they were made."""
        self.send((ws,), encode_bytes(message))

    async def serve_join(self, ws: ServerConnection, limit: RateLimit) -> str:
        self.reply(ws, {"type": "welcome", "protocol": PROTOCOL_VERSION, "role": "join"})
        async for frame in ws:
            received = self.command(ws, frame, limit, JOIN_MESSAGES)
            if received is None:
                continue
            ref, command = received
            session = self.session
            code = command["code"].strip().upper()
            if session is None or session.phase == "ended":
                self.reply(ws, error("no_session", "no session is running on this server yet", ref))
                continue
            if not hmac.compare_digest(code.encode(), session.code.encode()):
                if not self.join_allowed(ws):
                    self.reply(ws, error("too_many_joins", "too many join attempts from this address; wait a minute", ref))
                    await ws.close(1008, "too many join attempts")
                    return ""
                wrong = f'no session has the code "{code[:12]}"; check the code on the facilitator\'s screen'
                self.reply(ws, error("bad_code", wrong, ref))
                continue
            token = secrets.token_urlsafe(32)
            seat_id = f"p{len(session.seats) + 1}"
            try:
                await self.submit(
                    Actor("seat", seat_id), {"type": "join", "name": command["name"], "seat": seat_id, "token_hash": token_hash(token)}
                )
            except Refused as refused:
                self.reply(ws, error(refused.code, refused.message, ref))
                continue
            self.reply(ws, {"type": "joined", "ref": ref, "seat": seat_id, "token": token})
            return seat_id
        return ""

    async def serve_seat(self, ws: ServerConnection, seat_id: str, limit: RateLimit, fresh: bool = False) -> None:
        session = self.session
        assert session is not None
        old = self.seat_conns.get(seat_id)
        self.seat_conns[seat_id] = ws
        self.dirty_facilitator = True
        if old is not None and old is not ws:
            asyncio.create_task(old.close(CLOSE_REPLACED, "replaced by a newer connection"))
        seat = session.seats[seat_id]
        if not fresh:
            self.reply(ws, {"type": "welcome", "protocol": PROTOCOL_VERSION, "role": "seat", "seat": seat_id})
        self.reply(ws, {"type": "view", "view": group_view(session, seat.org, seat.group)})
        self.reply(ws, {"type": "you", "you": personal(session, seat)})
        actor = Actor("seat", seat_id)
        async for frame in ws:
            received = self.command(ws, frame, limit, SEAT_MESSAGES)
            if received is None:
                continue
            ref, command = received
            kind = command["type"]
            try:
                self.accept(actor, command, partial(self.acknowledge, ws, seat_id, ref, kind))
            except Refused as refused:
                self.stats["refused"] += 1
                self.reply(ws, error(refused.code, refused.message, ref))
                if refused.code == "not_found":
                    await ws.close(CLOSE_KICKED, "this seat was removed")
                    return

    def acknowledge(self, ws: ServerConnection, seat_id: str, ref: Any, kind: str, failure: BaseException | None) -> None:
        """A participant's command is on disk (or could not be saved): tell them."""
        if isinstance(failure, Refused):
            self.reply(ws, error(failure.code, failure.message, ref))
            return
        ack: dict[str, Any] = {"type": "ack", "ref": ref, "command": kind}
        if kind in ("choose", "answer") and self.session is not None and seat_id in self.session.seats:
            ack["you"] = personal(self.session, self.session.seats[seat_id])
        self.reply(ws, ack)

    async def serve_facilitator(self, ws: ServerConnection, limit: RateLimit) -> None:
        self.fac_conns.add(ws)
        running = self.session.code if self.session is not None and self.session.phase != "ended" else None
        decks = sorted(bundled_decks())
        self.reply(ws, {"type": "welcome", "protocol": PROTOCOL_VERSION, "role": "facilitator", "decks": decks, "session": running})
        if self.session:
            self.reply(ws, self.facilitator_message())
        async for frame in ws:
            received = self.command(ws, frame, limit, FACILITATOR_MESSAGES)
            if received is None:
                continue
            ref, command = received
            kind = command["type"]
            try:
                if kind == "create_session":
                    session = await self.create(command)
                    self.reply(ws, {"type": "ack", "ref": ref, "command": kind, "code": session.code, "session": session.id})
                    self.reply(ws, self.facilitator_message())
                    continue
                if self.session is None:
                    raise Refused("no_session", "create a session first")
                await self.submit(FACILITATOR, command)
            except Refused as refused:
                self.reply(ws, error(refused.code, refused.message, ref))
                continue
            self.reply(ws, {"type": "ack", "ref": ref, "command": kind})

    # -- commands ---------------------------------------------------------------------------

    async def create(self, command: dict[str, Any]) -> Session:
        if self.session is not None and self.session.phase != "ended":
            raise Refused("session_exists", f"session {self.session.code} is still running; end it first")
        if command["deck_toml"]:
            if len(command["deck_toml"].encode()) > MAX_DECK_UPLOAD:
                raise Refused("deck_invalid", f"an uploaded deck may be at most {MAX_DECK_UPLOAD // 1024} KiB")
            text, name = command["deck_toml"], "uploaded deck"
        else:
            decks = bundled_decks()
            wanted = command["deck"] or "interlodge"
            if wanted not in decks:
                raise Refused("bad_field", f'no bundled deck "{wanted}"; there are {", ".join(sorted(decks))}')
            text, name = decks[wanted].read_text(encoding="utf-8"), f"{wanted}.toml"
        try:
            deck = load_deck_text(text, name)
        except DeckError as exc:
            raise Refused("deck_invalid", "\n".join(str(p) for p in exc.problems[:20])) from None
        orgs = command["orgs"]
        if not 1 <= orgs <= MAX_ORGS:
            raise Refused("bad_field", f"orgs must be from 1 to {MAX_ORGS}")
        patterns = list(command["patterns"]) or [deck.default_pattern]
        for p in patterns:
            if p not in deck.patterns:
                raise Refused("bad_field", f'unknown pattern "{p}"; this deck has {", ".join(deck.patterns)}')
        patterns = [patterns[i % len(patterns)] for i in range(orgs)]
        from game.core.bots import STRATEGIES

        if command["bots"] not in STRATEGIES:
            raise Refused("bad_field", f'unknown bot strategy "{command["bots"]}"; choose from {", ".join(STRATEGIES)}')
        seed = command["seed"] if command["seed"] is not None else secrets.randbelow(2**31)
        session, event = create_session(
            secrets.token_hex(8), self.code_factory(), text, name, patterns, seed, command["bots"], command["early_close"]
        )
        previous = self.session
        self.session = session
        try:
            await self.enqueue(session.id, [event])
        except Exception:
            self.session = previous
            raise
        self.seat_conns.clear()
        self.last_seen.clear()
        log.info("session %s created: deck %s, %d organisations", session.code, deck.id, orgs)
        return session

    def accept(self, actor: Actor, command: dict[str, Any], committed: Committed) -> list[Event]:
        """Decide and apply at once; journal in the next group commit, then fan out and call
        ``committed(None)`` (or ``committed(Refused)`` if the journal failed). Raises
        :class:`Refused` when the command is refused. A connection need not wait for its
        commit to read its next frame: that keeps a storm of choices moving."""
        session = self.session
        if session is None:
            raise Refused("no_session", "no session is running")
        if self.broken:
            raise Refused("unavailable", "the server cannot write its journal; ask the facilitator")
        events = decide(session, actor, command, time.time())
        if not events:
            committed(None)
            return events
        for event in events:
            session.apply(event)
        self.batch.append((session.id, events, partial(self.fan_out_then, events, committed)))
        self.wake.set()
        return events

    def fan_out_then(self, events: list[Event], committed: Committed, failure: BaseException | None) -> None:
        if failure is None:
            self.after(events)
        committed(failure)

    async def submit(self, actor: Actor, command: dict[str, Any]) -> list[Event]:
        """:meth:`accept`, returning once the events are on disk and fanned out."""
        done: asyncio.Future[None] = self.loop.create_future()
        events = self.accept(actor, command, partial(settle_future, done))
        await done
        return events

    async def enqueue(self, session_id: str, events: list[Event]) -> None:
        """Journal events that no command decided (a new session), and wait for the disk."""
        done: asyncio.Future[None] = self.loop.create_future()
        self.batch.append((session_id, events, partial(settle_future, done)))
        self.wake.set()
        await done

    async def writer(self) -> None:
        """Commit queued events in groups: one fsync for everything that arrived meanwhile."""
        while True:
            await self.wake.wait()
            self.wake.clear()
            batch, self.batch = self.batch, []
            if not batch:
                continue
            try:
                self._write(batch)
            except Exception as exc:  # noqa: BLE001
                self.broken = True
                log.error("journal write failed (%s): %s; refusing further input", type(exc).__name__, exc)
                for _, _, committed in batch:
                    committed(Refused("unavailable", "the server could not save that; try again"))
                continue
            self.stats["commits"] += 1
            for _, events, committed in batch:
                self.stats["committed"] += len(events)
                try:
                    committed(None)
                except Exception as exc:  # noqa: BLE001 - one bad fan-out must not stop the journal
                    log.error("after a commit (%s): %s", type(exc).__name__, exc)

    def _write(self, batch: list[tuple[str, list[Event], Any]]) -> None:
        by_session: dict[str, list[Event]] = {}
        for session_id, events, _ in batch:
            by_session.setdefault(session_id, []).extend(events)
        for session_id, events in by_session.items():
            self.journal.append(session_id, events)

    # -- fan-out ----------------------------------------------------------------------------

    def after(self, events: Iterable[Event]) -> None:
        session = self.session
        assert session is not None
        urgent = clock = personal_reset = settle = False
        for event in events:
            kind, data = event.type, event.data
            if kind in ("phase_started", "session_ended", "round_resolved"):
                urgent = True
                self.dirty_views = True
            elif kind in ("paused", "resumed", "timer_extended"):
                clock = True
            elif kind in ("seat_joined", "seat_moved", "seat_botified", "lobby_locked", "pattern_set", "inject_fired"):
                self.dirty_views = True
            elif kind == "seat_kicked":
                self.dirty_views = True
                conn = self.seat_conns.pop(data["seat"], None)
                if conn is not None:
                    asyncio.create_task(conn.close(CLOSE_KICKED, "the facilitator removed this seat"))
            elif kind == "choice_made":
                self.dirty_progress.add(session.seats[data["seat"]].org)
            elif kind == "message_sent":
                self.deliver_message(data)
            if kind in ("seat_moved", "seat_botified"):
                self.send_personal(data["seat"])
            if kind == "phase_started" and data["phase"] in ("brief", "timeout"):
                personal_reset = True  # choices and answers start afresh
            if kind == "phase_started" and data["phase"] == "brief":
                settle = True
        self.dirty_facilitator = True
        if clock and not urgent:
            # the same few fields for everyone: encoded once, sent at once
            self.arm_timer()
            self.send(self.seat_conns.values(), encode_bytes({"type": "clock", "session": clock_view(session)}))
        if urgent:
            self.arm_timer()
            # participants first; the facilitator's large view follows on the next tick
            self.flush(everyone=personal_reset, facilitator=False)
        if session.early_close and all_chosen(session):
            asyncio.create_task(self.auto_advance(session.round))
        if settle:
            self.loop.call_soon(settle_heap)  # after the brief has gone out
        if session.phase == "ended":
            gc.unfreeze()
            for conn in list(self.seat_conns.values()):
                asyncio.create_task(conn.close(CLOSE_ENDED, "the session has ended"))

    async def auto_advance(self, round_: int) -> None:
        session = self.session
        if session is None or session.phase != "choose" or session.round != round_:
            return
        with contextlib.suppress(Refused):
            await self.submit(FACILITATOR, {"type": "advance"})

    def send_personal(self, seat_id: str) -> None:
        session = self.session
        conn = self.seat_conns.get(seat_id)
        if session is None or conn is None or seat_id not in session.seats:
            return
        self.send([conn], encode_bytes({"type": "you", "you": personal(session, session.seats[seat_id])}))

    def deliver_message(self, data: dict[str, Any]) -> None:
        session = self.session
        assert session is not None
        text = encode_bytes(
            {
                "type": "message",
                "message": {
                    "name": data["name"],
                    "from": data["sender"],
                    "to": data["to"],
                    "text": data["text"],
                    "round": data["round"],
                    "at": data["at"],
                    "org": data["org"],
                },
            }
        )
        groups = {data["sender"], data["to"]}
        conns = [c for sid, c in self.seat_conns.items() if session.seats[sid].org == data["org"] and session.seats[sid].group in groups]
        self.send(conns + list(self.fac_conns), text)

    def send(self, conns: Iterable[ServerConnection], text: bytes) -> None:
        """Send without waiting; a connection that stopped reading is dropped (it may reconnect)."""
        ready = []
        for conn in conns:
            transport = conn.transport
            if conn.state is not State.OPEN or transport is None:
                continue
            if transport.get_write_buffer_size() > self.write_limit:
                self.stats["dropped_slow"] += 1
                transport.abort()
                continue
            ready.append(conn)
        broadcast(ready, text, text=True)

    def facilitator_message(self) -> dict[str, Any]:
        assert self.session is not None
        return {"type": "facilitator_view", "view": facilitator_view(self.session, frozenset(self.seat_conns), self.last_seen)}

    def flush(self, everyone: bool = False, facilitator: bool = True) -> None:
        session = self.session
        if session is None:
            return
        if self.dirty_views:
            self.dirty_views = False
            self.dirty_progress.clear()
            groups: dict[tuple[int, str], list[ServerConnection]] = {}
            for sid, conn in self.seat_conns.items():
                seat = session.seats[sid]
                groups.setdefault((seat.org, seat.group), []).append(conn)
            for key, view in iter_group_views(session, groups):
                self.send(groups[key], encode_bytes({"type": "view", "view": view}))
            if everyone:
                for sid in list(self.seat_conns):
                    self.send_personal(sid)
        if self.dirty_progress:
            orgs, self.dirty_progress = self.dirty_progress, set()
            for org in orgs:
                text = encode_bytes({"type": "progress", "org": org, **progress(session, org)})
                self.send([c for sid, c in self.seat_conns.items() if session.seats[sid].org == org], text)
        if facilitator and self.dirty_facilitator and self.fac_conns:
            self.dirty_facilitator = False
            self.send(self.fac_conns, encode_bytes(self.facilitator_message()))

    async def flusher(self) -> None:
        ticks = 0
        while True:
            await asyncio.sleep(self.flush_interval)
            now = time.monotonic()
            if now - self.last_input < self.flush_interval / 5 and now - self.last_flush < self.flush_interval * 4:
                # Inputs are pouring in (everyone choosing at once): their acknowledgements come
                # before progress counts and the facilitator's view, which wait for a lull, at most
                # four ticks.
                continue
            self.last_flush = now
            ticks += 1
            try:
                # the facilitator's view grows with the room: refresh it every other tick
                self.flush(facilitator=ticks % 2 == 0 or len(self.seat_conns) < 200)
            except Exception as exc:  # noqa: BLE001
                log.error("fan-out failed (%s): %s", type(exc).__name__, exc)

    # -- timers -----------------------------------------------------------------------------

    def arm_timer(self) -> None:
        """(Re-)arm the phase timer at the session's deadline, which survives restarts."""
        if self.timer:
            self.timer.cancel()
            self.timer = None
        session = self.session
        if session is None or session.deadline is None or session.paused:
            return
        delay = max(0.0, session.deadline - time.time())
        phase, round_ = session.phase, session.round
        self.timer = self.loop.call_later(delay, lambda: asyncio.create_task(self.on_deadline(phase, round_)))

    async def on_deadline(self, phase: str, round_: int) -> None:
        try:
            events = await self.submit(SYSTEM, {"type": "deadline", "phase": phase, "round": round_})
        except Refused:
            return
        if not events:
            self.arm_timer()  # the deadline moved (extended) while the timer slept
