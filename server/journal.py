"""The SQLite journal: every accepted event, on disk before anything is acknowledged.

WAL mode with ``synchronous=FULL`` makes each commit durable (the WAL is fsynced) while
readers never block the writer. The server commits events in groups: everything accepted
since the last commit, in every session, goes to disk in one transaction. Rows hold each
event's journal record (:func:`game.core.session.events.to_record`): its type and its data as
JSON. The file and its side files (``-wal``, ``-shm``) are readable by their owner alone.
"""

from __future__ import annotations

import os
import sqlite3
import time
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
CREATE TABLE IF NOT EXISTS health (id INTEGER PRIMARY KEY, at REAL NOT NULL);
"""

INSERT_GROUP = """
INSERT INTO events(session, type, data)
SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]')
FROM json_each(?) ORDER BY key
"""

SIDE_FILES = ("-wal", "-shm", "-journal")


class Journal:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.db = self._open()

    def _open(self) -> sqlite3.Connection:
        # Created 0600 before SQLite opens it: SQLite gives its side files the main file's mode.
        os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
        # One writer: the server's commit task, on the event loop's thread.
        db = sqlite3.connect(self.path, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.executescript(SCHEMA)
        self.make_private()
        return db

    def make_private(self) -> None:
        """The journal and its side files: readable and writable by their owner alone."""
        for suffix in ("", *SIDE_FILES):
            path = self.path.with_name(self.path.name + suffix)
            try:
                if path.stat().st_mode & 0o077:
                    os.chmod(path, 0o600)
            except FileNotFoundError:
                pass

    def append(self, session_id: str, events: Iterable[Event]) -> int:
        return self.append_groups([(session_id, list(events))])

    def append_groups(self, groups: Iterable[tuple[str, list[Event]]]) -> int:
        """Write the events of every session in ``groups`` in one transaction."""
        rows = [(sid, kind, orjson.dumps(data).decode()) for sid, events in groups for kind, data in map(to_record, events)]
        if not rows:
            return 0
        # One statement in autocommit mode: the rows and their fsync are one transaction and
        # one call into SQLite, however many rows the group holds. (Measured against
        # executemany in BEGIN/COMMIT: 2.2 against 2.7 ms for 1,000 rows, and the load
        # bench's latencies were steadier.)
        self.db.execute(INSERT_GROUP, (orjson.dumps(rows).decode(),))
        return len(rows)

    def probe(self) -> None:
        """Write and fsync one small row, reopening the file if need be; raises while the disk
        still refuses. The server calls it to learn when a failed journal works again."""
        try:
            self.db.execute("INSERT OR REPLACE INTO health(id, at) VALUES (1, ?)", (time.time(),))
        except sqlite3.ProgrammingError:  # closed: open it again
            self.db = self._open()
            self.db.execute("INSERT OR REPLACE INTO health(id, at) VALUES (1, ?)", (time.time(),))

    def session_ids(self) -> list[str]:
        """Every session in the journal, in the order they were created."""
        rows = self.db.execute("SELECT session FROM events WHERE type = 'session_created' ORDER BY seq")
        return [row[0] for row in rows]

    def events(self, session_id: str) -> list[Event]:
        cursor = self.db.execute("SELECT type, data FROM events WHERE session = ? ORDER BY seq", (session_id,))
        return [from_record(kind, orjson.loads(data)) for kind, data in cursor]

    def latest_session(self) -> list[Event]:
        """The events of the most recently created session, in order."""
        ids = self.session_ids()
        return self.events(ids[-1]) if ids else []

    def delete(self, session_id: str) -> int:
        """Remove a session's events for good; returns how many there were."""
        return self.db.execute("DELETE FROM events WHERE session = ?", (session_id,)).rowcount

    def count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM events").fetchone()[0]

    def close(self) -> None:
        self.db.close()
