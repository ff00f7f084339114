"""A session server inside the app's own event loop, for ``crossroads host``, ``demo`` and
``deck play``. It uses the server's public face alone: ``Hub``, its port, secret and journal."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from game.tui.shared.host import LocalServer
from server.hub import Hub


class EmbeddedServer(LocalServer):
    """A :class:`Hub` serving from this process, its journal in ``data_dir`` (or a temporary
    folder, removed on close)."""

    def __init__(self, data_dir: Path | None = None, host: str = "127.0.0.1", port: int = 0, **hub_options: Any) -> None:
        self.hub_options = hub_options
        self._tmp = None if data_dir else tempfile.TemporaryDirectory(prefix="crossroads-")
        self.data_dir = Path(data_dir or self._tmp.name)  # type: ignore[union-attr]
        self.host, self.port = host, port
        self.hub: Hub | None = None

    async def start(self) -> None:
        if self.hub is None:
            hub = Hub(self.data_dir, **self.hub_options)
            await hub.start(self.host, self.port)
            self.hub = hub

    def _running(self) -> Hub:
        if self.hub is None:
            raise RuntimeError("the embedded server has not started")
        return self.hub

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self._running().port}"

    @property
    def secret(self) -> str:
        return self._running().secret

    @property
    def journal(self) -> Path:
        return Path(self._running().journal.path)

    async def close(self) -> None:
        if self.hub is not None:
            await self.hub.close()
            self.hub = None
        if self._tmp is not None:
            self._tmp.cleanup()
