"""The docs describe what the code does: every message, error code and command is documented."""

from __future__ import annotations

from pathlib import Path

from game.core.protocol import ERROR_CODES, FACILITATOR_MESSAGES, PARTICIPANT_MESSAGES
from game.core.session import ALLOWED

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_protocol_doc_names_every_message_and_error_code():
    text = (DOCS / "protocol.md").read_text()
    for kind in {*FACILITATOR_MESSAGES, *PARTICIPANT_MESSAGES}:
        assert f"`{kind}`" in text, kind
    for code in ERROR_CODES:
        assert f"`{code}`" in text, code
    for phase in ALLOWED:
        assert f"`{phase}`" in text, phase
    for server_message in (
        "welcome",
        "joined",
        "view",
        "you",
        "progress",
        "message",
        "ack",
        "error",
        "pong",
        "facilitator_view",
        "clock",
        "projector_view",
    ):
        assert f"`{server_message}`" in text, server_message


def _section(text: str, heading: str) -> str:
    start = text.index(heading)
    rest = text[start + len(heading) :]
    end = rest.find("\n### ")
    return rest if end < 0 else rest[:end]


def test_deck_reference_lists_every_key_of_the_model():
    import attrs

    from game.core import deck as model

    text = (DOCS / "decks.md").read_text()
    reference = text[text.index("## Reference") :]
    sections = {
        "### `[deck]`": model.DeckInfo,
        "### `[groups.NAME]`": model.Group,
        "### `[metrics.NAME]`": model.Metric,
        "### `[patterns.NAME]`": model.Pattern,
        "### `[[cards]]`": model.Card,
        "### `[[cards.options]]`": model.Option,
        "### `[[rules]]`": model.Rule,
        "### `structure` (on an option or a rule)": model.Restructure,
        "### `[[injects]]`": model.Inject,
        "### `[phases]`": model.Phases,
        "### `[claim]`": model.Claim,
    }
    for heading, cls in sections.items():
        body = _section(reference, heading)
        documented = set(__import__("re").findall(r"^\| `([a-z_]+)` \|", body, __import__("re").M))
        assert documented == {f.name for f in attrs.fields(cls)}, heading
    top_level = {f.name for f in attrs.fields(model.Deck)}
    assert all(f"`[{name}" in reference or f"`[[{name}" in reference for name in top_level)


def test_deck_reference_lists_every_expression_name():
    from game.core.expr import FUNCTIONS, VARIABLES

    body = _section((DOCS / "decks.md").read_text(), "### Expressions")
    for name in [*FUNCTIONS, *VARIABLES]:
        assert f"| `{name}" in body, name


def test_the_tutorial_deck_loads_and_its_claim_holds():
    import re

    from game.core.loader import load_deck_text
    from game.core.rulebook import Rulebook
    from game.core.simulate import check_claim

    text = (DOCS / "decks.md").read_text()
    blocks = re.findall(r"```toml\n(.*?)```", text, re.S)
    whole = next(b for b in blocks if b.startswith("# The night shift: the whole tutorial deck"))
    deck = load_deck_text(whole, "tutorial.toml")
    assert check_claim(Rulebook(deck), runs=300)["holds"]


def test_facilitating_guide_covers_every_bundled_deck_and_console_key():
    from game.deckfiles import bundled_decks, load_deck
    from game.tui.facilitator.screens import ConsoleScreen

    text = (DOCS / "facilitating.md").read_text()
    for name, path in bundled_decks().items():
        deck = load_deck(path)
        assert f"(`{name}`)" in text, name
        for question in deck.deck.debrief:
            assert question in text, question
    for binding in ConsoleScreen.BINDINGS:
        first = binding.key.split(",")[0]
        shown = {"plus": "+", "question_mark": "?", "f1": "F1"}.get(first, first)
        assert f"`{shown}`" in text, binding.key


def test_the_architecture_doc_names_modules_that_exist_and_the_readme_points_to_it():
    import re

    root = DOCS.parent
    text = (DOCS / "architecture.md").read_text()
    paths = set(re.findall(r"`((?:game|server)/[\w/]+(?:\.py)?)", text))
    assert len(paths) >= 10
    for path in paths:
        assert (root / path).exists(), path
    # the modules the layer table lists for the core and the server
    for folder, names in (("game/core", r"`(\w+)`"), ("server", r"`(\w+)`")):
        row = next(line for line in text.splitlines() if line.startswith(f"| `{folder}/`"))
        cell = row.split("|")[2]
        for name in re.findall(names, cell):
            found = [root / folder / f"{name}.py", root / folder / name, root / folder / "session" / f"{name}.py"]
            assert any(p.exists() for p in found), f"{folder}/{name}"
    assert "docs/architecture.md" in (root / "README.md").read_text()


def test_the_idioms_quoted_in_how_a_deck_teaches_are_in_the_bundled_decks():
    import re
    import tomllib

    from game.deckfiles import bundled_decks, load_deck

    text = (DOCS / "decks.md").read_text()
    chapter = text[text.index("## How a deck teaches") : text.index("## Warnings")]
    decks = [load_deck(p) for p in bundled_decks().values()]
    options = {(o.group, o.id): o for d in decks for c in d.cards for o in c.options}
    rules = {r.id: r for d in decks for r in d.rules}
    quoted = 0
    for block in re.findall(r"```toml\n(.*?)```", chapter, re.S):
        data = tomllib.loads(block)
        cards = data.get("cards", [])
        for card in [cards] if isinstance(cards, dict) else cards:  # a lone [[cards.options]] makes cards a table
            for option in card["options"]:
                found = options[(option["group"], option["id"])]
                assert found.label == option["label"] and found.explain == option["explain"]
                assert dict(found.effects) == option["effects"]
                quoted += 1
        for rule in data.get("rules", []):
            found = rules[rule["id"]]
            assert (found.when, found.explain, found.lever, dict(found.effects)) == (
                rule["when"],
                rule["explain"],
                rule["lever"],
                rule["effects"],
            )
            quoted += 1
    assert quoted >= 4


def test_the_readme_opens_with_the_two_commands_and_names_every_command():
    from game.cli.main import main

    readme = (DOCS.parent / "README.md").read_text()
    assert readme.split("```")[1].split() == ["make", "demo", "make", "test"]
    for name, command in main.commands.items():
        assert f"`crossroads {name}" in readme, name
        for sub in getattr(command, "commands", {}):
            assert f"`crossroads {name} {sub}" in readme, f"{name} {sub}"
    for doc in sorted(p.name for p in DOCS.glob("*.md")):
        assert f"docs/{doc}" in readme, doc
