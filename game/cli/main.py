"""The ``crossroads`` command line: the group, with the deck commands (:mod:`game.cli.deck`)
and the session commands (:mod:`game.cli.session`)."""

from __future__ import annotations

import click

from game.cli.deck import deck
from game.cli.exports import debrief, export, project
from game.cli.session import demo, facilitate, host, join, server


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="crossroads")
def main() -> None:
    """Crossroads: a facilitated workshop game about who listens to whom in an organisation.

    Tops, Middles, Bottoms and Customers play a scenario deck; the rules engine explains
    how special treatment, considerateness and interaction patterns changed the outcome.
    """


for command in (demo, join, deck, server, host, facilitate, project, export, debrief):
    main.add_command(command)


if __name__ == "__main__":  # pragma: no cover
    main()
