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
