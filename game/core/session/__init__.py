"""The session state machine: commands in, events out, state as a fold over events.

``decide(session, actor, command, now)`` checks a command against the phase table and
the session and returns the events it causes, or raises :class:`Refused` with an error
code and a sentence for people. ``Session.apply(event)`` folds one event into the state.
The server journals the events before it acknowledges anything, and rebuilds a session
after a crash by applying the journal again; nothing here does I/O or reads a clock.

The session is a mutable aggregate rather than a frozen value: with 2,000 seats, copying
it for every choice would cost O(N) per event and O(N^2) per round. Events are frozen.
"""

from __future__ import annotations

import hashlib
import random
import secrets
from collections.abc import Iterable, Iterator
from typing import Any

import attrs
from attrs import frozen

from game.core.bots import get_strategy
from game.core.deck import GROUPS, LEVERS, Deck
from game.core.engine import Change, OrgState, RoundInputs, Rulebook, attribution, counterfactual, deal_card, new_state, resolve_round
from game.core.loader import load_deck_text
from game.core.text import clean_text

# --- phases as data --------------------------------------------------------------------

PHASES = ("lobby", "brief", "talk", "choose", "resolve", "reveal", "timeout", "debrief", "ended")
ROUND_PHASES = ("brief", "talk", "choose")  # "resolve" is instantaneous: leaving choose resolves

FACILITATOR_COMMANDS = frozenset(
    {
        "lock",
        "unlock",
        "move",
        "start",
        "advance",
        "pause",
        "resume",
        "extend",
        "call_timeout",
        "inject",
        "set_pattern",
        "botify",
        "botify_stalled",
        "kick",
        "end",
    }
)
PARTICIPANT_COMMANDS = frozenset({"join", "choose", "say", "answer"})
SYSTEM_COMMANDS = frozenset({"deadline"})

_ANY = frozenset({"lock", "unlock", "move", "botify", "kick", "end", "pause", "resume", "extend", "say"})
ALLOWED: dict[str, frozenset[str]] = {
    "lobby": _ANY | {"join", "start", "set_pattern"},
    "brief": _ANY | {"join", "advance", "deadline", "inject"},
    "talk": _ANY | {"join", "advance", "deadline"},
    "choose": _ANY | {"join", "advance", "deadline", "choose", "botify_stalled"},
    "resolve": frozenset(),
    "reveal": _ANY | {"join", "advance", "deadline", "call_timeout", "set_pattern", "inject"},
    "timeout": _ANY | {"join", "advance", "deadline", "answer", "set_pattern", "inject"},
    "debrief": frozenset({"end", "say", "join"}),
    "ended": frozenset(),
}
# Talk is allowed in any phase but limited to the talk and choose phases for participants
SAY_PHASES = frozenset({"lobby", "talk", "choose", "debrief"})

MAX_NAME = 24
MAX_TEXT = 500
MAX_ANSWER = 2000
CODE_ALPHABET = "ACDEFHJKMNPRTUVWXY34679"  # no 0/O, 1/I/L, 2/Z, 5/S, 8/B look-alikes


class Refused(Exception):
    """A command that cannot be carried out; ``code`` is stable, ``message`` is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@frozen
class Actor:
    kind: str  # "facilitator", "seat" or "system"
    seat: str = ""
    address: str = ""


FACILITATOR = Actor("facilitator")
SYSTEM = Actor("system")


@frozen
class Event:
    """A fact, as journalled: a type and JSON-ready data."""

    type: str
    data: dict[str, Any]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- state -------------------------------------------------------------------------------


@attrs.define
class Seat:
    id: str
    name: str
    org: int
    group: str
    token_hash: str
    bot: bool = False
    kicked: bool = False
    joined_at: float = 0.0


@attrs.define
class Org:
    index: int
    pattern: str
    state: OrgState
    card: str = ""
    choices: dict[str, str] = attrs.Factory(dict)  # seat id -> option id, this round
    messages: list[dict[str, Any]] = attrs.Factory(list)  # every message of the game
    said: dict[tuple[str, str], int] = attrs.Factory(dict)  # this round's counts per channel
    injects: list[str] = attrs.Factory(list)  # fired before the next resolution
    log: list[RoundInputs] = attrs.Factory(list)
    patterns_used: list[str] = attrs.Factory(list)
    history: list[dict[str, float]] = attrs.Factory(list)  # metrics after each round (index 0: start)
    last_changes: tuple[Change, ...] = ()
    members: dict[str, None] = attrs.Factory(dict)  # seat ids in joining order (an ordered set)


@attrs.define
class Session:
    """One facilitated session: organisations, seats, phase and timer."""

    id: str
    code: str
    deck: Deck
    book: Rulebook
    deck_text: str
    seed: int
    orgs: list[Org]
    bots: str = "by_the_book"
    early_close: bool = False
    phase: str = "lobby"
    round: int = 0
    deadline: float | None = None
    paused: bool = False
    remaining: float | None = None
    locked: bool = False
    seats: dict[str, Seat] = attrs.Factory(dict)
    names: dict[str, str] = attrs.Factory(dict)  # folded name -> seat id
    by_token: dict[str, str] = attrs.Factory(dict)  # token hash -> seat id
    answers: dict[tuple[str, int, int], dict[str, Any]] = attrs.Factory(dict)  # (seat, round, prompt) -> answer
    timeout_from: str = ""  # the phase a time-out interrupted
    ended_at: float | None = None
    version: int = 0  # events applied
    # parts of views that depend on the deck alone, built once: (kind, ...) -> value
    static: dict[tuple[str, ...], Any] = attrs.field(factory=dict, eq=False, repr=False)

    @property
    def rounds(self) -> int:
        return self.deck.deck.rounds

    def active_seats(self, org: int | None = None) -> list[Seat]:
        ids = self.seats if org is None else self.orgs[org].members
        return [seat for seat in map(self.seats.__getitem__, ids) if not seat.kicked]

    def seat_by_token(self, token: str) -> Seat | None:
        seat = self.seats.get(self.by_token.get(token_hash(token), ""))
        return seat if seat is not None and not seat.kicked else None

    def duration(self, phase: str) -> int:
        return int(getattr(self.deck.phases, phase, 0) or 0)

    # -- folding events ---------------------------------------------------------------

    def apply(self, event: Event) -> None:
        handler = getattr(self, f"_on_{event.type}")
        handler(**event.data)
        self.version += 1

    def _on_seat_joined(self, seat: str, name: str, org: int, group: str, token_hash: str, at: float) -> None:
        self.seats[seat] = Seat(seat, name, org, group, token_hash, joined_at=at)
        self.orgs[org].members[seat] = None
        self.names[name.casefold()] = seat
        self.by_token[token_hash] = seat

    def _on_seat_moved(self, seat: str, org: int, group: str) -> None:
        moved = self.seats[seat]
        self.orgs[moved.org].choices.pop(seat, None)
        self.orgs[moved.org].members.pop(seat, None)
        self.orgs[org].members[seat] = None
        moved.org, moved.group = org, group

    def _on_seat_botified(self, seat: str) -> None:
        self.seats[seat].bot = True

    def _on_seat_kicked(self, seat: str) -> None:
        kicked = self.seats[seat]
        kicked.kicked = True
        self.orgs[kicked.org].choices.pop(seat, None)
        self.orgs[kicked.org].members.pop(seat, None)
        self.names.pop(kicked.name.casefold(), None)

    def _on_lobby_locked(self, locked: bool) -> None:
        self.locked = locked

    def _on_pattern_set(self, org: int, pattern: str) -> None:
        self.orgs[org].pattern = pattern

    def _on_inject_fired(self, org: int, inject: str) -> None:
        self.orgs[org].injects.append(inject)

    def _on_phase_started(self, phase: str, round: int, deadline: float | None, cards: dict[str, str] | None = None) -> None:
        if phase == "timeout":
            self.timeout_from = self.phase
        self.phase, self.round, self.deadline = phase, round, deadline
        self.paused, self.remaining = False, None
        if phase == "brief":
            for org in self.orgs:
                org.card = (cards or {})[str(org.index)]
                org.choices.clear()
                org.said.clear()

    def _on_paused(self, remaining: float | None) -> None:
        self.paused, self.remaining, self.deadline = True, remaining, None

    def _on_resumed(self, deadline: float | None) -> None:
        self.paused, self.remaining, self.deadline = False, None, deadline

    def _on_timer_extended(self, deadline: float | None, remaining: float | None) -> None:
        self.deadline, self.remaining = deadline, remaining

    def _on_choice_made(self, seat: str, option: str, round: int) -> None:
        self.orgs[self.seats[seat].org].choices[seat] = option

    def _on_message_sent(self, seat: str, org: int, sender: str, to: str, text: str, round: int, at: float, name: str) -> None:
        target = self.orgs[org]
        target.messages.append({"seat": seat, "name": name, "from": sender, "to": to, "text": text, "round": round, "at": at})
        if sender != to:
            target.said[(sender, to)] = target.said.get((sender, to), 0) + 1

    def _on_answer_given(self, seat: str, round: int, prompt: int, text: str) -> None:
        who = self.seats[seat]
        self.answers.pop((seat, round, prompt), None)  # a changed answer moves to the end, as it was given last
        self.answers[seat, round, prompt] = {
            "seat": seat,
            "name": who.name,
            "org": who.org,
            "group": who.group,
            "round": round,
            "prompt": prompt,
            "text": text,
        }

    def _on_round_resolved(self, round: int, orgs: list[dict[str, Any]]) -> None:
        for entry in orgs:
            org = self.orgs[entry["org"]]
            inputs = RoundInputs(
                entry["card"],
                {g: tuple(v) for g, v in entry["choices"].items()},
                {tuple(k.split("->")): v for k, v in entry["messages"].items()},  # type: ignore[misc]
                entry["pattern"],
                tuple(entry["injects"]),
            )
            org.state, org.last_changes = resolve_round(self.book, org.state, inputs)
            org.log.append(inputs)
            org.patterns_used.append(entry["pattern"])
            org.history.append(dict(org.state.metrics))
            org.injects.clear()

    def _on_session_ended(self, at: float) -> None:
        self.phase, self.deadline, self.ended_at = "ended", None, at


def create_session(
    session_id: str,
    code: str,
    deck_text: str,
    deck_name: str,
    patterns: list[str],
    seed: int,
    bots: str = "by_the_book",
    early_close: bool = False,
) -> tuple[Session, Event]:
    """A new session and the event that records it (the deck text travels in the event,
    so that replaying the journal needs nothing else)."""
    data = {
        "session": session_id,
        "code": code,
        "deck_text": deck_text,
        "deck_name": deck_name,
        "patterns": patterns,
        "seed": seed,
        "bots": bots,
        "early_close": early_close,
    }
    event = Event("session_created", data)
    return session_from_event(event), event


def session_from_event(event: Event) -> Session:
    data = event.data
    deck = load_deck_text(data["deck_text"], data["deck_name"])
    book = Rulebook(deck)
    orgs = []
    for i, pattern in enumerate(data["patterns"]):
        state = new_state(book, data["seed"] * 1000 + i, pattern)
        orgs.append(Org(i, pattern, state, history=[dict(state.metrics)]))
    return Session(
        data["session"],
        data["code"],
        deck,
        book,
        data["deck_text"],
        data["seed"],
        orgs,
        bots=data.get("bots", "by_the_book"),
        early_close=data.get("early_close", False),
        version=1,
    )


# --- deciding ----------------------------------------------------------------------------


def decide(session: Session, actor: Actor, command: dict[str, Any], now: float) -> list[Event]:
    """The events ``command`` causes, or :class:`Refused`."""
    kind = command["type"]
    if kind in FACILITATOR_COMMANDS and actor.kind != "facilitator":
        raise Refused("forbidden", f'"{kind}" is for the facilitator')
    if kind in PARTICIPANT_COMMANDS and kind != "join" and actor.kind != "seat":
        raise Refused("forbidden", f'"{kind}" is for participants')
    if kind in SYSTEM_COMMANDS and actor.kind != "system":
        raise Refused("forbidden", f'"{kind}" is for the server')
    if kind not in ALLOWED[session.phase]:
        raise Refused("wrong_phase", f'cannot "{kind.replace("_", " ")}" during {session.phase}')
    handler = globals().get(f"_decide_{kind}")
    if handler is None:
        raise Refused("unknown_type", f'unknown command "{kind}"')
    return handler(session, actor, command, now)


def _seat(session: Session, seat_id: str) -> Seat:
    seat = session.seats.get(seat_id)
    if seat is None or seat.kicked:
        raise Refused("not_found", f'no seat "{seat_id}"')
    return seat


def _org_index(session: Session, value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < len(session.orgs):
        raise Refused("bad_field", f"org must be a number from 0 to {len(session.orgs) - 1}")
    return value


def _group(value: Any) -> str:
    if value not in GROUPS:
        raise Refused("bad_field", f"group must be one of {', '.join(GROUPS)}")
    return value


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


def _decide_join(session: Session, actor: Actor, command: dict[str, Any], now: float) -> list[Event]:
    if session.locked:
        raise Refused("lobby_locked", "the lobby is locked; ask the facilitator to let you in")
    name = clean_text(command.get("name", ""), MAX_NAME, single_line=True)
    if not name:
        raise Refused("bad_name", "please type a name (up to 24 characters)")
    if name.casefold() in session.names:
        raise Refused("name_taken", f'someone here is already called "{name}"; please add an initial or pick another name')
    org, group = balance(session)
    return [
        Event(
            "seat_joined",
            {"seat": command["seat"], "name": name, "org": org, "group": group, "token_hash": command["token_hash"], "at": now},
        )
    ]


def _decide_lock(session: Session, actor: Actor, command: dict[str, Any], now: float) -> list[Event]:
    return [Event("lobby_locked", {"locked": True})]


def _decide_unlock(session: Session, actor: Actor, command: dict[str, Any], now: float) -> list[Event]:
    return [Event("lobby_locked", {"locked": False})]


def _decide_move(session: Session, actor: Actor, command: dict[str, Any], now: float) -> list[Event]:
    seat = _seat(session, command.get("seat", ""))
    return [Event("seat_moved", {"seat": seat.id, "org": _org_index(session, command.get("org")), "group": _group(command.get("group"))})]


def _decide_kick(session: Session, actor: Actor, command: dict[str, Any], now: float) -> list[Event]:
    return [Event("seat_kicked", {"seat": _seat(session, command.get("seat", "")).id})]


def _decide_botify(session: Session, actor: Actor, command: dict[str, Any], now: float) -> list[Event]:
    return [Event("seat_botified", {"seat": _seat(session, command.get("seat", "")).id})]


def _decide_botify_stalled(session: Session, actor: Actor, command: dict[str, Any], now: float) -> list[Event]:
    return [Event("seat_botified", {"seat": s.id}) for s in stalled_seats(session)]


def stalled_seats(session: Session) -> list[Seat]:
    """Human seats that have not chosen this round."""
    return [
        s
        for s in session.active_seats()
        if not s.bot and s.id not in session.orgs[s.org].choices and (session.orgs[s.org].card, s.group) in session.book.options
    ]


def _decide_set_pattern(session: Session, actor: Actor, command: dict[str, Any], now: float) -> list[Event]:
    org = _org_index(session, command.get("org"))
    pattern = command.get("pattern")
    if pattern not in session.deck.patterns:
        raise Refused("bad_field", f'unknown pattern "{pattern}"; this deck has {", ".join(session.deck.patterns)}')
    return [Event("pattern_set", {"org": org, "pattern": pattern})]


def _decide_inject(session: Session, actor: Actor, command: dict[str, Any], now: float) -> list[Event]:
    inject = command.get("inject")
    if inject not in session.book.injects:
        known = ", ".join(i.id for i in session.deck.injects) or "none"
        raise Refused("bad_field", f'unknown inject "{inject}"; this deck has {known}')
    org = command.get("org")
    targets = range(len(session.orgs)) if org is None else [_org_index(session, org)]
    return [Event("inject_fired", {"org": i, "inject": inject}) for i in targets]


def _timer(session: Session, phase: str, now: float) -> float | None:
    seconds = session.duration(phase)
    return now + seconds if seconds else None


def _start_round(session: Session, round_: int, now: float) -> list[Event]:
    cards = {}
    for org in session.orgs:
        state = attrs.evolve(org.state, pattern=org.pattern)
        cards[str(org.index)] = deal_card(session.book, state).id
    return [Event("phase_started", {"phase": "brief", "round": round_, "deadline": _timer(session, "brief", now), "cards": cards})]


def _decide_start(session: Session, actor: Actor, command: dict[str, Any], now: float) -> list[Event]:
    return _start_round(session, 1, now)


def next_phase_events(session: Session, now: float) -> list[Event]:
    """What "advance" does in the current phase."""
    phase = session.phase
    if phase == "brief":
        return [Event("phase_started", {"phase": "talk", "round": session.round, "deadline": _timer(session, "talk", now)})]
    if phase == "talk":
        return [Event("phase_started", {"phase": "choose", "round": session.round, "deadline": _timer(session, "choose", now)})]
    if phase == "choose":
        return [
            Event("phase_started", {"phase": "resolve", "round": session.round, "deadline": None}),
            Event("round_resolved", {"round": session.round, "orgs": resolution_inputs(session)}),
            Event("phase_started", {"phase": "reveal", "round": session.round, "deadline": _timer(session, "reveal", now)}),
        ]
    if phase == "reveal" or (phase == "timeout" and session.timeout_from == "reveal"):
        if session.round >= session.rounds:
            return [Event("phase_started", {"phase": "debrief", "round": session.round, "deadline": None})]
        return _start_round(session, session.round + 1, now)
    if phase == "timeout":
        return [
            Event(
                "phase_started",
                {
                    "phase": session.timeout_from or "brief",
                    "round": session.round,
                    "deadline": _timer(session, session.timeout_from or "brief", now),
                },
            )
        ]
    raise Refused("wrong_phase", f"nothing follows {phase}")


def _decide_advance(session: Session, actor: Actor, command: dict[str, Any], now: float) -> list[Event]:
    return next_phase_events(session, now)


def _decide_deadline(session: Session, actor: Actor, command: dict[str, Any], now: float) -> list[Event]:
    # A timer event that is no longer current (the phase moved on, was paused or extended) does nothing.
    if (
        session.paused
        or session.deadline is None
        or command.get("phase") != session.phase
        or command.get("round") != session.round
        or now < session.deadline
    ):
        return []
    return next_phase_events(session, now)


def _decide_call_timeout(session: Session, actor: Actor, command: dict[str, Any], now: float) -> list[Event]:
    return [Event("phase_started", {"phase": "timeout", "round": session.round, "deadline": _timer(session, "timeout", now)})]


def _decide_pause(session: Session, actor: Actor, command: dict[str, Any], now: float) -> list[Event]:
    if session.paused:
        raise Refused("wrong_phase", "the session is already paused")
    remaining = None if session.deadline is None else max(0.0, session.deadline - now)
    return [Event("paused", {"remaining": remaining})]


def _decide_resume(session: Session, actor: Actor, command: dict[str, Any], now: float) -> list[Event]:
    if not session.paused:
        raise Refused("wrong_phase", "the session is not paused")
    return [Event("resumed", {"deadline": None if session.remaining is None else now + session.remaining})]


def _decide_extend(session: Session, actor: Actor, command: dict[str, Any], now: float) -> list[Event]:
    seconds = command.get("seconds", 60)
    if not isinstance(seconds, int | float) or isinstance(seconds, bool) or not 1 <= seconds <= 3600:
        raise Refused("bad_field", "seconds must be a number from 1 to 3600")
    if session.paused:
        return [Event("timer_extended", {"deadline": None, "remaining": (session.remaining or 0) + seconds})]
    base = session.deadline if session.deadline is not None else now
    return [Event("timer_extended", {"deadline": base + seconds, "remaining": None})]


def _decide_end(session: Session, actor: Actor, command: dict[str, Any], now: float) -> list[Event]:
    return [Event("session_ended", {"at": now})]


def _decide_choose(session: Session, actor: Actor, command: dict[str, Any], now: float) -> list[Event]:
    seat = _seat(session, actor.seat)
    if command.get("round") != session.round:
        raise Refused("stale_round", f"that choice was for round {command.get('round')}; this is round {session.round}")
    org = session.orgs[seat.org]
    offered = session.book.options.get((org.card, seat.group), {})
    option = command.get("option")
    if option not in offered:
        if not offered:
            raise Refused("not_your_option", "your group has no choice to make on this card")
        raise Refused("not_your_option", f'"{option}" is not one of your options; choose from {", ".join(sorted(offered))}')
    if session.paused:
        raise Refused("wrong_phase", "the session is paused")
    events = [Event("choice_made", {"seat": seat.id, "option": option, "round": session.round})]
    return events


def _decide_say(session: Session, actor: Actor, command: dict[str, Any], now: float) -> list[Event]:
    if actor.kind != "seat":
        raise Refused("forbidden", "only participants talk along the channels")
    seat = _seat(session, actor.seat)
    if session.phase not in SAY_PHASES:
        raise Refused("wrong_phase", f"talk is open during talk and choose, not {session.phase}")
    raw = command.get("text")
    if not isinstance(raw, str):
        raise Refused("bad_field", "text must be a string")
    if len(raw) > MAX_TEXT * 4:
        raise Refused("too_long", f"a message is at most {MAX_TEXT} characters")
    text = clean_text(raw, MAX_TEXT * 4)
    if not text:
        raise Refused("bad_field", "the message is empty")
    if len(text) > MAX_TEXT:
        raise Refused("too_long", f"a message is at most {MAX_TEXT} characters; this one has {len(text)}")
    to = command.get("to") or seat.group
    if to not in GROUPS:
        raise Refused("bad_field", f"to must be one of {', '.join(GROUPS)}")
    org = session.orgs[seat.org]
    if to != seat.group and session.phase != "debrief" and (seat.group, to) not in session.book.pattern(org.pattern).open:
        raise Refused("channel_closed", f"under {org.pattern} the channel {seat.group} -> {to} is closed")
    return [
        Event(
            "message_sent",
            {
                "seat": seat.id,
                "org": seat.org,
                "sender": seat.group,
                "to": to,
                "text": text,
                "round": session.round,
                "at": now,
                "name": seat.name,
            },
        )
    ]


def _decide_answer(session: Session, actor: Actor, command: dict[str, Any], now: float) -> list[Event]:
    seat = _seat(session, actor.seat)
    prompts = session.deck.groups[seat.group].timeout
    prompt = command.get("prompt")
    if not isinstance(prompt, int) or isinstance(prompt, bool) or not 0 <= prompt < len(prompts):
        raise Refused("bad_field", f"prompt must be a number from 0 to {len(prompts) - 1}" if prompts else "your group has no prompts")
    raw = command.get("text")
    if not isinstance(raw, str):
        raise Refused("bad_field", "text must be a string")
    text = clean_text(raw, MAX_ANSWER + 1)
    if len(text) > MAX_ANSWER:
        raise Refused("too_long", f"an answer is at most {MAX_ANSWER} characters")
    return [Event("answer_given", {"seat": seat.id, "round": session.round, "prompt": prompt, "text": text})]


def resolution_inputs(session: Session) -> list[dict[str, Any]]:
    """Each organisation's inputs for the round: human choices (the default for those who
    did not choose), bot choices for bot seats and for groups nobody plays."""
    out = []
    bot = get_strategy(session.bots)
    for org in session.orgs:
        rng = random.Random(session.seed * 7919 + org.index * 104729 + session.round)
        state = attrs.evolve(org.state, pattern=org.pattern)
        choices: dict[str, list[str]] = {}
        for group in session.book.groups_with_options(org.card):
            seats = [s for s in session.active_seats(org.index) if s.group == group]
            default = session.book.default_choice(org.card, group) or ""
            picks = []
            for s in sorted(seats, key=lambda s: s.id):
                if s.id in org.choices:
                    picks.append(org.choices[s.id])
                elif s.bot:
                    picks.append(bot.choose(session.book, state, org.card, group, rng, {}))
                else:
                    picks.append(default)
            if not seats:
                picks.append(bot.choose(session.book, state, org.card, group, rng, {}))
            choices[group] = picks
        out.append(
            {
                "org": org.index,
                "card": org.card,
                "choices": choices,
                "messages": {f"{a}->{b}": n for (a, b), n in sorted(org.said.items())},
                "pattern": org.pattern,
                "injects": list(org.injects),
            }
        )
    return out


def all_chosen(session: Session) -> bool:
    """Every human seat with options this round has chosen."""
    return session.phase == "choose" and not stalled_seats(session)


# --- views: what each seat may see, computed here and nowhere else ----------------------


def progress(session: Session, org: int) -> dict[str, int]:
    seats = [s for s in session.active_seats(org) if not s.bot and (session.orgs[org].card, s.group) in session.book.options]
    return {"chosen": sum(1 for s in seats if s.id in session.orgs[org].choices), "of": len(seats)}


def _clock(session: Session) -> dict[str, Any]:
    duration = session.duration(session.phase) if session.phase in ("brief", "talk", "choose", "reveal", "timeout") else 0
    return {"deadline": session.deadline, "paused": session.paused, "remaining": session.remaining, "duration": duration}


def clock_view(session: Session) -> dict[str, Any]:
    """Phase, round and timer: what a timer change alters in every view."""
    return {"phase": session.phase, "round": session.round, **_clock(session)}


def _change_view(session: Session, change: Change) -> dict[str, Any]:
    return {
        "metric": change.metric,
        "label": session.deck.metrics[change.metric].label,
        "delta": round(change.delta, 3),
        "lever": change.lever,
        "kind": change.kind,
        "cause": change.cause,
        "explain": change.explain,
        "group": change.group,
        "decided": change.decided,
        "round": change.round,
    }


def group_view(session: Session, org_index: int, group: str) -> dict[str, Any]:
    """Everything the players of ``group`` in organisation ``org_index`` may see. Shared by
    all of them, so the server encodes it once per group."""
    _, view = next(iter_group_views(session, [(org_index, group)]))
    return view


def iter_group_views(session: Session, wanted: Iterable[tuple[int, str]]) -> Iterator[tuple[tuple[int, str], dict[str, Any]]]:
    """The views of several groups, one at a time, so that the first can be on its way while
    the rest are built. What groups share (the session's clock, an organisation's roster,
    metrics and changes, the debrief) is computed once for all."""
    ended = session.phase in ("debrief", "ended")
    head = {
        "code": session.code,
        "title": session.deck.deck.title,
        "phase": session.phase,
        "round": session.round,
        "rounds": session.rounds,
        "orgs": len(session.orgs),
        **_clock(session),
    }
    shared: dict[int, dict[str, Any]] = {}
    summary = debrief(session) if ended else None
    for org_index, group in wanted:
        if org_index not in shared:
            shared[org_index] = _org_shared(session, org_index)
        view = _group_view(session, org_index, group, head, shared[org_index])
        if summary is not None:
            view["debrief"] = summary
        yield (org_index, group), view


def _org_shared(session: Session, org_index: int) -> dict[str, Any]:
    org = session.orgs[org_index]
    changes = session.phase in ("reveal", "timeout") or (session.phase in ("brief", "talk", "choose") and session.round > 1)
    return {
        "roster": roster(session, org_index),
        "progress": progress(session, org_index),
        "metrics": {
            name: {
                "label": m.label,
                "value": round(org.state.metrics[name], 3),
                "start": m.start,
                "bounds": list(m.bounds),
                "better": m.better,
                "trend": [round(h[name], 3) for h in org.history],
            }
            for name, m in session.deck.metrics.items()
        },
        "changes": [(c.metric, _change_view(session, c)) for c in org.last_changes] if changes else None,
    }


def _group_view(session: Session, org_index: int, group: str, head: dict[str, Any], shared: dict[str, Any]) -> dict[str, Any]:
    org = session.orgs[org_index]
    visible = _visible(session, group)
    view: dict[str, Any] = {
        "session": head,
        "org": org_index,
        "group": group,
        **_static_group(session, group),
        "pattern": _static_pattern(session, org.pattern, group),
        "roster": shared["roster"],
        "metrics": {name: entry for name, entry in shared["metrics"].items() if name in visible},
        "progress": shared["progress"],
        "messages": [m for m in org.messages if m["to"] == group or m["from"] == group][-50:],
        "prompts": list(session.deck.groups[group].timeout) if session.phase == "timeout" else [],
    }
    if org.card and session.phase != "lobby":
        card = _static_card(session, org.card, group)
        if card is not None:
            view["card"] = card
    if shared["changes"] is not None:
        view["changes"] = [change for metric, change in shared["changes"] if metric in visible]
    return view


# Views are rebuilt for every group at every phase change; what depends on the deck alone is
# built once per session. The parts are shared between views, which are encoded and sent,
# never changed.


def _visible(session: Session, group: str) -> frozenset[str]:
    if session.phase in ("debrief", "ended"):
        return frozenset(session.deck.metrics)
    key = ("visible", group)
    if key not in session.static:
        session.static[key] = frozenset(session.deck.visible_metrics(group))
    return session.static[key]


def _static_group(session: Session, group: str) -> dict[str, Any]:
    key = ("group", group)
    if key not in session.static:
        deck = session.deck
        session.static[key] = {
            "group_name": deck.groups[group].name,
            "brief": deck.groups[group].brief,
            "groups": {g: deck.groups[g].name for g in GROUPS},
        }
    return session.static[key]


def _static_pattern(session: Session, pattern_id: str, group: str) -> dict[str, Any]:
    key = ("pattern", pattern_id, group)
    if key not in session.static:
        pattern = session.deck.patterns[pattern_id]
        opened = session.book.pattern(pattern_id).open
        session.static[key] = {
            "id": pattern_id,
            "label": pattern.label or pattern_id,
            "description": pattern.description,
            "talk_to": sorted(b for a, b in opened if a == group),
            "hear_from": sorted(a for a, b in opened if b == group),
            "closed_to": sorted(g for g in GROUPS if g != group and (group, g) not in opened),
        }
    return session.static[key]


def _static_card(session: Session, card_id: str, group: str) -> dict[str, Any] | None:
    key = ("card", card_id, group)
    if key not in session.static:
        card = session.book.cards.get(card_id)
        session.static[key] = (
            None
            if card is None
            else {
                "id": card.id,
                "title": card.title or card.id,
                "text": [card.text[k] for k in ("all", group) if k in card.text],
                "options": [
                    {"id": o.id, "label": o.label, "description": o.description, "default": o.default}
                    for o in card.options
                    if o.group == group
                ],
            }
        )
    return session.static[key]


def roster(session: Session, org_index: int) -> dict[str, list[str]]:
    names: dict[str, list[str]] = {g: [] for g in GROUPS}
    for seat in session.active_seats(org_index):
        names[seat.group].append(seat.name)
    return {g: sorted(n) for g, n in names.items()}


def seat_view(session: Session, seat: Seat) -> dict[str, Any]:
    """The group view plus what belongs to this seat alone."""
    view = group_view(session, seat.org, seat.group)
    view["you"] = personal(session, seat)
    return view


def personal(session: Session, seat: Seat) -> dict[str, Any]:
    return {
        "seat": seat.id,
        "name": seat.name,
        "org": seat.org,
        "group": seat.group,
        "bot": seat.bot,
        "choice": session.orgs[seat.org].choices.get(seat.id),
        "answers": {
            str(prompt): answer["text"]
            for prompt in range(len(session.deck.groups[seat.group].timeout))
            if (answer := session.answers.get((seat.id, session.round, prompt)))
        },
    }


def debrief(session: Session) -> dict[str, Any]:
    """The whole system, for everyone, after the last round."""
    deck = session.deck
    orgs = []
    for org in session.orgs:
        totals = attribution(org.state.history)
        counterfactuals = []
        for other in deck.patterns:
            if other != org.pattern or len(set(org.patterns_used)) > 1:
                cf = counterfactual(
                    session.book, org.state.seed, org.patterns_used[0] if org.patterns_used else org.pattern, org.log, other_pattern=other
                )
                counterfactuals.append(
                    {
                        "description": cf.description,
                        "pattern": other,
                        "metrics": {m: round(v, 3) for m, v in cf.alternative.metrics.items()},
                        "difference": {m: round(v, 3) for m, v in cf.difference.items()},
                    }
                )
        if any(o.lever == "special_treatment" for c in deck.cards for o in c.options):
            cf = counterfactual(
                session.book,
                org.state.seed,
                org.patterns_used[0] if org.patterns_used else org.pattern,
                org.log,
                withhold="special_treatment",
            )
            counterfactuals.append(
                {
                    "description": cf.description,
                    "pattern": "",
                    "metrics": {m: round(v, 3) for m, v in cf.alternative.metrics.items()},
                    "difference": {m: round(v, 3) for m, v in cf.difference.items()},
                }
            )
        channels: dict[str, int] = {}
        for m in org.messages:
            if m["from"] != m["to"]:
                key = f"{m['from']}->{m['to']}"
                channels[key] = channels.get(key, 0) + 1
        opened = sorted(f"{a}->{b}" for a, b in session.book.pattern(org.pattern).open)
        orgs.append(
            {
                "org": org.index,
                "pattern": org.pattern,
                "patterns_used": list(org.patterns_used),
                "metrics": {m: round(v, 3) for m, v in org.state.metrics.items()},
                "history": [{m: round(v, 3) for m, v in h.items()} for h in org.history],
                "by_lever": {m: {lv: round(per.get(lv, 0.0), 3) for lv in LEVERS} for m, per in totals.items()},
                "by_round_lever": _by_round_lever(org.state.history),
                "counterfactuals": counterfactuals,
                "channels": channels,
                "silent": [c for c in opened if c not in channels],
                "changes": [_change_view(session, c) for c in org.state.history],
            }
        )
    return {
        "metrics": {n: {"label": m.label, "visible_to": list(m.visible_to), "better": m.better} for n, m in deck.metrics.items()},
        "orgs": orgs,
        "answers": list(session.answers.values()),
        "prompts": {g: list(deck.groups[g].timeout) for g in GROUPS},
        "questions": list(deck.deck.debrief),
    }


def _by_round_lever(history: Iterable[Change]) -> dict[str, list[dict[str, float]]]:
    out: dict[str, list[dict[str, float]]] = {}
    for c in history:
        rounds = out.setdefault(c.metric, [])
        while len(rounds) < c.round:
            rounds.append(dict.fromkeys(LEVERS, 0.0))
        rounds[c.round - 1][c.lever] = round(rounds[c.round - 1][c.lever] + c.delta, 3)
    return out


def facilitator_view(
    session: Session, connected: set[str] | frozenset[str] = frozenset(), last_seen: dict[str, float] | None = None
) -> dict[str, Any]:
    """Everything, for the facilitator's console."""
    deck = session.deck
    last_seen = last_seen or {}
    orgs = []
    for org in session.orgs:
        seats = [
            {
                "seat": s.id,
                "name": s.name,
                "group": s.group,
                "bot": s.bot,
                "connected": s.id in connected,
                "chosen": s.id in org.choices,
                "last_seen": last_seen.get(s.id),
            }
            for s in session.active_seats(org.index)
        ]
        orgs.append(
            {
                "org": org.index,
                "pattern": org.pattern,
                "card": org.card,
                "metrics": {m: round(v, 3) for m, v in org.state.metrics.items()},
                "history": [{m: round(v, 3) for m, v in h.items()} for h in org.history],
                "seats": sorted(seats, key=lambda s: (GROUPS.index(s["group"]), s["name"])),
                "progress": progress(session, org.index),
                "injects_pending": list(org.injects),
                "messages": len(org.messages),
            }
        )
    view = {
        "session": {
            "id": session.id,
            "code": session.code,
            "title": deck.deck.title,
            "deck": deck.id,
            "phase": session.phase,
            "round": session.round,
            "rounds": session.rounds,
            "locked": session.locked,
            **_clock(session),
        },
        "patterns": {n: p.label or n for n, p in deck.patterns.items()},
        "injects": [{"id": i.id, "label": i.label, "group": i.group} for i in deck.injects],
        "metrics": {n: m.label for n, m in deck.metrics.items()},
        "orgs": orgs,
    }
    if session.phase in ("debrief", "ended"):
        view["debrief"] = debrief(session)
    return view


def new_code(rng: random.Random | None = None) -> str:
    """A six-character join code from an alphabet without look-alikes."""
    choice = rng.choice if rng else secrets.choice
    return "".join(choice(CODE_ALPHABET) for _ in range(6))
