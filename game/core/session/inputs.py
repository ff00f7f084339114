"""The round's inputs: what each organisation's groups chose, said and had injected, as the
``round_resolved`` event records them."""

from __future__ import annotations

import random
from typing import Any

import attrs

from game.core.bots import get_strategy
from game.core.session.state import Session


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
