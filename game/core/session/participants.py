"""Deciding what participants do: choose, say, request and answer (see :mod:`.decide`)."""

from __future__ import annotations

from game.core.deck import GROUPS
from game.core.protocol import (
    Answer,
    Choose,
    Request,
    Say,
)
from game.core.session.checks import active_seat
from game.core.session.commands import Actor
from game.core.session.errors import Refused
from game.core.session.events import (
    AnswerGiven,
    ChoiceMade,
    Event,
    MessageSent,
    RequestMade,
    SeatReclaimed,
)
from game.core.session.phases import (
    SAY_PHASES,
)
from game.core.session.state import Seat, Session
from game.core.text import clean_text

MAX_TEXT = 500
MAX_ANSWER = 2000


def reclaimed(seat: Seat, events: list[Event]) -> list[Event]:
    """A human who acts in a seat a bot holds takes it back: their input counts from now on."""
    return [SeatReclaimed(seat.id), *events] if seat.bot else events


def decide_choose(session: Session, actor: Actor, command: Choose, now: float) -> list[Event]:
    seat = active_seat(session, actor.seat)
    if command.round != session.round:
        raise Refused("stale_round", f"that choice was for round {command.round}; this is round {session.round}")
    org = session.orgs[seat.org]
    offered = session.book.options.get((org.card, seat.group), {})
    if command.option not in offered:
        if not offered:
            raise Refused("not_your_option", "your group has no choice to make on this card")
        raise Refused("not_your_option", f'"{command.option}" is not one of your options; choose from {", ".join(sorted(offered))}')
    if session.paused:
        raise Refused("wrong_phase", "the session is paused")
    return reclaimed(seat, [ChoiceMade(seat.id, command.option, session.round)])


def decide_say(session: Session, actor: Actor, command: Say, now: float) -> list[Event]:
    seat = active_seat(session, actor.seat)
    if session.phase not in SAY_PHASES:
        raise Refused("wrong_phase", f"talk is open during talk and choose, not {session.phase}")
    raw = command.text
    if not isinstance(raw, str):
        raise Refused("bad_field", "text must be a string")
    if len(raw) > MAX_TEXT * 4:
        raise Refused("too_long", f"a message is at most {MAX_TEXT} characters")
    text = clean_text(raw, MAX_TEXT * 4)
    if not text:
        raise Refused("bad_field", "the message is empty")
    if len(text) > MAX_TEXT:
        raise Refused("too_long", f"a message is at most {MAX_TEXT} characters; this one has {len(text)}")
    to = command.to or seat.group
    if to not in GROUPS:
        raise Refused("bad_field", f"to must be one of {', '.join(GROUPS)}")
    org = session.orgs[seat.org]
    if to != seat.group and session.phase != "debrief" and (seat.group, to) not in org.state.structure.open:
        raise Refused("channel_closed", closed_channel(session, seat.group, to))
    return reclaimed(seat, [MessageSent(seat.id, seat.org, seat.group, to, text, session.round, now, seat.name)])


def closed_channel(session: Session, sender: str, to: str) -> str:
    groups = session.deck.groups
    return f"the channel {groups[sender].name} → {groups[to].name} is closed in your organisation's structure"


def decide_request(session: Session, actor: Actor, command: Request, now: float) -> list[Event]:
    seat = active_seat(session, actor.seat)
    if command.round != session.round:
        raise Refused("stale_round", f"that request was for round {command.round}; this is round {session.round}")
    if command.to not in GROUPS or command.to == seat.group:
        others = ", ".join(g for g in GROUPS if g != seat.group)
        raise Refused("bad_field", f"to must be another group: one of {others}")
    org = session.orgs[seat.org]
    if (seat.group, command.to) not in org.state.structure.open:
        raise Refused("channel_closed", closed_channel(session, seat.group, command.to))
    if command.option:
        offered = session.book.options.get((org.card, command.to), {})
        if command.option not in offered:
            if not offered:
                raise Refused("not_their_option", f"{command.to} has no choice to make on this card")
            choices = ", ".join(sorted(offered))
            raise Refused("not_their_option", f'"{command.option}" is not one of {command.to}\'s options; ask for one of {choices}')
    elif (seat.id, command.to) not in org.requests:
        raise Refused("bad_field", f"you have no request to {command.to} to withdraw")
    if session.paused:
        raise Refused("wrong_phase", "the session is paused")
    return reclaimed(seat, [RequestMade(seat.id, seat.org, seat.group, command.to, command.option, session.round, now, seat.name)])


def decide_answer(session: Session, actor: Actor, command: Answer, now: float) -> list[Event]:
    seat = active_seat(session, actor.seat)
    prompts = session.deck.groups[seat.group].timeout
    prompt = command.prompt
    if not isinstance(prompt, int) or isinstance(prompt, bool) or not 0 <= prompt < len(prompts):
        raise Refused("bad_field", f"prompt must be a number from 0 to {len(prompts) - 1}" if prompts else "your group has no prompts")
    raw = command.text
    if not isinstance(raw, str):
        raise Refused("bad_field", "text must be a string")
    text = clean_text(raw, MAX_ANSWER + 1)
    if len(text) > MAX_ANSWER:
        raise Refused("too_long", f"an answer is at most {MAX_ANSWER} characters")
    return reclaimed(seat, [AnswerGiven(seat.id, answer_round(session), prompt, text)])


def answer_round(session: Session) -> int:
    """The round of the time-out an answer is for: the current one, or the one that has just
    ended, so that a draft sent as the facilitator moved on is kept rather than lost."""
    if session.phase == "timeout":
        return session.round
    just_ended = session.last_timeout and (
        (session.phase == "brief" and session.last_timeout == session.round - 1)
        or (session.phase == "debrief" and session.last_timeout == session.round)
    )
    if not just_ended:
        raise Refused("wrong_phase", f"answers are for a time-out; there is none to answer during {session.phase}")
    return session.last_timeout
