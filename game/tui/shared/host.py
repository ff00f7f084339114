"""What the apps need from a game or a server run in this same process, declared here and
injected into the apps (as Harlequin injects its adapters). ``game.local`` implements
these; the apps know nothing else about it, and nothing of the server.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path

from game.core.deck import Deck


class LocalGame(ABC):
    """One player against bots, with the facilitator played by the host (``crossroads demo``).

    The participant app shows ``deck`` on its start screen, unless ``group`` is already
    chosen, then plays the seat that :meth:`start` returns.
    """

    deck: Deck
    group: str  # the group to play, or "" to pick it on the start screen

    @abstractmethod
    async def start(self, group: str, pattern: str) -> tuple[str, str]:
        """Create the session and seat the player in ``group``; return (server url, seat token)."""

    @abstractmethod
    async def begin(self) -> None:
        """Start the first round, once the player's seat is open."""

    @abstractmethod
    async def next_phase(self, seen: str = "") -> None:
        """Move on from the phase the player sees, ``seen`` (the player pressed Ctrl+N)."""

    @abstractmethod
    async def close(self) -> None:
        """Stop the game and its server."""


class Playtest(LocalGame):
    """A trainer playtesting a deck file (``crossroads deck play``): saving the file reloads it."""

    from_round: int  # the round play restarts at after a reload
    problems: list[str]  # why the last saved version did not load, located

    @abstractmethod
    def changed(self) -> bool:
        """Whether the deck file was saved since the last call (always False before start)."""

    @abstractmethod
    async def reload(self) -> tuple[str, str] | None:
        """Restart with the saved deck; return the new (url, token), or None when it does not
        load (then ``problems`` says why and the game goes on with the last good version)."""


class LocalServer(ABC):
    """A session server beside the facilitator's console (``crossroads host``)."""

    @abstractmethod
    async def start(self) -> None:
        """Start serving; calling it again does nothing."""

    @property
    @abstractmethod
    def url(self) -> str:
        """The address the console connects to (valid once started)."""

    @property
    @abstractmethod
    def secret(self) -> str:
        """The facilitator's secret (valid once started)."""

    @property
    @abstractmethod
    def journal(self) -> Path:
        """The file where sessions are journalled, so a console can say where it resumed from."""

    @abstractmethod
    async def close(self) -> None:
        """Stop serving."""
