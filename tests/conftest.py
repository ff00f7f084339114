from __future__ import annotations

from pathlib import Path

import pytest

from game.core.rulebook import Rulebook
from game.deckfiles import load_deck
from server.hub import Hub

ROOT = Path(__file__).resolve().parent.parent
DECKS = ROOT / "decks"
TEST_DECKS = Path(__file__).resolve().parent / "decks"


@pytest.fixture(scope="session")
def tiny_book() -> Rulebook:
    return Rulebook(load_deck(TEST_DECKS / "tiny.toml"))


@pytest.fixture(scope="session")
def interlodge_book() -> Rulebook:
    return Rulebook(load_deck(DECKS / "interlodge.toml"))


@pytest.fixture
async def hub(tmp_path):
    """A real server on 127.0.0.1, on a free port, with its journal in a temporary folder."""
    server = Hub(tmp_path / "data", flush_interval=0.05)
    await server.start("127.0.0.1", 0)
    yield server
    await server.close()
