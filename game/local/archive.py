"""A finished (or unfinished) session read back from a server's journal, for the exports and the
read-only debrief. A journal may hold several sessions; each is found by its join code."""

from __future__ import annotations

from pathlib import Path

import orjson

from game.core.session import Session, from_record, replay
from server.journal import Journal


class NoSession(Exception):
    """The data folder holds no journal, or no session with the code asked for."""


def read_session(data_dir: Path, code: str = "") -> Session:
    """The session with join ``code`` in the journal of ``data_dir`` (the latest created when
    ``code`` is empty), replayed from its events."""
    path = Path(data_dir) / "journal.sqlite"
    if not path.exists():
        raise NoSession(f"{data_dir} holds no journal (journal.sqlite); give the folder passed to --data")
    journal = Journal(path)
    try:
        # the session_created events name every session in the journal, with its code
        created = [
            (session, orjson.loads(data)["code"])
            for session, data in journal.db.execute("SELECT session, data FROM events WHERE type = 'session_created' ORDER BY seq")
        ]
        if not created:
            raise NoSession(f"the journal in {data_dir} holds no session")
        if code:
            wanted = [s for s, c in created if c == code.strip().upper()]
            if not wanted:
                raise NoSession(f'no session has the code "{code}" in {data_dir}; it holds {", ".join(c for _, c in created)}')
            session_id = wanted[-1]
        else:
            session_id = created[-1][0]
        rows = journal.db.execute("SELECT type, data FROM events WHERE session = ? ORDER BY seq", (session_id,))
        return replay(from_record(kind, orjson.loads(data)) for kind, data in rows)
    finally:
        journal.close()
