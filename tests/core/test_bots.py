"""Bots and the one function that assembles a round's inputs, for the simulator and live play."""

from __future__ import annotations

import random

import pytest

from game.core.bots import STRATEGIES, get_strategy
from game.core.engine import new_state, resolve_round
from game.core.rounds import RoundRandom, bot_requests, request_counts, request_shares, round_inputs
from game.core.rulebook import Rulebook
from game.core.simulate import play_game
from game.deckfiles import load_deck
from tests.conftest import TEST_DECKS


@pytest.fixture(scope="module")
def book():
    return Rulebook(load_deck(TEST_DECKS / "structure.toml"))


def rngs(seed=1):
    return RoundRandom(random.Random(seed), random.Random(seed + 1), random.Random(seed + 2))


def test_every_strategy_the_issue_names_is_there():
    assert {"adaptive", "random", "by_the_book", "greedy", "considerate", "silent", "passive"} <= set(STRATEGIES)


def test_adaptive_bots_ask_along_open_channels_for_what_helps_what_they_see(book):
    adaptive = get_strategy("adaptive")
    opened = new_state(book, 1, "open")
    # the desk sees service; the Tops funding the repairs it asked for lifts service by 10
    assert adaptive.ask(book, opened, "week", "bottom", random.Random(1)) == (("top", "fund_repairs"),)
    # under silos the desk cannot reach the Tops, so it cannot ask them
    assert adaptive.ask(book, new_state(book, 1, "silos"), "week", "bottom", random.Random(1)) == ()


def test_adaptive_bots_grant_as_often_as_they_listen(book):
    adaptive = get_strategy("adaptive")
    asked = {("bottom", "top", "fund_repairs"): 1.0}
    opened = new_state(book, 1, "open")  # the Tops listen to the desk fully
    assert all(adaptive.choose(book, opened, "week", "top", random.Random(s), asked) == "fund_repairs" for s in range(20))
    unheard = new_state(book, 1, "silos")  # the Tops do not listen to the desk at all
    assert all(adaptive.choose(book, unheard, "week", "top", random.Random(s), asked) != "fund_repairs" for s in range(20))


def test_silent_and_passive_bots_never_ask_or_grant(book):
    asked = {("bottom", "top", "fund_repairs"): 1.0}
    opened = new_state(book, 1, "open")
    for name in ("silent", "passive"):
        bot = get_strategy(name)
        assert bot.ask(book, opened, "week", "bottom", random.Random(1)) == ()
        assert bot.choose(book, opened, "week", "top", random.Random(1), asked) != "fund_repairs"
    passive = get_strategy("passive")
    record = play_game(book, 3, "open", passive)
    for inputs in record.log:
        assert inputs.requests == {} and inputs.messages == {}
        assert all(picks == (book.defaults[(inputs.card, g)],) for g, picks in inputs.choices.items())


def test_adaptive_play_earns_structure_and_the_requests_are_messages(book):
    record = play_game(book, 3, "open", get_strategy("adaptive"))
    first = record.log[0]
    assert first.requests == {("bottom", "top", "fund_repairs"): 1.0}
    assert first.choices["top"] == ("fund_repairs",)
    assert first.messages == {("bottom", "top"): 1}  # a bot's request is its message


def test_round_inputs_keep_humans_picks_and_let_bots_fill_the_rest(book):
    state = new_state(book, 1, "open")
    adaptive = get_strategy("adaptive")
    seats = {"top": ["hold", "", None], "bottom": ["cope"], "middle": []}
    inputs = round_inputs(
        book, state, "week", adaptive, rngs(), seats=seats, requests={("bottom", "top", "fund_repairs"): 1.0}, said={("bottom", "top"): 2}
    )
    assert inputs.choices["top"][:2] == ("hold", "hold")  # a human who did not choose takes the default
    assert inputs.choices["top"][2] == "fund_repairs"  # the bot seat grants the desk's request
    assert inputs.choices["bottom"] == ("cope",)
    assert len(inputs.choices["middle"]) == 1  # nobody plays the Middles: one bot does
    assert inputs.messages[("bottom", "top")] == 2, "a group of humans gets no bot talk on top of its own"
    state, _ = resolve_round(book, state, inputs)
    assert state.metrics["service"] > 50


def test_requests_are_shares_of_the_asking_group(book):
    state = new_state(book, 1, "open")
    seats = {"bottom": [None, None, "cope", "cope"]}
    made = bot_requests(book, state, "week", get_strategy("adaptive"), random.Random(1), seats)
    assert made == [("bottom", 0, "top", "fund_repairs"), ("bottom", 1, "top", "fund_repairs")]
    counts = request_counts(made)
    assert counts == {("bottom", "top", "fund_repairs"): 2}
    assert request_shares(counts, seats) == {("bottom", "top", "fund_repairs"): 0.5}
