"""The SQLite journal: every accepted event, on disk before anything is acknowledged.

WAL mode with ``synchronous=FULL`` makes each commit durable (the WAL is fsynced) while
readers never block the writer. The server commits events in groups: everything accepted
since the last commit goes to disk in one transaction. Rows hold each event's journal record
(:func:`game.core.session.events.to_record`): its type and its data as JSON.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

import orjson

from game.core.session.events import Event, from_record, to_record

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    session TEXT NOT NULL,
    type    TEXT NOT NULL,
    data    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_session ON events(session, seq);
"""

INSERT_GROUP = """
INSERT INTO events(session, type, data)
SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]')
FROM json_each(?) ORDER BY key
"""


class Journal:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # One writer: the server's commit task, on the event loop's thread.
        self.db = sqlite3.connect(self.path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)

    def append(self, session_id: str, events: Iterable[Event]) -> int:
        rows = [(session_id, kind, orjson.dumps(data).decode()) for kind, data in map(to_record, events)]
        if not rows:
            return 0
        # One statement in autocommit mode: the rows and their fsync are one transaction and
        # one call into SQLite, however many rows the group holds. (Measured against
        # executemany in BEGIN/COMMIT: 2.2 against 2.7 ms for 1,000 rows, and the load
        # bench's latencies were steadier.)
        self.db.execute(INSERT_GROUP, (orjson.dumps(rows).decode(),))
        return len(rows)

    def latest_session(self) -> list[Event]:
        """The events of the most recently created session, in order."""
        row = self.db.execute("SELECT session FROM events WHERE type = 'session_created' ORDER BY seq DESC LIMIT 1").fetchone()
        if row is None:
            return []
        cursor = self.db.execute("SELECT type, data FROM events WHERE session = ? ORDER BY seq", (row[0],))
        return [from_record(kind, orjson.loads(data)) for kind, data in cursor]

    def count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM events").fetchone()[0]

    def close(self) -> None:
        self.db.close()
