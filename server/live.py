"""One session the server keeps, with what belongs to it alone: its state, its connections
and fan-out (:class:`server.rooms.Rooms`), its phase timer, and the events committed so far.

Sessions never share state: the hub finds a live session by its join code (participants) or
by what a facilitator connection has opened.
"""

from __future__ import annotations

from game.core import messages
from game.core.session import Event, Session, replay
from server.rooms import Outbox, Rooms
from server.timers import OnDeadline, PhaseTimer


class LiveSession:
    def __init__(self, session: Session, log: list[Event], outbox: Outbox, flush_interval: float, on_deadline: OnDeadline) -> None:
        self.session = session
        # What is on disk, in order: if a commit fails, the session is rebuilt from it, so that
        # nothing refused stays in memory or is shown to anyone.
        self.log = log
        self.rooms = Rooms(lambda: self.session, outbox, flush_interval)
        self.timer = PhaseTimer(lambda phase, round_: on_deadline(self, phase, round_))

    @property
    def code(self) -> str:
        return self.session.code

    @property
    def ended(self) -> bool:
        return self.session.phase == "ended"

    def roll_back(self) -> None:
        """Back to what the journal holds, and everyone shown it again."""
        self.session = replay(self.log)
        rooms = self.rooms
        for seat_id in [s for s in rooms.seat_conns if s not in self.session.seats]:
            del rooms.seat_conns[seat_id]
        rooms.dirty_views = rooms.dirty_facilitator = True
        rooms.dirty_progress.clear()
        rooms.flush(everyone=True)
        self.timer.arm(self.session)

    def summary(self) -> messages.SessionSummary:
        s = self.session
        active = s.active_seats()
        return {
            "code": s.code,
            "session": s.id,
            "title": s.deck.deck.title,
            "deck": s.deck.id,
            "phase": s.phase,
            "round": s.round,
            "rounds": s.rounds,
            "orgs": len(s.orgs),
            "seats": len(active),
            "connected": sum(1 for seat in active if seat.id in self.rooms.seat_conns),
            "ended_at": s.ended_at,
        }
