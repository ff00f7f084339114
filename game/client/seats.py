"""Where a participant's seats are kept between runs: one token per server, the last server
and name typed, and the device id, in the user's data folder (readable by the user alone)."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

from game.client.link import normalise_url


class SeatStore:
    """Seat tokens and the last server and name, in the user's data folder."""

    def __init__(self, folder: Path | None = None) -> None:
        if folder is None:
            import platformdirs

            folder = platformdirs.user_data_path("crossroads")
        self.path = Path(folder) / "seats.json"

    def load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text())
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def save(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(data, out, indent=1)
        tmp.replace(self.path)

    def device(self) -> str:
        """This machine's id for joins, made once and kept: a device whose seat the facilitator
        removed cannot join the session again under another name."""
        data = self.load()
        device = data.get("device")
        if not isinstance(device, str) or not 16 <= len(device) <= 64:
            device = data["device"] = secrets.token_urlsafe(24)
            self.save(data)
        return device

    def last(self) -> tuple[str, str]:
        data = self.load()
        return str(data.get("last_url", "")), str(data.get("last_name", ""))

    def seat(self, url: str) -> dict[str, Any] | None:
        seat = self.load().get("seats", {}).get(normalise_url(url))
        return seat if isinstance(seat, dict) and isinstance(seat.get("token"), str) else None

    def remember(self, url: str, name: str, code: str, seat: str, token: str) -> None:
        data = self.load()
        data["last_url"], data["last_name"] = url, name
        data.setdefault("seats", {})[normalise_url(url)] = {"code": code, "seat": seat, "token": token, "name": name}
        self.save(data)

    def forget(self, url: str) -> None:
        data = self.load()
        data.get("seats", {}).pop(normalise_url(url), None)
        self.save(data)
