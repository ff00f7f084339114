"""Where each key of a TOML document sits, so problems can be reported as FILE:LINE:COL.

``tomllib`` gives values without positions. This scanner reads the text once more,
line by line, and records the line and column of every table header and key,
addressed by the same path the loader uses (``("cards", 2, "options", 1, "effects")``).
It only needs to be right for documents that ``tomllib`` has already accepted.
"""

from __future__ import annotations

import re

Path = tuple[str | int, ...]

_HEADER = re.compile(r"^\s*(\[\[?)\s*(.+?)\s*(\]\]?)\s*(#.*)?$")
_KEY = re.compile(r"""^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*=""")
_INLINE_KEY = re.compile(r"""(?:[{,]\s*)([A-Za-z0-9_-]+|"[^"]*"|'[^']*')\s*=""")


def _split_dotted(text: str) -> list[str]:
    parts = re.findall(r"""[A-Za-z0-9_-]+|"[^"]*"|'[^']*'""", text)
    return [p[1:-1] if p[:1] in "\"'" else p for p in parts]


def locate_keys(text: str) -> dict[Path, tuple[int, int]]:
    """Map every key path to its 1-based (line, column)."""
    positions: dict[Path, tuple[int, int]] = {}
    array_counts: dict[Path, int] = {}  # concrete path of an array of tables -> last index
    table: Path = ()
    in_multiline: str | None = None
    for lineno, line in enumerate(text.splitlines(), start=1):
        if in_multiline:
            if in_multiline in line:
                in_multiline = None
            continue
        header = _HEADER.match(line)
        if header and not _KEY.match(line):
            names = _split_dotted(header.group(2))
            concrete: list[str | int] = []
            for i, name in enumerate(names):
                concrete.append(name)
                last = i == len(names) - 1
                key = tuple(concrete)
                positions.setdefault(key, (lineno, line.index("[") + 1))
                if last and header.group(1) == "[[":
                    array_counts[key] = array_counts.get(key, -1) + 1
                    positions.setdefault(key, (lineno, line.index("[") + 1))
                    concrete.append(array_counts[key])
                elif not last and key in array_counts:
                    concrete.append(array_counts[key])
            table = tuple(concrete)
            positions.setdefault(table, (lineno, line.index("[") + 1))
            continue
        key_match = _KEY.match(line)
        if not key_match:
            continue
        path = table + tuple(_split_dotted(key_match.group(1)))
        col = len(line) - len(line.lstrip()) + 1
        positions.setdefault(path, (lineno, col))
        rest = line[key_match.end() :]
        for quote in ('"""', "'''"):
            if rest.count(quote) == 1:
                in_multiline = quote
        if rest.lstrip().startswith("{"):
            offset = key_match.end()
            for inner in _INLINE_KEY.finditer(rest):
                name = inner.group(1).strip("\"'")
                positions.setdefault(path + (name,), (lineno, offset + inner.start(1) + 1))
    return positions


def find_position(positions: dict[Path, tuple[int, int]], path: Path) -> tuple[int, int] | None:
    """The position of ``path``, or of its nearest ancestor that has one."""
    for end in range(len(path), 0, -1):
        found = positions.get(tuple(path[:end]))
        if found:
            return found
    return None
