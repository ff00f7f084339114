"""``crossroads deck play``: a trainer playtests a deck file against bots, from any round,
and the deck is reloaded whenever its file is saved."""

from __future__ import annotations

from pathlib import Path

from game.client.link import join_session
from game.core.loader import DeckError, load_deck_text
from game.local.demo import DemoHost
from game.tui.shared.host import Playtest


class PlaytestHost(DemoHost, Playtest):
    """One trainer, bots in every other seat, any starting round, reloaded on save."""

    def __init__(self, path: Path, group: str = "", from_round: int = 1, seed: int = 1, bots: str = "adaptive") -> None:
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
        link = await self.connect()
        ack = await link.request({**self.create_request(pattern), "deck": "", "deck_toml": self.path.read_text(encoding="utf-8")})
        await self.until_created()
        before = self.position()
        await link.request({"type": "start"})
        await self.until_past(before, resting=True)
        while self.session["round"] < self.from_round and self.session["phase"] != "debrief":
            before = self.position()
            await link.request({"type": "advance"})
            # bots alone close the choose phase by themselves: wait until it has
            await self.until_past(before, resting=True)
        joined = await join_session(self.server.url, ack["code"], name)
        await link.request({"type": "move", "seat": joined["seat"], "org": 0, "group": group})
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
            return self.link is not None  # before start, start reads the file anyway
        return False

    async def reload(self) -> tuple[str, str] | None:
        """Check the saved file; when it loads, restart at the current round. Returns the new
        (url, token), or None with ``problems`` set to the located errors."""
        try:
            text = self.path.read_text(encoding="utf-8")
            self.deck = load_deck_text(text, str(self.path))
        except DeckError as exc:
            self.problems = [str(p) for p in exc.problems]
            return None
        except OSError as exc:
            self.problems = [f"{self.path}: cannot read the file: {exc.strerror}"]
            return None
        self.problems = []
        if self.session:
            self.from_round = max(1, self.session["round"])
            if self.session["phase"] != "ended":
                assert self.link is not None
                await self.link.request({"type": "end"})
        return await self.start(self.group, self.pattern)
