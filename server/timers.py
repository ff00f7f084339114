"""The phase timer: one per session, armed at the session's deadline (which survives restarts)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import Any

from game.core.session import Session

OnDeadline = Callable[..., Coroutine[Any, Any, None]]  # called with (phase, round) the timer was armed for


class PhaseTimer:
    def __init__(self, on_deadline: OnDeadline) -> None:
        self.on_deadline = on_deadline
        self.handle: asyncio.TimerHandle | None = None

    def arm(self, session: Session | None) -> None:
        """(Re-)arm at the session's deadline; none while paused or untimed."""
        self.cancel()
        if session is None or session.deadline is None or session.paused:
            return
        delay = max(0.0, session.deadline - time.time())
        phase, round_ = session.phase, session.round
        loop = asyncio.get_running_loop()
        self.handle = loop.call_later(delay, lambda: asyncio.create_task(self.on_deadline(phase, round_)))

    def cancel(self) -> None:
        if self.handle:
            self.handle.cancel()
            self.handle = None
