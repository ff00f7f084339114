"""The participant page in a real browser: time from opening the address to the join form painted,
the page's total bytes, and the server's memory per browser participant beside a terminal one.

The server runs in its own process (its memory is read from /proc); the browser is the
distribution's headless Chromium driven by Playwright (``make test-browser`` installs both).

- Paint: each run opens the address in a fresh browser context (nothing cached) and records,
  inside the page, the first animation frame after the join form is shown (milliseconds from the
  start of navigation), and the wall-clock time from the call that opens the address.
- Bytes: every response the page loads, as received (uncompressed: the server does not compress).
- Memory: the server's resident memory after N terminal participants (the terminal app's own
  client, game.client.link) join and stay connected, then after N browser participants do.

    python bench/browser.py [--runs 20] [--participants 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from game.client.link import Link, join_session  # noqa: E402
from tests.browser.conftest import ARGS, CHROMIUM  # noqa: E402

SERVER = """
import asyncio, sys
sys.path.insert(0, {root!r})
from server.hub import Hub

async def main():
    hub = Hub({data!r})  # successful joins are never limited, so one address may bring every participant
    await hub.start("127.0.0.1", 0)
    print(hub.port, flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await hub.close()

asyncio.run(main())
"""

# Runs in the page before its own scripts (injected by the browser's debugging protocol, so the
# page's policy does not apply): note the first frame painted after the join form is shown.
WATCH_PAINT = """
new MutationObserver((changes, observer) => {
  const join = document.getElementById("join");
  if (join && !join.hidden) {
    observer.disconnect();
    requestAnimationFrame(() => requestAnimationFrame(() => { window.__joinPainted = performance.now(); }));
  }
}).observe(document, { subtree: true, attributes: true, childList: true });
"""


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def create_session(port: int, data: Path) -> str:
    secret = (data / "facilitator.secret").read_text().strip()
    async with connect(f"ws://127.0.0.1:{port}/v1/facilitator", additional_headers={"Authorization": f"Bearer {secret}"}) as ws:
        await ws.recv()
        await ws.send(json.dumps({"type": "create_session", "deck": "interlodge", "orgs": 4, "id": 1}))
        while (answer := json.loads(await ws.recv())).get("ref") != 1:
            pass
    return answer["code"]


async def paint_times(browser, url: str, runs: int) -> tuple[list[float], list[float], int, list[str]]:
    in_page, wall, sizes = [], [], {}
    for _ in range(runs + 1):  # the first run warms the server's file cache and the browser
        context = await browser.new_context(viewport={"width": 390, "height": 844})
        await context.add_init_script(WATCH_PAINT)
        page = await context.new_page()
        responses: list = []

        def keep(response, into=responses) -> None:  # Playwright wants a Python function here
            into.append(response)

        page.on("response", keep)
        start = time.perf_counter()
        await page.goto(url)
        painted = await page.wait_for_function("window.__joinPainted", polling="raf")
        wall.append((time.perf_counter() - start) * 1000)
        in_page.append(await painted.json_value())
        for response in responses:
            sizes[response.url] = len(await response.body())
        await context.close()
    return in_page[1:], wall[1:], sum(sizes.values()), sorted(sizes)


async def browser_participants(browser, url: str, n: int) -> list:
    contexts = []
    for i in range(n):
        context = await browser.new_context()
        page = await context.new_page()
        await page.goto(url)
        await page.fill("#name", f"Web {i}")
        await page.press("#name", "Enter")
        await page.wait_for_selector("#play", state="visible")
        await page.wait_for_selector("#phase-title:has-text('Lobby')")
        contexts.append(context)
    return contexts


async def settle(pid: int) -> int:
    await asyncio.sleep(1.0)
    return rss_kib(pid)


async def run(args) -> None:
    from playwright.async_api import async_playwright

    data = Path(tempfile.mkdtemp(prefix="crossroads-bench-"))
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER.format(root=str(ROOT), data=str(data))], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        port = int(server.stdout.readline())
        code = await create_session(port, data)
        url = f"http://127.0.0.1:{port}/#{code}"
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            in_page, wall, total, urls = await paint_times(browser, url, args.runs)
            files = sum(p.stat().st_size for p in (ROOT / "game" / "web").iterdir() if p.suffix in (".html", ".js", ".css", ".svg"))

            base = await settle(server.pid)
            links, tasks = [], []
            for i in range(args.participants):
                joined = await join_session(f"127.0.0.1:{port}", code, f"Term {i}")
                link = Link(f"127.0.0.1:{port}", "/v1/seat", token=joined["token"], on_message=lambda m: None, on_state=lambda s, r: None)
                links.append(link)
                tasks.append(asyncio.create_task(link.run()))
            terminal = await settle(server.pid)
            contexts = await browser_participants(browser, url, args.participants)
            both = await settle(server.pid)
            for context in contexts:
                await context.close()
            for link in links:
                await link.stop()
            await asyncio.gather(*tasks)
            await browser.close()
    finally:
        server.stdin.close()
        server.wait(timeout=10)

    def ms(values: list[float]) -> str:
        values = sorted(values)
        return f"median {statistics.median(values):.0f} ms, best {values[0]:.0f} ms, worst {values[-1]:.0f} ms"

    n = args.participants
    print(f"open the address -> join form painted, {args.runs} fresh contexts on this machine:")
    print(f"  in the page (from navigation start): {ms(in_page)}")
    print(f"  wall clock (from the call that opens the address): {ms(wall)}")
    names = ", ".join(u.split("/", 3)[3] or "/" for u in urls)
    print(f"page weight: {total} bytes loaded over {len(urls)} requests ({names}); files on disk {files} bytes; budget 153600")
    print(f"server memory: {base} KiB with the session and no participant")
    print(f"  +{n} terminal participants: {terminal} KiB, {(terminal - base) / n:.0f} KiB each")
    print(f"  +{n} browser participants: {both} KiB, {(both - terminal) / n:.0f} KiB each")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--participants", type=int, default=20)
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        sys.exit(f"no Chromium at {CHROMIUM}: install it with `apt-get install -y chromium`, then `make test-browser` installs Playwright")
    asyncio.run(run(args))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
