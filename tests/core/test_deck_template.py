"""The starting deck of `crossroads deck new` teaches through play: a request and a structural option."""

from __future__ import annotations

from pathlib import Path

import game.cli
from game.core.bots import get_strategy
from game.core.loader import load_deck_text
from game.core.rulebook import Rulebook
from game.core.simulate import check_claim, play_game

TEMPLATE = Path(game.cli.__file__).resolve().parent / "deck_template.toml"


def template_book() -> Rulebook:
    text = TEMPLATE.read_text().replace("{id}", "night_shift").replace("{title}", "Night shift").replace("{file}", "x.toml")
    return Rulebook(load_deck_text(text, "night_shift.toml"))


def test_the_starting_deck_uses_requests_and_structure_not_message_counts():
    book = template_book()
    deck = book.deck
    assert any(o.structure for c in deck.cards for o in c.options), "a structural option"
    conditions = [r.when for r in deck.rules]
    assert any("granted(" in c for c in conditions), "a rule that pays when a request is acted on"
    assert not any("said(" in c for c in conditions), "no message counts"
    assert deck.claim is not None and deck.claim.strategy == "adaptive"
    assert any("customer" in m.visible_to for m in deck.metrics.values()), "customers see their own welfare"


def test_the_starting_deck_claim_comes_from_play():
    book = template_book()
    assert check_claim(book, runs=200)["holds"]
    # when nobody asks or acts, the structure alone does not make the difference
    passive = get_strategy("passive")
    claim = book.deck.claim
    for seed in range(20):
        better = play_game(book, seed, claim.better, passive).final.metrics["satisfaction"]
        than = play_game(book, seed, claim.than, passive).final.metrics["satisfaction"]
        assert better == than
