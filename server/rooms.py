"""Connections and fan-out: who is connected as which seat, what each needs to hear about
accepted events, and sending it, coalesced.

Sends never wait: a connection that stops reading is dropped once its write buffer passes the
limit, or once it has held data it could not send for longer than the time bound (it may
reconnect); see :class:`Outbox`. Views are built once per group and encoded once for all its
connections. Progress counts ("7 of 9 have chosen") and the facilitator's view are marked
dirty and flushed on a tick, never one broadcast per choice to everyone (that is O(N^2)); a
phase change goes out at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from websockets.asyncio.server import ServerConnection, broadcast
from websockets.protocol import State

from game.core import messages
from game.core.protocol import CLOSE_KICKED, encode_bytes
from game.core.session import Session, clock_view, facilitator_view, iter_group_views, personal, progress, projector_view
from game.core.session.events import (
    AnswersShown,
    ChoiceMade,
    Event,
    InjectFired,
    LobbyLocked,
    MessageSent,
    PatternSet,
    Paused,
    PhaseStarted,
    RequestMade,
    Resumed,
    RoundResolved,
    SeatAdmitted,
    SeatBotified,
    SeatJoined,
    SeatKicked,
    SeatMoved,
    SeatReclaimed,
    SessionEnded,
    TimerExtended,
)

log = logging.getLogger("crossroads.server")

FLUSH_INTERVAL = 0.25  # at most four coalesced updates a second

# What an event changes for the room
PHASE_EVENTS = (PhaseStarted, SessionEnded, RoundResolved)  # every view, at once
CLOCK_EVENTS = (Paused, Resumed, TimerExtended)  # the same few fields in every view
# views, on the next tick
VIEW_EVENTS = (SeatJoined, SeatMoved, SeatBotified, SeatReclaimed, LobbyLocked, PatternSet, InjectFired, AnswersShown, SeatAdmitted)
PERSONAL_EVENTS = (SeatMoved, SeatBotified, SeatReclaimed)  # what the seat itself is


class Noted(NamedTuple):
    """What a group of accepted events changed, for the coordinator."""

    urgent: bool  # a phase changed: views go out at once
    clock_only: bool  # only the timer changed
    personal_reset: bool  # choices and answers start afresh (a brief or a time-out began)
    new_round: bool  # a brief began: the room is reading, a good moment to settle the heap


class Outbox:
    """Sending for every connection of the server, without waiting. A connection whose write
    buffer passes ``write_limit`` bytes, or has not emptied for ``slow_seconds`` (its reader
    stalled while the kernel's buffers absorbed what was sent), is dropped."""

    def __init__(self, write_limit: int, slow_seconds: float, stats: dict[str, int]) -> None:
        self.write_limit = write_limit
        self.slow_seconds = slow_seconds
        self.stats = stats
        self.backlog: dict[ServerConnection, float] = {}  # connection -> since when it has had unsent data

    def send(self, conns: Iterable[ServerConnection], text: bytes) -> None:
        """Send without waiting; a connection that stopped reading is dropped (it may reconnect)."""
        ready = []
        now = 0.0
        backlog = self.backlog
        for conn in conns:
            transport = conn.transport
            if conn.state is not State.OPEN or transport is None:
                continue
            size = transport.get_write_buffer_size()
            if size:
                now = now or time.monotonic()
                since = backlog.setdefault(conn, now)
                if size > self.write_limit or now - since > self.slow_seconds:
                    self.drop(conn, "bytes" if size > self.write_limit else "time")
                    continue
            elif backlog:
                backlog.pop(conn, None)
            ready.append(conn)
        broadcast(ready, text, text=True)

    def sweep(self) -> None:
        """Drop the connections that have held unsent data for too long, even if nothing new
        is being sent to them."""
        if not self.backlog:
            return
        now = time.monotonic()
        for conn, since in list(self.backlog.items()):
            transport = conn.transport
            if conn.state is not State.OPEN or transport is None or not transport.get_write_buffer_size():
                del self.backlog[conn]
            elif now - since > self.slow_seconds:
                self.drop(conn, "time")

    def drop(self, conn: ServerConnection, why: str) -> None:
        self.backlog.pop(conn, None)
        self.stats["dropped_slow"] += 1
        self.stats[f"dropped_slow_{why}"] = self.stats.get(f"dropped_slow_{why}", 0) + 1
        assert conn.transport is not None
        conn.transport.abort()


class Rooms:
    """The connections of one session and its fan-out."""

    def __init__(self, session: Callable[[], Session | None], outbox: Outbox, flush_interval: float) -> None:
        self.session = session
        self.outbox = outbox
        self.flush_interval = flush_interval
        self.seat_conns: dict[str, ServerConnection] = {}
        self.fac_conns: set[ServerConnection] = set()
        self.projector_conns: set[ServerConnection] = set()  # the room's screens: the projector view alone
        self.dirty_projector = False
        self.last_seen: dict[str, float] = {}
        self.dirty_views = False
        self.dirty_progress: set[int] = set()
        self.dirty_facilitator = False
        self.last_input = 0.0  # monotonic time of the latest frame from anyone in this session
        self.last_flush = 0.0
        self.ticks = 0

    # -- who is here --------------------------------------------------------------------------

    def seat_connected(self, seat_id: str, ws: ServerConnection) -> ServerConnection | None:
        """Note the seat's connection; return the one it replaces, if any."""
        old = self.seat_conns.get(seat_id)
        self.seat_conns[seat_id] = ws
        self.dirty_facilitator = True
        return old if old is not ws else None

    def disconnected(self, ws: ServerConnection, seat_id: str) -> None:
        self.fac_conns.discard(ws)
        self.projector_conns.discard(ws)
        if seat_id and self.seat_conns.get(seat_id) is ws:
            del self.seat_conns[seat_id]
            self.last_seen[seat_id] = time.time()
            self.dirty_facilitator = True

    def forget_seats(self) -> None:
        """A new session begins: nobody is seated in it yet."""
        self.seat_conns.clear()
        self.last_seen.clear()

    # -- what accepted events change ----------------------------------------------------------

    def note(self, session: Session, events: Iterable[Event]) -> Noted:
        """Mark what ``events`` change and send what cannot wait (messages, a seat's own
        state, kicks)."""
        urgent = clock = personal_reset = new_round = False
        for event in events:
            if isinstance(event, PHASE_EVENTS):
                urgent = True
                self.dirty_views = True
                if isinstance(event, PhaseStarted) and event.phase in ("brief", "timeout"):
                    personal_reset = True
                    new_round = new_round or event.phase == "brief"
            elif isinstance(event, CLOCK_EVENTS):
                clock = True
            elif isinstance(event, VIEW_EVENTS):
                self.dirty_views = True
            elif isinstance(event, SeatKicked):
                self.dirty_views = True
                conn = self.seat_conns.pop(event.seat, None)
                if conn is not None:
                    asyncio.create_task(conn.close(CLOSE_KICKED, "the facilitator removed this seat"))
            elif isinstance(event, ChoiceMade):
                self.dirty_progress.add(session.seats[event.seat].org)
            elif isinstance(event, MessageSent):
                self.deliver_message(session, event)
            elif isinstance(event, RequestMade):
                self.deliver_request(session, event)
                self.dirty_views = True  # both groups' views list the round's requests
            if isinstance(event, PERSONAL_EVENTS):
                self.send_personal(event.seat)
        self.dirty_facilitator = True
        # the projector counts joins, choices and answers, but hears no message or request
        self.dirty_projector = self.dirty_projector or any(not isinstance(e, MessageSent | RequestMade) for e in events)
        return Noted(urgent, clock and not urgent, personal_reset, new_round)

    def send_clock(self, session: Session) -> None:
        """The same few fields for everyone: encoded once, sent at once."""
        self.send([*self.seat_conns.values(), *self.projector_conns], encode_bytes(messages.clock(clock_view(session))))

    def send_personal(self, seat_id: str) -> None:
        session = self.session()
        conn = self.seat_conns.get(seat_id)
        if session is None or conn is None or seat_id not in session.seats:
            return
        self.send([conn], encode_bytes(messages.you(personal(session, session.seats[seat_id]))))

    def deliver_message(self, session: Session, sent: MessageSent) -> None:
        line: messages.ChatLine = {
            "name": sent.name,
            "from": sent.sender,
            "to": sent.to,
            "text": sent.text,
            "round": sent.round,
            "at": sent.at,
            "org": sent.org,
        }
        groups = {sent.sender, sent.to}
        seats = session.seats
        conns = [c for sid, c in self.seat_conns.items() if seats[sid].org == sent.org and seats[sid].group in groups]
        self.send(conns + list(self.fac_conns), encode_bytes(messages.message(line)))

    def deliver_request(self, session: Session, made: RequestMade) -> None:
        """A request travels as a message along its channel, to both groups and the facilitator."""
        # the line the fold kept for it names the option, the one withdrawn included
        kept = session.orgs[made.org].messages[-1:] or [{}]
        label = kept[0].get("label", "") if kept[0].get("at") == made.at and "request" in kept[0] else ""
        line: messages.ChatLine = {
            "name": made.name,
            "from": made.asker,
            "to": made.to,
            "text": "",
            "round": made.round,
            "at": made.at,
            "org": made.org,
            "request": made.option,
            "label": label,
        }
        groups = {made.asker, made.to}
        seats = session.seats
        conns = [c for sid, c in self.seat_conns.items() if seats[sid].org == made.org and seats[sid].group in groups]
        self.send(conns + list(self.fac_conns), encode_bytes(messages.message(line)))

    # -- sending ----------------------------------------------------------------------------------

    def reply(self, ws: ServerConnection, message: Any) -> None:
        """Answer one connection. Like the fan-out, this writes without waiting, so replies and
        broadcasts reach a connection in the order they were made."""
        self.outbox.send((ws,), encode_bytes(message))

    def send(self, conns: Iterable[ServerConnection], text: bytes) -> None:
        """Send without waiting (see :class:`Outbox`)."""
        self.outbox.send(conns, text)

    def send_everyone(self, message: Any) -> None:
        """One message to every seat and facilitator of this session."""
        self.send([*self.seat_conns.values(), *self.fac_conns], encode_bytes(message))

    def facilitator_message(self, session: Session) -> messages.FacilitatorViewMessage:
        return messages.facilitator_view(facilitator_view(session, frozenset(self.seat_conns), self.last_seen))

    def flush(self, everyone: bool = False, facilitator: bool = True) -> None:
        """Send what is dirty: views (one build and one encoding per group), progress counts,
        the facilitator's view; ``everyone`` also sends each seat its own state."""
        session = self.session()
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
                self.send(groups[key], encode_bytes(messages.view(view)))
            if everyone:
                for sid in list(self.seat_conns):
                    self.send_personal(sid)
        if self.dirty_progress:
            orgs, self.dirty_progress = self.dirty_progress, set()
            for org in orgs:
                text = encode_bytes(messages.progress(org, progress(session, org)))
                self.send([c for sid, c in self.seat_conns.items() if session.seats[sid].org == org], text)
        if self.dirty_projector and self.projector_conns:
            self.dirty_projector = False
            self.send(self.projector_conns, encode_bytes(messages.projector_view(projector_view(session))))
        if facilitator and self.dirty_facilitator and self.fac_conns:
            self.dirty_facilitator = False
            self.send(self.fac_conns, encode_bytes(self.facilitator_message(session)))

    def tick(self, now: float, last_input_anywhere: float = 0.0) -> None:
        """The coalesced updates, once per flush interval (the server's flusher calls this
        for every session). The lull is the whole server's: while another session's room is
        choosing or advancing at once, this one's cosmetic updates wait too, so that building
        them does not hold up the others' acknowledgements and views."""
        if not (self.dirty_views or self.dirty_progress or self.dirty_facilitator):
            return
        last_input = max(self.last_input, last_input_anywhere)
        if now - last_input < self.flush_interval / 5 and now - self.last_flush < self.flush_interval * 4:
            # Inputs are pouring in (everyone choosing at once): their acknowledgements come
            # before progress counts and the facilitator's view, which wait for a lull, at most
            # four ticks.
            return
        self.last_flush = now
        self.ticks += 1
        try:
            # the facilitator's view grows with the room: refresh it every other tick
            self.flush(facilitator=self.ticks % 2 == 0 or len(self.seat_conns) < 200)
        except Exception as exc:  # noqa: BLE001
            log.error("fan-out failed (%s): %s", type(exc).__name__, exc)
