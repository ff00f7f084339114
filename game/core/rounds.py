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
from game.core.engine import OrgState, RoundInputs
from game.core.rulebook import Rulebook

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
) -> list[tuple[str, int, str, str]]:
    """(asking group, which of its bots, asked group, option) for every request the bots make,
    along open channels, in a stable order."""
    made = []
    if not strategy.asks:
        return made  # a strategy that never asks draws nothing, as if it had been asked and said no
    for group in GROUPS:
        for bot in range(bot_seats(seats, group)):
            for target, option in strategy.ask(book, state, card_id, group, rng):
                if (group, target) in state.structure.open:
                    made.append((group, bot, target, option))
    return made


def request_counts(made: Sequence[tuple[str, int, str, str]]) -> dict[tuple[str, str, str], int]:
    """(asker, asked, option) -> how many of the asking group's seats ask for it."""
    counts: dict[tuple[str, str, str], int] = {}
    for asker, _, asked, option in made:
        counts[(asker, asked, option)] = counts.get((asker, asked, option), 0) + 1
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
    ask as the talk phase opens and humans ask during it, and ``said`` counts them as messages);
    None lets the bots ask now. ``said`` counts the messages sent so far per channel; the bots'
    talk, and the requests they make here, are added to it.
    """
    messages = dict(said or {})
    if requests is None:
        counts = request_counts(bot_requests(book, state, card_id, strategy, rng.ask, seats))
        requests = request_shares(counts, seats)
        for (asker, asked, _), n in counts.items():  # a request is a message along its channel
            messages[(asker, asked)] = messages.get((asker, asked), 0) + n
    choices: dict[str, tuple[str, ...]] = {}
    for group in book.groups_with_options(card_id):
        default = book.defaults[(card_id, group)]
        picks = list(seats.get(group) or (None,))
        choices[group] = tuple(
            strategy.choose(book, state, card_id, group, rng.choose, requests) if p is None else (p or default) for p in picks
        )
    for group in GROUPS:
        bots = bot_seats(seats, group)
        if not bots:
            continue
        asked = sorted({b for (a, b, _), share in requests.items() if a == group and share > 0}) if requests else []
        for target in strategy.talk(book, state, group, rng.talk, asked):
            messages[(group, target)] = messages.get((group, target), 0) + bots
    return RoundInputs(card_id, choices, messages, pattern, injects, requests)
