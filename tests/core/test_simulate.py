"""Bots, the simulator and the teaching points of the bundled decks."""

from __future__ import annotations

import pytest

from game.core.bots import STRATEGIES, get_strategy
from game.core.deck import LEVERS
from game.core.rulebook import Rulebook
from game.core.simulate import check_claim, dominant_options, play_game, simulate
from game.deckfiles import load_deck
from tests.conftest import DECKS


def test_there_are_at_least_three_strategies_and_they_differ(interlodge_book):
    assert len(STRATEGIES) >= 3
    # the bundled decks count what is asked and granted, not messages, so two strategies that choose
    # alike (by_the_book and passive) end alike; they still play differently (one talks, one never does)
    logs = {
        name: tuple(
            (tuple(sorted(i.choices.items())), tuple(sorted(i.requests.items())), tuple(sorted(i.messages.items())))
            for i in play_game(interlodge_book, 4, "silos", bot).log
        )
        for name, bot in STRATEGIES.items()
    }
    assert len(set(logs.values())) == len(logs)


def test_by_the_book_always_takes_defaults(interlodge_book):
    record = play_game(interlodge_book, 1, "silos", get_strategy("by_the_book"))
    for inputs in record.log:
        for group, picks in inputs.choices.items():
            assert picks == (interlodge_book.default_choice(inputs.card, group),)


def test_greedy_picks_the_best_visible_immediate_effect(interlodge_book):
    record = play_game(interlodge_book, 1, "silos", get_strategy("greedy"))
    # Tops see margin and satisfaction only; restructuring (+1 margin) beats an evening at the desk (-1 margin)
    assert record.log[0].choices["top"] == ("restructure",)


def test_games_are_reproducible_and_paired_across_patterns(interlodge_book):
    bot = get_strategy("random")
    a = play_game(interlodge_book, 9, "silos", bot)
    assert play_game(interlodge_book, 9, "silos", bot) == a
    b = play_game(interlodge_book, 9, "desk_voice", bot)
    assert [i.choices for i in a.log] == [i.choices for i in b.log]


def test_players_per_group_split_choices(interlodge_book):
    record = play_game(interlodge_book, 2, "silos", get_strategy("random"), players=5)
    assert all(len(picks) == 5 for picks in record.log[0].choices.values())


def test_unknown_strategy_names_the_choices():
    with pytest.raises(ValueError, match="random"):
        get_strategy("clever")


def test_simulation_report_shape(tiny_book):
    report = simulate(tiny_book, runs=50, seed=3, strategy="random")
    assert set(report["patterns"]) == {"closed", "open"}
    closed = report["patterns"]["closed"]
    assert set(closed["metrics"]["trust"]) == {"start", "mean", "p10", "p90"}
    assert closed["metrics"]["trust"]["p10"] <= closed["metrics"]["trust"]["mean"] <= closed["metrics"]["trust"]["p90"]
    assert set(closed["levers"]["trust"]) == set(LEVERS)
    assert "heard" in closed["never_fired"], "nobody listens under the closed pattern"
    assert "heard" not in report["patterns"]["open"]["never_fired"]
    assert 0 < closed["rules"]["first-time"]["games_fired"] <= 1


def test_never_picked_options_are_reported(tiny_book):
    report = simulate(tiny_book, runs=20, strategy="by_the_book", patterns=["closed"])
    never = {(p["card"], p["group"], p["option"]) for p in report["patterns"]["closed"]["never_picked"]}
    assert ("one", "bottom", "help") in never
    assert ("one", "bottom", "wait") not in never


def test_dominant_options_are_found(tiny_book):
    found = {(d["card"], d["group"], d["option"]) for d in dominant_options(tiny_book)}
    assert ("one", "bottom", "help") not in found  # bottom sees no metric: nothing dominates
    assert found == set()


@pytest.mark.parametrize("path", sorted(DECKS.glob("*.toml")), ids=lambda p: p.stem)
def test_teaching_point_holds_in_1000_seeded_runs(path):
    book = Rulebook(load_deck(path))
    if book.deck.claim is None:
        pytest.fail(f"{path.name} states no [claim]; every bundled deck must")
    result = check_claim(book, runs=1000, seed=0)
    assert result["share_of_runs"] >= max(0.8, book.deck.claim.at_least), result
    assert result["largest_lever"] == book.deck.claim.lever, result
    assert result["holds"]
