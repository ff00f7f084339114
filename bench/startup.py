"""Participant app: time from launching the process to the first painted screen.

Each run starts a fresh Python process that builds the participant app (join screen) and
runs it headless; ``auto_pilot`` runs once the first screen has been composed and painted,
and reports the wall-clock time. The figure includes interpreter start and every import,
as a participant experiences it. Target: at most 1 second.

    python bench/startup.py [--runs 10]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import sys, time, tempfile
sys.path.insert(0, {root!r})
from game.client.seats import SeatStore
from game.tui.participant.app import ParticipantApp

async def first_paint(pilot):
    print(f"PAINTED {{time.time():.6f}}", flush=True)
    pilot.app.exit()

ParticipantApp("192.168.1.20:8765", "", "Ana", store=SeatStore(tempfile.mkdtemp())).run(
    headless=True, size=(100, 30), auto_pilot=first_paint)
"""


def one_run() -> float:
    code = CHILD.format(root=str(ROOT))
    start = time.time()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=tempfile.gettempdir())
    for line in out.stdout.splitlines():
        if line.startswith("PAINTED"):
            return float(line.split()[1]) - start
    raise RuntimeError(out.stderr[-2000:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    one_run()  # warm the file-system cache and .pyc files
    times = sorted(one_run() for _ in range(args.runs))
    print(
        f"participant app, launch to first paint over {args.runs} runs: "
        f"median {statistics.median(times) * 1000:.0f} ms, best {times[0] * 1000:.0f} ms, "
        f"worst {times[-1] * 1000:.0f} ms (target <= 1000 ms)"
    )


if __name__ == "__main__":
    main()
