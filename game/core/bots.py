"""Bot strategies: seeded players for the simulator, the demo and the server's empty seats.

A strategy is any object with ``choose`` and ``talk``; register it in ``STRATEGIES``.
Bots see what their group may see: the card's options for their group and the visible
metrics. All randomness comes from the ``random.Random`` they are handed.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from game.core.engine import OrgState, Rulebook


class Strategy(Protocol):
    name: str
    description: str

    def choose(self, book: Rulebook, state: OrgState, card_id: str, group: str, rng: random.Random) -> str:
        """The id of one of ``group``'s options on the card."""

    def talk(self, book: Rulebook, state: OrgState, pattern: str, group: str, rng: random.Random) -> list[str]:
        """The groups this bot sends a message to this round (only along open channels)."""


class _Base:
    name = ""
    description = ""
    talk_rate = 0.7

    def talk(self, book: Rulebook, state: OrgState, pattern: str, group: str, rng: random.Random) -> list[str]:
        rate = self.talk_rate
        return [t for t in state.structure.talks_to(group) if rng.random() < rate]

    def options(self, book: Rulebook, card_id: str, group: str) -> tuple[str, ...]:
        return book.option_ids[(card_id, group)]


class RandomBot(_Base):
    name = "random"
    description = "picks any of its group's options with equal chance"

    def choose(self, book, state, card_id, group, rng):  # type: ignore[no-untyped-def]
        return rng.choice(self.options(book, card_id, group))


class ByTheBookBot(_Base):
    name = "by_the_book"
    description = "always takes the card's default option (what stands when nobody chooses)"
    talk_rate = 0.3

    def choose(self, book, state, card_id, group, rng):  # type: ignore[no-untyped-def]
        return book.defaults[(card_id, group)]


class GreedyBot(_Base):
    name = "greedy"
    description = "takes the option whose immediate effects most improve the metrics its group can see"

    def choose(self, book, state, card_id, group, rng):  # type: ignore[no-untyped-def]
        deck = book.deck
        view = state.structure
        visible = view.visible(group)
        best: list[str] = []
        best_score = float("-inf")
        for option_id in self.options(book, card_id, group):
            option = book.options[(card_id, group)][option_id]
            score = 0.0
            for e in option.effects:
                if e.metric not in visible:
                    continue
                metric = deck.metrics[e.metric]
                low, high = metric.bounds
                amount = float(
                    e.amount.fn(
                        state.metrics, {(group, option_id): 1.0}, view.listens, view.open, {}, state.round + 1, state.pattern, {}, view.sees
                    )
                )
                sign = 1.0 if metric.better == "higher" else -1.0
                score += sign * amount / (high - low)
            if score > best_score + 1e-12:
                best, best_score = [option_id], score
            elif abs(score - best_score) <= 1e-12:
                best.append(option_id)
        return rng.choice(best)


class ConsiderateBot(_Base):
    name = "considerate"
    description = "prefers options that give special treatment or show considerateness, else the default"
    talk_rate = 0.9

    def choose(self, book, state, card_id, group, rng):  # type: ignore[no-untyped-def]
        offered = book.options[(card_id, group)]
        kind = [o for o in sorted(offered) if offered[o].lever in ("special_treatment", "considerateness")]
        return rng.choice(kind) if kind else book.defaults[(card_id, group)]


STRATEGIES: dict[str, Strategy] = {bot.name: bot for bot in (RandomBot(), ByTheBookBot(), GreedyBot(), ConsiderateBot())}


def get_strategy(name: str) -> Strategy:
    try:
        return STRATEGIES[name]
    except KeyError:
        raise ValueError(f'unknown bot strategy "{name}"; choose from {", ".join(STRATEGIES)}') from None
