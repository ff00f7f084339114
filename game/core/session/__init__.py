"""The session state machine: commands in, events out, state as a fold over events.

- :mod:`.events`: the facts, frozen, and their journal records;
- :mod:`.state`: seats, organisations, the session, and the fold (``Session.apply``);
- :mod:`.phases`: the phase table and the transitions, as data;
- :mod:`.commands`: who acts, and the commands the server makes itself (the wire's are
  :mod:`game.core.protocol`'s);
- :mod:`.decide` (with :mod:`.participants` and :mod:`.checks`): ``decide(session, actor, command, now)`` -> events, or :class:`Refused`;
- :mod:`.inputs`: the round's inputs for the engine;
- :mod:`.setup`: the checks on a new session;
- :mod:`.views`, :mod:`.overview` and :mod:`.debrief`: what each seat and group, the facilitator
  and the projector may see.

The server journals the events before it acknowledges anything and rebuilds a session after a
crash by applying the journal again; nothing here does I/O or reads a clock.
"""

from game.core.session.commands import FACILITATOR, SYSTEM, Actor, Deadline, TakeSeat
from game.core.session.debrief import debrief
from game.core.session.decide import MAX_NAME, all_chosen, balance, decide, next_phase_events, stalled_seats
from game.core.session.errors import Refused
from game.core.session.events import Event, from_record, to_record
from game.core.session.inputs import resolution_inputs
from game.core.session.overview import facilitator_view, projector_view
from game.core.session.participants import MAX_ANSWER, MAX_TEXT
from game.core.session.phases import ALLOWED, PHASES, ROUND_PHASES, TRANSITIONS
from game.core.session.state import (
    CODE_ALPHABET,
    Org,
    Seat,
    Session,
    create_session,
    new_code,
    replay,
    session_from_created,
    token_hash,
)
from game.core.session.views import (
    clock_view,
    group_view,
    iter_group_views,
    personal,
    progress,
    roster,
    seat_view,
)

__all__ = [
    "ALLOWED",
    "CODE_ALPHABET",
    "FACILITATOR",
    "MAX_ANSWER",
    "MAX_NAME",
    "MAX_TEXT",
    "PHASES",
    "ROUND_PHASES",
    "SYSTEM",
    "TRANSITIONS",
    "Actor",
    "Deadline",
    "Event",
    "Org",
    "Refused",
    "Seat",
    "Session",
    "TakeSeat",
    "all_chosen",
    "balance",
    "clock_view",
    "create_session",
    "debrief",
    "decide",
    "facilitator_view",
    "from_record",
    "group_view",
    "iter_group_views",
    "new_code",
    "next_phase_events",
    "personal",
    "progress",
    "projector_view",
    "replay",
    "resolution_inputs",
    "roster",
    "seat_view",
    "session_from_created",
    "stalled_seats",
    "to_record",
    "token_hash",
]
