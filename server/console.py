"""The facilitator's and the projector's side of the server: their connection loops, and the
sessions a facilitator creates, lists, opens and deletes. A part of :class:`server.hub.Hub`,
kept apart so that each file holds one job.
"""

from __future__ import annotations

import logging
import secrets

from websockets.asyncio.server import ServerConnection

from game.core import messages
from game.core.loader import DeckError, load_deck_text
from game.core.protocol import (
    FACILITATOR_MESSAGES,
    MAX_DECK_UPLOAD,
    CreateSession,
    DeleteSession,
    ListSessions,
    OpenSession,
    Ping,
)
from game.core.session import (
    FACILITATOR,
    Refused,
    create_session,
    projector_view,
)
from game.core.session.setup import org_patterns
from game.deckfiles import bundled_decks
from server.commit import STORAGE_FAULT
from server.live import LiveSession
from server.ratelimit import RateLimit

log = logging.getLogger("crossroads.server")


class Console:
    """The facilitator and projector connections' loops, and the session catalogue, mixed into the hub."""

    def catalog(self) -> dict[str, messages.DeckSummary]:
        """What each bundled deck offers, so that a client can build ``create_session`` first."""
        if self._catalog is None:
            self._catalog = {}
            for name, path in sorted(bundled_decks().items()):
                try:
                    deck = load_deck_text(path.read_text(encoding="utf-8"), path.name)
                except (DeckError, OSError) as exc:
                    log.error("bundled deck %s does not load: %s", name, exc)
                    continue
                self._catalog[name] = {
                    "title": deck.deck.title,
                    "rounds": deck.deck.rounds,
                    "patterns": {p: pattern.label or p for p, pattern in deck.patterns.items()},
                    "default_pattern": deck.default_pattern,
                    "phases": {phase: int(getattr(deck.phases, phase) or 0) for phase in ("brief", "talk", "choose", "reveal", "timeout")},
                }
        return self._catalog

    def session_list(self) -> list[messages.SessionSummary]:
        return [live.summary() for live in self.live.values()]

    def open_for(self, ws: ServerConnection, live: LiveSession | None) -> None:
        """``ws`` now shows ``live``: its facilitator views and messages, and its commands go there."""
        before = self.fac_open.pop(ws, None)
        if before is not None:
            before.rooms.fac_conns.discard(ws)
        if live is not None:
            self.fac_open[ws] = live
            live.rooms.fac_conns.add(ws)

    def find(self, code: str) -> LiveSession:
        live = self.live.get(code.strip().upper())
        if live is None:
            known = ", ".join(self.live) or "none yet"
            raise Refused("no_session", f'no session has the code "{code[:12]}"; the sessions kept are: {known}')
        return live

    async def serve_projector(self, ws: ServerConnection, limit: RateLimit, code: str = "") -> None:
        """The room's screen: the projector view alone (no names, no messages, no metric before
        the debrief), sent again whenever it changes; it may only ping. It shows the session
        whose code it names, else the newest running one, else the next one created."""
        self.reply(ws, messages.welcome_projector())
        running = [live for live in self.live.values() if not live.ended]
        live = self.live.get(code) if code else (running[-1] if running else None)
        if live is None:
            self.waiting_projectors.add(ws)
        else:
            self.show_projector(ws, live)
        try:
            async for frame in ws:
                self.command(ws, frame, limit, {"ping": Ping})
        finally:
            self.waiting_projectors.discard(ws)
            for each in self.live.values():
                each.rooms.projector_conns.discard(ws)

    def show_projector(self, ws: ServerConnection, live: LiveSession) -> None:
        live.rooms.projector_conns.add(ws)
        self.reply(ws, messages.projector_view(projector_view(live.session)))

    async def serve_facilitator(self, ws: ServerConnection, limit: RateLimit) -> None:
        reply = self.reply
        running = [live for live in self.live.values() if not live.ended]
        opened = running[-1] if running else None
        self.open_for(ws, opened)
        reply(ws, messages.welcome_facilitator(self.catalog(), opened.code if opened else None, self.session_list()))
        if self.commits.broken:
            reply(ws, messages.notice("storage_fault", STORAGE_FAULT))
        if opened is not None:
            reply(ws, opened.rooms.facilitator_message(opened.session))
        async for frame in ws:
            received = self.command(ws, frame, limit, FACILITATOR_MESSAGES)
            if received is None:
                continue
            ref, command = received
            try:
                if isinstance(command, CreateSession | OpenSession):
                    live = await self.create(command) if isinstance(command, CreateSession) else self.find(command.code)
                    self.open_for(ws, live)
                    reply(ws, messages.ack_created(ref, command.TYPE, live.code, live.session.id))
                    reply(ws, live.rooms.facilitator_message(live.session))
                    continue
                if isinstance(command, ListSessions):
                    reply(ws, messages.ack_sessions(ref, command.TYPE, self.session_list()))
                    continue
                if isinstance(command, DeleteSession):
                    await self.delete(self.find(command.code))
                else:
                    live = self.fac_open.get(ws)
                    if live is None:
                        raise Refused("no_session", "no session is open here: create one, or open one of list_sessions by its code")
                    await self.submit(live, FACILITATOR, command)
            except Refused as refused:
                reply(ws, messages.error(refused.code, refused.message, ref))
                continue
            reply(ws, messages.ack(ref, command.TYPE))

    # -- sessions ---------------------------------------------------------------------------

    async def create(self, command: CreateSession) -> LiveSession:
        if self.commits.broken:
            raise Refused("unavailable", "the server cannot save to its disk right now; it retries by itself, try again in a moment")
        if command.deck_toml:
            if len(command.deck_toml.encode()) > MAX_DECK_UPLOAD:
                raise Refused("deck_invalid", f"an uploaded deck may be at most {MAX_DECK_UPLOAD // 1024} KiB")
            text, name = command.deck_toml, "uploaded deck"
        else:
            decks = bundled_decks()
            wanted = command.deck or "interlodge"
            if wanted not in decks:
                raise Refused("bad_field", f'no bundled deck "{wanted}"; there are {", ".join(sorted(decks))}')
            text, name = decks[wanted].read_text(encoding="utf-8"), f"{wanted}.toml"
        try:
            deck = load_deck_text(text, name)
        except DeckError as exc:
            raise Refused("deck_invalid", "\n".join(str(p) for p in exc.problems[:20])) from None
        patterns = org_patterns(command, deck)
        seed = command.seed if command.seed is not None else secrets.randbelow(2**31)
        session, event = create_session(
            secrets.token_hex(8), self.new_code(), deck, text, name, patterns, seed, command.bots, command.early_close
        )
        await self.commits.write(session.id, [event])
        live = self.add_live(session, [event])
        log.info("session %s created: deck %s, %d organisations", session.code, deck.id, len(patterns))
        return live

    def new_code(self) -> str:
        """A join code no kept session has (codes of ended sessions stay taken until deleted)."""
        for _ in range(100):
            code = self.code_factory()
            if code not in self.live:
                return code
        raise Refused("session_exists", "no free join code could be found; delete some ended sessions")

    async def delete(self, live: LiveSession) -> None:
        if not live.ended:
            raise Refused("wrong_phase", f"session {live.code} is still running; end it before deleting it")
        if self.commits.broken:
            raise Refused("unavailable", "the server cannot write to its disk right now; try again in a moment")
        await self.commits.write(live.session.id, [])  # its last events are on disk before it goes
        removed = self.journal.delete(live.session.id)
        for conn in list(live.rooms.fac_conns):
            self.open_for(conn, None)
        live.timer.cancel()
        self.live.pop(live.code, None)
        log.info("session %s deleted: %d journalled events removed", live.code, removed)

    # -- commands ---------------------------------------------------------------------------
