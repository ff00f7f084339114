"""``crossroads demo``: one player against bots, with this process playing the facilitator.

The host knows the session only as its facilitator link shows it (the ``facilitator_view``
messages), as a console across the network would.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

from game.client.link import Link, RequestRefused, join_session
from game.deckfiles import load_deck, resolve_deck
from game.local.embedded import EmbeddedServer
from game.tui.shared.host import LocalGame

# Phases in the order a round goes through them, to tell a newer view from an older one
PHASE_ORDER = ("lobby", "brief", "talk", "choose", "resolve", "reveal", "timeout", "debrief", "ended")


class DemoHost(LocalGame):
    """Plays the facilitator for one player: bots take the other groups, the choose phase
    ends as soon as the player has chosen, and the player moves on with a key."""

    def __init__(self, deck: str = "interlodge", seed: int = 1, bots: str = "adaptive", **hub_options: Any) -> None:
        self.source = deck  # a bundled deck's name or a deck file
        self.deck = load_deck(resolve_deck(deck))
        self.group = ""
        self.seed, self.bots = seed, bots
        self.server = EmbeddedServer(**hub_options)
        self.link: Link | None = None
        self.task: asyncio.Task[None] | None = None
        self.session: dict[str, Any] = {}  # the latest facilitator view's session: code, phase, round...
        self.viewed = asyncio.Event()
        # Sessions created so far, and which of them the latest view shows: the server sends a
        # new session's first view right after acknowledging its creation.
        self.created = self.view_of = 0

    def _on_message(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "ack" and message.get("command") == "create_session":
            self.created += 1
        elif kind == "facilitator_view":
            self.session, self.view_of = message["view"]["session"], self.created
            self.viewed.set()

    def position(self) -> tuple[int, int, int]:
        """Where the play is, as far as the latest view shows: (session, round, phase)."""
        return self.view_of, self.session.get("round", 0), PHASE_ORDER.index(self.session.get("phase", "lobby"))

    async def until_past(self, before: tuple[int, int, int], resting: bool = False, timeout: float = 5.0) -> None:
        """Wait for a view of the same session further on than ``before``; with ``resting``,
        also out of the phases that end by themselves when no person has to choose."""

        def arrived() -> bool:
            now = self.position()
            return now[0] == before[0] and now > before and not (resting and self.session["phase"] in ("choose", "resolve"))

        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while not arrived():
                    self.viewed.clear()
                    await self.viewed.wait()

    async def until_created(self, timeout: float = 5.0) -> None:
        """Wait for the first view of the session created last."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while self.view_of != self.created:
                    self.viewed.clear()
                    await self.viewed.wait()

    async def connect(self) -> Link:
        """Start the embedded server (once) and the facilitator's link to it."""
        if self.link is None:
            await self.server.start()
            self.link = Link(
                self.server.url, "/v1/facilitator", token=self.server.secret, on_message=self._on_message, on_state=lambda s, r: None
            )
            self.task = asyncio.get_running_loop().create_task(self.link.run())
            for _ in range(250):
                if self.link.ws is not None:
                    break
                await asyncio.sleep(0.02)
        return self.link

    def create_request(self, pattern: str) -> dict[str, Any]:
        """The ``create_session`` command: a bundled deck by name, a deck file as its text."""
        path = Path(self.source)
        deck_text = path.read_text(encoding="utf-8") if path.suffix == ".toml" and path.exists() else ""
        return {
            "type": "create_session",
            "deck": "" if deck_text else self.source,
            "deck_toml": deck_text,
            "patterns": [pattern],
            "seed": self.seed,
            "early_close": True,
            "bots": self.bots,
        }

    async def start(self, group: str, pattern: str, name: str = "You") -> tuple[str, str]:
        """Create the session, seat the player in ``group``; return (url, token)."""
        link = await self.connect()
        ack = await link.request(self.create_request(pattern))
        await self.until_created()
        joined = await join_session(self.server.url, ack["code"], name)
        await link.request({"type": "move", "seat": joined["seat"], "org": 0, "group": group})
        await link.request({"type": "lock"})
        return self.server.url, joined["token"]

    async def begin(self) -> None:
        assert self.link is not None
        before = self.position()
        await self.link.request({"type": "start"})
        await self.until_past(before)

    async def next_phase(self, seen: str = "") -> None:
        """Move the game on from the phase the player sees (``seen``). The player's view is the
        fresher: the server sends this console's view once a lull comes, so right after a change
        it may still show the phase before, and a start sent for an advance would be refused."""
        if self.link is None:
            return
        if (seen or self.session.get("phase")) in ("choose", "resolve"):
            # the player's choice closed the phase; this console's view trails the player's by a tick
            await self.until_past(self.position(), resting=True, timeout=1.0)
            seen = ""  # the wait brought this console's view up to date
        phase = seen or self.session.get("phase")
        if phase not in ("lobby", "brief", "talk", "reveal", "timeout"):
            return
        before = self.position()
        try:
            await self.link.request({"type": "start" if phase == "lobby" else "advance"})
        except RequestRefused:
            return  # the phase's timer moved it on meanwhile
        # one step at a time: the next press sees where this one led
        await self.until_past(before)

    async def close(self) -> None:
        if self.link is not None:
            await self.link.stop()
        await self.server.close()
