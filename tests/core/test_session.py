"""The session state machine, pure: the phase table, the transitions, the fold and the views.

No server and no clock: sessions are driven by ``decide`` and ``Session.apply`` alone, with
``now`` given by the test.
"""

from __future__ import annotations

import json
from pathlib import Path

import attrs
import pytest

from game.core.deck import GROUPS
from game.core.loader import load_deck_text
from game.core.protocol import (
    Admit,
    Advance,
    Answer,
    Botify,
    BotifyStalled,
    CallTimeout,
    Choose,
    CreateSession,
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
from game.core.session import (
    FACILITATOR,
    PHASES,
    SYSTEM,
    Actor,
    Deadline,
    Refused,
    Session,
    TakeSeat,
    create_session,
    debrief,
    decide,
    facilitator_view,
    group_view,
    iter_group_views,
    personal,
    projector_view,
    replay,
    token_hash,
)
from game.core.session.decide import DECIDERS
from game.core.session.events import (
    EVENT_TYPES,
    AnswerGiven,
    ChoiceMade,
    InjectFired,
    LobbyLocked,
    MessageSent,
    PatternSet,
    Paused,
    PhaseStarted,
    Resumed,
    RoundResolved,
    SeatBotified,
    SeatJoined,
    SeatKicked,
    SeatMoved,
    SessionCreated,
    SessionEnded,
    TimerExtended,
    from_record,
    to_record,
)
from game.core.session.phases import (
    ALLOWED,
    FACILITATOR_COMMANDS,
    PARTICIPANT_COMMANDS,
    SAY_PHASES,
    SYSTEM_COMMANDS,
    TRANSITIONS,
)
from game.core.session.setup import org_patterns

DECK_PATH = Path(__file__).resolve().parents[2] / "decks" / "interlodge.toml"
DECK_TEXT = DECK_PATH.read_text(encoding="utf-8")
DECK = load_deck_text(DECK_TEXT, "interlodge.toml")
T0 = 1_763_895_000.0


def new_session(orgs: int = 1, patterns: tuple[str, ...] = ("silos",)) -> Session:
    session, created = create_session(
        "s1", "ACDEFH", DECK, DECK_TEXT, "interlodge.toml", [patterns[i % len(patterns)] for i in range(orgs)], 7
    )
    assert session.deck is DECK, "the deck the caller loaded is used, not parsed again"
    assert created.deck_text == DECK_TEXT
    return session


def run(session: Session, actor: Actor, command, now: float = T0) -> list:
    events = decide(session, actor, command, now)
    for event in events:
        session.apply(event)
    return events


def seated(orgs: int = 1) -> Session:
    """A session in the lobby with one seat in each group of each organisation (p1, p2, ...)."""
    session = new_session(orgs)
    for i in range(4 * orgs):
        seat = f"p{i + 1}"
        run(session, Actor("seat", seat), TakeSeat(f"Player {i + 1}", seat, token_hash(seat)))
    return session


def seat_of(session: Session, group: str, org: int = 0) -> str:
    return next(s.id for s in session.active_seats(org) if s.group == group)


def with_options(session: Session) -> str:
    """A seat whose group has options on this round's card."""
    return next(s.id for s in session.active_seats(0) if (session.orgs[0].card, s.group) in session.book.options)


def session_in(phase: str) -> Session:
    session = seated()
    if phase == "lobby":
        return session
    run(session, FACILITATOR, Start())
    steps = {
        "brief": [],
        "talk": [Advance()],
        "choose": [Advance()] * 2,
        "reveal": [Advance()] * 3,
        "timeout": [Advance()] * 3 + [CallTimeout()],
    }
    if phase in steps:
        for command in steps[phase]:
            run(session, FACILITATOR, command)
    elif phase == "resolve":  # instantaneous: only a fold can leave a session in it
        session.apply(PhaseStarted("resolve", session.round, None))
    elif phase in ("debrief", "ended"):
        while session.phase != "debrief":
            run(session, FACILITATOR, Advance())
        if phase == "ended":
            run(session, FACILITATOR, End())
    assert session.phase == phase
    return session


def sample(kind: type, session: Session) -> tuple[Actor, object, float]:
    """A command of ``kind`` that only the phase table could refuse in ``session``, with its actor and time."""
    player = Actor("seat", "p1")
    if kind is TakeSeat:
        return Actor("seat", "p99"), TakeSeat("Newcomer", "p99", "hash"), T0
    if kind is Deadline:
        return SYSTEM, Deadline(session.phase, session.round), session.deadline or T0
    if kind is Choose:
        seat = with_options(session) if session.orgs[0].card else "p1"
        options = session.book.options.get((session.orgs[0].card, session.seats[seat].group), {"x": None})
        return Actor("seat", seat), Choose(session.round, sorted(options)[0]), T0
    if kind is Say:
        return player, Say("hello"), T0
    if kind is Request:
        org = session.orgs[0]
        for seat in session.active_seats(0):
            for asker, asked in sorted(org.state.structure.open):
                if asker == seat.group and (org.card, asked) in session.book.options:
                    return Actor("seat", seat.id), Request(session.round, asked, sorted(session.book.options[(org.card, asked)])[0]), T0
        return player, Request(session.round, "middle", "x"), T0
    if kind is Answer:
        return player, Answer(0, "an answer"), T0
    if kind is Admit:
        if Kick in ALLOWED[session.phase]:
            run(session, FACILITATOR, Kick("p2"))  # someone to let back in
        return FACILITATOR, Admit("p2"), T0
    if kind is Resume:
        if session.phase in ("lobby", "brief", "talk", "choose", "reveal", "timeout"):
            run(session, FACILITATOR, Pause())
        return FACILITATOR, Resume(), T0
    commands = {
        Lock: Lock(),
        Unlock: Unlock(),
        Move: Move("p1", 0, "customer"),
        Kick: Kick("p1"),
        Botify: Botify("p1"),
        BotifyStalled: BotifyStalled(),
        SetPattern: SetPattern(0, "desk_voice"),
        Inject: Inject("boiler-failure"),
        Start: Start(),
        Advance: Advance(),
        CallTimeout: CallTimeout(),
        Pause: Pause(),
        Extend: Extend(30),
        End: End(),
        ShowAnswers: ShowAnswers(),
    }
    return FACILITATOR, commands[kind], T0


COMMANDS = sorted(DECIDERS, key=lambda kind: kind.TYPE)


# --- the phase table ----------------------------------------------------------------------------


@pytest.mark.parametrize("phase", PHASES)
@pytest.mark.parametrize("kind", COMMANDS, ids=lambda kind: kind.TYPE)
def test_each_phase_allows_what_the_table_says_and_refuses_the_rest(phase, kind):
    session = session_in(phase)
    actor, command, now = sample(kind, session)
    # an answer outside a time-out counts only right after one (test_an_answer_sent_as_the_time_out_ends_still_counts)
    allowed = kind in ALLOWED[phase] and (kind is not Say or phase in SAY_PHASES) and (kind is not Answer or phase == "timeout")
    if allowed:
        events = decide(session, actor, command, now)
        assert isinstance(events, list)
        for event in events:
            session.apply(event)
    else:
        with pytest.raises(Refused) as refused:
            decide(session, actor, command, now)
        assert refused.value.code == "wrong_phase"


def test_every_command_is_decided_and_every_phase_is_in_the_table():
    assert set(ALLOWED) == set(PHASES)
    assert set().union(*ALLOWED.values()) <= set(DECIDERS)
    assert FACILITATOR_COMMANDS | PARTICIPANT_COMMANDS | SYSTEM_COMMANDS | {TakeSeat} == set(DECIDERS)


@pytest.mark.parametrize("kind", sorted(FACILITATOR_COMMANDS, key=lambda kind: kind.TYPE), ids=lambda kind: kind.TYPE)
def test_facilitator_commands_are_refused_to_seats_and_the_server(kind):
    session = session_in("choose")
    _, command, now = sample(kind, session)
    for actor in (Actor("seat", "p1"), SYSTEM):
        with pytest.raises(Refused) as refused:
            decide(session, actor, command, now)
        assert refused.value.code == "forbidden"


@pytest.mark.parametrize("kind", sorted(PARTICIPANT_COMMANDS | SYSTEM_COMMANDS, key=lambda kind: kind.TYPE), ids=lambda kind: kind.TYPE)
def test_participant_and_server_commands_are_refused_to_others(kind):
    session = session_in("timeout")
    _, command, now = sample(kind, session)
    others = [FACILITATOR, Actor("seat", "p1")] if kind in SYSTEM_COMMANDS else [FACILITATOR, SYSTEM]
    for actor in others:
        with pytest.raises(Refused) as refused:
            decide(session, actor, command, now)
        assert refused.value.code == "forbidden"


def test_a_command_the_core_does_not_know_is_refused():
    with pytest.raises(Refused) as refused:
        decide(seated(), FACILITATOR, object(), T0)
    assert refused.value.code == "wrong_phase"


# --- transitions ---------------------------------------------------------------------------------


def phases_entered(events: list) -> list[str]:
    return [e.phase for e in events if isinstance(e, PhaseStarted)]


@pytest.mark.parametrize("phase", sorted(TRANSITIONS))
def test_advance_from_each_phase_goes_where_the_table_says(phase):
    session = session_in(phase)
    round_ = session.round
    events = run(session, FACILITATOR, Advance(), T0 + 5)
    expected = {
        "brief": ["talk"],
        "talk": ["choose"],
        "choose": ["resolve", "reveal"],
        "reveal": ["brief"],
        "timeout": ["brief"],  # a time-out called in a reveal goes on as the reveal would
    }[phase]
    assert phases_entered(events) == expected
    assert [type(e) for e in events if not isinstance(e, PhaseStarted)] == ([RoundResolved] if phase == "choose" else [])
    started = events[-1]
    assert started.round == (round_ + 1 if expected == ["brief"] else round_)
    assert started.deadline == T0 + 5 + session.duration(started.phase), "each phase entered gets its own timer"
    if expected == ["brief"]:
        assert set(started.cards) == {"0"} and session.orgs[0].card == started.cards["0"]


# (A time-out is called in a reveal only; returning into a brief would need the round's cards again.)
@pytest.mark.parametrize("interrupted", ["talk", "choose"])
def test_leaving_a_time_out_returns_to_the_phase_it_interrupted(interrupted):
    session = session_in(interrupted)
    session.apply(PhaseStarted("timeout", session.round, None))
    assert session.timeout_from == interrupted
    events = run(session, FACILITATOR, Advance(), T0)
    assert phases_entered(events) == [interrupted]
    assert session.phase == interrupted and session.deadline == T0 + session.duration(interrupted)


def test_after_the_last_reveal_comes_the_debrief_and_nothing_follows_it():
    session = session_in("debrief")
    assert session.round == session.rounds and session.deadline is None
    assert [len(org.log) for org in session.orgs] == [session.rounds]
    with pytest.raises(Refused) as refused:
        decide(session, FACILITATOR, Advance(), T0)
    assert refused.value.code == "wrong_phase"


def test_a_deadline_moves_the_phase_on_only_when_it_is_current():
    session = session_in("talk")
    deadline = session.deadline
    assert decide(session, SYSTEM, Deadline("talk", 1), deadline - 1) == [], "not yet"
    assert decide(session, SYSTEM, Deadline("brief", 1), deadline) == [], "a phase ago"
    assert decide(session, SYSTEM, Deadline("talk", 2), deadline) == [], "another round"
    run(session, FACILITATOR, Pause())
    assert decide(session, SYSTEM, Deadline("talk", 1), deadline) == [], "paused"
    run(session, FACILITATOR, Resume(), deadline)
    assert phases_entered(run(session, SYSTEM, Deadline("talk", 1), session.deadline)) == ["choose"]


# --- the fold --------------------------------------------------------------------------------


def test_seats_join_move_turn_bot_and_leave():
    session = new_session(orgs=2)
    session.apply(SeatJoined("p1", "Ana", 0, "top", "h1", T0))
    session.apply(SeatJoined("p2", "Ben", 1, "bottom", "h2", T0 + 1))
    assert session.version == 3, "session_created, then two joins"
    assert list(session.orgs[0].members) == ["p1"] and session.seat_by_token is not None
    assert session.by_token == {"h1": "p1", "h2": "p2"} and session.names == {"ana": "p1", "ben": "p2"}
    session.orgs[0].choices["p1"] = "x"
    session.apply(SeatMoved("p1", 1, "customer"))
    assert (session.seats["p1"].org, session.seats["p1"].group) == (1, "customer")
    assert list(session.orgs[1].members) == ["p2", "p1"] and not session.orgs[0].members and not session.orgs[0].choices
    session.apply(SeatBotified("p2"))
    assert session.seats["p2"].bot
    session.apply(SeatKicked("p1"))
    assert session.seats["p1"].kicked and "ana" not in session.names and list(session.orgs[1].members) == ["p2"]
    assert [s.id for s in session.active_seats()] == ["p2"]


def test_lobby_patterns_injects_and_the_timer():
    session = new_session(orgs=2)
    session.apply(LobbyLocked(True))
    assert session.locked
    session.apply(PatternSet(1, "desk_voice"))
    session.apply(InjectFired(1, "boiler-failure"))
    assert [o.pattern for o in session.orgs] == ["silos", "desk_voice"] and session.orgs[1].injects == ["boiler-failure"]
    session.apply(PhaseStarted("brief", 1, T0 + 60, {"0": "training-day", "1": "training-day"}))
    assert (session.phase, session.round, session.deadline) == ("brief", 1, T0 + 60)
    assert [o.card for o in session.orgs] == ["training-day", "training-day"]
    session.apply(Paused(42.0))
    assert session.paused and session.remaining == 42.0 and session.deadline is None
    session.apply(TimerExtended(None, 72.0))
    assert session.remaining == 72.0
    session.apply(Resumed(T0 + 100))
    assert not session.paused and session.deadline == T0 + 100 and session.remaining is None
    session.apply(SessionEnded(T0 + 200))
    assert (session.phase, session.deadline, session.ended_at) == ("ended", None, T0 + 200)


def test_choices_messages_answers_and_a_resolved_round():
    session = seated()
    run(session, FACILITATOR, Start())
    run(session, FACILITATOR, Advance())
    bottom, middle = seat_of(session, "bottom"), seat_of(session, "middle")
    session.apply(MessageSent(bottom, 0, "bottom", "bottom", "to my own", 1, T0, "B"))
    session.apply(MessageSent(bottom, 0, "bottom", "middle", "across", 1, T0 + 1, "B"))
    assert session.orgs[0].said == {("bottom", "middle"): 1}, "talk within a group is no channel"
    assert [m["from"] + ">" + m["to"] for m in session.orgs[0].messages] == ["bottom>bottom", "bottom>middle"]
    run(session, FACILITATOR, Advance())
    seat = with_options(session)
    option = sorted(session.book.options[(session.orgs[0].card, session.seats[seat].group)])[0]
    session.apply(ChoiceMade(seat, option, 1))
    assert session.orgs[0].choices == {seat: option}
    before = dict(session.orgs[0].state.metrics)
    events = run(session, FACILITATOR, Advance())
    resolved = next(e for e in events if isinstance(e, RoundResolved))
    assert resolved.orgs[0]["choices"][session.seats[seat].group] == [option]
    assert resolved.orgs[0]["messages"] == {"bottom->middle": 1}
    org = session.orgs[0]
    assert len(org.log) == 1 and org.patterns_used == ["silos"] and org.history == [before, dict(org.state.metrics)]
    assert org.last_changes, "the reveal has changes to show"
    run(session, FACILITATOR, CallTimeout())
    session.apply(AnswerGiven(middle, 1, 0, "first"))
    session.apply(AnswerGiven(bottom, 1, 0, "other"))
    session.apply(AnswerGiven(middle, 1, 0, "changed"))
    assert [(a["seat"], a["text"]) for a in session.answers.values()] == [(bottom, "other"), (middle, "changed")]
    assert personal(session, session.seats[middle])["answers"] == {"0": "changed"}


def test_a_replay_of_the_events_is_the_same_session():
    session = seated(orgs=2)
    journal: list = [
        SessionCreated("s1", "ACDEFH", DECK_TEXT, "interlodge.toml", ["silos", "silos"], 7),
        *[SeatJoined(s.id, s.name, s.org, s.group, s.token_hash, s.joined_at) for s in session.seats.values()],
    ]
    for command in (Start(), Advance(), Advance(), Advance(), SetPattern(1, "desk_voice"), Advance()):
        journal.extend(run(session, FACILITATOR, command))
    again = replay(journal)
    assert (again.phase, again.round, again.version) == (session.phase, session.round, session.version)
    assert [o.state for o in again.orgs] == [o.state for o in session.orgs]
    assert [o.pattern for o in again.orgs] == ["silos", "desk_voice"]


# --- events and their journal records --------------------------------------------------------


def test_each_event_has_the_journal_type_earlier_versions_wrote():
    assert {cls.TYPE: cls for cls in EVENT_TYPES.values()} == EVENT_TYPES
    assert set(EVENT_TYPES) == {
        "session_created",
        "seat_joined",
        "seat_moved",
        "seat_botified",
        "seat_reclaimed",
        "seat_kicked",
        "lobby_locked",
        "pattern_set",
        "inject_fired",
        "phase_started",
        "paused",
        "resumed",
        "timer_extended",
        "choice_made",
        "message_sent",
        "answer_given",
        "round_resolved",
        "session_ended",
    } | {"request_made"} | {"seat_admitted", "answers_shown"}, (
        "the types earlier versions wrote, the request, and the facilitator's letting a removed participant back in and showing answers"
    )


def test_a_seat_joined_without_a_join_id_keeps_the_old_record():
    old = SeatJoined("p1", "Ana", 0, "top", "h", T0)
    assert list(to_record(old)[1]) == ["seat", "name", "org", "group", "token_hash", "at"]
    new = SeatJoined("p1", "Ana", 0, "top", "h", T0, "k")
    assert to_record(new)[1]["join_key"] == "k" and from_record(*to_record(new)) == new


def test_records_keep_the_format_and_read_back_to_the_same_event():
    sent = MessageSent("p1", 0, "bottom", "middle", "hi", 1, T0, "Ana")
    assert to_record(sent) == (
        "message_sent",
        {"seat": "p1", "org": 0, "sender": "bottom", "to": "middle", "text": "hi", "round": 1, "at": T0, "name": "Ana"},
    )
    assert list(to_record(sent)[1]) == ["seat", "org", "sender", "to", "text", "round", "at", "name"], "the order of keys too"
    assert to_record(PhaseStarted("talk", 1, None)) == ("phase_started", {"phase": "talk", "round": 1, "deadline": None}), (
        "no cards but in a brief"
    )
    assert to_record(PhaseStarted("brief", 1, T0, {"0": "c"}))[1]["cards"] == {"0": "c"}
    # the oldest journals' session_created has no bots and no early_close
    old = from_record("session_created", {"session": "s", "code": "C", "deck_text": "", "deck_name": "d", "patterns": ["silos"], "seed": 1})
    assert (old.bots, old.early_close) == ("by_the_book", False)
    session = session_in("reveal")
    events = [e for e in run(session, FACILITATOR, Advance())]
    for event in events:
        kind, data = to_record(event)
        assert from_record(kind, json.loads(json.dumps(data))) == event


# --- views -----------------------------------------------------------------------------------


def keys_in(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | set().union(*(keys_in(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(keys_in(v) for v in value))
    return set()


def test_a_group_never_sees_a_metric_it_may_not_see():
    session = seated(orgs=2)
    hidden = {g: set(DECK.metrics) - set(DECK.visible_metrics(g)) for g in GROUPS}
    assert any(hidden.values()), "the deck hides something from someone"
    seen_changes = False
    for command in [Start(), Advance(), Advance(), Advance(), CallTimeout(), Advance(), Advance(), Advance(), Advance()]:
        run(session, FACILITATOR, command)
        wanted = [(org, g) for org in range(2) for g in GROUPS]
        for (org, group), view in iter_group_views(session, wanted):
            assert not set(view["metrics"]) & hidden[group], (session.phase, group)
            assert not {c["metric"] for c in view.get("changes", [])} & hidden[group], (session.phase, group)
            assert not keys_in(view) & hidden[group], (session.phase, group)
            seen_changes = seen_changes or bool(view.get("changes"))
            assert view == group_view(session, org, group), "one view, however it is asked for"
    assert seen_changes


def test_the_facilitator_sees_everything_and_the_debrief_shows_the_whole_system():
    session = session_in("debrief")
    fview = facilitator_view(session, frozenset({"p1"}), {"p2": T0})
    assert [set(org["metrics"]) for org in fview["orgs"]] == [set(DECK.metrics)]
    seats = {s["seat"]: s for s in fview["orgs"][0]["seats"]}
    assert seats["p1"]["connected"] and not seats["p2"]["connected"] and seats["p2"]["last_seen"] == T0
    assert set(fview["patterns"]) == set(DECK.patterns) and fview["debrief"] == debrief(session)
    for group in GROUPS:
        view = group_view(session, 0, group)
        assert set(view["metrics"]) == set(DECK.metrics), "after the last round every group sees every metric"
        assert view["debrief"]["orgs"][0]["metrics"].keys() == DECK.metrics.keys()


def test_a_seat_sees_its_own_choice_and_its_group_its_own_messages():
    session = session_in("choose")
    seat = with_options(session)
    group = session.seats[seat].group
    option = sorted(session.book.options[(session.orgs[0].card, group)])[0]
    run(session, Actor("seat", seat), Choose(1, option))
    assert personal(session, session.seats[seat])["choice"] == option
    talker = seat_of(session, "bottom")
    run(session, Actor("seat", talker), Say("only us"))
    assert [m["text"] for m in group_view(session, 0, "bottom")["messages"]] == ["only us"]
    assert group_view(session, 0, "top")["messages"] == []
    assert attrs.has(type(Choose(1, option))), "commands are the protocol's attrs classes"


# --- a new session -----------------------------------------------------------------------------


def test_a_new_session_gets_its_patterns_in_turn_and_a_request_that_does_not_fit_is_refused():
    assert org_patterns(CreateSession(orgs=3, patterns=("silos", "desk_voice")), DECK) == ["silos", "desk_voice", "silos"]
    assert org_patterns(CreateSession(), DECK) == [DECK.default_pattern]
    for bad in (CreateSession(orgs=0), CreateSession(orgs=101), CreateSession(patterns=("nope",)), CreateSession(bots="psychic")):
        with pytest.raises(Refused) as refused:
            org_patterns(bad, DECK)
        assert refused.value.code == "bad_field"


# --- the facilitator's kit: removed seats, answers shown to the room, notices, the story ------


def test_a_removed_participant_cannot_take_a_seat_again_until_admitted():
    session = seated()
    name = session.seats["p2"].name
    run(session, FACILITATOR, Kick("p2"))
    with pytest.raises(Refused) as refused:
        decide(session, Actor("seat", "p9"), TakeSeat(name.upper(), "p9", token_hash("p9")), T0)
    assert refused.value.code == "removed" and "let you back in" in refused.value.message
    assert facilitator_view(session)["removed"] == [{"seat": "p2", "name": name}]
    run(session, FACILITATOR, Admit("p2"))
    assert facilitator_view(session)["removed"] == []
    run(session, Actor("seat", "p9"), TakeSeat(name, "p9", token_hash("p9")))
    assert session.seats["p9"].name == name and session.seat_by_token("p2") is None, "the old token stays revoked"
    with pytest.raises(Refused):
        decide(session, FACILITATOR, Admit("p1"), T0)


def test_a_removed_participant_stays_out_under_another_name_from_the_same_device():
    session = seated()
    run(session, Actor("seat", "p8"), TakeSeat("Vera", "p8", token_hash("p8"), device_key="dev-vera"))
    assert session.seats["p8"].device_key == "dev-vera"
    run(session, FACILITATOR, Kick("p8"))
    with pytest.raises(Refused) as refused:
        decide(session, Actor("seat", "p9"), TakeSeat("Someone Else", "p9", token_hash("p9"), device_key="dev-vera"), T0)
    assert refused.value.code == "removed" and "let you back in" in refused.value.message
    # another device, another name: in; and once admitted, the device is in again too
    run(session, Actor("seat", "p9"), TakeSeat("Walt", "p9", token_hash("p9"), device_key="dev-walt"))
    run(session, FACILITATOR, Admit("p8"))
    run(session, Actor("seat", "p10"), TakeSeat("Vera again", "p10", token_hash("p10"), device_key="dev-vera"))
    assert session.seats["p10"].device_key == "dev-vera"


def test_a_seat_joined_with_a_device_keeps_its_key_in_the_journal_record():
    joined = SeatJoined("p1", "Ana", 0, "top", "h", T0, None, "d")
    record = to_record(joined)[1]
    assert record["device_key"] == "d" and "join_key" not in record
    assert from_record(*to_record(joined)) == joined


def test_a_seat_handed_to_a_bot_is_told_so():
    session = session_in("choose")
    seat = with_options(session)
    assert personal(session, session.seats[seat])["note"] == ""
    run(session, FACILITATOR, Botify(seat))
    assert "bot" in personal(session, session.seats[seat])["note"]
    # acting again takes the seat back, and the person is told so for the rest of the round
    org = session.orgs[0]
    option = sorted(session.book.options[(org.card, session.seats[seat].group)])[0]
    events = run(session, Actor("seat", seat), Choose(session.round, option))
    assert [e.TYPE for e in events] == ["seat_reclaimed", "choice_made"]
    assert not session.seats[seat].bot
    assert personal(session, session.seats[seat])["note"] == "You have your seat back: what you choose counts again."
    for _ in range(2):
        run(session, FACILITATOR, Advance())
    assert session.phase == "brief" and personal(session, session.seats[seat])["note"] == ""


def test_an_inject_is_previewed_for_the_facilitator_and_told_to_the_organisation_it_hits():
    session = seated(orgs=2)
    run(session, FACILITATOR, Start())
    inject = DECK.injects[0]
    preview = next(p for p in facilitator_view(session)["inject_previews"] if p["id"] == inject.id)
    assert preview["label"] == inject.label and preview["effects"], "the facilitator reads what it does before firing"
    conditional = next(p for p in facilitator_view(session)["inject_previews"] if p["id"] == "mystery-guest")
    assert conditional["effects"] == ["Guest satisfaction: -2 if Open room faults > 30, else 2"], "in the deck's words"
    run(session, FACILITATOR, Inject(inject.id, 1))
    told = [g for g in ("top", "middle", "bottom", "customer") if group_view(session, 1, g)["notices"]]
    assert told == ([inject.group] if inject.group else ["top", "middle", "bottom", "customer"])
    assert all(group_view(session, 0, g)["notices"] == [] for g in ("top", "middle", "bottom", "customer")), "org 1 is untouched"
    notice = group_view(session, 1, told[0])["notices"][0]
    assert (notice["label"], notice["status"], notice["round"]) == (inject.label, "pending", 1)
    for _ in range(3):
        run(session, FACILITATOR, Advance())
    assert session.phase == "reveal" and group_view(session, 1, told[0])["notices"][0]["status"] == "landed"
    # fired at the reveal or in a time-out, it waits for the next round's resolution, and says so
    run(session, FACILITATOR, CallTimeout())
    run(session, FACILITATOR, Inject(inject.id, 1))
    pending = [n for n in group_view(session, 1, told[0])["notices"] if n["status"] == "pending"]
    assert [n["round"] for n in pending] == [2]


def finished(patterns=("silos", "desk_voice")) -> Session:
    session = seated(orgs=2)
    run(session, FACILITATOR, SetPattern(1, patterns[1]))
    run(session, FACILITATOR, Start())
    while session.phase != "debrief":
        if session.phase == "reveal" and session.round == 1:
            run(session, FACILITATOR, SetPattern(0, "desk_voice"))
            run(session, FACILITATOR, CallTimeout())
            for seat in session.active_seats(0):
                if session.deck.groups[seat.group].timeout:
                    run(session, Actor("seat", seat.id), Answer(0, f"answer of {seat.name}"))
        run(session, FACILITATOR, Advance())
    return session


def test_the_story_tells_each_round_in_the_decks_names():
    session = finished()
    told = debrief(session)["story"]
    first, second = told["orgs"]
    assert first["title"] == "Organisation 1 (Silos then Desk voice)"
    assert [r["pattern_label"] for r in first["rounds"]][:3] == ["Silos", "Desk voice", "Desk voice"]
    assert [r["switched"] for r in first["rounds"]][:3] == [False, True, False]
    assert second["patterns"] == ["Desk voice"]
    assert len(first["rounds"]) == session.rounds and all(len(s) == session.rounds + 1 for s in first["series"].values())
    some = first["rounds"][0]["choices"]
    assert some and all(c["label"] and c["count"] >= 1 for picks in some.values() for c in picks)
    legends = [cf["legend"] for cf in first["counterfactuals"]]
    assert "the same choices under Silos" in legends
    assert told["legend"]["actual"] == "what happened"
    assert told["answers"] == [], "no answer reaches the room before the facilitator shows it"


def test_the_facilitator_shows_answers_to_the_room_with_or_without_names():
    session = finished()
    answers = list(session.answers.values())
    key = f"{answers[0]['seat']}/{answers[0]['round']}/{answers[0]['prompt']}"
    run(session, FACILITATOR, ShowAnswers((key,)))
    view = group_view(session, 1, "top")
    assert [a["text"] for a in view["debrief"]["answers"]] == [answers[0]["text"]]
    assert "name" not in view["debrief"]["answers"][0] and "name" not in view["debrief"]["story"]["answers"][0]
    run(session, FACILITATOR, ShowAnswers((key,), names=True))
    assert group_view(session, 1, "top")["debrief"]["story"]["answers"][0]["name"] == answers[0]["name"]
    run(session, FACILITATOR, ShowAnswers((key,), shown=False))
    assert group_view(session, 1, "top")["debrief"]["answers"] == []
    with pytest.raises(Refused):
        decide(session, FACILITATOR, ShowAnswers(("nobody/1/0",)), T0)


def test_an_answer_sent_as_the_time_out_ends_still_counts():
    session = session_in("timeout")
    seat = seat_of(session, "bottom")
    run(session, Actor("seat", seat), Answer(0, "typed in time"))
    run(session, FACILITATOR, Advance())
    assert (session.phase, session.round) == ("brief", 2)
    run(session, Actor("seat", seat), Answer(1, "typed as the facilitator moved on"))
    assert session.answers[(seat, 1, 1)]["text"] == "typed as the facilitator moved on", "kept for round 1's time-out"
    run(session, FACILITATOR, Advance())
    with pytest.raises(Refused) as late:
        decide(session, Actor("seat", seat), Answer(0, "a round later"), T0)
    assert late.value.code == "wrong_phase"


def test_a_command_in_the_wrong_phase_is_refused_with_where_it_is_possible():
    session = session_in("talk")
    with pytest.raises(Refused) as refused:
        decide(session, FACILITATOR, Inject("boiler-failure"), T0)
    assert refused.value.code == "wrong_phase"
    assert refused.value.message == "Firing an inject is possible during the brief, the reveal or a time-out, not during talk"
    with pytest.raises(Refused) as started:
        decide(session, FACILITATOR, Start(), T0)
    assert started.value.message == "the session has already started"
    run(session, FACILITATOR, End())
    with pytest.raises(Refused) as ended:
        decide(session, FACILITATOR, Advance(), T0)
    assert ended.value.message == "the session has ended"


def test_a_withdrawn_request_stays_in_the_conversation_but_is_not_counted_as_talk():
    session = session_in("talk")
    asker = next(s for s in session.seats.values() if s.group == "bottom")
    org = session.orgs[asker.org]
    option = next(o.id for o in session.book.cards[org.card].options if o.group == "middle")
    run(session, Actor("seat", asker.id), Request(session.round, "middle", option))
    said = dict(org.said)
    run(session, Actor("seat", asker.id), Request(session.round, "middle", ""))
    last = group_view(session, asker.org, "middle")["messages"][-1]
    assert last["request"] == "" and last["label"] == session.option_label(org.card, "middle", option)
    assert org.said == said, "a withdrawal is not a message along the channel"
    assert facilitator_view(session)["orgs"][asker.org]["messages"] == 1


def test_the_projector_counts_a_seat_a_bot_plays_for_now_as_joined():
    session = session_in("choose")
    joined = projector_view(session)["joined"]
    seat = with_options(session)
    run(session, FACILITATOR, Botify(seat))
    assert projector_view(session)["joined"] == joined, "the person is still in the room"
    run(session, FACILITATOR, Kick(seat))
    assert projector_view(session)["joined"] == joined - 1
