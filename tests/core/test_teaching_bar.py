"""Every bundled deck teaches through play: the bar of docs/decks.md ("How a deck teaches"),
measured with the agency report on fewer games than the 1,000 the figures are quoted at."""

from __future__ import annotations

from pathlib import Path

import pytest

from game.core.deck import GROUPS
from game.core.engine import Rulebook
from game.core.simulate import simulate
from game.deckfiles import load_deck
from tests.conftest import DECKS

BUNDLED = sorted(DECKS.glob("*.toml"))


@pytest.fixture(scope="module", params=BUNDLED, ids=lambda p: p.stem)
def measured(request) -> tuple[Rulebook, dict]:
    book = Rulebook(load_deck(Path(request.param)))
    report = simulate(book, runs=150, strategy="adaptive", search_seeds=2, beam=4, decision_games=60)
    return book, report["agency"]


def test_the_claim_holds_with_adaptive_players_and_comes_from_their_play(measured):
    book, agency = measured
    adaptive = agency["claim_by_strategy"]["adaptive"]
    assert adaptive["holds"] >= 0.8, adaptive
    assert agency["gap_from_behaviour"] >= 0.5, agency["gap_parts"]
    assert agency["gap_from_decrees"] <= 0.1, agency["decree_rules"]


def test_the_structure_does_nothing_unless_people_use_it(measured):
    _, agency = measured
    gap = agency["claim_by_strategy"]["adaptive"]["gap"]
    assert gap > 0
    assert agency["claim_by_strategy"]["passive"]["gap"] <= gap / 3
    assert agency["claim_by_strategy"]["silent"]["gap"] <= gap / 2


def test_decisions_depend_on_the_structure_and_none_is_inert(measured):
    _, agency = measured
    assert agency["pattern_dependent_decisions"] >= 0.25
    assert agency["inert_options"] == []
    assert len(agency["dominant_options"]) <= len(agency["decisions"]) / 3, agency["dominant_options"]


def test_seeing_the_system_lets_players_escape_it(measured):
    book, agency = measured
    claim = book.deck.claim
    assert agency["best_play"][claim.than] >= agency["median_adaptive"][claim.better]


def test_every_group_faces_real_dilemmas(measured):
    _, agency = measured
    assert all(agency["dilemmas"][g] >= 2 for g in GROUPS), agency["dilemmas"]


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_defaults_are_the_status_quo_and_customers_see_their_welfare(path):
    deck = load_deck(path)
    for card in deck.cards:
        for option in card.options:
            if option.default:
                assert not option.structure, f"{card.id}/{option.group}/{option.id}: doing nothing changes no structure"
    for pattern in deck.patterns:
        assert deck.visible_metrics("customer", pattern), f"customers see a measure of their own under {pattern}"
    assert deck.claim is not None and deck.claim.strategy == "adaptive"
    conditions = [r.when for r in deck.rules] + [c.when for c in deck.cards]
    assert not any("said(" in c for c in conditions), "interaction is what is asked and acted on, not message counts"
