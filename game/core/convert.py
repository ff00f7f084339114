"""The strict cattrs converter that decks and wire frames are structured with, and the
wording of its failures as located problems.

Strict means: an unknown key is an error (a typo never passes silently), and every problem
is reported, not just the first, each with the path of keys that leads to it.
"""

from __future__ import annotations

from collections.abc import Iterator

import attrs
import cattrs
from cattrs.errors import AttributeValidationNote, ClassValidationError, ForbiddenExtraKeysError, IterableValidationError

from game.core.expr import suggest
from game.core.tomlpos import Path


def strict_converter() -> cattrs.Converter:
    """A converter that refuses unknown keys and collects every problem; callers register
    their own hooks for scalars, which word the errors for their readers."""
    return cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)


def problems(exc: BaseException, path: Path = ()) -> Iterator[tuple[Path, str]]:
    """(key path, sentence) for each problem in a structuring failure."""
    if isinstance(exc, ClassValidationError | IterableValidationError):
        with_notes, without = exc.group_exceptions()
        for sub, note in with_notes:
            key = note.name if isinstance(note, AttributeValidationNote) else note.index
            if isinstance(sub, KeyError):
                yield path, f'missing key "{key}"'
            else:
                yield from problems(sub, path + (key,))
        for sub in without:
            yield from problems(sub, path)
    elif isinstance(exc, ForbiddenExtraKeysError):
        known = [f.name for f in attrs.fields(exc.cl)]
        for key in sorted(exc.extra_fields):
            yield path + (key,), f'unknown key "{key}"{suggest(key, known)}; allowed here: {", ".join(known)}'
    elif isinstance(exc, ValueError | TypeError):
        yield path, str(exc) or "invalid value"
    else:
        yield path, f"invalid value ({type(exc).__name__})"


def format_path(path: Path) -> str:
    """``cards[2].options`` for ("cards", 2, "options")."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
