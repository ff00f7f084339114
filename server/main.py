"""``crossroads server``: the headless session server."""

from __future__ import annotations

import asyncio
import logging
import resource
import signal
import ssl
from pathlib import Path
from typing import Any

from server.hub import Hub


def raise_file_limit() -> int:
    """Allow as many open sockets as the system lets this process have."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = 1 << 20
    if soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            return hard
        except (ValueError, OSError):
            return soft
    return soft


async def run_server(
    host: str, port: int, data_dir: Path, certfile: str | None, keyfile: str | None, announce=print, **options: Any
) -> None:
    context = None
    if certfile:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certfile, keyfile)
    hub = Hub(data_dir, **options)
    await hub.start(host, port, ssl=context)
    scheme = "wss" if context else "ws"
    announce(f"Crossroads server listening on {scheme}://{host}:{hub.port}")
    announce(f"Facilitator secret: {hub.secret_path}")
    announce(f"Journal: {hub.journal.path}")
    for code, session in hub.sessions.items():
        state = "ended" if session.phase == "ended" else f"phase {session.phase}, round {session.round}"
        announce(f"Resumed session {code} ({session.deck.deck.title}), {state}")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    announce("Shutting down; the journal is complete.")
    await hub.close()


def configure_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(asctime)s %(name)s: %(message)s")
    # websockets logs every rejected handshake; our own log says what matters
    logging.getLogger("websockets").setLevel(logging.ERROR)
    logging.getLogger("crossroads").setLevel(logging.INFO)
