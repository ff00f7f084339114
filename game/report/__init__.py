"""Exports of a session: a Markdown report with chart images, CSV files and one JSON document,
built from the facilitator's archive of the story (:func:`game.core.story.archive`).

:mod:`.build` makes the files' contents (pure), :mod:`.charts` draws the SVG charts,
:mod:`.write` puts them on disk, participants' words readable by their owner only.
"""

from game.report.build import PRIVATE, report_files
from game.report.write import write_report

__all__ = ["PRIVATE", "report_files", "write_report"]
