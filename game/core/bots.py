"""Bot strategies: seeded players for the simulator, the demo and the server's empty seats.

A strategy asks other groups for their options (``ask``), picks one of its group's options
(``choose``, told what was asked of its group) and talks along open channels (``talk``). Bots
see what their group may see in the organisation's current structure. All randomness comes
from the ``random.Random`` they are handed. :mod:`game.core.rounds` is the one place that
calls them, for the simulator and for live sessions alike.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from game.core.engine import RoundInputs, resolution_key, resolve_round
from game.core.structure import Structure

if TYPE_CHECKING:
    from game.core.engine import OrgState
    from game.core.rulebook import Rulebook

#: (asker, asked, option) -> share of the asking group's players who asked for it
Requests = Mapping[tuple[str, str, str], float]
_EPSILON = 1e-9


class Strategy(Protocol):
    name: str
    description: str
    asks: bool  # whether it ever asks another group for an option (one that never does draws nothing for it)

    def ask(self, book: Rulebook, state: OrgState, card_id: str, group: str, rng: random.Random) -> tuple[tuple[str, str], ...]:
        """(group asked, option) for each request this bot makes this round, along open channels."""

    def choose(self, book: Rulebook, state: OrgState, card_id: str, group: str, rng: random.Random, requests: Requests) -> str:
        """The id of one of ``group``'s options on the card; ``requests`` are the round's requests."""

    def talk(self, book: Rulebook, state: OrgState, group: str, rng: random.Random, asked: Sequence[str]) -> list[str]:
        """The groups this bot sends a message to this round (only along open channels); ``asked``
        are the groups it sent a request to."""


class _Base:
    name = ""
    description = ""
    talk_rate = 0.7
    asks = False  # whether it ever asks another group for an option

    def ask(self, book, state, card_id, group, rng):  # type: ignore[no-untyped-def]
        return ()

    def talk(self, book, state, group, rng, asked):  # type: ignore[no-untyped-def]
        rate = self.talk_rate
        return [t for t in state.structure.talks_to(group) if rng.random() < rate]

    def options(self, book: Rulebook, card_id: str, group: str) -> tuple[str, ...]:
        return book.option_ids[(card_id, group)]


class RandomBot(_Base):
    name = "random"
    description = "picks any of its group's options with equal chance and chats at random; never asks"

    def choose(self, book, state, card_id, group, rng, requests):  # type: ignore[no-untyped-def]
        return rng.choice(self.options(book, card_id, group))


class ByTheBookBot(_Base):
    name = "by_the_book"
    description = "always takes the card's default option (what stands when nobody chooses); chats a little"
    talk_rate = 0.3

    def choose(self, book, state, card_id, group, rng, requests):  # type: ignore[no-untyped-def]
        return book.defaults[(card_id, group)]


def _scale(book: Rulebook, metric: str) -> float:
    """+1/range for a metric where higher is better, -1/range where lower is: so that metrics of
    different sizes weigh alike in a bot's judgement."""
    low, high = book.bounds[metric]
    return (1.0 if book.deck.metrics[metric].better == "higher" else -1.0) / (high - low)


class GreedyBot(_Base):
    name = "greedy"
    description = "takes the option whose immediate effects most improve the metrics its group can see; never asks"

    def choose(self, book, state, card_id, group, rng, requests):  # type: ignore[no-untyped-def]
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
                amount = float(
                    e.amount.fn(
                        state.metrics, {(group, option_id): 1.0}, view.listens, view.open, {}, state.round + 1, state.pattern, {}, view.sees
                    )
                )
                score += amount * _scale(book, e.metric)
            if score > best_score + 1e-12:
                best, best_score = [option_id], score
            elif abs(score - best_score) <= 1e-12:
                best.append(option_id)
        return rng.choice(best)


class ConsiderateBot(_Base):
    name = "considerate"
    description = "prefers options that give special treatment or show considerateness, else the default; chats a lot"
    talk_rate = 0.9

    def choose(self, book, state, card_id, group, rng, requests):  # type: ignore[no-untyped-def]
        offered = book.options[(card_id, group)]
        kind = [o for o in sorted(offered) if offered[o].lever in ("special_treatment", "considerateness")]
        return rng.choice(kind) if kind else book.defaults[(card_id, group)]


class _After(NamedTuple):
    """What a bot's lookahead keeps of the state after a round."""

    round: int
    metrics: Mapping[str, float]
    pending: tuple[Any, ...]
    structure: Structure


class AdaptiveBot(_Base):
    """Plays as a sensible person in its position would: on what its group can see now, with one
    round of lookahead (the round's own effects, plus the delayed effects and the structure it
    sets up for the next round)."""

    name = "adaptive"
    description = (
        "chooses on what its group can see, looking one round ahead; asks other groups for options that would help "
        "its own visible metrics, and grants a request as often as its group listens to the asker"
    )
    asks = True
    grants = True
    #: what seeing one more metric, or being listened to by one more step, is worth to a bot
    SIGHT_VALUE = 0.02

    #: how many (state, card) lookaheads a bot keeps between games before it starts again
    MEMO_STATES = 4000

    def __init__(self) -> None:
        self._book: Rulebook | None = None
        self._memo_key: tuple[object, str] = ((), "")
        self._memo: dict[tuple[tuple[str, str], ...], _After] = {}
        # (what a round's resolution depends on in a state, card) -> lookaheads; shared between games,
        # since paired and seeded games pass through the same states again and again
        self._lookahead: dict[tuple[object, str], dict[tuple[tuple[str, str], ...], _After]] = {}
        self._fingerprint: tuple[OrgState | None, object] = (None, ())
        self._seen_memo: dict[tuple[int, str], tuple[OrgState, tuple[frozenset[str], tuple[tuple[str, float], ...], float]]] = {}

    def _state_key(self, book: Rulebook, state: OrgState) -> object:
        """What resolving a round reads from ``state``, remembered for the state last asked about."""
        if book is not self._book:
            self._book, self._lookahead, self._seen_memo = book, {}, {}
        if self._fingerprint[0] is not state:
            self._fingerprint = (state, resolution_key(state))
        return self._fingerprint[1]

    def _after(
        self, book: Rulebook, state: OrgState, card_id: str, picks: tuple[tuple[str, str], ...], asked: tuple[str, str, str] | None
    ) -> _After:
        """The state after this round if every group takes its default but ``picks``, with one request."""
        where = (self._state_key(book, state), card_id)
        if self._memo_key != where:
            memo = self._lookahead.get(where)
            if memo is None:
                if len(self._lookahead) >= self.MEMO_STATES:
                    self._lookahead = {}
                memo = self._lookahead[where] = {}
            self._memo_key, self._memo = where, memo
        key = picks + ((asked[0] + ">" + asked[1], asked[2]),) if asked else picks
        found = self._memo.get(key)
        if found is None:
            chosen = dict(picks)
            choices = {g: (chosen.get(g) or book.defaults[(card_id, g)],) for g in book.groups_with_options(card_id)}
            after, _ = resolve_round(book, state, RoundInputs(card_id, choices, requests={asked: 1.0} if asked else {}))
            found = self._memo[key] = _After(after.round, after.metrics, after.pending, after.structure)
        return found

    def value(self, book: Rulebook, state: OrgState, after: _After, group: str) -> float:
        """How much better ``after`` looks than ``state`` to ``group``, on what it sees now."""
        visible, seen, heard_before = self._seen(book, state, group)
        due = after.round + 1
        landing: dict[str, float] = {}
        for p in after.pending:
            if p.due == due and p.metric in visible:
                landing[p.metric] = landing.get(p.metric, 0) + p.delta
        score = 0.0
        for metric, scale in seen:
            change = after.metrics[metric] - state.metrics[metric]
            change += landing.get(metric, 0)
            score += change * scale
        # seeing more, and being heard more, are worth a little to anyone in the position
        score += self.SIGHT_VALUE * (len(after.structure.visible(group)) - len(visible))
        heard = sum(w for (a, b), w in after.structure.listens.items() if b == group)
        score += self.SIGHT_VALUE * (heard - heard_before)
        return score

    def _seen(self, book: Rulebook, state: OrgState, group: str) -> tuple[frozenset[str], tuple[tuple[str, float], ...], float]:
        """What ``group`` sees in ``state`` (with each metric's scale), and how much it is heard there."""
        key = (id(state), group)
        found = self._seen_memo.get(key)
        if found is None or found[0] is not state:
            if len(self._seen_memo) > 64:
                self._seen_memo.clear()
            visible = state.structure.visible(group)
            seen = tuple((m, _scale(book, m)) for m in visible)
            heard = sum(w for (a, b), w in state.structure.listens.items() if b == group)
            found = (state, (visible, seen, heard))
            self._seen_memo[key] = found
        return found[1]

    def ask(self, book, state, card_id, group, rng):  # type: ignore[no-untyped-def]
        if not self.asks:
            return ()
        base = self.value(book, state, self._after(book, state, card_id, (), None), group)
        wanted = []
        for target in state.structure.talks_to(group):
            if (card_id, target) not in book.options:
                continue
            default = book.defaults[(card_id, target)]
            best, best_gain = "", _EPSILON
            for option in book.option_ids[(card_id, target)]:
                if option == default:
                    continue
                after = self._after(book, state, card_id, ((target, option),), (group, target, option))
                gain = self.value(book, state, after, group) - base
                if gain > best_gain:
                    best, best_gain = option, gain
            if best:
                wanted.append((target, best))
        return tuple(wanted)

    def choose(self, book, state, card_id, group, rng, requests):  # type: ignore[no-untyped-def]
        if self.grants:
            for (asker, asked, option), share in sorted(requests.items()):
                if asked == group and share > 0 and option in book.options[(card_id, group)]:
                    if rng.random() < state.structure.listens.get((group, asker), 0.0) * share:
                        return option
        best: list[str] = []
        best_score = float("-inf")
        for option in self.options(book, card_id, group):
            score = self.value(book, state, self._after(book, state, card_id, ((group, option),), None), group)
            if score > best_score + _EPSILON:
                best, best_score = [option], score
            elif abs(score - best_score) <= _EPSILON:
                best.append(option)
        default = book.defaults[(card_id, group)]
        return default if default in best else rng.choice(best)  # when nothing is better, people keep to the status quo

    def talk(self, book, state, group, rng, asked):  # type: ignore[no-untyped-def]
        return []  # its requests are its messages, and they are counted as they are made


class SilentBot(AdaptiveBot):
    name = "silent"
    description = "adaptive, but it never asks and never grants (a control: interaction without requests)"
    asks = False
    grants = False


class PassiveBot(_Base):
    name = "passive"
    description = "takes the default option (the status quo), never asks, grants or talks, whatever the structure (a control)"

    def choose(self, book, state, card_id, group, rng, requests):  # type: ignore[no-untyped-def]
        return book.defaults[(card_id, group)]

    def talk(self, book, state, group, rng, asked):  # type: ignore[no-untyped-def]
        return []


STRATEGIES: dict[str, Strategy] = {
    bot.name: bot for bot in (AdaptiveBot(), RandomBot(), ByTheBookBot(), GreedyBot(), ConsiderateBot(), SilentBot(), PassiveBot())
}


def get_strategy(name: str) -> Strategy:
    try:
        return STRATEGIES[name]
    except KeyError:
        raise ValueError(f'unknown bot strategy "{name}"; choose from {", ".join(STRATEGIES)}') from None
