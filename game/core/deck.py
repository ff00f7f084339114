"""The deck model: what a scenario deck declares, as frozen attrs classes.

The classes mirror the TOML layout one to one, so that cattrs can structure a
parsed file straight into them (unknown keys are errors) and the reference in
``docs/decks.md`` can be checked against the field lists here.
Amounts and conditions stay text in the model; :mod:`game.rulebook` compiles them.
"""

from __future__ import annotations

import attrs
from attrs import frozen

GROUPS = ("top", "middle", "bottom", "customer")
LEVERS = ("special_treatment", "considerateness", "interaction", "other")

#: An effect amount: a number, or an expression text such as "2 * chose('bottom', 'fix')".
Amount = float | str


@frozen
class DeckInfo:
    """The ``[deck]`` table."""

    id: str
    title: str
    rounds: int
    summary: str = ""
    source: str = ""  # the essay the deck draws on
    default_pattern: str = ""  # the first pattern when empty
    debrief: tuple[str, ...] = ()  # questions for the facilitator's debrief


@frozen
class Group:
    """A ``[groups.NAME]`` table: the deck's name and brief for one of the four positions."""

    name: str
    brief: str = ""
    share: float = 0.25  # share of a table's seats
    timeout: tuple[str, ...] = ()  # time-out reflection prompts for this group


@frozen
class Metric:
    """A ``[metrics.NAME]`` table."""

    label: str
    start: float
    bounds: tuple[float, float] = (0.0, 100.0)
    visible_to: tuple[str, ...] = ()
    drift: Amount = 0.0  # change applied every round (after choices and rules)
    drift_explain: str = ""
    better: str = "higher"  # "higher" or "lower": what bots and the debrief treat as good
    description: str = ""


@frozen
class Pattern:
    """A ``[patterns.NAME]`` table: the structure an organisation starts from."""

    channels: tuple[str, ...]
    label: str = ""
    description: str = ""
    # listens[a][b]: how much group a acts on what group b says (0..1). When not given it
    # is 0.5 where the channel b -> a is open, else 0.
    listens: dict[str, dict[str, float]] = attrs.Factory(dict)
    # what each group sees besides its metrics' visible_to, or no longer sees, under this pattern
    shows: dict[str, tuple[str, ...]] = attrs.Factory(dict)
    hides: dict[str, tuple[str, ...]] = attrs.Factory(dict)


@frozen
class Restructure:
    """A ``structure`` table on an option or a rule: how it changes the organisation's
    structure from the next round on."""

    open: tuple[str, ...] = ()  # channels such as "bottom->top" that open
    close: tuple[str, ...] = ()  # channels that close
    # listens[a][b]: how much more (or, negative, less) group a acts on what group b says;
    # the weight stays within 0..1
    listens: dict[str, dict[str, float]] = attrs.Factory(dict)
    show: dict[str, tuple[str, ...]] = attrs.Factory(dict)  # group -> metrics it comes to see
    hide: dict[str, tuple[str, ...]] = attrs.Factory(dict)  # group -> metrics it no longer sees

    def __bool__(self) -> bool:
        return bool(self.open or self.close or self.listens or self.show or self.hide)


@frozen
class Option:
    """A ``[[cards.options]]`` entry: something one group can choose."""

    group: str
    id: str
    label: str
    description: str = ""
    effects: dict[str, Amount] = attrs.Factory(dict)
    lever: str = "other"
    default: bool = False  # stands when a player does not choose in time
    explain: str = ""
    structure: Restructure = Restructure()  # applies when at least half the group chose it


@frozen
class Card:
    """A ``[[cards]]`` entry: a situation dealt in one round."""

    id: str
    title: str = ""
    round: int | None = None  # dealt in this round
    weight: float = 0.0  # dealt by weight in rounds without a fixed card
    when: str = ""  # only dealt while this holds
    text: dict[str, str] = attrs.Factory(dict)  # per group, or "all"
    options: tuple[Option, ...] = ()


@frozen
class Rule:
    """A ``[[rules]]`` entry: when a condition holds, apply effects now or later."""

    id: str
    when: str
    explain: str
    effects: dict[str, Amount] = attrs.Factory(dict)
    lever: str = "other"
    after: int = 0  # rounds to wait before the effects land
    once: bool = False  # fire at most once per game
    structure: Restructure = Restructure()  # changes the structure from the next round on


@frozen
class Inject:
    """A ``[[injects]]`` entry: an event the facilitator can fire between rounds."""

    id: str
    label: str
    text: str = ""
    group: str = ""  # the group told about it; everyone when empty
    effects: dict[str, Amount] = attrs.Factory(dict)
    lever: str = "other"
    explain: str = ""


@frozen
class Phases:
    """``[phases]``: default durations in seconds (0 means no timer)."""

    brief: int = 60
    talk: int = 180
    choose: int = 120
    reveal: int = 90
    timeout: int = 300


@frozen
class Claim:
    """``[claim]``: the teaching point as something the simulator can check.

    Under ``strategy``, pattern ``better`` ends with higher ``higher`` metrics (and lower
    ``lower`` metrics) than pattern ``than`` in at least ``at_least`` of seeded runs, and
    ``lever`` carries the largest share of the difference.
    """

    point: str
    better: str
    than: str
    lever: str
    higher: tuple[str, ...] = ()
    lower: tuple[str, ...] = ()
    strategy: str = "adaptive"
    at_least: float = 0.8


@frozen
class Deck:
    """A whole, checked deck."""

    deck: DeckInfo
    groups: dict[str, Group]
    metrics: dict[str, Metric]
    patterns: dict[str, Pattern]
    cards: tuple[Card, ...] = ()
    rules: tuple[Rule, ...] = ()
    injects: tuple[Inject, ...] = ()
    phases: Phases = Phases()
    claim: Claim | None = None

    @property
    def id(self) -> str:
        return self.deck.id

    @property
    def default_pattern(self) -> str:
        return self.deck.default_pattern or next(iter(self.patterns))

    def card(self, card_id: str) -> Card:
        for card in self.cards:
            if card.id == card_id:
                return card
        raise KeyError(card_id)

    def options_for(self, card: Card, group: str) -> tuple[Option, ...]:
        return tuple(o for o in card.options if o.group == group)

    def default_option(self, card: Card, group: str) -> Option | None:
        for option in card.options:
            if option.group == group and option.default:
                return option
        return None

    def visible_metrics(self, group: str, pattern: str = "") -> tuple[str, ...]:
        """The metrics ``group`` sees at the start under ``pattern`` (the default pattern when empty)."""
        shape = self.patterns.get(pattern or self.default_pattern)
        shows = shape.shows.get(group, ()) if shape else ()
        hides = shape.hides.get(group, ()) if shape else ()
        return tuple(name for name, m in self.metrics.items() if (group in m.visible_to or name in shows) and name not in hides)


def parse_channel(text: str) -> tuple[str, str] | None:
    """'bottom->middle' -> ('bottom', 'middle'); None when it is not of that shape."""
    parts = [p.strip() for p in text.split("->")]
    if len(parts) != 2 or not all(parts):
        return None
    return parts[0], parts[1]
