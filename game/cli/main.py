"""The ``crossroads`` command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from game.core.bots import STRATEGIES, get_strategy
from game.core.deck import Deck
from game.core.engine import Rulebook
from game.core.loader import DeckError
from game.deckfiles import bundled_decks, load_deck, resolve_deck


def _load_or_exit(name: str) -> Deck:
    try:
        return load_deck(resolve_deck(name))
    except DeckError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        sys.exit(1)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="crossroads")
def main() -> None:
    """Crossroads: a facilitated workshop game about who listens to whom in an organisation.

    Tops, Middles, Bottoms and Customers play a scenario deck; the rules engine explains
    how special treatment, considerateness and interaction patterns changed the outcome.
    """


@main.command()
@click.argument("deck", default="interlodge")
@click.option("--seed", default=1, show_default=True, help="Seed for cards and bots.")
@click.option("--text", "as_text", is_flag=True, help="Print a whole bot game as text instead of playing.")
@click.option("--pattern", default="", help="With --text: the interaction pattern (default: the deck's default).")
@click.option("--strategy", type=click.Choice(sorted(STRATEGIES)), default="greedy", show_default=True, help="How the bots choose.")
def demo(deck: str, seed: int, as_text: bool, pattern: str, strategy: str) -> None:
    """Play DECK (a bundled deck name or a file) in this terminal, with nothing to set up.

    A server runs inside the app; you play one group, bots play the others, the choose
    phase ends as soon as you have chosen, and you move on with n. The game ends in the
    debrief. With --text, bots play every group and the game is told round by round.
    """
    loaded = _load_or_exit(deck)
    if as_text:
        from game.cli.textplay import tell_game

        if pattern and pattern not in loaded.patterns:
            raise click.BadParameter(f'unknown pattern "{pattern}"; this deck has {", ".join(loaded.patterns)}', param_hint="--pattern")
        tell_game(Rulebook(loaded), seed, pattern or loaded.default_pattern, get_strategy(strategy), click.echo)
        return
    from game.local.host import DemoHost
    from game.tui.participant import ParticipantApp

    ParticipantApp(demo=DemoHost(deck, seed=seed, bots=strategy)).run()


@main.command()
@click.argument("url", default="")
@click.option("--code", default="", help="The join code on the facilitator's screen.")
@click.option("--name", default="", help="Your name, as others will see it.")
def join(url: str, code: str, name: str) -> None:
    """Join a session at URL (such as 192.168.1.20:8765) as a participant.

    Remembers the last server and name; the seat token is kept in your user data folder,
    so running the command again goes straight back to your seat.
    """
    from game.tui.participant import ParticipantApp

    ParticipantApp(url, code, name).run()


@main.group()
def deck() -> None:
    """Check, simulate and list scenario decks."""


@deck.command("check")
@click.argument("files", nargs=-1, required=True)
@click.option("--strict", is_flag=True, help="Treat warnings as errors (exit 1 when there is one).")
def deck_check(files: tuple[str, ...], strict: bool) -> None:
    """Check deck FILES; print every problem as FILE:LINE:COL: message.

    Also warns, as FILE:LINE:COL: warning: ..., about what misleads a trainer: a rule that
    fires on the pattern alone (a decree), a condition that can never hold, a channel read
    that nothing ever opens, an option with no effect that no rule reads, a claim whose
    lever nothing carries (see docs/decks.md). Exits 0 when every deck is valid (warnings
    included), 1 otherwise; with --strict a warning counts as a problem.
    """
    from game.core.deckcheck import deck_warnings

    failed = 0
    for name in files:
        try:
            loaded = load_deck(resolve_deck(name))
        except DeckError as exc:
            failed += 1
            for problem in exc.problems:
                click.echo(str(problem))
            continue
        warnings = deck_warnings(loaded, resolve_deck(name).read_text(encoding="utf-8"), name)
        for problem in warnings:
            click.echo(str(problem))
        failed += bool(strict and warnings)
        noted = f", {len(warnings)} warning{'s' if len(warnings) != 1 else ''}" if warnings else ""
        click.echo(
            f"{name}: ok - {loaded.deck.title} ({loaded.deck.rounds} rounds, {len(loaded.cards)} cards, {len(loaded.rules)} rules{noted})"
        )
    sys.exit(1 if failed else 0)


@deck.command("new")
@click.argument("name")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def deck_new(name: str, force: bool) -> None:
    """Write NAME.toml: a valid, commented starting deck to edit."""
    import re

    path = Path(name if name.endswith(".toml") else f"{name}.toml")
    if path.exists() and not force:
        raise click.UsageError(f"{path} exists already; pick another name or pass --force")
    ident = re.sub(r"[^A-Za-z0-9_.-]+", "_", path.stem).strip("_") or "my_deck"
    title = path.stem.replace("_", " ").replace("-", " ").strip().capitalize() or "My deck"
    template = (Path(__file__).resolve().parent / "deck_template.toml").read_text(encoding="utf-8")
    import shlex

    quoted = shlex.quote(str(path))
    path.write_text(template.replace("{id}", ident).replace("{title}", title).replace("{file}", quoted), encoding="utf-8")
    click.echo(f"wrote {path}; check it with: crossroads deck check {quoted}")


@deck.command("play")
@click.argument("file")
@click.option(
    "--group",
    type=click.Choice(["top", "middle", "bottom", "customer"]),
    default=None,
    help="The group you play (default: pick on the first screen).",
)
@click.option(
    "--from-round", "from_round", default=1, show_default=True, type=click.IntRange(1, 50), help="Bots play the rounds before this one."
)
@click.option("--seed", default=1, show_default=True, help="Seed for cards and bots.")
@click.option(
    "--strategy", type=click.Choice(sorted(STRATEGIES)), default="greedy", show_default=True, help="How the bots in the other seats choose."
)
def deck_play(file: str, group: str | None, from_round: int, seed: int, strategy: str) -> None:
    """Playtest FILE alone in the terminal app, with bots in the other seats.

    Saving the file reloads the deck and restarts at the current round; a save that does
    not load shows its problems, located, and the game goes on with the last good version.
    """
    from game.local.host import PlaytestHost
    from game.tui.participant import ParticipantApp

    loaded = _load_or_exit(file)
    if from_round > loaded.deck.rounds:
        raise click.BadParameter(f"this deck has {loaded.deck.rounds} rounds", param_hint="--from-round")
    ParticipantApp(demo=PlaytestHost(resolve_deck(file), group or "", from_round, seed, strategy)).run()


@deck.command("list")
def deck_list() -> None:
    """List the bundled decks."""
    for name, path in bundled_decks().items():
        try:
            loaded = load_deck(path)
            click.echo(f"{name:<20} {loaded.deck.title}")
        except DeckError:
            click.echo(f"{name:<20} (does not load: run crossroads deck check {path})")


@deck.command("simulate")
@click.argument("file")
@click.option("--runs", default=1000, show_default=True, type=click.IntRange(1, 1_000_000), help="Games per pattern.")
@click.option("--seed", default=0, show_default=True, help="Seed of the first game; game k uses seed + k.")
@click.option(
    "--strategy",
    type=click.Choice(sorted(STRATEGIES)),
    default=None,
    help="Bot strategy for every seat (default: the deck's claim strategy, else random).",
)
@click.option("--pattern", "pattern", default="all", show_default=True, help="A pattern name, or all.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document (see docs/simulate.md).")
@click.option("--search-seeds", default=3, show_default=True, type=click.IntRange(0, 1000), help="Seeds of the best/worst play search.")
@click.option("--beam", default=5, show_default=True, type=click.IntRange(1, 1000), help="Beam width of the best/worst play search.")
def deck_simulate(file: str, runs: int, seed: int, strategy: str | None, pattern: str, as_json: bool, search_seeds: int, beam: int) -> None:
    """Play FILE many times with bots and report what it teaches.

    Per pattern: final metrics (mean, p10, p90), change by lever, how often each rule
    fired, rules that never fired, options no bot picked; then dominant options and,
    when the deck states a [claim], whether it holds and the agency block: the claim under
    every strategy, the adaptive gap split into behaviour, structure and decrees, best and
    worst achievable play, decisions whose best option depends on the pattern, and a
    histogram of the claim score per pattern (see docs/simulate.md).
    """
    from game.cli.textplay import format_simulation
    from game.core.simulate import planned_games, simulate

    loaded = _load_or_exit(file)
    if pattern != "all" and pattern not in loaded.patterns:
        raise click.BadParameter(
            f'unknown pattern "{pattern}"; this deck has {", ".join(loaded.patterns)} (or all)', param_hint="--pattern"
        )
    patterns = list(loaded.patterns) if pattern == "all" else [pattern]
    strategy = strategy or (loaded.claim.strategy if loaded.claim else "random")
    book = Rulebook(loaded)
    total = planned_games(book, runs=runs, strategy=strategy, patterns=patterns)
    show = sys.stderr.isatty() and total >= 200
    with click.progressbar(length=total, label="simulating", file=sys.stderr if show else _Null()) as bar:
        report = simulate(
            book, runs=runs, seed=seed, strategy=strategy, patterns=patterns, progress=bar.update, search_seeds=search_seeds, beam=beam
        )
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        click.echo(format_simulation(book, report))


class _Null:
    """A silent stream for the progress bar when stderr is not a terminal."""

    def write(self, _: str) -> int:
        return 0

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def default_data_dir() -> str:
    import platformdirs

    return str(platformdirs.user_data_path("crossroads") / "server")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0 for every interface).")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535), help="Port (0 picks a free one).")
@click.option("--data", "data_dir", default=None, help="Folder for the journal and the facilitator secret [default: the user data folder].")
@click.option("--certfile", default=None, type=click.Path(exists=True, dir_okay=False), help="TLS certificate (PEM) for wss://.")
@click.option("--keyfile", default=None, type=click.Path(exists=True, dir_okay=False), help="TLS private key (PEM).")
@click.option("--quiet", is_flag=True, help="Log only warnings.")
def server(host: str, port: int, data_dir: str | None, certfile: str | None, keyfile: str | None, quiet: bool) -> None:
    """Run the headless session server.

    Prints its address and the file that holds the facilitator secret. Every accepted
    input is journalled to SQLite before it is acknowledged; after a crash, start it again
    with the same --data and every session, seat and timer comes back.
    """
    import asyncio

    from server.main import configure_logging, raise_file_limit, run_server

    if keyfile and not certfile:
        raise click.BadParameter("--keyfile needs --certfile", param_hint="--keyfile")
    configure_logging(not quiet)
    raise_file_limit()
    asyncio.run(run_server(host, port, Path(data_dir or default_data_dir()), certfile, keyfile, click.echo))


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
    loaded = _load_or_exit(deck)
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


@main.command()
@session_options("interlodge")
@click.option("--host", "bind", default="0.0.0.0", show_default=True, help="Address to listen on.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535), help="Port participants connect to.")
@click.option("--data", "data_dir", default=None, help="Folder for the journal and the facilitator secret [default: the user data folder].")
def host(deck: str, orgs: int, patterns: str, seed: int | None, bind: str, port: int, data_dir: str | None) -> None:
    """Host a session of DECK: the server runs in this process beside the facilitator console.

    Shows the join code and the address participants type. If the data folder holds a
    session that has not ended (after a crash, say), it is resumed instead.
    """
    from game.local.host import EmbeddedServer, lan_address
    from game.tui.facilitator import FacilitatorApp

    create = create_request(deck, orgs, patterns, seed)
    server = EmbeddedServer(Path(data_dir or default_data_dir()), bind, port)
    address = f"{lan_address() if bind in ('0.0.0.0', '') else bind}:{port}"
    FacilitatorApp("", "", join_address=address, create=create, embedded=server).run()


@main.command()
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

    from game.tui.facilitator import FacilitatorApp, read_secret

    create = create_request(deck, orgs, patterns, seed) if deck else None
    try:
        secret = read_secret(os.environ.get("CROSSROADS_SECRET", ""), secret_file or str(Path(default_data_dir()) / "facilitator.secret"))
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    FacilitatorApp(url, secret, create=create).run()


if __name__ == "__main__":  # pragma: no cover
    main()
