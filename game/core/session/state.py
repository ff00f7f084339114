"""The session's state and the fold: ``Session.apply(event)`` folds one event into it.

The session is a mutable aggregate rather than a frozen value: with 2,000 seats, copying it
for every choice would cost O(N) per event and O(N^2) per round. Events are frozen. Each
event class has one folding function, found through :data:`FOLD`.
"""

from __future__ import annotations

import hashlib
import random
import secrets
from collections.abc import Callable, Iterable
from typing import Any

import attrs

from game.core.deck import Deck
from game.core.engine import Change, OrgState, RoundInputs, new_state, resolve_round, with_pattern
from game.core.loader import load_deck_text
from game.core.rulebook import Rulebook
from game.core.session.events import (
    AnswerGiven,
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
    SessionCreated,
    SessionEnded,
    TimerExtended,
)

CODE_ALPHABET = "ACDEFHJKMNPRTUVWXY34679"  # no 0/O, 1/I/L, 2/Z, 5/S, 8/B look-alikes


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_code(rng: random.Random | None = None) -> str:
    """A six-character join code from an alphabet without look-alikes."""
    choice = rng.choice if rng else secrets.choice
    return "".join(choice(CODE_ALPHABET) for _ in range(6))


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
    reclaimed: int = 0  # the round in which its person last took it back from a bot
    device_key: str = ""  # the hash of the device it joined from, when the client said


@attrs.define
class Org:
    index: int
    pattern: str
    state: OrgState
    card: str = ""
    choices: dict[str, str] = attrs.Factory(dict)  # seat id -> option id, this round
    messages: list[dict[str, Any]] = attrs.Factory(list)  # every message of the game
    said: dict[tuple[str, str], int] = attrs.Factory(dict)  # this round's counts per channel
    # this round's open requests: (asking seat, or "bot:GROUP" for an unplayed group's bot, asked group) -> option
    requests: dict[tuple[str, str], str] = attrs.Factory(dict)
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
    by_join: dict[str, str] = attrs.Factory(dict)  # join key (hash of the client's join id) -> seat id
    answers: dict[tuple[str, int, int], dict[str, Any]] = attrs.Factory(dict)  # (seat, round, prompt) -> answer
    # the answers the room sees in the debrief ("seat/round/prompt" keys), and whether with names
    shown_answers: dict[str, Any] = attrs.Factory(lambda: {"keys": set(), "names": False})
    barred: dict[str, str] = attrs.Factory(dict)  # folded name of a removed participant -> their seat id
    barred_devices: dict[str, str] = attrs.Factory(dict)  # device key of a removed participant -> their seat id
    timeout_from: str = ""  # the phase a time-out interrupted
    last_timeout: int = 0  # the round of the latest time-out
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

    def option_label(self, card_id: str, group: str, option: str) -> str:
        """What players read for one of ``group``'s options on a card."""
        card = self.book.cards.get(card_id)
        found = next((o for o in card.options if o.group == group and o.id == option), None) if card else None
        return found.label if found else option

    def duration(self, phase: str) -> int:
        return int(getattr(self.deck.phases, phase, 0) or 0)

    def apply(self, event: Event) -> None:
        """Fold one event into the state."""
        FOLD[type(event)](self, event)
        self.version += 1


# --- the fold: one function per event class ---------------------------------------------


def _seat_joined(session: Session, e: SeatJoined) -> None:
    session.seats[e.seat] = Seat(e.seat, e.name, e.org, e.group, e.token_hash, joined_at=e.at, device_key=e.device_key or "")
    session.orgs[e.org].members[e.seat] = None
    session.names[e.name.casefold()] = e.seat
    session.by_token[e.token_hash] = e.seat
    if e.join_key:
        session.by_join[e.join_key] = e.seat


def _seat_moved(session: Session, e: SeatMoved) -> None:
    moved = session.seats[e.seat]
    session.orgs[moved.org].choices.pop(e.seat, None)
    session.orgs[moved.org].members.pop(e.seat, None)
    session.orgs[e.org].members[e.seat] = None
    moved.org, moved.group = e.org, e.group


def _seat_botified(session: Session, e: SeatBotified) -> None:
    session.seats[e.seat].bot = True


def _seat_reclaimed(session: Session, e: SeatReclaimed) -> None:
    seat = session.seats[e.seat]
    seat.bot, seat.reclaimed = False, session.round


def _seat_kicked(session: Session, e: SeatKicked) -> None:
    kicked = session.seats[e.seat]
    kicked.kicked = True
    session.orgs[kicked.org].choices.pop(e.seat, None)
    session.orgs[kicked.org].members.pop(e.seat, None)
    session.names.pop(kicked.name.casefold(), None)
    session.barred[kicked.name.casefold()] = e.seat  # the code no longer lets them in under that name
    if kicked.device_key:  # nor under another name from the same device
        session.barred_devices[kicked.device_key] = e.seat


def _seat_admitted(session: Session, e: SeatAdmitted) -> None:
    session.barred = {name: seat for name, seat in session.barred.items() if seat != e.seat}
    session.barred_devices = {device: seat for device, seat in session.barred_devices.items() if seat != e.seat}


def _answers_shown(session: Session, e: AnswersShown) -> None:
    keys = session.shown_answers["keys"]
    if e.shown:
        keys.update(e.answers)
    else:
        keys.difference_update(e.answers)
    session.shown_answers["names"] = e.names


def _lobby_locked(session: Session, e: LobbyLocked) -> None:
    session.locked = e.locked


def _pattern_set(session: Session, e: PatternSet) -> None:
    org = session.orgs[e.org]
    org.pattern = e.pattern
    # the new pattern's structure, with what the organisation earned kept, shows from now on
    org.state = with_pattern(session.book, org.state, e.pattern)


def _inject_fired(session: Session, e: InjectFired) -> None:
    session.orgs[e.org].injects.append(e.inject)


def _phase_started(session: Session, e: PhaseStarted) -> None:
    if e.phase == "timeout":
        session.timeout_from = session.phase
        session.last_timeout = e.round
    session.phase, session.round, session.deadline = e.phase, e.round, e.deadline
    session.paused, session.remaining = False, None
    if e.phase == "brief":
        for org in session.orgs:
            org.card = (e.cards or {})[str(org.index)]
            org.choices.clear()
            org.said.clear()
            org.requests.clear()


def _paused(session: Session, e: Paused) -> None:
    session.paused, session.remaining, session.deadline = True, e.remaining, None


def _resumed(session: Session, e: Resumed) -> None:
    session.paused, session.remaining, session.deadline = False, None, e.deadline


def _timer_extended(session: Session, e: TimerExtended) -> None:
    session.deadline, session.remaining = e.deadline, e.remaining


def _choice_made(session: Session, e: ChoiceMade) -> None:
    session.orgs[session.seats[e.seat].org].choices[e.seat] = e.option


def _message_sent(session: Session, e: MessageSent) -> None:
    target = session.orgs[e.org]
    target.messages.append({"seat": e.seat, "name": e.name, "from": e.sender, "to": e.to, "text": e.text, "round": e.round, "at": e.at})
    if e.sender != e.to:
        target.said[(e.sender, e.to)] = target.said.get((e.sender, e.to), 0) + 1


def is_withdrawal(message: dict[str, Any]) -> bool:
    """A conversation line that takes a request back: it stays in the conversation, but it is
    not a message along the channel."""
    return message.get("request") == ""


def requester_key(seat: str, group: str) -> str:
    """Who asks: the seat, or the bot that plays a group nobody holds."""
    return seat or f"bot:{group}"


def _request_made(session: Session, e: RequestMade) -> None:
    org = session.orgs[e.org]
    key = (requester_key(e.seat, e.asker), e.to)
    withdrawn = org.requests.pop(key, None) if not e.option else None
    if not e.option and withdrawn is None:
        return  # nothing stood to withdraw
    if e.option:
        org.requests[key] = e.option
    # a request is a message along its channel: the conversation shows it (and a withdrawal,
    # so that nobody acts on a request that no longer stands); said() counts requests only
    label = session.option_label(org.card, e.to, e.option or withdrawn)
    org.messages.append(
        {
            "seat": e.seat,
            "name": e.name,
            "from": e.asker,
            "to": e.to,
            "text": "",
            "round": e.round,
            "at": e.at,
            "request": e.option,
            "label": label,
        }
    )
    if e.option:
        org.said[(e.asker, e.to)] = org.said.get((e.asker, e.to), 0) + 1


def _answer_given(session: Session, e: AnswerGiven) -> None:
    who = session.seats[e.seat]
    session.answers.pop((e.seat, e.round, e.prompt), None)  # a changed answer moves to the end, as it was given last
    session.answers[e.seat, e.round, e.prompt] = {
        "seat": e.seat,
        "name": who.name,
        "org": who.org,
        "group": who.group,
        "round": e.round,
        "prompt": e.prompt,
        "text": e.text,
    }


def _round_resolved(session: Session, e: RoundResolved) -> None:
    for entry in e.orgs:
        org = session.orgs[entry["org"]]
        inputs = RoundInputs(
            entry["card"],
            {g: tuple(v) for g, v in entry["choices"].items()},
            {tuple(k.split("->")): v for k, v in entry["messages"].items()},  # type: ignore[misc]
            entry["pattern"],
            tuple(entry["injects"]),
            {(a, b, o): share for a, b, o, share in entry.get("requests", ())},
        )
        org.state, org.last_changes = resolve_round(session.book, org.state, inputs)
        org.log.append(inputs)
        org.patterns_used.append(entry["pattern"])
        org.history.append(dict(org.state.metrics))
        org.injects.clear()


def _session_ended(session: Session, e: SessionEnded) -> None:
    session.phase, session.deadline, session.ended_at = "ended", None, e.at


FOLD: dict[type, Callable[[Session, Any], None]] = {
    SeatJoined: _seat_joined,
    SeatMoved: _seat_moved,
    SeatBotified: _seat_botified,
    SeatReclaimed: _seat_reclaimed,
    SeatKicked: _seat_kicked,
    SeatAdmitted: _seat_admitted,
    AnswersShown: _answers_shown,
    LobbyLocked: _lobby_locked,
    PatternSet: _pattern_set,
    InjectFired: _inject_fired,
    PhaseStarted: _phase_started,
    Paused: _paused,
    Resumed: _resumed,
    TimerExtended: _timer_extended,
    ChoiceMade: _choice_made,
    MessageSent: _message_sent,
    RequestMade: _request_made,
    AnswerGiven: _answer_given,
    RoundResolved: _round_resolved,
    SessionEnded: _session_ended,
}


# --- beginning a session ----------------------------------------------------------------


def create_session(
    session_id: str,
    code: str,
    deck: Deck,
    deck_text: str,
    deck_name: str,
    patterns: list[str],
    seed: int,
    bots: str = "by_the_book",
    early_close: bool = False,
) -> tuple[Session, SessionCreated]:
    """A new session from a deck already loaded from ``deck_text``, and the event that records
    it (the text travels in the event, so that replaying the journal needs nothing else)."""
    created = SessionCreated(session_id, code, deck_text, deck_name, list(patterns), seed, bots, early_close)
    return session_from_created(created, deck), created


def session_from_created(created: SessionCreated, deck: Deck | None = None) -> Session:
    """The session as ``created`` began it; the deck is loaded from the event's text unless given."""
    if deck is None:
        deck = load_deck_text(created.deck_text, created.deck_name)
    book = Rulebook(deck)
    orgs = []
    for i, pattern in enumerate(created.patterns):
        state = new_state(book, created.seed * 1000 + i, pattern)
        orgs.append(Org(i, pattern, state, history=[dict(state.metrics)]))
    return Session(
        created.session,
        created.code,
        deck,
        book,
        created.deck_text,
        created.seed,
        orgs,
        bots=created.bots,
        early_close=created.early_close,
        version=1,
    )


def replay(events: Iterable[Event]) -> Session:
    """The session a journal records: its ``session_created`` event, then the fold of the rest."""
    stream = iter(events)
    first = next(stream)
    if not isinstance(first, SessionCreated):
        raise ValueError(f"a session's journal begins with session_created, not {first.TYPE}")
    session = session_from_created(first)
    for event in stream:
        session.apply(event)
    return session
