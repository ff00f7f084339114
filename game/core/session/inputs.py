"""A live round's inputs for the engine, assembled by the one function the simulator uses too
(:func:`game.core.rounds.round_inputs`), and the requests the bots make as talk opens."""

from __future__ import annotations

import random
from typing import Any

from game.core.bots import get_strategy
from game.core.rounds import RoundRandom, bot_requests, round_inputs
from game.core.session.events import RequestMade
from game.core.session.state import Org, Session


def round_random(session: Session, org: Org) -> RoundRandom:
    """The random sources of one organisation's round, from the session's seed alone."""
    base = session.seed * 7919 + org.index * 104729 + session.round
    return RoundRandom(random.Random(base * 3 + 1), random.Random(base), random.Random(base * 3 + 2))


def seats_by_group(session: Session, org: Org) -> dict[str, list[str | None]]:
    """Each group's seats in a stable order: a human's pick, "" for a human who has not chosen
    (the default stands), None for a seat a bot plays. A group nobody holds is left out: its bot plays it."""
    seats: dict[str, list[str | None]] = {}
    for seat in sorted(session.active_seats(org.index), key=lambda s: s.id):
        pick = org.choices.get(seat.id)
        seats.setdefault(seat.group, []).append(pick if pick is not None else (None if seat.bot else ""))
    return seats


def request_shares(session: Session, org: Org) -> dict[tuple[str, str, str], float]:
    """(asker, asked, option) -> the share of the asking group's seats that asked for it."""
    sizes: dict[str, int] = {}
    for seat in session.active_seats(org.index):
        sizes[seat.group] = sizes.get(seat.group, 0) + 1
    asker_group = {s.id: s.group for s in session.active_seats(org.index)}
    counts: dict[tuple[str, str, str], int] = {}
    for (who, asked), option in org.requests.items():
        group = who[4:] if who.startswith("bot:") else asker_group.get(who)
        if group is None:  # the seat was kicked or moved away: its request goes with it
            continue
        counts[(group, asked, option)] = counts.get((group, asked, option), 0) + 1
    return {key: min(1.0, n / (sizes.get(key[0]) or 1)) for key, n in sorted(counts.items())}


def bot_request_events(session: Session, now: float) -> list[RequestMade]:
    """What the bots ask for as the talk phase opens: real requests the humans see and answer."""
    strategy = get_strategy(session.bots)
    events = []
    for org in session.orgs:
        by_group: dict[str, list] = {}
        for seat in sorted(session.active_seats(org.index), key=lambda s: s.id):
            by_group.setdefault(seat.group, []).append(seat)
        # humans ask for themselves during talk; here only the bot seats, and the bots of unplayed groups, ask
        seats = {g: [None if s.bot else "" for s in members] for g, members in by_group.items()}
        made = bot_requests(session.book, org.state, org.card, strategy, round_random(session, org).ask, seats)
        for group, bot, asked, option in made:
            bots = [s for s in by_group.get(group, ()) if s.bot]
            seat = bots[bot] if bots else None
            events.append(
                RequestMade(seat.id if seat else "", org.index, group, asked, option, session.round, now, seat.name if seat else "")
            )
    return events


def resolution_inputs(session: Session) -> list[dict[str, Any]]:
    """Each organisation's inputs for the round, as the ``round_resolved`` event records them:
    humans' choices (the default for those who did not choose), bots' choices for bot seats and
    for groups nobody plays (bots grant what was asked of them), and the round's requests."""
    out = []
    strategy = get_strategy(session.bots)
    for org in session.orgs:
        inputs = round_inputs(
            session.book,
            org.state,
            org.card,
            strategy,
            round_random(session, org),
            seats=seats_by_group(session, org),
            requests=request_shares(session, org),
            said=org.said,
            pattern=org.pattern,
            injects=tuple(org.injects),
        )
        out.append(
            {
                "org": org.index,
                "card": org.card,
                "choices": {g: list(picks) for g, picks in inputs.choices.items()},
                "messages": {f"{a}->{b}": n for (a, b), n in sorted(inputs.messages.items())},
                "pattern": org.pattern,
                "injects": list(org.injects),
                "requests": [[a, b, o, share] for (a, b, o), share in sorted(inputs.requests.items())],
            }
        )
    return out
