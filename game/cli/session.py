"""The commands that run a session: ``server``, ``host``, ``facilitate``, ``join`` and ``demo``.

The apps and the server are imported inside each command, so ``crossroads --help`` and the
deck commands start fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from game.cli.deck import load_or_exit
from game.core.bots import STRATEGIES, get_strategy
from game.core.rulebook import Rulebook
from game.deckfiles import bundled_decks, resolve_deck


@click.command()
@click.argument("deck", default="interlodge")
@click.option("--seed", default=1, show_default=True, help="Seed for cards and bots.")
@click.option("--text", "as_text", is_flag=True, help="Print a whole bot game as text instead of playing.")
@click.option("--pattern", default="", help="With --text: the interaction pattern (default: the deck's default).")
@click.option(
    "--strategy",
    type=click.Choice(sorted(STRATEGIES)),
    default="adaptive",
    show_default=True,
    help="How the bots choose, ask and grant (adaptive bots ask you for options and answer your requests).",
)
def demo(deck: str, seed: int, as_text: bool, pattern: str, strategy: str) -> None:
    """Play DECK (a bundled deck name or a file) in this terminal, with nothing to set up.

    A server runs inside the app; you play one group, bots play the others (by default
    adaptive bots, which ask your group for options and answer your requests), the choose
    phase ends as soon as you have chosen, and you move on with Ctrl+N. The game ends in
    the debrief. With --text, bots play every group and the game is told round by round.
    """
    loaded = load_or_exit(deck)
    if as_text:
        from game.cli.textplay import tell_game

        if pattern and pattern not in loaded.patterns:
            raise click.BadParameter(f'unknown pattern "{pattern}"; this deck has {", ".join(loaded.patterns)}', param_hint="--pattern")
        tell_game(Rulebook(loaded), seed, pattern or loaded.default_pattern, get_strategy(strategy), click.echo)
        return
    from game.local.demo import DemoHost
    from game.tui.participant.app import ParticipantApp

    ParticipantApp(local=DemoHost(deck, seed=seed, bots=strategy)).run()


@click.command()
@click.argument("url", default="")
@click.option("--code", default="", help="The join code on the facilitator's screen.")
@click.option("--name", default="", help="Your name, as others will see it.")
def join(url: str, code: str, name: str) -> None:
    """Join a session at URL (such as 192.168.1.20:8765) as a participant.

    With --code and --name it joins at once; otherwise it asks for what is missing.
    Remembers the last server and name; the seat token is kept in your user data folder,
    so running the command again goes straight back to your seat.
    """
    from game.tui.participant.app import ParticipantApp

    ParticipantApp(url, code, name, join_now=bool(code and name)).run()


def default_data_dir() -> str:
    import platformdirs

    return str(platformdirs.user_data_path("crossroads") / "server")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0 for every interface).")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535), help="Port (0 picks a free one).")
@click.option("--data", "data_dir", default=None, help="Folder for the journal and the facilitator secret [default: the user data folder].")
@click.option("--certfile", default=None, type=click.Path(exists=True, dir_okay=False), help="TLS certificate (PEM) for wss://.")
@click.option("--keyfile", default=None, type=click.Path(exists=True, dir_okay=False), help="TLS private key (PEM).")
@click.option("--quiet", is_flag=True, help="Log only warnings.")
@click.option(
    "--trusted-proxy",
    "trusted_proxies",
    multiple=True,
    metavar="ADDRESS",
    help="A reverse proxy (address or network, such as 10.0.0.0/8) whose X-Forwarded-For header names the client; repeatable. "
    "Without it the header is ignored.",
)
@click.option(
    "--failed-joins-per-minute", default=10, show_default=True, type=click.IntRange(1), help="Wrong join codes allowed per client address."
)
@click.option(
    "--pending-per-address",
    default=50,
    show_default=True,
    type=click.IntRange(1),
    help="Connections per client address open without having joined.",
)
@click.option(
    "--join-timeout",
    default=10.0,
    show_default=True,
    type=click.FloatRange(0.5),
    help="Seconds a /v1/join connection may stay open without joining.",
)
@click.option("--frame-rate", default=20.0, show_default=True, type=click.FloatRange(0.1), help="Messages per second per connection.")
@click.option("--frame-burst", default=40.0, show_default=True, type=click.FloatRange(1), help="Messages in a burst per connection.")
@click.option(
    "--slow-reader-seconds",
    default=10.0,
    show_default=True,
    type=click.FloatRange(0.1),
    help="A connection that cannot be written to for this long is dropped.",
)
def server(host: str, port: int, data_dir: str | None, certfile: str | None, keyfile: str | None, quiet: bool, **limits: Any) -> None:
    """Run the headless session server.

    Prints its address and the file that holds the facilitator secret. It keeps any number of
    sessions, each reached by its join code. Every accepted input is journalled to SQLite
    before it is acknowledged; after a crash, start it again with the same --data and every
    session, seat and timer comes back.
    """
    import asyncio

    from server.auth import parse_proxies
    from server.main import configure_logging, raise_file_limit, run_server

    if keyfile and not certfile:
        raise click.BadParameter("--keyfile needs --certfile", param_hint="--keyfile")
    try:
        parse_proxies(limits["trusted_proxies"])
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--trusted-proxy") from None
    limits["trusted_proxies"] = tuple(limits["trusted_proxies"])
    configure_logging(not quiet)
    raise_file_limit()
    asyncio.run(run_server(host, port, Path(data_dir or default_data_dir()), certfile, keyfile, click.echo, **limits))


def session_options(deck_default: str | None):
    """The options that describe a new session, shared by ``host`` and ``facilitate``."""

    def decorate(command):
        command = click.option("--seed", default=None, type=int, help="Seed for cards and bots (default: random).")(command)
        command = click.option(
            "--patterns", default="", help="Comma-separated patterns, cycled over the organisations (default: the deck's default)."
        )(command)
        command = click.option(
            "--orgs", default=1, show_default=True, type=click.IntRange(1, 100), help="Organisations playing side by side."
        )(command)
        return click.argument("deck", default=deck_default, required=False)(command)

    return decorate


def create_request(deck: str, orgs: int, patterns: str, seed: int | None) -> dict:
    """The ``create_session`` fields for DECK (a bundled name or a file), checked here first
    so that a typo is reported before anything starts."""
    loaded = load_or_exit(deck)
    wanted = [p.strip() for p in patterns.split(",") if p.strip()]
    for name in wanted:
        if name not in loaded.patterns:
            raise click.BadParameter(f'unknown pattern "{name}"; this deck has {", ".join(loaded.patterns)}', param_hint="--patterns")
    create: dict = {"orgs": orgs, "patterns": wanted, "seed": seed}
    if deck in bundled_decks():
        create["deck"] = deck
    else:
        create["deck_toml"] = resolve_deck(deck).read_text(encoding="utf-8")
    return create


@click.command()
@session_options("interlodge")
@click.option("--host", "bind", default="0.0.0.0", show_default=True, help="Address to listen on.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535), help="Port participants connect to.")
@click.option("--data", "data_dir", default=None, help="Folder for the journal and the facilitator secret [default: the user data folder].")
def host(deck: str, orgs: int, patterns: str, seed: int | None, bind: str, port: int, data_dir: str | None) -> None:
    """Host a session of DECK: the server runs in this process beside the facilitator console.

    Shows the join code and the address participants type. If the data folder holds a
    session that has not ended (after a crash, say), it is resumed instead.
    """
    from game.client.addresses import join_addresses
    from game.local.embedded import EmbeddedServer
    from game.tui.facilitator.app import FacilitatorApp

    create = create_request(deck, orgs, patterns, seed)
    server = EmbeddedServer(Path(data_dir or default_data_dir()), bind, port)
    # every address the room can reach this machine on; loopback alone gets a warning on the console
    hosts = (join_addresses() or ["127.0.0.1"]) if bind in ("0.0.0.0", "") else [bind]
    FacilitatorApp("", "", join_address=[f"{h}:{port}" for h in hosts], create=create, server=server).run()


@click.command()
@click.argument("url")
@session_options(None)
@click.option("--secret-file", default=None, help="File holding the facilitator secret [default: the local server's].")
def facilitate(url: str, deck: str | None, orgs: int, patterns: str, seed: int | None, secret_file: str | None) -> None:
    """Open the facilitator console against a running crossroads server at URL.

    With DECK (a bundled deck's name or a deck file), a new session of it starts when the
    server has none running; otherwise the console shows the session that is running.

    The secret is read from --secret-file, else from $CROSSROADS_SECRET, else from the
    local server's data folder.
    """
    import os

    from game.tui.facilitator.app import FacilitatorApp

    create = create_request(deck, orgs, patterns, seed) if deck else None
    try:
        secret = read_secret(os.environ.get("CROSSROADS_SECRET", ""), secret_file or str(Path(default_data_dir()) / "facilitator.secret"))
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    FacilitatorApp(url, secret, create=create).run()


def read_secret(secret: str, secret_file: str) -> str:
    """The facilitator secret as given, else read from ``secret_file``."""
    if secret:
        return secret
    path = Path(secret_file)
    try:
        return path.read_text().strip()
    except OSError as exc:
        raise ValueError(f"cannot read the facilitator secret from {path}: {exc.strerror}") from None
