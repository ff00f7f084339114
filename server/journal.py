"""The SQLite journal: every accepted event, on disk before anything is acknowledged.

WAL mode with ``synchronous=FULL`` makes each commit durable (the WAL is fsynced) while
readers never block the writer. The server commits events in groups: while one commit is
being fsynced in a worker thread, the next group gathers in memory.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from game.session import Event

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    session TEXT NOT NULL,
    type    TEXT NOT NULL,
    data    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_session ON events(session, seq);
"""


class Journal:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # One writer at a time (the server's commit task); the connection moves between threads.
        self.db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)

    def append(self, session_id: str, events: Iterable[Event]) -> int:
        rows = [(session_id, e.type, json.dumps(e.data, separators=(",", ":"))) for e in events]
        if not rows:
            return 0
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.executemany("INSERT INTO events(session, type, data) VALUES (?, ?, ?)", rows)
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return len(rows)

    def latest_session(self) -> list[Event]:
        """The events of the most recently created session, in order."""
        row = self.db.execute("SELECT session FROM events WHERE type = 'session_created' ORDER BY seq DESC LIMIT 1").fetchone()
        if row is None:
            return []
        cursor = self.db.execute("SELECT type, data FROM events WHERE session = ? ORDER BY seq", (row[0],))
        return [Event(kind, json.loads(data)) for kind, data in cursor]

    def count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM events").fetchone()[0]

    def close(self) -> None:
        self.db.close()
