"""How long a stalled reader holds on before the server drops it, with a client socket whose
receive buffer is small (4 KiB) and the server's send buffer left as the kernel sizes it.

A facilitator extends the timer ten times a second (one small ``clock`` message to every
seat each time) while one participant has stopped reading. Prints how long after the stall
the server dropped it, and by which bound (time or bytes).

    python bench/slow_reader.py [--slow-reader-seconds 10] [--rate 10]
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from server.hub import Hub  # noqa: E402
from tests.wsclient import facilitator, join  # noqa: E402


async def run(args) -> None:
    hub = Hub(tempfile.mkdtemp(prefix="crossroads-slow-"), slow_reader_seconds=args.slow_reader_seconds, frame_rate=1000, frame_burst=1000)
    await hub.start("127.0.0.1", 0)
    url = f"ws://127.0.0.1:{hub.port}"
    try:
        fac = await facilitator(url, hub.secret)
        code = (await fac.request({"type": "create_session", "deck": "interlodge"}))["code"]
        slow = await join(url, code, "Slow")
        slow.ws.transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        await fac.request({"type": "start"})
        slow.ws.transport.pause_reading()
        stalled = time.monotonic()
        sent = 0
        while not hub.stats["dropped_slow"] and slow.seat in hub.seat_conns and time.monotonic() - stalled < 300:
            await fac.ws.send('{"type": "extend", "seconds": 1}')
            sent += 1
            await asyncio.sleep(1 / args.rate)
            if sent % 20 == 0:
                await fac.drain(0.001)
        took = time.monotonic() - stalled
        why = "time" if hub.stats.get("dropped_slow_time") else "bytes" if hub.stats.get("dropped_slow_bytes") else "keepalive ping (time)"
        print(f"stalled reader dropped after {took:.1f} s by the {why} bound ({sent} clock messages sent meanwhile)")
    finally:
        await hub.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slow-reader-seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=10.0, help="timer changes a second")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
