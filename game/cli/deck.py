"""``crossroads deck``: check, create, playtest, list and simulate scenario decks."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from game.core.bots import STRATEGIES
from game.core.deck import Deck
from game.core.loader import DeckError
from game.core.rulebook import Rulebook
from game.deckfiles import bundled_decks, load_deck, resolve_deck


def load_or_exit(name: str) -> Deck:
    """The deck NAME (a bundled deck or a file), or every problem on stderr and exit 1."""
    try:
        return load_deck(resolve_deck(name))
    except DeckError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        sys.exit(1)


@click.group()
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
    "--strategy",
    type=click.Choice(sorted(STRATEGIES)),
    default="adaptive",
    show_default=True,
    help="How the bots in the other seats choose, ask and grant.",
)
def deck_play(file: str, group: str | None, from_round: int, seed: int, strategy: str) -> None:
    """Playtest FILE alone in the terminal app, with bots in the other seats.

    Saving the file reloads the deck and restarts at the current round; a save that does
    not load shows its problems, located, and the game goes on with the last good version.
    """
    from game.local.playtest import PlaytestHost
    from game.tui.participant.app import ParticipantApp

    loaded = load_or_exit(file)
    if from_round > loaded.deck.rounds:
        raise click.BadParameter(f"this deck has {loaded.deck.rounds} rounds", param_hint="--from-round")
    ParticipantApp(local=PlaytestHost(resolve_deck(file), group or "", from_round, seed, strategy)).run()


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

    loaded = load_or_exit(file)
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
