"""The facilitator's console: ``crossroads host`` (server inside) and ``crossroads facilitate URL``.

One screen to run the room: the join code in large type, the roster of every organisation
and group, phase controls on keys, patterns and injects, a live chart of the metrics per
organisation and an event log; the debrief on its own screen. ``host`` injects a
:class:`~game.tui.shared.host.LocalServer`; the console then connects to it like any other.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import work
from textual.app import App
from textual.binding import Binding
from textual.widgets import RichLog

from game.client.link import Link, NotConnected, RequestRefused
from game.core.deck import GROUPS
from game.core.protocol import Inject, SetPattern
from game.core.session.phases import ALLOWED, wrong_phase
from game.tui.facilitator.debrief import export_archive
from game.tui.facilitator.dialogs import Confirm, Pick, PickAnswers
from game.tui.facilitator.screens import ConsoleScreen, DebriefScreen
from game.tui.shared.help import HelpScreen
from game.tui.shared.host import LocalServer
from game.tui.shared.messages import ConnectionChanged, ServerMessage
from game.tui.shared.text import PHASE_NAMES, SHORT_GROUPS, literal

HELP = Path(__file__).resolve().parent / "help.md"


class FacilitatorApp(App[None]):
    """The facilitator's console."""

    TITLE = "Crossroads - facilitator"
    CSS_PATH = "facilitator.tcss"
    SCREENS = {"console": ConsoleScreen}
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", priority=True)]

    def __init__(
        self,
        url: str,
        secret: str,
        *,
        join_address: str | list[str] = "",
        create: dict[str, Any] | None = None,
        server: LocalServer | None = None,
        clock: Callable[[], str] | None = None,
        export_dir: Path | None = None,
    ) -> None:
        super().__init__()
        self.url, self.secret = url, secret
        addresses = [join_address] if isinstance(join_address, str) else list(join_address)
        self.join_addresses = [a for a in addresses if a] or [url.removeprefix("ws://")]
        self.create = create
        self.server = server
        self.welcomed = False
        self.link: Link | None = None
        self.view: dict[str, Any] = {}
        self.seen_seats: dict[str, dict[str, Any]] = {}
        self.phase = ""
        self.events: list[Text] = []
        self.export_dir = export_dir
        self.clock = clock or (lambda: time.strftime("%H:%M:%S"))

    async def on_mount(self) -> None:
        self.push_screen("console")
        if self.server is not None:
            await self.server.start()
            self.url, self.secret = self.server.url, self.server.secret
        self.run_link()

    @work(exclusive=True, group="link")
    async def run_link(self) -> None:
        self.link = Link(
            self.url,
            "/v1/facilitator",
            token=self.secret,
            on_message=lambda m: self.post_message(ServerMessage(m)),
            on_state=lambda s, r: self.post_message(ConnectionChanged(s, r)),
        )
        await self.link.run()

    def log_line(self, text: str | Text, style: str = "") -> None:
        """Add to the event log; kept by the app so nothing is lost while a dialog is open."""
        stamp = self.clock()
        line = Text.assemble((stamp + "  ", "dim"), text if isinstance(text, Text) else Text(text, style=style))
        self.events.append(line)
        for screen in self.screen_stack:
            for log in screen.query("#log").results(RichLog):
                log.write(line)

    def on_connection_changed(self, event: ConnectionChanged) -> None:
        if event.state == "connected":
            self.log_line("Connected to the server.", "green")
        elif event.state == "reconnecting":
            self.log_line("Lost the server; reconnecting…", "yellow")
        elif event.state == "closed" and event.reason:
            self.log_line(event.reason, "red")
            self.notify(event.reason, severity="error", timeout=10)

    @work(group="requests")
    async def create_session(self, create: dict[str, Any]) -> None:
        try:
            await self.link.request({"type": "create_session", **create})  # type: ignore[union-attr]
        except RequestRefused as exc:
            self.log_line(f"Could not create the session: {exc.message}", "red")
        except (NotConnected, TimeoutError):
            self.log_line("Could not create the session: the server did not answer.", "red")

    def on_server_message(self, event: ServerMessage) -> None:
        message = event.message
        kind = message.get("type")
        if kind == "welcome":
            # the server says which session is running, once per connection: say so only once
            running = message.get("session")
            first, self.welcomed = not self.welcomed, True
            others = [s for s in message.get("sessions", []) if s["code"] != running]
            if first and others:
                listed = ", ".join(f"{s['code']} ({'ended' if s['phase'] == 'ended' else s['phase']}, {s['seats']} seats)" for s in others)
                self.log_line(f"Other sessions on this server: {listed}.", "dim")
                ended = [s["code"] for s in others if s["phase"] == "ended"]
                if ended and self.server is not None:
                    command = f"crossroads debrief {self.server.data_dir} --session {ended[-1]}"
                    self.log_line(f"To see an ended session's debrief: {command}", "dim")
            if running:
                if first and self.server is not None:
                    self.log_line(f"Resumed session {running} from the journal in {self.server.journal}.", "bold green")
                    self.create = None
                elif first and self.create:
                    self.log_line(f"Session {running} is already running on this server; this console shows it.", "yellow")
            elif self.create and not self.view:
                self.create_session(self.create)
            else:
                self.log_line(
                    f"No session is running on this server. Start one from here: crossroads facilitate {self.url} DECK --orgs N",
                    "yellow",
                )
        elif kind == "notice":  # the server is paused for a storage fault, or goes on again
            fault = message.get("code") == "storage_fault"
            self.log_line(message.get("message", ""), "bold red" if fault else "green")
            self.notify(message.get("message", ""), severity="error" if fault else "information", timeout=15)
        elif kind == "facilitator_view":
            self.show(message["view"])
        elif kind == "message":
            m = message["message"]
            said = (
                Text.assemble(("asks for “", "dim"), literal(m.get("label", "")), ("”", "dim"))
                if m.get("request")
                else (Text("withdraws a request", style="dim") if "request" in m else literal(m["text"]))
            )
            self.log_line(
                Text.assemble(
                    ("request " if "request" in m else "message ", "dim"),
                    f"org {m['org'] + 1} ",
                    literal(m["name"] or "a bot", "bold"),
                    (f" ({SHORT_GROUPS.get(m['from'], m['from'])} → {SHORT_GROUPS.get(m['to'], m['to'])}): ", "dim"),
                    said,
                )
            )

    def show(self, view: dict[str, Any]) -> None:
        previous, self.view = self.view, view
        session = view["session"]
        self.log_answers(previous, view)
        if not previous:
            self.log_line(Text.assemble(("Session ", "bold green"), (session["code"], "bold green"), ": ", literal(session["title"])))
        if session["phase"] != self.phase:
            self.phase = session["phase"]
            round_text = f", round {session['round']} of {session['rounds']}" if session["round"] else ""
            self.log_line(f"Phase: {PHASE_NAMES.get(session['phase'], session['phase'])}{round_text}", "bold")
        if not isinstance(self.screen, ConsoleScreen):
            return
        self.screen.show(view, self.join_addresses)
        for org in view["orgs"]:
            for seat in org["seats"]:
                before = self.seen_seats.get(seat["seat"])
                if before is None and previous:
                    self.log_line(
                        Text.assemble(literal(seat["name"], "bold"), f" joined: org {org['org'] + 1}, {SHORT_GROUPS[seat['group']]}")
                    )
                elif before and before["bot"] and not seat["bot"]:
                    self.log_line(Text.assemble(literal(seat["name"], "bold"), " took their seat back from the bot"), "yellow")
                elif before and before["connected"] and not seat["connected"]:
                    self.log_line(Text.assemble(literal(seat["name"], "bold"), " went offline"), "yellow")
                self.seen_seats[seat["seat"]] = seat

    def log_answers(self, previous: dict[str, Any], view: dict[str, Any]) -> None:
        """Each time-out answer as it arrives (or changes), with who wrote it and where."""
        before = {(a["seat"], a["round"], a["prompt"]): a["text"] for a in previous.get("answers", [])}
        for a in view.get("answers", []):
            if before.get((a["seat"], a["round"], a["prompt"])) != a["text"] and previous:
                count = view.get("answered", {})
                self.log_line(
                    Text.assemble(
                        ("answer ", "dim"),
                        f"org {a['org'] + 1} ",
                        literal(a["name"], "bold"),
                        (f" ({SHORT_GROUPS[a['group']]}, prompt {a['prompt'] + 1}): ", "dim"),
                        literal(a["text"]),
                        (f"  [{count.get('answered', 0)} of {count.get('of', 0)} answered]", "dim"),
                    )
                )

    def where(self, seat: dict[str, Any]) -> str:
        """Where a seat sits, as the log says it: "org 1, Bottoms"."""
        for org in self.view.get("orgs", []):
            if any(s["seat"] == seat["seat"] for s in org["seats"]):
                return f"org {org['org'] + 1}, {SHORT_GROUPS[seat['group']]}"
        return SHORT_GROUPS.get(seat.get("group", ""), "")

    # -- commands -------------------------------------------------------------------------

    async def send(self, message: dict[str, Any], done: str = "") -> bool:
        if self.link is None:
            return False
        try:
            await self.link.request(message)
        except RequestRefused as exc:
            self.notify(exc.message, severity="warning", timeout=6)
            self.log_line(exc.message, "yellow")
            return False
        except (NotConnected, TimeoutError):
            self.notify("Not connected to the server.", severity="error")
            return False
        if done:
            self.log_line(done)
        return True

    # Requests run in workers so that a slow answer never holds up keys or view updates.

    @work(group="requests")
    async def send_in_background(self, message: dict[str, Any], done: str = "") -> None:
        await self.send(message, done)

    def action_command(self, kind: str) -> None:
        messages = {
            "start": "Started.",
            "advance": "",
            "extend": "Added a minute.",
            "call_timeout": "Time-out called.",
            "botify_stalled": "Handed stalled seats to bots.",
        }
        message: dict[str, Any] = {"type": kind}
        if kind == "extend":
            message["seconds"] = 60
        done = messages.get(kind, "")
        if kind == "botify_stalled":
            stalled = [s for o in self.view.get("orgs", []) for s in o["seats"] if not s["bot"] and not s["chosen"]]
            names = "; ".join(f"{s['name']} ({self.where(s)})" for s in stalled)
            done = f"Handed to bots: {names}." if stalled else "Nobody was waiting to choose; no seat was handed to a bot."
        self.send_in_background(message, done)

    def action_pause(self) -> None:
        paused = self.view.get("session", {}).get("paused")
        self.send_in_background({"type": "resume" if paused else "pause"}, "Resumed." if paused else "Paused.")

    def action_lock(self) -> None:
        locked = self.view.get("session", {}).get("locked")
        self.send_in_background({"type": "unlock" if locked else "lock"}, "Lobby open." if locked else "Lobby locked.")

    def selected_seat(self) -> str | None:
        seat = self.screen.selected_seat() if isinstance(self.screen, ConsoleScreen) else None
        if seat is None:
            self.notify("Select a participant in the roster first (↑/↓).", severity="warning")
        return seat

    @work
    async def action_kick(self) -> None:
        seat = self.selected_seat()
        if not seat:
            return
        who = self.seen_seats[seat]
        question = f"Remove {who['name']} ({self.where(who)}) from the session? They cannot join again until you readmit them (r)."
        if await self.push_screen_wait(Confirm(question)):
            await self.send({"type": "kick", "seat": seat}, f"Removed {who['name']} ({self.where(who)}).")

    @work
    async def action_admit(self) -> None:
        removed = self.view.get("removed", [])
        if not removed:
            self.notify("Nobody has been removed from this session.")
            return
        picked = await self.push_screen_wait(
            Pick("Let back in (they join again with the code)…", [(r["seat"], r["name"]) for r in removed])
        )
        if picked:
            name = next(r["name"] for r in removed if r["seat"] == picked)
            await self.send({"type": "admit", "seat": picked}, f"{name} may join again with the code.")

    @work
    async def action_move(self) -> None:
        seat = self.selected_seat()
        if not seat:
            return
        choices = [(f"{i}:{g}", f"Organisation {i + 1}, {SHORT_GROUPS[g]}") for i in range(len(self.view["orgs"])) for g in GROUPS]
        picked = await self.push_screen_wait(Pick(f"Move {self.seen_seats[seat]['name']} to…", choices))
        if picked:
            org, group = picked.split(":")
            before = self.where(self.seen_seats[seat])
            await self.send(
                {"type": "move", "seat": seat, "org": int(org), "group": group},
                f"Moved {self.seen_seats[seat]['name']} from {before} to org {int(org) + 1}, {SHORT_GROUPS[group]}.",
            )

    def not_now(self, command: type) -> bool:
        """Say at once, before any dialog, when the phase does not allow ``command``."""
        phase = self.view["session"]["phase"]
        if command in ALLOWED[phase]:
            return False
        reason = wrong_phase(command, phase)
        self.notify(reason[0].upper() + reason[1:] + ".", severity="warning", timeout=6)
        return True

    @work
    async def action_pattern(self) -> None:
        if not self.view or self.not_now(SetPattern):
            return
        orgs = [(str(o["org"]), f"Organisation {o['org'] + 1} (now {self.view['patterns'][o['pattern']]})") for o in self.view["orgs"]]
        org = orgs[0][0] if len(orgs) == 1 else await self.push_screen_wait(Pick("Change the pattern of…", orgs))
        if org is None:
            return
        pattern = await self.push_screen_wait(Pick("Pattern from the next round on", list(self.view["patterns"].items())))
        if pattern:
            await self.send(
                {"type": "set_pattern", "org": int(org), "pattern": pattern},
                f"Organisation {int(org) + 1} now plays {self.view['patterns'][pattern]}.",
            )

    @work
    async def action_inject(self) -> None:
        if not self.view or self.not_now(Inject):
            return
        injects = self.view.get("injects", [])
        if not injects:
            self.notify("This deck has no injects.")
            return
        picked = await self.push_screen_wait(Pick("Fire an inject…", [(i["id"], i["label"]) for i in injects]))
        if not picked:
            return
        orgs = self.view["orgs"]
        targets = [("all", "Every organisation")] + [
            (str(o["org"]), f"Organisation {o['org'] + 1} ({self.view['patterns'][o['pattern']]})") for o in orgs
        ]
        target = "all" if len(orgs) == 1 else await self.push_screen_wait(Pick("…for which organisation?", targets))
        if not target:
            return
        preview = next((p for p in self.view.get("inject_previews", []) if p["id"] == picked), None)
        where = "every organisation" if target == "all" else f"organisation {int(target) + 1}"
        label = preview["label"] if preview else picked
        lines = [f"Fire “{label}” for {where}?"]
        if preview:
            if preview["text"]:
                lines.append(f"What {preview['told']} read: {preview['text']}")
            if preview["effects"]:
                lines.append("What it does at the next resolution: " + ", ".join(preview["effects"]))
            if preview["explain"]:
                lines.append(f"Why: {preview['explain']}")
        if await self.push_screen_wait(Confirm("\n".join(lines))):
            message: dict[str, Any] = {"type": "inject", "inject": picked}
            if target != "all":
                message["org"] = int(target)
            told = preview["told"] if preview else "everyone"
            await self.send(message, f"Inject “{label}” fired for {where}; {told} in it will see a notice.")

    def action_debrief(self) -> None:
        debrief = self.view.get("debrief")
        if not debrief:
            self.notify("The debrief opens after the last round.", severity="information")
            return
        self.push_screen(DebriefScreen(debrief))

    @work
    async def action_show_answers(self) -> None:
        archive = self.view.get("archive")
        if not archive or not archive["answers"]:
            self.notify("Nobody answered a time-out prompt in this session.")
            return
        shown = {a["key"] for a in archive["answers"] if a.get("shown")}
        picked = await self.push_screen_wait(PickAnswers(archive["answers"], shown, archive.get("answers_shown_with_names", False)))
        if picked is None:
            return
        keys, names = picked
        hide = sorted(shown - set(keys))
        if hide:
            await self.send({"type": "show_answers", "answers": hide, "shown": False, "names": names})
        ok = await self.send({"type": "show_answers", "answers": sorted(keys), "shown": True, "names": names})
        if ok:
            self.log_line(f"The room now sees {len(keys)} answers, {'with' if names else 'without'} names.")
            self.reopen_debrief()

    def reopen_debrief(self) -> None:
        """Show the debrief again once the view that follows the change has arrived."""

        def again() -> None:
            if isinstance(self.screen, DebriefScreen) and self.view.get("debrief"):
                self.pop_screen()
                self.push_screen(DebriefScreen(self.view["debrief"]))

        self.set_timer(0.6, again)

    def action_export(self) -> None:
        archive = self.view.get("archive")
        if not archive:
            self.notify("The export is ready once the debrief opens.")
            return
        target = export_archive(archive, self.view["session"]["code"], self.export_dir)
        self.notify(f"Exported to {target}", timeout=8)
        self.log_line(f"Exported the debrief to {target} (report.md, charts/, CSV files, session.json).", "green")

    @work
    async def action_end(self) -> None:
        if await self.push_screen_wait(Confirm("End the session for everyone?")):
            await self.send({"type": "end"}, "Session ended.")

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(HELP))

    @work(exclusive=True, group="quit")
    async def action_quit(self) -> None:
        online = sum(1 for o in (self.view or {}).get("orgs", []) for s in o["seats"] if s["connected"])
        running = self.view and self.view["session"]["phase"] != "ended"
        if self.server is not None and running and online and not isinstance(self.screen, Confirm):
            # this console is the server: quitting drops everyone, so ask first
            people = "1 participant" if online == 1 else f"{online} participants"
            question = (
                f"Quit and stop the server? {people} lose their connection until you run the same host "
                "command again; nothing is lost, the session resumes from its journal."
            )
            if not await self.push_screen_wait(Confirm(question)):
                return
        await self.close_and_exit()

    async def close_and_exit(self) -> None:
        if self.link is not None:
            await self.link.stop()
        if self.server is not None:
            await self.server.close()
        self.exit()
