"""The phases as data (as in h11): which commands each phase allows, who may send which
command, and what follows each phase when the facilitator advances or the timer runs out.
"""

from __future__ import annotations

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
from game.core.session.commands import Deadline, TakeSeat

PHASES = ("lobby", "brief", "talk", "choose", "resolve", "reveal", "timeout", "debrief", "ended")
ROUND_PHASES = ("brief", "talk", "choose")  # "resolve" is instantaneous: leaving choose resolves
TIMED_PHASES = frozenset({"brief", "talk", "choose", "reveal", "timeout"})  # the deck's [phases] gives their durations

FACILITATOR_COMMANDS: frozenset[type] = frozenset(
    {
        Lock,
        Unlock,
        Move,
        Start,
        Advance,
        Pause,
        Resume,
        Extend,
        CallTimeout,
        Inject,
        SetPattern,
        Botify,
        BotifyStalled,
        Kick,
        End,
        Admit,
        ShowAnswers,
    }
)
PARTICIPANT_COMMANDS: frozenset[type] = frozenset({Choose, Say, Request, Answer})  # a join may come from anyone
SYSTEM_COMMANDS: frozenset[type] = frozenset({Deadline})

_ANY: frozenset[type] = frozenset({Lock, Unlock, Move, Botify, Kick, Admit, End, Pause, Resume, Extend, Say, ShowAnswers})
ALLOWED: dict[str, frozenset[type]] = {
    "lobby": _ANY | {TakeSeat, Start, SetPattern},
    # an answer typed as a time-out ended still counts for it in the phase that follows (see decide)
    "brief": _ANY | {TakeSeat, Advance, Deadline, Inject, Answer},
    "talk": _ANY | {TakeSeat, Advance, Deadline, Request},
    "choose": _ANY | {TakeSeat, Advance, Deadline, Choose, Request, BotifyStalled},
    "resolve": frozenset(),
    "reveal": _ANY | {TakeSeat, Advance, Deadline, CallTimeout, SetPattern, Inject},
    "timeout": _ANY | {TakeSeat, Advance, Deadline, Answer, SetPattern, Inject},
    "debrief": frozenset({End, Say, TakeSeat, ShowAnswers, Answer}),
    "ended": frozenset(),
}
# Talk is allowed in any phase but limited to these for participants
SAY_PHASES = frozenset({"lobby", "talk", "choose", "debrief"})

# What leaving a phase does (on "advance" or when its timer runs out): the phases entered, in
# order. Two steps are not phases: the next round (its brief, or the debrief after the last
# round) and the return from a time-out.
NEXT_ROUND = "next round"
RETURN = "return from time-out"
RESOLVE = "resolve"  # entered and left at once: the round is resolved in passing
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "brief": ("talk",),
    "talk": ("choose",),
    "choose": (RESOLVE, "reveal"),
    "reveal": (NEXT_ROUND,),
    "timeout": (RETURN,),
}
# Leaving a time-out goes back into the phase it interrupted, with a fresh timer; a time-out
# called in a reveal (the only phase that allows one) goes on as leaving the reveal would.
RETURN_GOES_ON_FROM = frozenset({"reveal"})

# how a refusal names a phase and a command, in the words a facilitator or player uses
PHASE_WORDS = {
    "lobby": "the lobby",
    "brief": "the brief",
    "talk": "talk",
    "choose": "choose",
    "resolve": "the resolution",
    "reveal": "the reveal",
    "timeout": "a time-out",
    "debrief": "the debrief",
    "ended": "the end",
}
COMMAND_WORDS: dict[type, str] = {
    Start: "Starting",
    Advance: "Moving on",
    Inject: "Firing an inject",
    CallTimeout: "Calling a time-out",
    SetPattern: "Changing the pattern",
    Choose: "Choosing",
    Request: "Asking another group",
    Answer: "Answering",
    BotifyStalled: "Handing unchosen seats to bots",
    TakeSeat: "Joining",
    Kick: "Removing a participant",
    Admit: "Letting someone back in",
    Move: "Moving a participant",
    Botify: "Handing a seat to a bot",
    Lock: "Locking the lobby",
    Unlock: "Unlocking the lobby",
    Pause: "Pausing",
    Resume: "Resuming",
    Extend: "Adding time",
    Say: "Talking",
    ShowAnswers: "Showing answers",
    End: "Ending the session",
}


def wrong_phase(command: type, phase: str) -> str:
    """Why ``command`` is refused in ``phase``: where it is possible instead."""
    if phase == "ended":
        return "the session has ended"
    if command is Start:
        return "the session has already started"
    what = COMMAND_WORDS.get(command) or f'"{getattr(command, "TYPE", command.__name__).replace("_", " ")}"'
    where = [PHASE_WORDS[p] for p in PHASES if command in ALLOWED[p]]
    if not where:
        return f"{what} is not possible during {PHASE_WORDS[phase]}"
    listed = where[0] if len(where) == 1 else ", ".join(where[:-1]) + " or " + where[-1]
    return f"{what} is possible during {listed}, not during {PHASE_WORDS[phase]}"
