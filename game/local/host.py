"""A session server inside the app's own event loop, for ``crossroads demo`` and ``host``."""

from __future__ import annotations

import asyncio
import socket
import tempfile
from pathlib import Path
from typing import Any

from game.client.link import Link, join_session
from server.hub import Hub


def lan_address() -> str:
    """This machine's address as other machines on the network would type it."""
    candidates = []
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            candidates.append(info[4][0])
    except OSError:
        pass
    for address in candidates:
        if not address.startswith("127."):
            return address
    return "127.0.0.1"


class EmbeddedServer:
    """A :class:`Hub` and a facilitator link to it."""

    def __init__(self, data_dir: Path | None = None, host: str = "127.0.0.1", port: int = 0, **hub_options: Any) -> None:
        self.hub_options = hub_options
        self._tmp = None if data_dir else tempfile.TemporaryDirectory(prefix="crossroads-")
        self.data_dir = Path(data_dir or self._tmp.name)  # type: ignore[union-attr]
        self.host, self.port = host, port
        self.hub: Hub | None = None

    async def start(self) -> str:
        self.hub = Hub(self.data_dir, **self.hub_options)
        await self.hub.start(self.host, self.port)
        return f"ws://127.0.0.1:{self.hub.port}"

    @property
    def url(self) -> str:
        assert self.hub is not None
        return f"ws://127.0.0.1:{self.hub.port}"

    async def close(self) -> None:
        if self.hub is not None:
            await self.hub.close()
            self.hub = None
        if self._tmp is not None:
            self._tmp.cleanup()


class DemoHost:
    """Plays the facilitator for one player: bots take the other groups, the choose phase
    ends as soon as the player has chosen, and the player moves on with a key."""

    def __init__(self, deck: str = "interlodge", seed: int = 1, bots: str = "greedy", **hub_options: Any) -> None:
        self.deck, self.seed, self.bots = deck, seed, bots
        self.server = EmbeddedServer(**hub_options)
        self.link: Link | None = None
        self.phase = ""

    def _on_message(self, message: dict[str, Any]) -> None:
        if message.get("type") == "facilitator_view":
            self.phase = message["view"]["session"]["phase"]

    async def connect(self) -> Link:
        """Start the embedded server (once) and the facilitator's link to it."""
        if self.link is None:
            url = await self.server.start()
            assert self.server.hub is not None
            self.link = Link(url, "/v1/facilitator", token=self.server.hub.secret, on_message=self._on_message, on_state=lambda s, r: None)
            self.task = asyncio.get_running_loop().create_task(self.link.run())
            for _ in range(250):
                if self.link.ws is not None:
                    break
                await asyncio.sleep(0.02)
        return self.link

    async def start(self, group: str, pattern: str, name: str = "You") -> tuple[str, str]:
        """Create the session, seat the player in ``group``; return (url, token)."""
        await self.connect()
        url = self.server.url
        assert self.link is not None
        deck_text = ""
        path = Path(self.deck)
        if path.suffix == ".toml" and path.exists():
            deck_text = path.read_text(encoding="utf-8")
        ack = await self.link.request(
            {
                "type": "create_session",
                "deck": "" if deck_text else self.deck,
                "deck_toml": deck_text,
                "patterns": [pattern],
                "seed": self.seed,
                "early_close": True,
                "bots": self.bots,
            }
        )
        joined = await join_session(url, ack["code"], name)
        await self.link.request({"type": "move", "seat": joined["seat"], "org": 0, "group": group})
        await self.link.request({"type": "lock"})
        return url, joined["token"]

    async def begin(self) -> None:
        assert self.link is not None
        await self.link.request({"type": "start"})

    async def next_phase(self) -> None:
        if self.link is None or self.server.hub is None or self.server.hub.session is None:
            return
        phase = self.server.hub.session.phase
        if phase == "lobby":
            await self.link.request({"type": "start"})
        elif phase in ("brief", "talk", "reveal", "timeout"):
            await self.link.request({"type": "advance"})

    async def close(self) -> None:
        if self.link is not None:
            await self.link.stop()
        await self.server.close()


class PlaytestHost(DemoHost):
    """``crossroads deck play``: one trainer, bots in every other seat, any starting round,
    and the deck reloaded whenever its file is saved."""

    def __init__(self, path: Path, group: str = "", from_round: int = 1, seed: int = 1, bots: str = "greedy") -> None:
        super().__init__(str(path), seed=seed, bots=bots)
        self.path = Path(path)
        self.group = group
        self.from_round = from_round
        self.pattern = ""
        self.mtime = self.path.stat().st_mtime
        self.problems: list[str] = []

    async def start(self, group: str, pattern: str, name: str = "You") -> tuple[str, str]:
        """Create the session, let bots play the rounds before ``from_round``, then seat the
        trainer in ``group``; return (url, token)."""
        self.group, self.pattern = group, pattern
        await self.connect()
        assert self.link is not None and self.server.hub is not None
        text = self.path.read_text(encoding="utf-8")
        ack = await self.link.request(
            {"type": "create_session", "deck_toml": text, "patterns": [pattern], "seed": self.seed, "early_close": True, "bots": self.bots}
        )
        await self.link.request({"type": "start"})
        hub = self.server.hub
        while hub.session is not None and hub.session.round < self.from_round:
            await self.link.request({"type": "advance"})
            if hub.session.phase == "debrief":
                break
        joined = await join_session(self.server.url, ack["code"], name)
        await self.link.request({"type": "move", "seat": joined["seat"], "org": 0, "group": group})
        return self.server.url, joined["token"]

    async def begin(self) -> None:
        """Already running: start() played the rounds before the trainer's."""

    def changed(self) -> bool:
        try:
            mtime = self.path.stat().st_mtime
        except OSError:
            return False
        if mtime != self.mtime:
            self.mtime = mtime
            return True
        return False

    async def reload(self) -> tuple[str, str] | None:
        """Check the saved file; when it loads, restart at the current round. Returns the new
        (url, token), or None with ``problems`` set to the located errors."""
        from game.core.loader import DeckError, load_deck_text

        try:
            text = self.path.read_text(encoding="utf-8")
            load_deck_text(text, str(self.path))
        except DeckError as exc:
            self.problems = [str(p) for p in exc.problems]
            return None
        except OSError as exc:
            self.problems = [f"{self.path}: cannot read the file: {exc.strerror}"]
            return None
        self.problems = []
        hub = self.server.hub
        if hub is not None and hub.session is not None:
            self.from_round = max(1, hub.session.round)
            if hub.session.phase != "ended":
                assert self.link is not None
                await self.link.request({"type": "end"})
        return await self.start(self.group, self.pattern)
