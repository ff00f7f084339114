"""``crossroads join``: the participant's app.

Screens: join (server, code, name), then the play screen whose main pane follows the
phase (lobby, brief, talk, choose, reveal, time-out, debrief), with the conversation beside
it and the status bar above. The network lives in a :class:`~game.client.link.Link` run as
a worker; it posts messages to the app, and the app sets attributes on its screens.

``crossroads demo`` and ``deck play`` inject a :class:`~game.tui.shared.host.LocalGame`:
it provides the deck and the seat, and plays the facilitator when the player presses Ctrl+N.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import App
from textual.binding import Binding
from textual.reactive import reactive

from game.client.link import ENDED, REMOVED, Link, NotConnected, RequestRefused
from game.client.seats import SeatStore
from game.tui.participant.messages import Answered, Asked, Chosen, GroupPicked, Joined, Said
from game.tui.participant.panes import Conversation
from game.tui.participant.screens import DeckProblemsScreen, DemoStartScreen, JoinScreen, PlayScreen
from game.tui.participant.status import PhaseBar
from game.tui.shared.help import HelpScreen
from game.tui.shared.host import LocalGame, Playtest
from game.tui.shared.messages import ConnectionChanged, ServerMessage

HELP = Path(__file__).resolve().parent / "help.md"


def notice_text(notice: dict[str, Any]) -> str:
    """What an inject notice says to the room: that it landed, or that it will."""
    if notice.get("status") == "landed":
        when = "It has landed"
    else:
        when = f"It lands when round {notice['round']} is resolved" if notice.get("round") else "It lands when this round is resolved"
    text = f"{notice.get('label', '')}. {notice.get('text', '')}".strip(". ")
    return f"{text}. {when}."


class ParticipantApp(App[None]):
    """The participant's terminal app."""

    TITLE = "Crossroads"
    CSS_PATH = "participant.tcss"
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("f1", "help", "Help", show=False),
    ]

    view: reactive[dict[str, Any]] = reactive(dict, always_update=True)
    you: reactive[dict[str, Any]] = reactive(dict, always_update=True)

    def __init__(
        self,
        url: str = "",
        code: str = "",
        name: str = "",
        *,
        store: SeatStore | None = None,
        token: str = "",
        local: LocalGame | None = None,
        join_now: bool = False,
    ) -> None:
        super().__init__()
        self.join_now = join_now  # the code and name came with the command: join without a keypress
        self.store = store or SeatStore()
        last_url, last_name = self.store.last()
        self.url, self.code, self.player_name = url or last_url, code, name or last_name
        self.token = token
        self.local = local
        self.link: Link | None = None
        self.messages: list[dict[str, Any]] = []
        self.told: set[str] = set()  # notices already shown
        # a choice or answer made while the link is down is kept and sent on reconnect
        self.unsent: dict[str, dict[str, Any]] = {}
        self.connection_log: list[tuple[str, str]] = []

    def on_mount(self) -> None:
        if self.local is not None:
            if self.local.group:
                self.push_screen(PlayScreen(can_advance=True))
                self.start_local(self.local.group, self.local.deck.default_pattern)
            else:
                self.push_screen(DemoStartScreen(self.local.deck))
            if isinstance(self.local, Playtest):
                self.set_interval(1.0, self.check_reload)
            return
        seat = self.store.seat(self.url) if self.url else None
        if self.token:
            self.play(self.url, self.token)
        elif seat and (not self.code or seat.get("code", "").upper() == self.code.upper()):
            self.play(self.url, seat["token"])
        else:
            join_now = self.join_now and bool(self.url and self.code and self.player_name)
            self.push_screen(JoinScreen(self.url, self.code, self.player_name, device=self.store.device(), join_now=join_now))

    def play(self, url: str, token: str) -> None:
        """Open the seat connection and show the play screen."""
        self.url, self.token = url, token
        if not isinstance(self.screen, PlayScreen):
            screen = PlayScreen(can_advance=self.local is not None)
            if isinstance(self.screen, JoinScreen | DemoStartScreen):
                self.switch_screen(screen)
            else:
                self.push_screen(screen)
        self.run_link(url, token)

    @on(Joined)
    def joined(self, event: Joined) -> None:
        self.store.remember(event.url, event.name, event.code, event.seat, event.token)
        self.code, self.player_name = event.code, event.name  # what the join screen shows if the seat is lost
        self.play(event.url, event.token)

    @work(exclusive=True, group="link")
    async def run_link(self, url: str, token: str) -> None:
        self.link = Link(
            url,
            "/v1/seat",
            token=token,
            on_message=lambda m: self.post_message(ServerMessage(m)),
            on_state=lambda s, r: self.post_message(ConnectionChanged(s, r)),
        )
        await self.link.run()

    def on_server_message(self, event: ServerMessage) -> None:
        message = event.message
        kind = message.get("type")
        if kind == "view":
            self.view = message["view"]
            self.messages = list(self.view.get("messages", []))
            for notice in self.view.get("notices", []):
                self.tell_once(f"{notice['id']}/{notice['status']}", notice_text(notice))
            if isinstance(self.screen, PlayScreen):
                self.screen.query_one(Conversation).show_history(self.messages, self.view["groups"], self.you.get("seat"))
        elif kind == "you" or (kind == "ack" and "you" in message):
            self.you = message["you"]
            if self.you.get("note"):
                self.tell_once("seat/" + self.you["note"], self.you["note"], severity="warning")
        elif kind == "clock" and self.view:
            self.view["session"].update(message["session"])
            self.view = self.view
        elif kind == "progress" and self.view:
            self.view["progress"] = {"chosen": message["chosen"], "of": message["of"]}
        elif kind == "notice":  # the server is paused for a storage fault, or goes on again
            self.notify(
                message.get("message", ""), severity="error" if message.get("code") == "storage_fault" else "information", timeout=15
            )
        elif kind == "message" and self.view and isinstance(self.screen, PlayScreen):
            self.messages.append(message["message"])
            self.screen.query_one(Conversation).add(message["message"], self.view["groups"], self.you.get("seat"))

    def tell_once(self, key: str, text: str, severity: str = "information") -> None:
        """A notice from the view, shown once however often the view comes again."""
        if text and key not in self.told:
            self.told.add(key)
            self.notify(text, severity=severity, timeout=12, markup=False)  # type: ignore[arg-type]

    def on_connection_changed(self, event: ConnectionChanged) -> None:
        self.connection_log.append((event.state, event.reason))
        if event.state == "connected" and self.unsent:
            waiting, self.unsent = self.unsent, {}
            for message in waiting.values():
                self.request_in_background(message)
        ended = event.state == "closed" and event.reason == ENDED
        if isinstance(self.screen, PlayScreen):
            self.screen.query_one(PhaseBar).connection = ("ended" if ended else event.state, event.reason)
        if event.state == "reconnecting":
            self.notify("Connection lost; reconnecting by itself…", severity="warning", timeout=3)
        elif event.state == "connected" and self.view:
            self.notify("Connected again.", timeout=2)
        elif event.state == "closed" and event.reason:
            # a revoked token or a removal: the seat is gone, so back to the join screen with the reason
            if ("token" in event.reason or event.reason == REMOVED) and self.local is None:
                self.store.forget(self.url)
                self.switch_screen(JoinScreen(self.url, self.code, self.player_name, notice=event.reason, device=self.store.device()))
            else:
                text = event.reason + (" Thank you for playing." if ended else "")
                self.notify(text, severity="information" if ended else "error", timeout=10)

    def _refresh(self) -> None:
        if self.view and isinstance(self.screen, PlayScreen):
            self.screen.show(self.view, self.you)

    def watch_view(self) -> None:
        self._refresh()
        self.refresh_bindings()

    def watch_you(self) -> None:
        self._refresh()

    async def _send(self, message: dict[str, Any]) -> dict[str, Any] | None:
        if self.link is None:
            return None
        try:
            return await self.link.request(message)
        except RequestRefused as exc:
            self.notify(exc.message, severity="error", timeout=5, markup=False)
        except (NotConnected, TimeoutError):
            if message["type"] in ("choose", "answer", "request"):
                key = message["type"] + str(message.get("prompt", message.get("to", "")))
                self.unsent[key] = message
                self.notify("Not connected right now; it will be sent as soon as the connection is back.", severity="warning")
            else:
                self.notify("Not connected right now; try again in a moment.", severity="warning")
        return None

    # Requests run in workers: a message handler that awaited the server's answer would hold
    # up every key press and view update behind it while the answer is on its way.

    @on(Chosen)
    def choose(self, event: Chosen) -> None:
        self.request_in_background({"type": "choose", "round": event.round, "option": event.option})

    @on(Said)
    def say(self, event: Said) -> None:
        self.request_in_background({"type": "say", "to": event.to, "text": event.text})

    @on(Asked)
    def ask(self, event: Asked) -> None:
        done = "Request sent." if event.option else "Request withdrawn."
        self.request_in_background({"type": "request", "round": event.round, "to": event.to, "option": event.option}, done=done)

    @on(Answered)
    def answer(self, event: Answered) -> None:
        self.request_in_background({"type": "answer", "prompt": event.prompt, "text": event.text})

    @work(group="requests")
    async def request_in_background(self, message: dict[str, Any], done: str = "") -> None:
        if await self._send(message) and done:
            self.notify(done, timeout=2)

    @on(GroupPicked)
    def group_picked(self, event: GroupPicked) -> None:
        self.start_local(event.group, event.pattern)

    @work(exclusive=True, group="local")
    async def start_local(self, group: str, pattern: str) -> None:
        assert self.local is not None
        url, token = await self.local.start(group, pattern)
        self.play(url, token)
        await self.local.begin()

    async def check_reload(self) -> None:
        """Playtest: reload the deck when its file is saved."""
        playtest = self.local
        if not isinstance(playtest, Playtest) or not playtest.changed():
            return
        restarted = await playtest.reload()
        if restarted is None:
            if isinstance(self.screen, DeckProblemsScreen):
                self.pop_screen()
            self.push_screen(DeckProblemsScreen(playtest.problems))
            return
        if isinstance(self.screen, DeckProblemsScreen):
            self.pop_screen()
        self.play(*restarted)
        self.notify(f"Deck reloaded; playing from round {playtest.from_round}.", timeout=4)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "next":
            phase = self.view.get("session", {}).get("phase") if self.view else None
            return self.local is not None and phase in ("lobby", "brief", "talk", "reveal", "timeout")
        return True

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(HELP))

    async def action_next(self) -> None:
        """Demo and playtest only: move on (the local game plays the facilitator)."""
        if self.local is not None:
            await self.local.next_phase(self.view.get("session", {}).get("phase", ""))

    async def action_quit(self) -> None:
        if self.link is not None:
            await self.link.stop()
        if self.local is not None:
            await self.local.close()
        self.exit()
