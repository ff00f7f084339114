"""The browser's way in, as the console and the projector show it: the page's address with the
join code in it, and a QR code of that address drawn with text characters.

The join code rides in the address's fragment (``http://HOST:PORT/#CODE``): a phone that scans
the code opens the page with the code filled in, ready for a name, and the fragment never
reaches the server or a proxy's log. The seat token is never part of an address.
"""

from __future__ import annotations

import segno
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

# Each character cell holds two modules, one above the other.
HALVES = {(False, False): " ", (True, False): "▀", (False, True): "▄", (True, True): "█"}


def browser_address(join_address: str, code: str) -> str:
    """The page's address for a server reached at ``join_address`` ("host:port", "ws://host:port"
    or "wss://host:port"), with ``code`` in its fragment."""
    address = join_address.strip().rstrip("/")
    scheme = "http"
    if address.startswith("wss://"):
        scheme, address = "https", address.removeprefix("wss://")
    address = address.removeprefix("ws://")
    return f"{scheme}://{address}/#{code}"


def qr_lines(data: str, border: int = 2) -> list[str]:
    """``data`` as a QR code (error correction M), two modules to a line, dark modules drawn."""
    rows = [[bool(module) for module in row] for row in segno.make(data, error="m", micro=False).matrix_iter(border=border)]
    if len(rows) % 2:
        rows.append([False] * len(rows[0]))
    pairs = zip(rows[::2], rows[1::2], strict=True)
    return ["".join(HALVES[top, bottom] for top, bottom in zip(upper, lower, strict=True)) for upper, lower in pairs]


def qr_text(data: str) -> Text:
    """The QR code of ``data`` in black on white, whatever the terminal's colours, so a phone reads it."""
    return Text("\n".join(qr_lines(data)), style="black on white", no_wrap=True)


def join_card(join_address: str, code: str) -> Text:
    """The browser address in words, then its QR code."""
    address = browser_address(join_address, code)
    return Text.assemble(
        ("Join from a browser: scan the code, or open\n", "bold"),
        (address, "bold cyan"),
        "\n\n",
        qr_text(address),
    )


class BrowserJoinScreen(ModalScreen[None]):
    """The browser address and its QR code over the current screen; Escape closes it."""

    DEFAULT_CSS = """
    BrowserJoinScreen { align: center middle; }
    BrowserJoinScreen > Vertical { width: auto; height: auto; padding: 1 2; border: round $accent; background: $surface; }
    BrowserJoinScreen Static { width: auto; }
    """
    BINDINGS = [Binding("escape,w,q", "dismiss", "Close")]

    def __init__(self, join_address: str, code: str) -> None:
        super().__init__()
        self.join_address, self.code = join_address, code

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(join_card(self.join_address, self.code), id="browser-join")
            yield Static(Text("Esc closes", style="dim"))
