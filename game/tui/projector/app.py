"""``crossroads project URL``: the room's screen, safe to put on a projector.

It connects to the server's ``/v1/projector`` path, which sends the projector view alone
(:func:`game.core.session.projector_view`): the join code, the phase, the timer and counts,
never a name, a message or a metric before the debrief. In the debrief it shows the story
one section at a time, paged with the arrow keys.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from rich.text import Text
from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Static

from game.client.addresses import join_addresses, reachable
from game.client.link import Link, normalise_url
from game.tui.shared.bigtext import big
from game.tui.shared.messages import ConnectionChanged, ServerMessage
from game.tui.shared.qr import browser_address, qr_text
from game.tui.shared.story import StoryView
from game.tui.shared.text import PHASE_NAMES, literal
from game.tui.shared.widgets import TimerBar

PHASE_LINES = {
    "lobby": "Join now: type the line above in your terminal, or open the address in a browser.",
    "brief": "Read your side of the situation.",
    "talk": "Talk along the channels your organisation has open.",
    "choose": "Choose: the default stands for whoever does not.",
    "resolve": "The round is being resolved…",
    "reveal": "What changed, and why: each group sees what it may see.",
    "timeout": "Time-out: answer your group's prompts.",
    "debrief": "The whole system, as everyone played it.",
    "ended": "The session has ended. Thank you.",
}


def room_join_line(url: str, code: str, addresses: list[str] | None = None) -> list[str]:
    """The lines the room types: the server's own address unless it is this machine's
    loopback, in which case every network address of this machine."""
    parts = urlsplit(normalise_url(url))
    host, port = parts.hostname or "", parts.port or 8765
    if host.startswith("127.") or host in ("localhost", "::1"):
        hosts = addresses if addresses is not None else join_addresses()
        hosts = hosts or [host]
    else:
        hosts = [host]
    return [f"crossroads join {h}:{port} --code {code}" for h in hosts]


class RoomScreen(Screen[None]):
    """During the game: the code in large type, the join line, phase, timer and progress."""

    def compose(self) -> ComposeResult:
        with Vertical(id="room"):
            yield Static("", id="room-title")
            with Horizontal(id="room-code-row"):
                yield Static(big("------"), id="room-code")
                # the browser's way in: the page's address with the code, as a QR code to scan
                yield Static("", id="room-qr")
            yield Static("", id="room-join")
            yield Static("", id="room-phase")
            yield TimerBar(id="room-timer")
            yield Static("", id="room-progress")
        yield Static("", id="room-status")

    def on_resize(self) -> None:
        self.set_class(self.size.height < 34 or self.size.width < 90, "-small")

    def show(self, view: dict[str, Any], join_lines: list[str]) -> None:
        session = view["session"]
        self.query_one("#room-title", Static).update(literal(session["title"], "bold"))
        self.query_one("#room-code", Static).update(big(session["code"]))
        join = Text()
        for line in join_lines[:3]:
            join.append(line + "\n", style="bold cyan")
        first = join_lines[0].split()[2] if join_lines else ""  # "crossroads join HOST:PORT --code CODE"
        if first:
            address = browser_address(first, session["code"])
            join.append("or open " + address + " in a browser\n", style="bold")
            self.query_one("#room-qr", Static).update(qr_text(address))
        if session["locked"]:
            join.append("The lobby is locked.", style="red")
        self.query_one("#room-join", Static).update(join)
        phase = PHASE_NAMES.get(session["phase"], session["phase"])
        round_text = f"  ·  Round {session['round']} of {session['rounds']}" if session["round"] else f"  ·  {session['rounds']} rounds"
        self.query_one("#room-phase", Static).update(
            Text.assemble((f" {phase} ", "bold reverse"), round_text, "\n", (PHASE_LINES.get(session["phase"], ""), "italic"))
        )
        self.query_one(TimerBar).clock = session
        progress = Text(f"{view['joined']} have joined")
        if session["phase"] == "choose":
            progress = Text(f"{view['progress']['chosen']} of {view['progress']['of']} have chosen", style="bold")
        elif session["phase"] == "timeout" and view.get("answered"):
            progress = Text(f"{view['answered']['answered']} of {view['answered']['of']} have answered", style="bold")
        orgs = "   ".join(f"{o['label']}: {o['pattern']}" for o in view["orgs"])
        self.query_one("#room-progress", Static).update(Text.assemble(progress, "\n", literal(orgs, "dim")))


class StoryScreen(Screen[None]):
    """In the debrief: one section of the story at a time, ← and → to page."""

    def __init__(self, story: dict[str, Any]) -> None:
        super().__init__()
        self.story = story

    def compose(self) -> ComposeResult:
        yield StoryView(self.story, paged=True, id="story")

    def on_mount(self) -> None:
        self.query_one(StoryView).focus()


class ProjectorApp(App[None]):
    """The room's screen: read-only, safe to show everyone."""

    TITLE = "Crossroads - projector"
    CSS_PATH = "projector.tcss"
    BINDINGS = [Binding("ctrl+q,q", "quit", "Quit", priority=True)]

    def __init__(self, url: str, token: str, *, addresses: list[str] | None = None, join: list[str] | None = None) -> None:
        super().__init__()
        self.url, self.token, self.addresses = url, token, addresses
        self.join = join or []  # "host:port" the room types, when it is not the address the projector uses
        self.view: dict[str, Any] = {}
        self.link: Link | None = None
        self.connection = "connecting"

    def on_mount(self) -> None:
        self.push_screen(RoomScreen())
        self.run_link()
        host, port = self.server_host_port()
        if self.addresses is None and not self.join and (host.startswith("127.") or host in ("localhost", "::1")):
            self.addresses = []  # the loopback address until the network ones are checked
            self.find_room_addresses(port)

    def server_host_port(self) -> tuple[str, int]:
        parts = urlsplit(normalise_url(self.url))
        return parts.hostname or "", parts.port or 8765

    @work(exclusive=True, group="addresses")
    async def find_room_addresses(self, port: int) -> None:
        """Offer the room only the network addresses the server answers on: a server bound to
        127.0.0.1 is not reachable from the room, whatever this machine's addresses are."""
        self.addresses = await reachable(join_addresses(), port)
        if self.view:
            self.show(self.view)

    @work(exclusive=True, group="link")
    async def run_link(self) -> None:
        self.link = Link(
            self.url,
            "/v1/projector",
            token=self.token,
            on_message=lambda m: self.post_message(ServerMessage(m)),
            on_state=lambda s, r: self.post_message(ConnectionChanged(s, r)),
        )
        await self.link.run()

    def on_connection_changed(self, event: ConnectionChanged) -> None:
        self.connection = event.state
        text = {"connected": "", "reconnecting": "reconnecting…", "closed": event.reason or "disconnected"}.get(event.state, "")
        for status in self.screen.query("#room-status").results(Static):
            status.update(Text(text, style="yellow"))

    def on_server_message(self, event: ServerMessage) -> None:
        message = event.message
        if message.get("type") == "projector_view":
            self.show(message["view"])
        elif message.get("type") == "clock" and self.view:
            self.view["session"].update(message["session"])
            self.show(self.view)

    def show(self, view: dict[str, Any]) -> None:
        self.view = view
        story = view.get("story")
        if story is not None:
            if not isinstance(self.screen, StoryScreen) or self.screen.story != story:
                page = self.screen.query_one(StoryView).page if isinstance(self.screen, StoryScreen) else 0
                if isinstance(self.screen, StoryScreen):
                    self.pop_screen()
                screen = StoryScreen(story)
                self.push_screen(screen)
                self.call_after_refresh(lambda: setattr(screen.query_one(StoryView), "page", page))
            return
        if isinstance(self.screen, StoryScreen):
            self.pop_screen()
        if isinstance(self.screen, RoomScreen):
            code = view["session"]["code"]
            lines = [f"crossroads join {a} --code {code}" for a in self.join] or room_join_line(self.url, code, self.addresses)
            self.screen.show(view, lines)

    async def action_quit(self) -> None:
        if self.link is not None:
            await self.link.stop()
        self.exit()
