"""Chat load: N visitors and M operators as real websocket clients against one daphne, beside a raw relay.

Open loop: visitor messages leave at a fixed rate whatever the server does. Every message must be stored
(counted in the database afterwards), acknowledged to its visitor, and delivered once to the operator who
holds the conversation (protocol: a held conversation's messages go to its assignee). Reported: delivered
messages/s, end-to-end latency (visitor send → operator receives message.new) p50/p95/p99, lost and
duplicated deliveries, server memory per connection; then the same load against a minimal `websockets`
relay (no database, no channel layer: the physical floor of this machine) and the ratio.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sd_chat REDIS_URL=redis://127.0.0.1:6379/1 \
        .venv/bin/python bench/chat_load.py --visitors 500 --operators 20 --rate 50 --duration 30
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BENCH_SECRET = "bench-" + uuid.uuid4().hex
ORIGIN = "http://bench.test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


# --- The baseline: a raw websockets relay ------------------------------------------------------


def run_relay(port: int) -> None:
    """Visitors' messages acknowledged and fanned out to every operator socket; nothing stored."""
    from websockets.asyncio.server import serve

    operators: list = []
    counter = iter(range(1, 1 << 62))
    round_robin = iter(range(1 << 62))

    async def handler(ws):
        if ws.request.path.startswith("/ws/agent/"):
            operators.append(ws)
            await ws.send(json.dumps({"type": "welcome", "last_event_id": 0}))
            await ws.wait_closed()
            return
        assignee = None
        async for raw in ws:
            frame = json.loads(raw)
            if frame.get("type") == "hello":
                assignee = operators[next(round_robin) % len(operators)]
                await ws.send(json.dumps({"type": "welcome", "messages": []}))
            elif frame.get("type") == "message.send":
                message = {"id": next(counter), "body": frame["body"], "client_id": frame["client_id"]}
                await ws.send(json.dumps({"type": "message.ack", "client_id": frame["client_id"], "message": message}))
                try:
                    await assignee.send(json.dumps({"type": "message.new", "message": message}))
                except Exception:  # noqa: BLE001 — a closed operator socket is not the relay's problem
                    pass

    async def main():
        async with serve(handler, "127.0.0.1", port, max_size=2**20):
            await asyncio.Future()

    asyncio.run(main())


# --- Load generator -----------------------------------------------------------------------------


class Stats:
    def __init__(self):
        self.sent_at: dict[int, float] = {}
        self.acked_at: dict[int, float] = {}
        self.received: list[dict[int, float]] = []
        self.duplicates = 0
        self.late_sends = 0
        self.last_frame_at = time.perf_counter()


async def operator_client(url: str, cookie: str | None, stats: Stats, index: int, ready: asyncio.Event, count):
    from websockets.asyncio.client import connect

    headers = {"Cookie": cookie} if cookie else None
    seen: dict[int, float] = {}
    stats.received.append(seen)
    # The inbox's page is the desk's own: the agent socket refuses any other origin, and a missing one.
    desk_origin = url.replace("ws://", "http://", 1).split("/ws/", 1)[0]
    async with connect(url, origin=desk_origin, additional_headers=headers, max_size=2**22, ping_interval=None) as ws:
        welcome = json.loads(await ws.recv())
        assert welcome["type"] == "welcome", welcome
        count.append(1)
        ready.set()
        async for raw in ws:
            now = time.perf_counter()
            stats.last_frame_at = now
            frame = json.loads(raw)
            if frame.get("type") != "message.new":
                continue
            body = frame["message"]["body"]
            if not body.startswith("bench "):
                continue
            seq = int(body.split()[1])
            if seq in seen:
                stats.duplicates += 1
            else:
                seen[seq] = now


class Visitor:
    def __init__(self, url: str, stats: Stats):
        self.url, self.stats, self.ws, self.reader = url, stats, None, None
        self.pending: dict[str, asyncio.Future] = {}

    async def open(self, token: str | None = None) -> None:
        from websockets.asyncio.client import connect

        self.ws = await connect(self.url, origin=ORIGIN, max_size=2**22, ping_interval=None)
        await self.ws.send(json.dumps({"type": "hello", "visitor_token": token}))
        while json.loads(await self.ws.recv())["type"] != "welcome":
            pass
        self.reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        async for raw in self.ws:
            frame = json.loads(raw)
            if frame["type"] == "message.ack":
                now = time.perf_counter()
                client_id = frame["client_id"]
                if client_id.startswith("b-"):
                    self.stats.acked_at.setdefault(int(client_id[2:]), now)
                future = self.pending.pop(client_id, None)
                if future and not future.done():
                    future.set_result(frame)
            elif frame["type"] == "error":
                future = self.pending.pop(frame.get("client_id", ""), None)
                if future and not future.done():
                    future.set_exception(RuntimeError(frame))

    async def say(self, client_id: str, body: str, wait: bool) -> None:
        future = asyncio.get_running_loop().create_future() if wait else None
        if future:
            self.pending[client_id] = future
        await self.ws.send(json.dumps({"type": "message.send", "client_id": client_id, "body": body}))
        if future:
            await asyncio.wait_for(future, 30)

    async def close(self) -> None:
        await self.ws.close()


async def drive(base_ws: str, site_key: str, cookies: list[str | None], args, server_pid: int, label: str) -> dict:
    stats = Stats()
    ready = asyncio.Event()
    connected: list[int] = []
    operator_tasks = [
        asyncio.ensure_future(operator_client(f"{base_ws}/ws/agent/", cookie, stats, i, ready, connected))
        for i, cookie in enumerate(cookies)
    ]
    while len(connected) < len(cookies):
        await asyncio.sleep(0.05)
        for task in operator_tasks:
            if task.done() and task.exception():
                raise task.exception()
    rss_before = rss_bytes(server_pid)
    visitors = [Visitor(f"{base_ws}/ws/widget/{site_key}/", stats) for _ in range(args.visitors)]
    for start in range(0, len(visitors), 50):
        await asyncio.gather(*(v.open() for v in visitors[start : start + 50]))
    await asyncio.sleep(1)
    rss_after = rss_bytes(server_pid)
    connections = len(visitors) + len(cookies)
    # Warm-up: every visitor's first message requests its conversation (not measured).
    semaphore = asyncio.Semaphore(20)

    async def first(i, v):
        async with semaphore:
            await v.say(f"w-{i}", f"hello {i}", wait=True)

    t0 = time.perf_counter()
    await asyncio.gather(*(first(i, v) for i, v in enumerate(visitors)))
    warmup_seconds = time.perf_counter() - t0
    # The warm-up's queue and assignment frames drain before the measured phase starts.
    quiet_deadline = time.perf_counter() + 180
    while time.perf_counter() - stats.last_frame_at < 2 and time.perf_counter() < quiet_deadline:
        await asyncio.sleep(0.2)
    warmup_seconds = time.perf_counter() - t0
    # Measured phase, open loop.
    profiler = None
    if args.profile:
        # py-spy (not a dependency: `pip install py-spy` beside the bench) samples the server during the measured phase.
        profiler = subprocess.Popen(
            [
                args.py_spy,
                "record",
                "--pid",
                str(server_pid),
                "--duration",
                str(int(args.duration)),
                "--rate",
                "200",
                "--format",
                "raw",
                "--output",
                f"{args.profile}.{label}.txt",
                "--nonblocking",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    cpu_before = cpu_seconds(server_pid)
    total = int(args.rate * args.duration)
    start = time.perf_counter()
    for seq in range(total):
        target = start + seq / args.rate
        delay = target - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        elif delay < -0.01:
            stats.late_sends += 1
        visitor = visitors[seq % len(visitors)]
        stats.sent_at[seq] = time.perf_counter()
        asyncio.ensure_future(visitor.say(f"b-{seq}", f"bench {seq}", wait=False))
    send_seconds = time.perf_counter() - start
    deadline = time.perf_counter() + args.settle
    while time.perf_counter() < deadline:
        if sum(len(seen) for seen in stats.received) >= total and len(stats.acked_at) >= total:
            break
        await asyncio.sleep(0.1)
    finish = max((max(seen.values()) for seen in stats.received if seen), default=time.perf_counter())
    server_cpu = cpu_seconds(server_pid) - cpu_before
    if profiler is not None:
        profiler.wait(60)
    for v in visitors:
        await v.close()
    for task in operator_tasks:
        task.cancel()
    await asyncio.gather(*operator_tasks, return_exceptions=True)

    first_seen: dict[int, float] = {}
    for seen in stats.received:
        for seq, received in seen.items():
            if seq in first_seen:
                stats.duplicates += 1  # one message delivered to two operators
            first_seen[seq] = min(received, first_seen.get(seq, received))
    latencies = [(received - stats.sent_at[seq]) * 1000 for seq, received in first_seen.items()]
    ack_latencies = [(at - stats.sent_at[seq]) * 1000 for seq, at in stats.acked_at.items()]
    deliveries_expected = total
    delivered = len(latencies)
    if args.dump:
        Path(f"{args.dump}.{label}.json").write_text(
            json.dumps(
                [
                    [
                        seq,
                        stats.sent_at[seq] - start,
                        stats.acked_at.get(seq, 0) - start,
                        first_seen.get(seq, 0) - start,
                    ]
                    for seq in range(total)
                ]
            )
        )
    return {
        "label": label,
        "messages": total,
        "send_seconds": send_seconds,
        "warmup_seconds": warmup_seconds,
        "delivered": delivered,
        "deliveries_expected": deliveries_expected,
        "lost": deliveries_expected - delivered,
        "unacked": total - len(stats.acked_at),
        "duplicated": stats.duplicates,
        "late_sends": stats.late_sends,
        "msgs_per_s": total / max(finish - start, 1e-9),
        "deliveries_per_s": delivered / max(finish - start, 1e-9),
        "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
        "p99": percentile(latencies, 99),
        "ack_p99": percentile(ack_latencies, 99),
        "mean": statistics.fmean(latencies) if latencies else float("nan"),
        "rss_per_connection": (rss_after - rss_before) / max(connections, 1),
        "rss_after": rss_after,
        "cpu_ms_per_message": server_cpu * 1000 / max(total, 1),
    }


# --- Setup of the desk --------------------------------------------------------------------------


def setup_django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "supportdesk.settings")
    os.environ["SECRET_KEY"] = BENCH_SECRET
    os.environ["DEBUG"] = "0"
    import django

    django.setup()


def prepare_desk(args) -> tuple[str, list[str], int]:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command

    from chat.models import Inbox, OperatorProfile

    call_command("migrate", verbosity=0, interactive=False)
    run = uuid.uuid4().hex[:8]
    inbox = Inbox.objects.create(name=f"Bench {run}", allowed_origins=[ORIGIN])
    per_operator = -(-args.visitors // args.operators) + 1
    cookies = []
    for n in range(args.operators):
        user = get_user_model().objects.create_user(f"bench-{run}-{n}", is_staff=True)
        profile = OperatorProfile.objects.create(
            user=user, display_name=f"Bench operator {n}", status="online", max_chats=per_operator
        )
        profile.inboxes.add(inbox)
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        cookies.append(f"{settings.SESSION_COOKIE_NAME}={session.session_key}")
    return inbox.site_key, cookies, inbox.pk


def stored_count(inbox_id: int) -> int:
    from chat.models import Message

    return Message.objects.filter(conversation__inbox_id=inbox_id, client_id__startswith="b-").count()


def wait_http(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with urlopen(url, timeout=2):  # noqa: S310 — loopback
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


def wait_port(port: int, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("relay exited")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError("relay did not listen")


def report(result: dict) -> None:
    print(
        f"{result['label']:<8} warm-up {result['warmup_seconds']:.0f}s, "
        f"sent {result['messages']} msgs in {result['send_seconds']:.1f}s | "
        f"delivered {result['delivered']}/{result['deliveries_expected']} deliveries "
        f"({result['msgs_per_s']:.1f} msgs/s, {result['deliveries_per_s']:.0f} deliveries/s) | "
        f"latency p50 {result['p50']:.1f} ms p95 {result['p95']:.1f} ms p99 {result['p99']:.1f} ms "
        f"(ack p99 {result['ack_p99']:.1f} ms) | lost {result['lost']} unacked {result['unacked']} "
        f"duplicated {result['duplicated']} late sends {result['late_sends']} | "
        f"server CPU {result['cpu_ms_per_message']:.2f} ms/msg | "
        f"memory {result['rss_per_connection'] / 1024:.1f} KiB/connection (RSS {result['rss_after'] / 2**20:.0f} MiB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--visitors", type=int, default=500)
    parser.add_argument("--operators", type=int, default=20)
    parser.add_argument("--rate", type=float, default=50.0, help="visitor messages per second")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of measured load")
    parser.add_argument("--settle", type=float, default=30.0, help="seconds to wait for late deliveries")
    parser.add_argument("--dump", help="write per-message timings to DUMP.<desk|relay>.json")
    parser.add_argument(
        "--profile", help="sample the servers with py-spy into PROFILE.<desk|relay>.txt (collapsed stacks)"
    )
    parser.add_argument("--py-spy", default="py-spy", help="the py-spy executable")
    parser.add_argument("--relay-server", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.relay_server:
        run_relay(args.relay_server)
        return

    setup_django()
    from django.conf import settings

    site_key, cookies, inbox_id = prepare_desk(args)
    # As a deployment would run daphne: persistent database connections (a new PostgreSQL connection per
    # call would dominate every figure) and 16 threads for ORM work (daphne's ASGI_THREADS; 2 cores + 4 by
    # default), so that queries waiting on a busy database overlap.
    env = dict(
        os.environ,
        PYTHONUNBUFFERED="1",
        LOG_LEVEL="WARNING",
        CONN_MAX_AGE=os.environ.get("CONN_MAX_AGE", "300"),
        ASGI_THREADS=os.environ.get("ASGI_THREADS", "16"),
    )
    # Every bench visitor comes from this machine's one address: the limits per address (docs/security.md) are off.
    for limit in (
        "WS_MAX_SOCKETS_PER_ADDRESS",
        "WIDGET_HELLOS_PER_ADDRESS_PER_MINUTE",
        "VISITOR_MESSAGES_PER_ADDRESS_PER_MINUTE",
        "NEW_CONTACTS_PER_ADDRESS_PER_HOUR",
    ):
        env.setdefault(limit, "0")
    port = free_port()
    print(
        f"desk: 1 daphne, database {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}, "
        f"channel layer {settings.CHANNEL_LAYERS['default']['BACKEND'].rsplit('.', 1)[-1]}, "
        f"CONN_MAX_AGE={env['CONN_MAX_AGE']} ASGI_THREADS={env['ASGI_THREADS']}; "
        f"{args.visitors} visitors, {args.operators} operators, {args.rate:g} visitor msgs/s for {args.duration:g}s"
    )
    desk = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "supportdesk.asgi:application"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=sys.stderr,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", desk)
        print(f"desk server pid {desk.pid}", flush=True)
        desk_result = asyncio.run(drive(f"ws://127.0.0.1:{port}", site_key, cookies, args, desk.pid, "desk"))
    finally:
        desk.terminate()
        desk.wait(10)
    desk_result["stored"] = stored_count(inbox_id)

    relay_port = free_port()
    relay = subprocess.Popen([sys.executable, __file__, "--relay-server", str(relay_port)], cwd=ROOT, env=env)
    try:
        wait_port(relay_port, relay)
        relay_result = asyncio.run(
            drive(f"ws://127.0.0.1:{relay_port}", "relay", [None] * args.operators, args, relay.pid, "relay")
        )
    finally:
        relay.terminate()
        relay.wait(10)

    report(desk_result)
    report(relay_result)
    print(f"desk     stored {desk_result['stored']}/{desk_result['messages']} measured messages in the database")
    ratio = desk_result["p99"] / relay_result["p99"] if relay_result["p99"] else float("nan")
    print(
        f"ratio desk/relay: p50 {desk_result['p50'] / relay_result['p50']:.1f}x, p99 {ratio:.1f}x, "
        f"memory/connection {desk_result['rss_per_connection'] / max(relay_result['rss_per_connection'], 1):.1f}x"
    )
    ok = (
        desk_result["lost"] == 0
        and desk_result["unacked"] == 0
        and desk_result["duplicated"] == 0
        and desk_result["stored"] == desk_result["messages"]
    )
    print(f"target p99 < 100 ms and nothing lost: p99 {desk_result['p99']:.1f} ms, {'nothing lost' if ok else 'LOST'}")


if __name__ == "__main__":
    main()
