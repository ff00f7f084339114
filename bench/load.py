"""Load benchmark: many bot participants over real websockets, beside bare baselines.

Starts ``crossroads server`` in its own process, then client processes that join N
participants, all from the one address 127.0.0.1 as a room behind a NAT or a proxy would,
and play whole rounds: in one session (``--sessions 1``, the default), or spread over many
sessions of the same server (``--sessions 100 --participants 2000``: 100 rooms of 20, whose
facilitators all press the same key at once). In the same run it measures two baselines on the same machine:
a bare websockets server broadcasting to the same clients, and a bare echo server for
acknowledgement round trips. Prints p50 and p99 for:

- choice acknowledgement (every bot sends ``choose`` at once -> its ``ack``), beside the
  echo round trip under the same burst, one burst per round;
- broadcast (facilitator sends ``advance`` -> every participant has the new phase's view),
  beside the bare broadcast, which sends every client one of our real views (so the clients
  parse the same bytes in both runs and the difference is the server's);
- resolution to every client (facilitator advances from choose -> every participant has the
  reveal view);
- memory per idle connection of the server process, beside the bare server's.

Both runs get one unmeasured warm-up broadcast (ours: the first brief) and fresh client
processes. The clients run without the garbage collector and keep only what a bot needs
from a view, so a collection in the measuring instrument does not land in one run's timings.

Everything stays on 127.0.0.0/8, every wait has a time limit, and it stops by itself.

    python bench/load.py [--participants 2000] [--orgs 50] [--sessions 1] [--procs 2] [--rounds 2] [--idle 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import json
import multiprocessing as mp
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from websockets.asyncio.client import connect  # noqa: E402
from websockets.asyncio.server import broadcast, serve  # noqa: E402

TIMEOUT = 120.0


def raise_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def rss_kib(pid: int) -> int:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", text).group(1))


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def fmt(values: list[float]) -> str:
    return f"p50 {pct(values, 0.5) * 1000:7.1f} ms   p99 {pct(values, 0.99) * 1000:7.1f} ms   (n={len(values)})"


# --- client processes ---------------------------------------------------------------------


class Player:
    def __init__(self, ws) -> None:
        self.ws = ws
        self.phase_seen: dict[tuple[str, int], float] = {}
        self.clocks: list[float] = []  # when each clock message arrived
        self.acks: dict[int, float] = {}
        # only what the bot needs from its view, so that a client holds no more in one run
        # than in the other (a thousand kept views would make its collector work)
        self.phase = ""
        self.options: tuple[str, ...] = ()
        self.errors = 0
        self.marks: dict[str, float] = {}
        self.view_bytes = 0
        self.view_frame = ""

    async def read(self) -> None:
        try:
            async for frame in self.ws:
                now = time.monotonic()
                msg = json.loads(frame)
                if msg.get("type") == "mark":
                    self.marks[msg["mark"]] = now
                    continue
                kind = msg.get("type")
                if kind == "view":
                    self.view_bytes = len(frame)
                    self.view_frame = frame
                    view = msg["view"]
                    self.phase = view["session"]["phase"]
                    self.options = tuple(o["id"] for o in view.get("card", {}).get("options", ()))
                    s = view["session"]
                    self.phase_seen.setdefault((s["phase"], s["round"]), now)
                elif kind == "clock":
                    self.clocks.append(now)
                elif kind == "ack":
                    self.acks[msg["ref"]] = now
                elif kind == "error":
                    self.errors += 1
        except Exception:  # noqa: BLE001 - a benchmark client just stops
            pass


async def client_main(pipe) -> None:
    raise_limit()
    loop = asyncio.get_running_loop()
    players: list[Player] = []
    tasks = []
    refs = itertools.count(1)

    def track(ws) -> None:
        player = Player(ws)
        players.append(player)
        tasks.append(asyncio.create_task(player.read()))

    while True:
        command, args = await loop.run_in_executor(None, pipe.recv)
        try:
            if command == "join":
                url, codes, first, count = args
                for i in range(first, first + count):
                    ws = await connect(f"{url}/v1/join", compression=None, max_size=2**20, open_timeout=30, max_queue=64)
                    await ws.recv()
                    join = {"type": "join", "code": codes[i % len(codes)], "name": f"bot{i}", "join_id": f"bench-join-{i:012d}"}
                    await ws.send(json.dumps(join))
                    while True:
                        msg = json.loads(await ws.recv())
                        if msg["type"] == "joined":
                            break
                        if msg["type"] == "error":
                            raise RuntimeError(msg["message"])
                    track(ws)
                pipe.send(("ok", len(players)))
            elif command == "choose":
                round_ = args
                # the frames are made before the burst, as the echo burst's frame is
                frames = []
                for p in players:
                    if p.phase == "choose" and p.options:
                        ref = next(refs)
                        choice = {"type": "choose", "round": round_, "option": p.options[ref % len(p.options)], "id": ref}
                        frames.append((ref, p, json.dumps(choice)))
                sent = {}
                for ref, p, frame in frames:
                    sent[ref] = (p, time.monotonic())
                    await p.ws.send(frame)
                end = time.monotonic() + TIMEOUT
                while time.monotonic() < end and any(ref not in p.acks for ref, (p, _) in sent.items()):
                    await asyncio.sleep(0.02)
                pipe.send(("ok", [p.acks[ref] - t0 for ref, (p, t0) in sent.items() if ref in p.acks]))
            elif command == "wait_phase":
                phase, round_ = args
                end = time.monotonic() + TIMEOUT
                while time.monotonic() < end and any((phase, round_) not in p.phase_seen for p in players):
                    await asyncio.sleep(0.02)
                pipe.send(("ok", [p.phase_seen.get((phase, round_)) for p in players]))
            elif command == "wait_clock":
                count = args  # the count-th clock message each player receives
                end = time.monotonic() + TIMEOUT
                while time.monotonic() < end and any(len(p.clocks) < count for p in players):
                    await asyncio.sleep(0.02)
                pipe.send(("ok", [p.clocks[count - 1] if len(p.clocks) >= count else None for p in players]))
            elif command == "view_size":
                pipe.send(("ok", [p.view_bytes for p in players if p.view_bytes]))
            elif command == "view_sample":
                pipe.send(("ok", next((p.view_frame for p in players if p.view_frame), "")))
            elif command == "errors":
                pipe.send(("ok", sum(p.errors for p in players) + sum(1 for t in tasks if t.done())))
            elif command == "bare_connect":
                url, _first, count = args
                for _ in range(count):
                    ws = await connect(url, compression=None, max_size=2**20, open_timeout=30)
                    track(ws)
                pipe.send(("ok", len(players)))
            elif command == "bare_wait":
                mark = args
                end = time.monotonic() + TIMEOUT
                while time.monotonic() < end and any(mark not in p.marks for p in players):
                    await asyncio.sleep(0.02)
                pipe.send(("ok", [p.marks.get(mark) for p in players]))
            elif command == "echo_burst":
                size = args
                body = json.dumps({"type": "mark", "mark": "echo", "pad": "x" * max(0, size - 40)})
                for p in players:
                    p.marks.clear()
                starts = []
                for p in players:
                    starts.append(time.monotonic())
                    await p.ws.send(body)
                end = time.monotonic() + TIMEOUT
                while time.monotonic() < end and any(not p.marks for p in players):
                    await asyncio.sleep(0.01)
                pipe.send(("ok", [next(iter(p.marks.values())) - t0 for p, t0 in zip(players, starts, strict=True) if p.marks]))
            elif command == "echo":
                url, count, size = args
                latencies = []
                async with connect(url, compression=None) as ws:
                    body = "x" * size
                    for _ in range(count):
                        t0 = time.monotonic()
                        await ws.send(body)
                        await ws.recv()
                        latencies.append(time.monotonic() - t0)
                pipe.send(("ok", latencies))
            elif command == "idle":
                url, _first, count = args
                for _ in range(count):
                    ws = await connect(url, compression=None, open_timeout=30)
                    players.append(Player(ws))
                pipe.send(("ok", len(players)))
            elif command == "close":
                for t in tasks:
                    t.cancel()
                await asyncio.gather(*(p.ws.close() for p in players), return_exceptions=True)
                players.clear()
                tasks.clear()
                pipe.send(("ok", None))
            elif command == "exit":
                pipe.send(("ok", None))
                return
        except Exception as exc:  # noqa: BLE001
            pipe.send(("error", f"{type(exc).__name__}: {exc}"))


def client_process(pipe) -> None:
    # The clients are the measuring instrument: their garbage collections (1,000 connections
    # each) would land in the timings of either server at random. The collector is off; each
    # server gets fresh client processes.
    gc.disable()
    asyncio.run(client_main(pipe))


class Clients:
    """A pool of client processes driven over pipes."""

    def __init__(self, procs: int) -> None:
        ctx = mp.get_context("spawn")
        self.pipes = []
        self.procs = []
        for _ in range(procs):
            ours, theirs = ctx.Pipe()
            proc = ctx.Process(target=client_process, args=(theirs,), daemon=True)
            proc.start()
            self.pipes.append(ours)
            self.procs.append(proc)

    def all(self, command: str, args_for) -> list:
        for i, pipe in enumerate(self.pipes):
            pipe.send((command, args_for(i)))
        out = []
        for pipe in self.pipes:
            if not pipe.poll(TIMEOUT + 30):
                raise RuntimeError(f"client process did not answer {command}")
            status, value = pipe.recv()
            if status != "ok":
                raise RuntimeError(value)
            out.append(value)
        return out

    def split(self, total: int, i: int, offset: int = 0) -> tuple[int, int]:
        n = len(self.pipes)
        share = total // n + (1 if i < total % n else 0)
        first = offset + sum(total // n + (1 if j < total % n else 0) for j in range(i))
        return first, share

    def stop(self) -> None:
        try:
            self.all("exit", lambda i: None)
        except Exception:  # noqa: BLE001
            pass
        for proc in self.procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()


# --- the baseline servers ---------------------------------------------------------------------


def bare_server_process(port_pipe, sample: str) -> None:
    raise_limit()

    async def main() -> None:
        clients = set()
        view = json.loads(sample)["view"]

        def payload(mark: str) -> str:
            # one of our real views, so the clients parse the same bytes in both runs
            return json.dumps({"type": "mark", "mark": mark, "view": view}, separators=(",", ":"), ensure_ascii=False)

        async def handler(ws):
            if ws.request.path == "/control":
                async for frame in ws:
                    broadcast(clients, payload(frame))
                    await ws.send("done")
                return
            if ws.request.path == "/echo":
                async for frame in ws:
                    await ws.send(frame)
                return
            clients.add(ws)
            try:
                async for frame in ws:  # the echo baseline: answer each client on its own connection
                    await ws.send(frame)
            finally:
                clients.discard(ws)

        async with serve(handler, "127.0.0.1", 0, compression=None, max_size=2**20) as server:
            port_pipe.send(server.sockets[0].getsockname()[1])
            await asyncio.sleep(3600)

    asyncio.run(main())


# --- the run ----------------------------------------------------------------------------------


class Facilitator:
    """The facilitator's connection: one reader task; replies are matched by ref."""

    def __init__(self, ws) -> None:
        self.ws = ws
        self.waiting: dict[int, asyncio.Future] = {}
        self.deadline: float | None = None
        self.refs = itertools.count(1)
        self.reader = asyncio.create_task(self.read())

    async def read(self) -> None:
        try:
            async for frame in self.ws:
                msg = json.loads(frame)
                if msg.get("type") == "facilitator_view":
                    self.deadline = msg["view"]["session"]["deadline"]
                future = self.waiting.pop(msg.get("ref"), None)
                if future and not future.done():
                    future.set_result(msg)
        except Exception:  # noqa: BLE001
            pass

    async def request(self, message: dict) -> dict:
        ref = next(self.refs)
        future = asyncio.get_running_loop().create_future()
        self.waiting[ref] = future
        await self.ws.send(json.dumps({**message, "id": ref}))
        return await asyncio.wait_for(future, TIMEOUT)

    async def close(self) -> None:
        self.reader.cancel()
        await self.ws.close()


async def facilitator(url: str, secret: str) -> Facilitator:
    ws = await connect(f"{url}/v1/facilitator", additional_headers={"Authorization": f"Bearer {secret}"}, max_size=2**24)
    await ws.recv()
    return Facilitator(ws)


def latencies(times: list, t0: float) -> list[float]:
    return [t - t0 for t in times if t is not None]


def flat(lists) -> list:
    return [x for sub in lists for x in sub]


async def run(args) -> None:
    raise_limit()
    data = Path(tempfile.mkdtemp(prefix="crossroads-load-"))
    server_log = open(data / "server.log", "w")  # noqa: SIM115 - closed with the server
    # Every client is on 127.0.0.1. The idle connections of the memory figure are opened on
    # /v1/join and never join: an operator expecting that many at once raises the two limits.
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "game.cli", "server", "--port", "0", "--data", str(data), "--quiet"),
            *("--pending-per-address", str(args.idle + 100), "--join-timeout", "600"),
        ],
        stdout=server_log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = None
    for _ in range(200):
        found = re.search(r"(ws://127.0.0.1:\d+)", (data / "server.log").read_text())
        if found:
            url = found.group(1)
            break
        await asyncio.sleep(0.05)
    if url is None:
        raise RuntimeError("the server did not start: " + (data / "server.log").read_text())
    secret = (data / "facilitator.secret").read_text().strip()
    clients = Clients(args.procs)
    ctx = mp.get_context("spawn")
    ours, theirs = ctx.Pipe()
    payload_size = 0
    try:
        base_rss = rss_kib(server.pid)
        facs = []
        codes = []
        for k in range(args.sessions):  # one facilitator connection per session, as one console each
            fac = await facilitator(url, secret)
            orgs = args.orgs if args.sessions == 1 else max(1, args.orgs // args.sessions)
            ack = await fac.request({"type": "create_session", "deck": "interlodge", "orgs": orgs, "seed": 1 + k})
            facs.append(fac)
            codes.append(ack["code"])
        t0 = time.monotonic()
        counts = clients.all("join", lambda i: (url, codes, *clients.split(args.participants, i)))
        print(
            f"{sum(counts):,} participants joined {len(codes)} session(s) ({args.orgs} organisations in all) "
            f"in {time.monotonic() - t0:.1f} s from {args.procs} client processes, all from 127.0.0.1"
        )

        async def everyone(message: dict) -> None:
            # every facilitator presses the key at the same moment
            text = json.dumps(message)
            for f in facs:
                await f.ws.send(text)

        await asyncio.gather(*(f.request({"type": "start"}) for f in facs))
        ack_lat, bcast_lat, resolve_lat, clock_lat = [], [], [], []
        for r in range(1, args.rounds + 1):
            clients.all("wait_phase", lambda i, r=r: ("brief", r))
            # broadcast: a phase change sends every group its own view
            t_send = time.monotonic()
            await everyone({"type": "advance"})
            bcast_lat += latencies(flat(clients.all("wait_phase", lambda i, r=r: ("talk", r))), t_send)
            t_send = time.monotonic()
            await everyone({"type": "advance"})
            bcast_lat += latencies(flat(clients.all("wait_phase", lambda i, r=r: ("choose", r))), t_send)
            # a timer change: one small message for everyone
            t_send = time.monotonic()
            await everyone({"type": "extend", "seconds": 30})
            clock_lat += latencies(flat(clients.all("wait_clock", lambda i, r=r: r)), t_send)
            ack_lat += flat(clients.all("choose", lambda i, r=r: r))
            t_send = time.monotonic()
            await everyone({"type": "advance"})
            resolve_lat += latencies(flat(clients.all("wait_phase", lambda i, r=r: ("reveal", r))), t_send)
            if r < args.rounds:
                await asyncio.gather(*(f.request({"type": "advance"}) for f in facs))
        errors = sum(clients.all("errors", lambda i: None))
        sizes = flat(clients.all("view_size", lambda i: None))
        payload_size = int(statistics.mean(sizes))
        sample = clients.all("view_sample", lambda i: None)[0]
        print(f"played {args.rounds} whole rounds: {errors} errors, {len(ack_lat):,} choices acknowledged")
        print(
            f"server RSS with {sum(counts):,} participants in {len(codes)} session(s): {rss_kib(server.pid) / 1024:.0f} MiB "
            f"({base_rss / 1024:.0f} MiB at start)"
        )
        clients.all("close", lambda i: None)
        for f in facs:
            await f.close()

        # baselines, with fresh client processes, as our run had
        clients.stop()
        clients = Clients(args.procs)
        proc = ctx.Process(target=bare_server_process, args=(theirs, sample), daemon=True)
        proc.start()
        bare_port = ours.recv()
        bare = f"ws://127.0.0.1:{bare_port}"
        bare_before = rss_kib(proc.pid)
        clients.all("bare_connect", lambda i: (bare, *clients.split(args.participants, i, offset=200_000)))
        await asyncio.sleep(1)
        bare_conn_kib = (rss_kib(proc.pid) - bare_before) / args.participants
        bare_lat = []
        async with connect(f"{bare}/control", compression=None) as control:
            # a first, unmeasured broadcast, as the brief is in our run
            await control.send("warm-up")
            await control.recv()
            clients.all("bare_wait", lambda i: "warm-up")
            for k in range(args.rounds * 2):
                mark = f"M{k:06d}"
                t_send = time.monotonic()
                await control.send(mark)
                await control.recv()
                bare_lat += latencies(flat(clients.all("bare_wait", lambda i, m=mark: m)), t_send)
        echo = []
        for _ in range(args.rounds):  # one burst per round, as there is one storm of choices per round
            echo += flat(clients.all("echo_burst", lambda i: 80))
        clients.all("close", lambda i: None)
        proc.kill()

        # idle connections held by our server
        await asyncio.sleep(1)
        before = rss_kib(server.pid)
        clients.all("idle", lambda i: (f"{url}/v1/join", *clients.split(args.idle, i, offset=100_000)))
        await asyncio.sleep(2)
        ours_kib = (rss_kib(server.pid) - before) / args.idle
        print(
            f"our server holds {args.idle:,} idle connections: {ours_kib:.1f} KiB each "
            f"(server RSS {rss_kib(server.pid) / 1024:.0f} MiB, {base_rss / 1024:.0f} MiB at start)"
        )
        clients.all("close", lambda i: None)

        print()
        print(f"view payload {payload_size:,} bytes on average; the bare broadcast sends one of these views ({len(sample):,} bytes)")
        print(f"choice acknowledgement  {fmt(ack_lat)}")
        print(f"echo, same burst (base) {fmt(echo)}")
        print(f"our broadcast           {fmt(bcast_lat)}")
        print(f"bare broadcast (base)   {fmt(bare_lat)}")
        print(f"timer change to all     {fmt(clock_lat)}")
        print(f"resolution to everyone  {fmt(resolve_lat)}")
        print(f"memory per connection   ours {ours_kib:.1f} KiB (idle), bare server {bare_conn_kib:.1f} KiB")
        print()
        print("ratios (targets in brackets):")
        print(
            f"  broadcast p50 {pct(bcast_lat, 0.5) / pct(bare_lat, 0.5):.2f}x, "
            f"p99 {pct(bcast_lat, 0.99) / pct(bare_lat, 0.99):.2f}x   [<= 1.5x]"
        )
        print(f"  choice ack p99 {pct(ack_lat, 0.99) / pct(echo, 0.99):.2f}x the echo p99   [<= 1.5x]")
        print(f"  resolution p99 - bare broadcast p99 = {(pct(resolve_lat, 0.99) - pct(bare_lat, 0.99)) * 1000:.1f} ms   [<= 50 ms]")
        print(f"  {ours_kib:.1f} KiB per idle connection   [<= 30 KiB]")
    finally:
        clients.stop()
        server.terminate()
        server.wait(timeout=10)
        server_log.close()
        print(f"server log: {data / 'server.log'}")


def main() -> None:
    parser = argparse.ArgumentParser(description="Crossroads load benchmark")
    parser.add_argument("--participants", type=int, default=2000)
    parser.add_argument("--orgs", type=int, default=50, help="organisations in all (with --sessions N: spread over the sessions)")
    parser.add_argument("--sessions", type=int, default=1, help="sessions the participants are spread over")
    parser.add_argument("--procs", type=int, default=2, help="client processes")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--idle", type=int, default=5000, help="idle connections for the memory figure")
    args = parser.parse_args()
    asyncio.run(run(args))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
