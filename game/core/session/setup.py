"""What a new session may be: the checks on the facilitator's ``create_session``."""

from __future__ import annotations

from game.core.bots import STRATEGIES
from game.core.deck import Deck
from game.core.protocol import CreateSession
from game.core.session.errors import Refused

MAX_ORGS = 100


def org_patterns(command: CreateSession, deck: Deck) -> list[str]:
    """The pattern of each organisation asked for (the patterns given, in turn; else the deck's
    default), or :class:`Refused` if the request does not fit the deck."""
    if not 1 <= command.orgs <= MAX_ORGS:
        raise Refused("bad_field", f"orgs must be from 1 to {MAX_ORGS}")
    patterns = list(command.patterns) or [deck.default_pattern]
    for p in patterns:
        if p not in deck.patterns:
            raise Refused("bad_field", f'unknown pattern "{p}"; this deck has {", ".join(deck.patterns)}')
    if command.bots not in STRATEGIES:
        raise Refused("bad_field", f'unknown bot strategy "{command.bots}"; choose from {", ".join(STRATEGIES)}')
    return [patterns[i % len(patterns)] for i in range(command.orgs)]
