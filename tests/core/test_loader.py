"""Loading decks: every problem reported at once, located, and never a traceback."""

from __future__ import annotations

import glob
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from game.core.deck import Deck
from game.core.loader import MAX_DECK_BYTES, DeckError, load_deck_bytes, load_deck_text
from game.deckfiles import load_deck
from tests.conftest import DECKS, TEST_DECKS

MALFORMED = sorted(glob.glob(str(TEST_DECKS / "malformed" / "*.toml")))
EXPECT = re.compile(r"^# expect: (\S+) (.+)$", re.M)


def test_there_are_at_least_twenty_malformed_decks():
    assert len(MALFORMED) >= 20


@pytest.mark.parametrize("path", MALFORMED, ids=lambda p: Path(p).stem)
def test_malformed_deck_gives_a_located_message(path):
    text = Path(path).read_text()
    where, message = EXPECT.search(text).groups()
    with pytest.raises(DeckError) as info:
        load_deck(path)
    rendered = [str(p) for p in info.value.problems]
    first = info.value.problems[0]
    if where == "-":
        assert first.path, rendered
    else:
        line, col = map(int, where.split(":"))
        assert (first.line, first.col) == (line, col), rendered
    assert first.message == message
    assert rendered[0].startswith(f"{path}:")


def test_every_problem_is_reported_at_once(tmp_path):
    text = (TEST_DECKS / "tiny.toml").read_text()
    text = text.replace("effects = { trust = 10, cash = -2 }", "effects = { trsut = 10, cash = -2 }")
    text = text.replace('lever = "interaction"', 'lever = "interactoin"', 1)
    text = text.replace("start = 50", "start = 500")
    bad = tmp_path / "three.toml"
    bad.write_text(text)
    with pytest.raises(DeckError) as info:
        load_deck(bad)
    messages = [p.message for p in info.value.problems]
    assert any("trsut" in m for m in messages)
    assert any("interactoin" in m for m in messages)
    assert any("start 500" in m for m in messages)
    lines = [p.line for p in info.value.problems]
    assert lines == sorted(lines), "problems come in file order"


def test_a_broken_entry_does_not_cascade(tmp_path):
    text = (TEST_DECKS / "tiny.toml").read_text().replace('label = "Trust"', "label = 5")
    bad = tmp_path / "cascade.toml"
    bad.write_text(text)
    with pytest.raises(DeckError) as info:
        load_deck(bad)
    assert len(info.value.problems) == 1, [str(p) for p in info.value.problems]


def test_bundled_decks_load():
    for path in DECKS.glob("*.toml"):
        assert isinstance(load_deck(path), Deck)


def test_the_model_is_frozen(tiny_book):
    with pytest.raises(AttributeError):
        tiny_book.deck.deck.rounds = 9  # type: ignore[misc]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"   \n\n", "empty"),
        (b"\x00\x01\x02binary", "NUL"),
        (b"\xff\xfe\x00d\x00e", "UTF-8"),
        (b"[deck]\nid = 'x'\n" + b"\xc3\x28", "UTF-8"),
        (b"[" * 100_000, "TOML"),
        (b"x = " + b"[" * 50_000 + b"]" * 50_000, "nested"),
        (b"x = " + b"{a = " * 5000 + b"1" + b"}" * 5000, "TOML"),
        (b"[deck]\n", "missing"),
        (b"deck = 3\n", "expected a table"),
        (b"cards = 'x'\n", "[[cards]]"),
    ],
)
def test_hostile_input_gives_a_message_not_a_traceback(data, message):
    with pytest.raises(DeckError) as info:
        load_deck_bytes(data, "x.toml")
    assert message in str(info.value)


def test_three_megabytes_is_refused_quickly(tmp_path):
    big = tmp_path / "big.toml"
    big.write_bytes(b"# padding\n" * 300_000)
    with pytest.raises(DeckError) as info:
        load_deck(big)
    assert f"{MAX_DECK_BYTES:,}" in str(info.value)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(DeckError, match="no such file"):
        load_deck(tmp_path / "nope.toml")
    with pytest.raises(DeckError, match="folder"):
        load_deck(tmp_path)


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=0, max_value=20_000))
def test_truncated_decks_never_raise_anything_but_deck_error(cut):
    text = (DECKS / "interlodge.toml").read_text()
    try:
        load_deck_text(text[: cut % len(text)], "cut.toml")
    except DeckError as exc:
        assert exc.problems and all(str(p).startswith("cut.toml") for p in exc.problems)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_never_raise_anything_but_deck_error(data):
    try:
        load_deck_bytes(data, "r.toml")
    except DeckError:
        pass


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=0, max_value=10_000), st.sampled_from(["=", "[", "]", '"', "{", "x", "\n", "#", ".", "-1"]))
def test_corrupted_decks_never_raise_anything_but_deck_error(at, junk):
    text = (TEST_DECKS / "tiny.toml").read_text()
    at %= len(text)
    try:
        load_deck_text(text[:at] + junk + text[at:], "c.toml")
    except DeckError:
        pass
