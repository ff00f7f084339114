"""The commands that read a finished session back from a journal: ``export`` and ``debrief``,
and the room's screen, ``project``."""

from __future__ import annotations

from pathlib import Path

import click


def _session(data_dir: str, code: str):
    from game.local.archive import NoSession, read_session

    try:
        return read_session(Path(data_dir), code)
    except NoSession as exc:
        raise click.ClickException(str(exc)) from None


@click.command()
@click.argument("data_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--session", "code", default="", help="The session's join code (default: the latest session in the journal).")
@click.option("--out", default="", help="Folder to write into [default: crossroads-CODE in the current folder].")
@click.option("--no-texts", is_flag=True, help="Count messages and answers, but leave out their words and the names of their authors.")
def export(data_dir: str, code: str, out: str, no_texts: bool) -> None:
    """Export a session from the journal in DATA_DIR (the folder given to --data).

    Replays the journal and writes a Markdown report with chart images (SVG), CSV files per
    round, organisation and group, and one JSON document. Files holding participants' words
    are readable by you alone. See docs/exports.md.
    """
    from game.core.session import facilitator_view
    from game.report import report_files, write_report

    session = _session(data_dir, code)
    view = facilitator_view(session)
    if "archive" not in view:
        from game.core.session.debrief import debrief
        from game.core.story import archive

        view["archive"] = archive(session, debrief(session))  # an unfinished session: its story so far
    target = Path(out or f"crossroads-{session.code}")
    written = write_report(target, report_files(view["archive"], texts=not no_texts, code=session.code))
    played = view["archive"]["rounds_played"]
    click.echo(f"Session {session.code} ({session.deck.deck.title}), {played} of {session.rounds} rounds, phase {session.phase}.")
    click.echo(f"Wrote {len(written)} files to {target}/: report.md, charts/*.svg, *.csv and session.json.")


@click.command()
@click.argument("data_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--session", "code", default="", help="The session's join code (default: the latest session in the journal).")
def debrief(data_dir: str, code: str) -> None:
    """Open the debrief of a session from the journal in DATA_DIR, read-only.

    Nothing is sent to anyone and nothing changes in the journal; press x in the debrief to
    export it.
    """
    from game.core.session.debrief import debrief as summarise
    from game.core.story import archive
    from game.tui.facilitator.debrief import DebriefApp

    session = _session(data_dir, code)
    summary = summarise(session)
    DebriefApp(summary, archive(session, summary), code=session.code).run()


@click.command()
@click.argument("url")
@click.option(
    "--token-file", default=None, help="File holding the projector token (or the facilitator secret) [default: the local server's]."
)
@click.option("--join", "join_at", multiple=True, help="The address the room types (HOST:PORT), if not URL's; may be repeated.")
def project(url: str, token_file: str | None, join_at: tuple[str, ...]) -> None:
    """Show the room's screen for the session at URL: the join code in large type, the timer and
    how many have chosen; in the debrief, one section at a time (arrow keys).

    It never receives a name, a message or a metric before the debrief. The token is read from
    --token-file, else from $CROSSROADS_PROJECTOR_TOKEN, else from projector.secret in the local
    server's data folder.
    """
    import os

    from game.cli.session import default_data_dir, read_secret
    from game.tui.projector.app import ProjectorApp

    try:
        token = read_secret(
            os.environ.get("CROSSROADS_PROJECTOR_TOKEN", ""), token_file or str(Path(default_data_dir()) / "projector.secret")
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    ProjectorApp(url, token, join=list(join_at)).run()
