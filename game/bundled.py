"""The decks that ship with Crossroads, found by name or by path."""

from __future__ import annotations

from pathlib import Path

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
