"""Writing an export to a folder: participants' words readable by their owner only."""

from __future__ import annotations

import os
from pathlib import Path

from game.report.build import PRIVATE


def write_report(out: Path, files: dict[str, str]) -> list[Path]:
    """Write ``files`` (path -> text) under ``out``; return the paths written. Files that hold
    names, messages or answers are created 0600, the rest 0644."""
    written = []
    for name, text in files.items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        mode = 0o600 if name in PRIVATE else 0o644
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        os.fchmod(fd, mode)  # an older file of the same name keeps no wider mode
        newline = "" if name.endswith(".csv") else None  # the csv module already wrote CRLF
        with open(fd, "w", encoding="utf-8", newline=newline) as handle:
            handle.write(text)
        written.append(path)
    return written
