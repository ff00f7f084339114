"""``python -m game.cli``: the same as the ``crossroads`` command."""

from game.cli.main import main

main()
