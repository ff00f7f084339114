"""Every bundled deck meets the bar for a lesson in front of a room."""

from __future__ import annotations

import re

import pytest

from game.core.deck import GROUPS
from game.deckfiles import load_deck
from tests.conftest import DECKS

BUNDLED = sorted(DECKS.glob("*.toml"))


def test_there_are_at_least_seven_decks():
    assert len(BUNDLED) >= 7


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_deck_meets_the_authoring_bar(path):
    deck = load_deck(path)
    header = path.read_text().split("\n[deck]")[0]
    assert re.search(r"essays? 00\d", header), "the header names the essay it draws on"
    assert "Teaching point" in header
    assert re.search(r"essays? 00\d", deck.deck.source)
    assert deck.deck.rounds >= 5
    levers = {o.lever for c in deck.cards for o in c.options} | {r.lever for r in deck.rules}
    assert {"special_treatment", "considerateness", "interaction"} <= levers
    assert any(r.after > 0 for r in deck.rules), "delayed effects"
    assert len(deck.patterns) >= 2
    for group in GROUPS:
        assert deck.groups[group].timeout, f"time-out prompts for {group}"
        assert deck.groups[group].brief.strip()
    assert len(deck.deck.debrief) >= 3, "debrief questions for the facilitator"
    assert deck.claim is not None and deck.claim.point
    assert deck.injects, "at least one inject for the facilitator"
    for r in range(1, deck.deck.rounds + 1):
        card = next(c for c in deck.cards if c.round == r)
        assert {o.group for o in card.options} == set(GROUPS), f"every group has a choice in round {r}"
