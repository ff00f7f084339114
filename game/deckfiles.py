"""Deck files: the decks that ship with Crossroads, found by name or by path, and reading a
deck file into a checked deck (the core checks text; files are read here)."""

from __future__ import annotations

from pathlib import Path

from game.core.deck import Deck
from game.core.loader import MAX_DECK_BYTES, DeckError, Problem, load_deck_bytes

_HERE = Path(__file__).resolve().parent
# In a checkout the decks sit beside the package; in a wheel they are copied inside it.
DECK_DIRS = [p for p in (_HERE.parent / "decks", _HERE / "_decks") if p.is_dir()]


def bundled_decks() -> dict[str, Path]:
    """Deck name (file stem) -> path, for every bundled deck."""
    found: dict[str, Path] = {}
    for folder in DECK_DIRS:
        for path in sorted(folder.glob("*.toml")):
            found.setdefault(path.stem, path)
    return found


def resolve_deck(name_or_path: str) -> Path:
    """A path as given when it exists, else the bundled deck of that name."""
    path = Path(name_or_path)
    if path.exists() or path.suffix == ".toml" or "/" in name_or_path:
        return path
    decks = bundled_decks()
    if name_or_path in decks:
        return decks[name_or_path]
    return path


def load_deck(file: str | Path) -> Deck:
    """Read and check a deck file; raise :class:`DeckError` listing every problem."""
    path = Path(file)
    name = str(file)
    try:
        size = path.stat().st_size
        if size > MAX_DECK_BYTES:
            raise DeckError([Problem(name, f"file is {size:,} bytes; a deck may be at most {MAX_DECK_BYTES:,}")])
        data = path.read_bytes()
    except DeckError:
        raise
    except IsADirectoryError:
        raise DeckError([Problem(name, "is a folder, not a deck file")]) from None
    except FileNotFoundError:
        raise DeckError([Problem(name, "no such file")]) from None
    except OSError as exc:
        raise DeckError([Problem(name, f"cannot read the file: {exc.strerror or exc}")]) from None
    return load_deck_bytes(data, name)
