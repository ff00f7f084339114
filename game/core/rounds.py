"""A round's inputs, assembled in one place for the simulator and for live sessions.

Humans' picks and requests come in; bots fill every seat a human does not hold, and every
group nobody plays. The order is the same everywhere: bots ask (what humans see during
talk), then everyone chooses (bots knowing what was asked of them), then bots talk. Each of
the three draws from its own random source, so adding requests to a deck does not change
which options the other strategies pick.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

from attrs import frozen

from game.core.bots import Requests, Strategy
from game.core.deck import GROUPS
from game.core.engine import OrgState, RoundInputs, Rulebook

#: group -> one entry per seat: a human's pick, "" for a human who did not choose (the
#: default stands), or None for a seat a bot plays. A group that is not listed is played by one bot.
Seats = Mapping[str, Sequence[str | None]]


@frozen
class RoundRandom:
    """The random sources of one organisation's round."""

    ask: random.Random
    choose: random.Random
    talk: random.Random


def bot_seats(seats: Seats, group: str) -> int:
    picks = seats.get(group)
    return 1 if picks is None or not picks else sum(1 for p in picks if p is None)


def bot_requests(
    book: Rulebook, state: OrgState, card_id: str, strategy: Strategy, rng: random.Random, seats: Seats
) -> dict[tuple[str, str, str], int]:
    """(asker, asked, option) -> how many bots of the asking group ask for it, along open channels."""
    counts: dict[tuple[str, str, str], int] = {}
    for group in GROUPS:
        for _ in range(bot_seats(seats, group)):
            for target, option in strategy.ask(book, state, card_id, group, rng):
                if (group, target) in state.structure.open:
                    counts[(group, target, option)] = counts.get((group, target, option), 0) + 1
    return counts


def request_shares(counts: Mapping[tuple[str, str, str], int], seats: Seats) -> dict[tuple[str, str, str], float]:
    """Counts of askers as shares of the asking group's seats (an unplayed group has one, its bot)."""
    out = {}
    for (asker, asked, option), n in counts.items():
        size = len(seats.get(asker) or ()) or 1
        out[(asker, asked, option)] = min(1.0, n / size)
    return out


def round_inputs(
    book: Rulebook,
    state: OrgState,
    card_id: str,
    strategy: Strategy,
    rng: RoundRandom,
    *,
    seats: Seats,
    requests: Requests | None = None,
    said: Mapping[tuple[str, str], int] | None = None,
    pattern: str = "",
    injects: tuple[str, ...] = (),
) -> RoundInputs:
    """Everything the engine needs for one organisation's round.

    ``requests`` are the round's requests when they were made before (in a live session, bots
    ask as the talk phase opens and humans ask during it); None lets the bots ask now. ``said``
    counts the humans' messages per channel; the bots' talk is added to it.
    """
    if requests is None:
        requests = request_shares(bot_requests(book, state, card_id, strategy, rng.ask, seats), seats)
    choices: dict[str, tuple[str, ...]] = {}
    for group in book.groups_with_options(card_id):
        default = book.defaults[(card_id, group)]
        picks = list(seats.get(group) or (None,))
        choices[group] = tuple(
            strategy.choose(book, state, card_id, group, rng.choose, requests) if p is None else (p or default) for p in picks
        )
    messages = dict(said or {})
    for group in GROUPS:
        bots = bot_seats(seats, group)
        if not bots:
            continue
        asked = sorted({b for (a, b, _), share in requests.items() if a == group and share > 0})
        for target in strategy.talk(book, state, group, rng.talk, asked):
            messages[(group, target)] = messages.get((group, target), 0) + bots
    return RoundInputs(card_id, choices, messages, pattern, injects, requests)
