"""Deciding: ``decide(session, actor, command, now)`` checks a command against the phase table
and the session and returns the events it causes, or raises :class:`Refused` with an error code
and a sentence for people. Nothing here changes the session, does I/O or reads a clock.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from game.core.deck import GROUPS
from game.core.engine import deal_card
from game.core.protocol import (
    Admit,
    Advance,
    Answer,
    Botify,
    BotifyStalled,
    CallTimeout,
    Choose,
    End,
    Extend,
    Inject,
    Kick,
    Lock,
    Move,
    Pause,
    Request,
    Resume,
    Say,
    SetPattern,
    ShowAnswers,
    Start,
    Unlock,
)
from game.core.session.checks import active_seat, group_name, org_index
from game.core.session.commands import Actor, Deadline, TakeSeat
from game.core.session.errors import Refused
from game.core.session.events import (
    AnswersShown,
    Event,
    InjectFired,
    LobbyLocked,
    PatternSet,
    Paused,
    PhaseStarted,
    Resumed,
    RoundResolved,
    SeatAdmitted,
    SeatBotified,
    SeatJoined,
    SeatKicked,
    SeatMoved,
    SessionEnded,
    TimerExtended,
)
from game.core.session.inputs import bot_request_events, resolution_inputs
from game.core.session.participants import decide_answer, decide_choose, decide_request, decide_say
from game.core.session.phases import (
    ALLOWED,
    FACILITATOR_COMMANDS,
    NEXT_ROUND,
    PARTICIPANT_COMMANDS,
    RESOLVE,
    RETURN,
    RETURN_GOES_ON_FROM,
    SYSTEM_COMMANDS,
    TRANSITIONS,
    wrong_phase,
)
from game.core.session.state import Seat, Session
from game.core.text import clean_text

MAX_NAME = 24


def decide(session: Session, actor: Actor, command: Any, now: float) -> list[Event]:
    """The events ``command`` causes, or :class:`Refused`."""
    kind = type(command)
    name = getattr(kind, "TYPE", kind.__name__)
    if kind in FACILITATOR_COMMANDS and actor.kind != "facilitator":
        raise Refused("forbidden", f'"{name}" is for the facilitator')
    if kind in PARTICIPANT_COMMANDS and actor.kind != "seat":
        raise Refused("forbidden", f'"{name}" is for participants')
    if kind in SYSTEM_COMMANDS and actor.kind != "system":
        raise Refused("forbidden", f'"{name}" is for the server')
    if kind not in ALLOWED[session.phase]:
        raise Refused("wrong_phase", wrong_phase(kind, session.phase))
    decider = DECIDERS.get(kind)
    if decider is None:
        raise Refused("unknown_type", f'unknown command "{name}"')
    return decider(session, actor, command, now)


def balance(session: Session) -> tuple[int, str]:
    """Where the next arrival sits: the least full organisation, then the group furthest
    below its share (every group gets one player before any gets two)."""
    counts = [[0] * len(GROUPS) for _ in session.orgs]
    for seat in session.active_seats():
        counts[seat.org][GROUPS.index(seat.group)] += 1
    org = min(range(len(session.orgs)), key=lambda i: (sum(counts[i]), i))
    shares = [session.deck.groups[g].share for g in GROUPS]
    total = sum(counts[org]) + 1

    def need(i: int) -> tuple[int, float, int]:
        have = counts[org][i]
        return (0 if have == 0 else 1, have - shares[i] / sum(shares) * total, i)

    return org, GROUPS[min(range(len(GROUPS)), key=need)]


def stalled_seats(session: Session) -> list[Seat]:
    """Human seats that have not chosen this round."""
    return [
        s
        for s in session.active_seats()
        if not s.bot and s.id not in session.orgs[s.org].choices and (session.orgs[s.org].card, s.group) in session.book.options
    ]


def all_chosen(session: Session) -> bool:
    """Every human seat with options this round has chosen."""
    return session.phase == "choose" and not stalled_seats(session)


# --- the lobby and the seats ------------------------------------------------------------------


def _take_seat(session: Session, actor: Actor, command: TakeSeat, now: float) -> list[Event]:
    if session.locked:
        raise Refused("lobby_locked", "the lobby is locked; ask the facilitator to let you in")
    name = clean_text(command.name, MAX_NAME, single_line=True) if isinstance(command.name, str) else ""
    if not name:
        raise Refused("bad_name", "please type a name (up to 24 characters)")
    if name.casefold() in session.barred:
        raise Refused("removed", f'the facilitator removed "{name}" from this session; ask the facilitator to let you back in')
    if command.device_key and command.device_key in session.barred_devices:
        raise Refused("removed", "the facilitator removed you from this session; ask the facilitator to let you back in")
    if name.casefold() in session.names:
        raise Refused("name_taken", f'someone here is already called "{name}"; please add an initial or pick another name')
    org, group = balance(session)
    return [SeatJoined(command.seat, name, org, group, command.token_hash, now, command.join_key or None, command.device_key or None)]


def _lock(session: Session, actor: Actor, command: Lock, now: float) -> list[Event]:
    return [LobbyLocked(True)]


def _unlock(session: Session, actor: Actor, command: Unlock, now: float) -> list[Event]:
    return [LobbyLocked(False)]


def _move(session: Session, actor: Actor, command: Move, now: float) -> list[Event]:
    seat = active_seat(session, command.seat)
    return [SeatMoved(seat.id, org_index(session, command.org), group_name(command.group))]


def _kick(session: Session, actor: Actor, command: Kick, now: float) -> list[Event]:
    return [SeatKicked(active_seat(session, command.seat).id)]


def _admit(session: Session, actor: Actor, command: Admit, now: float) -> list[Event]:
    if command.seat not in session.barred.values():
        raise Refused("not_found", f'no removed participant "{command.seat}" is waiting to be let back in')
    return [SeatAdmitted(command.seat)]


def _show_answers(session: Session, actor: Actor, command: ShowAnswers, now: float) -> list[Event]:
    if not isinstance(command.answers, tuple | list) or not all(isinstance(k, str) for k in command.answers):
        raise Refused("bad_field", "answers must be a list of seat/round/prompt names")
    if not isinstance(command.shown, bool) or not isinstance(command.names, bool):
        raise Refused("bad_field", "shown and names must be true or false")
    known = {f"{seat}/{r}/{p}" for seat, r, p in session.answers}
    unknown = [key for key in command.answers if key not in known]
    if unknown:
        raise Refused("not_found", f'no answer "{unknown[0]}"; answers are named seat/round/prompt')
    return [AnswersShown(list(command.answers), command.shown, command.names)]


def _botify(session: Session, actor: Actor, command: Botify, now: float) -> list[Event]:
    return [SeatBotified(active_seat(session, command.seat).id)]


def _botify_stalled(session: Session, actor: Actor, command: BotifyStalled, now: float) -> list[Event]:
    return [SeatBotified(s.id) for s in stalled_seats(session)]


def _set_pattern(session: Session, actor: Actor, command: SetPattern, now: float) -> list[Event]:
    org = org_index(session, command.org)
    if command.pattern not in session.deck.patterns:
        raise Refused("bad_field", f'unknown pattern "{command.pattern}"; this deck has {", ".join(session.deck.patterns)}')
    return [PatternSet(org, command.pattern)]


def _inject(session: Session, actor: Actor, command: Inject, now: float) -> list[Event]:
    if command.inject not in session.book.injects:
        known = ", ".join(i.id for i in session.deck.injects) or "none"
        raise Refused("bad_field", f'unknown inject "{command.inject}"; this deck has {known}')
    targets = range(len(session.orgs)) if command.org is None else [org_index(session, command.org)]
    return [InjectFired(i, command.inject) for i in targets]


# --- phases and the timer ----------------------------------------------------------------------


def _timer(session: Session, phase: str, now: float) -> float | None:
    seconds = session.duration(phase)
    return now + seconds if seconds else None


def _start_round(session: Session, round_: int, now: float) -> list[Event]:
    cards = {}
    for org in session.orgs:
        cards[str(org.index)] = deal_card(session.book, org.state, org.pattern).id
    return [PhaseStarted("brief", round_, _timer(session, "brief", now), cards)]


def next_phase_events(session: Session, now: float) -> list[Event]:
    """What leaving the current phase does, as :data:`TRANSITIONS` says."""
    steps = TRANSITIONS.get(session.phase)
    if steps is None:
        raise Refused("wrong_phase", wrong_phase(Advance, session.phase))
    events: list[Event] = []
    for step in steps:
        if step == RETURN:
            interrupted = session.timeout_from or "brief"
            if interrupted in RETURN_GOES_ON_FROM:
                step = TRANSITIONS[interrupted][-1]
            else:
                events.append(PhaseStarted(interrupted, session.round, _timer(session, interrupted, now)))
                continue
        if step == NEXT_ROUND:
            if session.round >= session.rounds:
                events.append(PhaseStarted("debrief", session.round, None))
            else:
                events.extend(_start_round(session, session.round + 1, now))
        elif step == RESOLVE:
            events.append(PhaseStarted(RESOLVE, session.round, None))
            events.append(RoundResolved(session.round, resolution_inputs(session)))
        else:
            events.append(PhaseStarted(step, session.round, _timer(session, step, now)))
            if step == "talk":
                events.extend(bot_request_events(session, now))  # the bots ask as talk opens, for the humans to see
    return events


def _start(session: Session, actor: Actor, command: Start, now: float) -> list[Event]:
    return _start_round(session, 1, now)


def _advance(session: Session, actor: Actor, command: Advance, now: float) -> list[Event]:
    return next_phase_events(session, now)


def _deadline(session: Session, actor: Actor, command: Deadline, now: float) -> list[Event]:
    # A timer event that is no longer current (the phase moved on, was paused or extended) does nothing.
    current = (command.phase, command.round) == (session.phase, session.round)
    if session.paused or session.deadline is None or not current or now < session.deadline:
        return []
    return next_phase_events(session, now)


def _call_timeout(session: Session, actor: Actor, command: CallTimeout, now: float) -> list[Event]:
    return [PhaseStarted("timeout", session.round, _timer(session, "timeout", now))]


def _pause(session: Session, actor: Actor, command: Pause, now: float) -> list[Event]:
    if session.paused:
        raise Refused("wrong_phase", "the session is already paused")
    return [Paused(None if session.deadline is None else max(0.0, session.deadline - now))]


def _resume(session: Session, actor: Actor, command: Resume, now: float) -> list[Event]:
    if not session.paused:
        raise Refused("wrong_phase", "the session is not paused")
    return [Resumed(None if session.remaining is None else now + session.remaining)]


def _extend(session: Session, actor: Actor, command: Extend, now: float) -> list[Event]:
    seconds = command.seconds
    if not isinstance(seconds, int | float) or isinstance(seconds, bool) or not 1 <= seconds <= 3600:
        raise Refused("bad_field", "seconds must be a number from 1 to 3600")
    if session.paused:
        return [TimerExtended(None, (session.remaining or 0) + seconds)]
    base = session.deadline if session.deadline is not None else now
    return [TimerExtended(base + seconds, None)]


def _end(session: Session, actor: Actor, command: End, now: float) -> list[Event]:
    return [SessionEnded(now)]


DECIDERS: dict[type, Callable[[Session, Actor, Any, float], list[Event]]] = {
    TakeSeat: _take_seat,
    Lock: _lock,
    Unlock: _unlock,
    Move: _move,
    Kick: _kick,
    Admit: _admit,
    ShowAnswers: _show_answers,
    Botify: _botify,
    BotifyStalled: _botify_stalled,
    SetPattern: _set_pattern,
    Inject: _inject,
    Start: _start,
    Advance: _advance,
    Deadline: _deadline,
    CallTimeout: _call_timeout,
    Pause: _pause,
    Resume: _resume,
    Extend: _extend,
    End: _end,
    Choose: decide_choose,
    Say: decide_say,
    Request: decide_request,
    Answer: decide_answer,
}
