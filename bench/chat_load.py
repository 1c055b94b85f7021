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
        self.refused: list[str] = []
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
                if frame.get("client_id", "").startswith("b-"):
                    self.stats.refused.append(frame.get("code"))
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


def sum_over(pids: list[int], read) -> float:
    return sum(read(pid) for pid in pids)


async def http_post_json(base_http: str, path: str, body: dict) -> dict:
    """A POST with the widget's origin over a fresh connection (as each new visitor's browser makes)."""
    host, port = base_http.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    data = json.dumps(body).encode()
    writer.write(
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nOrigin: {ORIGIN}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode()
        + data
    )
    raw = await reader.read()
    writer.close()
    head, _, payload = raw.partition(b"\r\n\r\n")
    status = int(head.split()[1])
    if b"transfer-encoding: chunked" in head.lower():
        chunks, rest = [], payload
        while rest:
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line, 16)
            if size == 0:
                break
            chunks.append(rest[:size])
            rest = rest[size + 2 :]
        payload = b"".join(chunks)
    if status != 200:
        raise RuntimeError(f"{path} answered {status}: {payload[:200]!r}")
    return json.loads(payload)


def latency_figures(values_ms: list[float]) -> dict:
    return {"p50": percentile(values_ms, 50), "p95": percentile(values_ms, 95), "p99": percentile(values_ms, 99)}


async def arrivals(count: int, rate: float, one) -> float:
    """Starts `one(n)` for n in range(count) at `rate` per second whatever the server does; the seconds until
    every one has finished."""
    start, tasks = time.perf_counter(), []
    for n in range(count):
        delay = start + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(one(n)))
    await asyncio.gather(*tasks)
    return time.perf_counter() - start


def storm_figures(count: int, rate: float, elapsed: float, latencies: list[float], failures: list[str]) -> dict:
    return {
        "count": count,
        "offered": rate,
        "held": len(latencies) / elapsed,
        "failures": len(failures),
        "first_failure": failures[0] if failures else "",
        **latency_figures(latencies),
    }


class Load:
    """Connected visitors and operators of one run (desk or relay), and the phases driven through them."""

    def __init__(self, bases: list[str], site_key: str, cookies: list[str | None], args, pids: list[int], label: str):
        self.bases, self.site_key, self.cookies, self.args, self.pids, self.label = (
            bases,
            site_key,
            cookies,
            args,
            pids,
            label,
        )
        self.stats = Stats()
        self.visitors: list[Visitor] = []
        self.operator_tasks: list[asyncio.Task] = []
        self.next_seq = 0

    def widget_url(self, n: int) -> str:
        return f"{self.bases[n % len(self.bases)]}/ws/widget/{self.site_key}/"

    async def connect(self) -> dict:
        ready, connected = asyncio.Event(), []
        self.operator_tasks = [
            asyncio.ensure_future(
                operator_client(f"{self.bases[i % len(self.bases)]}/ws/agent/", cookie, self.stats, i, ready, connected)
            )
            for i, cookie in enumerate(self.cookies)
        ]
        while len(connected) < len(self.cookies):
            await asyncio.sleep(0.05)
            for task in self.operator_tasks:
                if task.done() and task.exception():
                    raise task.exception()
        rss_before = sum_over(self.pids, rss_bytes)
        self.visitors = [Visitor(self.widget_url(n), self.stats) for n in range(self.args.visitors)]
        t0 = time.perf_counter()
        for start in range(0, len(self.visitors), 50):
            await asyncio.gather(*(v.open() for v in self.visitors[start : start + 50]))
        connect_seconds = time.perf_counter() - t0
        await asyncio.sleep(1)
        rss_idle = sum_over(self.pids, rss_bytes)
        # Warm-up: every visitor's first message requests its conversation (not measured).
        semaphore = asyncio.Semaphore(20)

        async def first(i, v):
            async with semaphore:
                await v.say(f"w-{i}", f"hello {i}", wait=True)

        t0 = time.perf_counter()
        await asyncio.gather(*(first(i, v) for i, v in enumerate(self.visitors)))
        await self.quiet()
        return {
            "connect_seconds": connect_seconds,
            "warmup_seconds": time.perf_counter() - t0,
            # Idle visitors (socket and hello, no conversation yet), measured before the warm-up.
            "rss_per_idle_visitor": (rss_idle - rss_before) / max(len(self.visitors), 1),
            "rss_idle": rss_idle,
        }

    async def quiet(self, seconds: float = 2, limit: float = 180) -> None:
        """Until no frame has arrived for `seconds`: the previous phase's frames have drained."""
        deadline = time.perf_counter() + limit
        while time.perf_counter() - self.stats.last_frame_at < seconds and time.perf_counter() < deadline:
            await asyncio.sleep(0.2)

    async def phase(self, rate: float, duration: float, settle: float) -> dict:
        """Open loop: `rate` visitor messages per second for `duration` seconds, whatever the server does."""
        stats = self.stats
        profiler = self.profiler("load", duration)
        total = int(rate * duration)
        seqs = range(self.next_seq, self.next_seq + total)
        self.next_seq += total
        late_before, refused_before = stats.late_sends, len(stats.refused)
        per_visitor = rate / len(self.visitors) * float(os.environ.get("VISITOR_RATE_LIMIT_WINDOW_SECONDS", 10))
        if per_visitor > float(os.environ.get("VISITOR_RATE_LIMIT_MESSAGES", 10)):
            print(f"warning: {rate:g} msg/s over {len(self.visitors)} visitors passes each visitor's own limit")
        cpu_before = sum_over(self.pids, cpu_seconds)
        start = time.perf_counter()
        for n, seq in enumerate(seqs):
            delay = start + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -0.01:
                stats.late_sends += 1
            visitor = self.visitors[seq % len(self.visitors)]
            stats.sent_at[seq] = time.perf_counter()
            asyncio.ensure_future(visitor.say(f"b-{seq}", f"bench {seq}", wait=False))
        send_seconds = time.perf_counter() - start

        def delivered_now() -> dict[int, float]:
            first_seen: dict[int, float] = {}
            for seen in stats.received:
                for seq in seqs:
                    if seq in seen:
                        first_seen[seq] = min(seen[seq], first_seen.get(seq, seen[seq]))
            return first_seen

        deadline = time.perf_counter() + settle
        while time.perf_counter() < deadline:
            if all(seq in stats.acked_at for seq in seqs) and len(delivered_now()) >= total:
                break
            await asyncio.sleep(0.2)
        server_cpu = sum_over(self.pids, cpu_seconds) - cpu_before
        if profiler is not None:
            profiler.wait(60)
        first_seen = delivered_now()
        # A message in two operators' hands, or twice in one's.
        duplicated = sum(1 for seq in seqs if sum(seq in seen for seen in stats.received) > 1)
        finish = max(first_seen.values(), default=time.perf_counter())
        latencies = [(first_seen[seq] - stats.sent_at[seq]) * 1000 for seq in first_seen]
        acks = [(stats.acked_at[seq] - stats.sent_at[seq]) * 1000 for seq in seqs if seq in stats.acked_at]
        return {
            "rate": rate,
            "messages": total,
            "seqs": seqs,
            "send_seconds": send_seconds,
            "delivered": len(first_seen),
            "lost": total - len(first_seen),
            "unacked": total - len(acks),
            "duplicated": duplicated,
            "late_sends": stats.late_sends - late_before,
            "refused": len(stats.refused) - refused_before,
            "msgs_per_s": len(first_seen) / max(finish - start, 1e-9),
            **latency_figures(latencies),
            "ack_p99": percentile(acks, 99),
            "mean": statistics.fmean(latencies) if latencies else float("nan"),
            "cpu_ms_per_message": server_cpu * 1000 / max(total, 1),
        }

    def profiler(self, phase: str, duration: float) -> subprocess.Popen | None:
        """py-spy (not a dependency: `pip install py-spy` beside the bench) sampling the first server during the
        first `phase` (load or storm) of the desk."""
        args = self.args
        if not args.profile or not self.label.startswith("desk") or args.profile_phase != phase:
            return None
        if getattr(self, "profiled", False):
            return None
        self.profiled = True
        command = [args.py_spy, "record", "--pid", str(self.pids[0]), "--duration", str(max(1, int(duration)))]
        command += ["--rate", "200", "--format", "raw", "--output", f"{args.profile}.{self.label}.txt", "--nonblocking"]
        return subprocess.Popen(
            command + (["--gil"] if args.profile_gil else []), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    async def saturate(self) -> list[dict]:
        """Steps the offered rate up until p99 exceeds the bound (or a message is lost): the highest rate held."""
        steps, rate = [], self.args.saturate_from
        while rate <= self.args.saturate_to:
            await self.quiet()
            step = await self.phase(rate, self.args.step_duration, settle=15)
            steps.append(step)
            print(
                f"{self.label:<8} step {rate:g} msg/s offered: delivered {step['msgs_per_s']:.0f}/s, "
                f"p50 {step['p50']:.1f} ms p99 {step['p99']:.1f} ms, lost {step['lost']} (refused {step['refused']}) "
                f"late sends {step['late_sends']}, CPU {step['cpu_ms_per_message']:.2f} ms/msg",
                flush=True,
            )
            if step["p99"] > self.args.saturation_p99_ms or step["lost"] or step["unacked"]:
                break
            rate += self.args.saturate_step
        return steps

    async def visitor_storm(self, count: int, rate: float) -> dict:
        """`count` new visitors arriving at `rate` per second: session call, socket and hello, until the welcome."""
        latencies, opened, failures = [], [], []
        profiler = self.profiler("storm", count / rate)

        async def one(n: int) -> None:
            t0 = time.perf_counter()
            try:
                token = None
                if self.label.startswith("desk"):
                    session = await http_post_json(
                        self.bases[n % len(self.bases)].replace("ws://", "http://", 1),
                        "/api/widget/v1/session",
                        {"site_key": self.site_key},
                    )
                    token = session["visitor_token"]
                visitor = Visitor(self.widget_url(n), self.stats)
                await visitor.open(token)
                opened.append(visitor)
                latencies.append((time.perf_counter() - t0) * 1000)
            except Exception as exc:  # noqa: BLE001 — counted and shown
                failures.append(repr(exc))

        elapsed = await arrivals(count, rate, one)
        if profiler is not None:
            profiler.wait(60)
        for visitor in opened:
            await visitor.close()
        return storm_figures(count, rate, elapsed, latencies, failures)

    async def operator_storm(self, count: int, rate: float) -> dict:
        """`count` operator reconnects at `rate` per second: socket, welcome, `sync` from a little behind, until
        `sync.done` (the relay has no sync: its figure is the socket and welcome)."""
        from websockets.asyncio.client import connect

        latencies, failures = [], []
        profiler = self.profiler("operator-storm", count / rate)

        async def one(n: int) -> None:
            cookie = self.cookies[n % len(self.cookies)]
            url = f"{self.bases[n % len(self.bases)]}/ws/agent/"
            desk_origin = url.replace("ws://", "http://", 1).split("/ws/", 1)[0]
            t0 = time.perf_counter()
            try:
                async with connect(
                    url,
                    origin=desk_origin,
                    additional_headers={"Cookie": cookie} if cookie else None,
                    max_size=2**22,
                    ping_interval=None,
                ) as ws:
                    welcome = json.loads(await ws.recv())
                    if self.label.startswith("desk"):
                        await ws.send(
                            json.dumps({"type": "sync", "last_event_id": max(0, welcome["last_event_id"] - 5)})
                        )
                        while json.loads(await ws.recv())["type"] != "sync.done":
                            pass
                    latencies.append((time.perf_counter() - t0) * 1000)
            except Exception as exc:  # noqa: BLE001 — counted and shown
                failures.append(repr(exc))

        elapsed = await arrivals(count, rate, one)
        if profiler is not None:
            profiler.wait(60)
        return storm_figures(count, rate, elapsed, latencies, failures)

    async def close(self) -> None:
        for v in self.visitors:
            await v.close()
        for task in self.operator_tasks:
            task.cancel()
        await asyncio.gather(*self.operator_tasks, return_exceptions=True)


async def drive(bases: list[str], site_key: str, cookies: list[str | None], args, pids: list[int], label: str) -> dict:
    load = Load(bases, site_key, cookies, args, pids, label)
    result = {"label": label, **await load.connect()}
    main = await load.phase(args.rate, args.duration, args.settle)
    result.update(main)
    result["measured_seqs"] = main["seqs"]
    if args.dump:
        sent = load.stats.sent_at
        Path(f"{args.dump}.{label}.json").write_text(
            json.dumps([[seq, sent[seq], load.stats.acked_at.get(seq, 0)] for seq in main["seqs"]])
        )
    if args.saturate:
        result["steps"] = await load.saturate()
        result["saturation_p99_ms"] = args.saturation_p99_ms
    if args.storm:
        await load.quiet()
        result["visitor_storm"] = await load.visitor_storm(args.storm, args.storm_rate)
        result["operator_storm"] = await load.operator_storm(args.storm, args.storm_rate)
    await load.close()
    result["sent_total"] = load.next_seq
    return result


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
        f"{result['label']:<8} connect {result['connect_seconds']:.1f}s, "
        f"warm-up {result['warmup_seconds']:.0f}s, "
        f"sent {result['messages']} msgs in {result['send_seconds']:.1f}s | "
        f"delivered {result['delivered']}/{result['messages']} ({result['msgs_per_s']:.1f} msgs/s) | "
        f"latency p50 {result['p50']:.1f} ms p95 {result['p95']:.1f} ms p99 {result['p99']:.1f} ms "
        f"(ack p99 {result['ack_p99']:.1f} ms) | lost {result['lost']} (refused {result['refused']}) "
        f"unacked {result['unacked']} "
        f"duplicated {result['duplicated']} late sends {result['late_sends']} | "
        f"server CPU {result['cpu_ms_per_message']:.2f} ms/msg | "
        f"memory {result['rss_per_idle_visitor'] / 1024:.1f} KiB per idle visitor "
        f"(RSS {result['rss_idle'] / 2**20:.0f} MiB)"
    )
    if "steps" in result:
        bound = result["saturation_p99_ms"]
        held = [s["rate"] for s in result["steps"] if s["p99"] <= bound and not s["lost"] and not s["unacked"]]
        print(
            f"{result['label']:<8} saturation: highest rate held (p99 ≤ {bound:g} ms, nothing lost): "
            f"{max(held, default=0):g} msg/s"
        )
    for name in ("visitor_storm", "operator_storm"):
        if name in result:
            storm = result[name]
            print(
                f"{result['label']:<8} {name.replace('_', ' ')}: {storm['count']} at {storm['offered']:g}/s offered, "
                f"{storm['held']:.0f}/s held, p50 {storm['p50']:.0f} ms p99 {storm['p99']:.0f} ms, "
                f"failures {storm['failures']} {storm['first_failure'][:120]}"
            )


def stop(server: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL: with thousands of sockets closing, daphne may pass its own 10 s of shutdown, and the
    figures of the run must still be printed."""
    server.terminate()
    try:
        server.wait(30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def start_desk(port: int, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "supportdesk.asgi:application"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=sys.stderr,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--visitors", type=int, default=500)
    parser.add_argument("--operators", type=int, default=20)
    parser.add_argument("--rate", type=float, default=50.0, help="visitor messages per second")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of measured load")
    parser.add_argument("--settle", type=float, default=30.0, help="seconds to wait for late deliveries")
    parser.add_argument("--servers", type=int, default=1, choices=(1, 2), help="daphne processes (clients alternate)")
    parser.add_argument("--saturate", action="store_true", help="then step the rate up until p99 passes the bound")
    parser.add_argument("--saturate-from", type=float, default=100.0)
    parser.add_argument("--saturate-step", type=float, default=100.0)
    parser.add_argument("--saturate-to", type=float, default=2000.0)
    parser.add_argument("--step-duration", type=float, default=15.0)
    parser.add_argument("--saturation-p99-ms", type=float, default=250.0)
    parser.add_argument("--storm", type=int, default=0, help="then N new visitors, and N operator reconnects")
    parser.add_argument("--storm-rate", type=float, default=200.0, help="arrivals per second in the storms")
    parser.add_argument("--skip-relay", action="store_true")
    parser.add_argument("--dump", help="write per-message send and ack times to DUMP.<desk|relay>.json")
    parser.add_argument(
        "--profile", help="sample the servers with py-spy into PROFILE.<desk|relay>.txt (collapsed stacks)"
    )
    parser.add_argument("--py-spy", default="py-spy", help="the py-spy executable")
    parser.add_argument("--profile-phase", choices=("load", "storm", "operator-storm"), default="load")
    parser.add_argument("--profile-gil", action="store_true", help="sample only the thread holding the GIL (CPU)")
    parser.add_argument("--relay-server", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.relay_server:
        run_relay(args.relay_server)
        return

    setup_django()
    from django.conf import settings

    site_key, cookies, inbox_id = prepare_desk(args)
    # As a deployment would run daphne: its settings' connection pool (DB_POOL_MAX_SIZE, at least the threads) and
    # 16 threads for ORM work (daphne's ASGI_THREADS; 2 cores + 4 by default), so that queries waiting on a busy
    # database overlap.
    env = dict(os.environ, PYTHONUNBUFFERED="1", LOG_LEVEL="WARNING", ASGI_THREADS=os.environ.get("ASGI_THREADS", "16"))
    # Every bench visitor comes from this machine's one address: the limits per address (docs/security.md) are off;
    # and the bench's one site sends more than a site's default allowance (20,000 messages a minute), as a site
    # that expects such traffic would be configured.
    for limit in (
        "WS_MAX_SOCKETS_PER_ADDRESS",
        "WIDGET_SESSIONS_PER_ADDRESS_PER_MINUTE",
        "WIDGET_HELLOS_PER_ADDRESS_PER_MINUTE",
        "VISITOR_MESSAGES_PER_ADDRESS_PER_MINUTE",
        "NEW_CONTACTS_PER_ADDRESS_PER_HOUR",
        "WIDGET_SESSIONS_PER_SITE_PER_MINUTE",
        "WIDGET_HELLOS_PER_SITE_PER_MINUTE",
        "VISITOR_MESSAGES_PER_SITE_PER_MINUTE",
        "NEW_CONTACTS_PER_SITE_PER_HOUR",
    ):
        env.setdefault(limit, "0")
    ports = [free_port() for _ in range(args.servers)]
    label = "desk" if args.servers == 1 else "desk×2"
    print(
        f"desk: {args.servers} daphne, database {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}, "
        f"channel layer {settings.CHANNEL_LAYERS['default']['BACKEND'].rsplit('.', 1)[-1]}, "
        f"pool {settings.DATABASES['default'].get('OPTIONS', {}).get('pool')} ASGI_THREADS={env['ASGI_THREADS']}; "
        f"{args.visitors} visitors, {args.operators} operators, {args.rate:g} visitor msgs/s for {args.duration:g}s",
        flush=True,
    )
    desks = [start_desk(port, env) for port in ports]
    try:
        for port, desk in zip(ports, desks, strict=True):
            wait_http(f"http://127.0.0.1:{port}/healthz", desk)
        print(f"desk server pids {[d.pid for d in desks]}", flush=True)
        desk_result = asyncio.run(
            drive([f"ws://127.0.0.1:{p}" for p in ports], site_key, cookies, args, [d.pid for d in desks], label)
        )
    finally:
        for desk in desks:
            stop(desk)
    desk_result["stored"] = stored_count(inbox_id)
    report(desk_result)
    print(
        f"{label:<8} stored {desk_result['stored']}/{desk_result['sent_total']} bench messages in the database "
        f"(every phase)",
        flush=True,
    )
    if args.skip_relay:
        return

    relay_port = free_port()
    relay = subprocess.Popen([sys.executable, __file__, "--relay-server", str(relay_port)], cwd=ROOT, env=env)
    try:
        wait_port(relay_port, relay)
        relay_result = asyncio.run(
            drive([f"ws://127.0.0.1:{relay_port}"], "relay", [None] * args.operators, args, [relay.pid], "relay")
        )
    finally:
        stop(relay)

    report(relay_result)
    d, r = desk_result, relay_result
    print(
        f"ratio desk/relay: CPU per message {d['cpu_ms_per_message'] / r['cpu_ms_per_message']:.1f}x, "
        f"p50 {d['p50'] / r['p50']:.1f}x, p99 {d['p99'] / r['p99']:.1f}x, "
        f"memory per idle visitor {d['rss_per_idle_visitor'] / max(r['rss_per_idle_visitor'], 1):.1f}x"
    )
    ok = (
        desk_result["lost"] == 0
        and desk_result["unacked"] == 0
        and desk_result["duplicated"] == 0
        and desk_result["stored"] == desk_result["sent_total"]
    )
    print(f"measured phase: p99 {d['p99']:.1f} ms, " + ("nothing lost or duplicated" if ok else "LOST OR DUPLICATED"))


if __name__ == "__main__":
    main()
