from __future__ import annotations

from pathlib import Path

import pytest

from game.engine import Rulebook
from game.loader import load_deck

ROOT = Path(__file__).resolve().parent.parent
DECKS = ROOT / "decks"
TEST_DECKS = Path(__file__).resolve().parent / "decks"


@pytest.fixture(scope="session")
def tiny_book() -> Rulebook:
    return Rulebook(load_deck(TEST_DECKS / "tiny.toml"))


@pytest.fixture(scope="session")
def interlodge_book() -> Rulebook:
    return Rulebook(load_deck(DECKS / "interlodge.toml"))
