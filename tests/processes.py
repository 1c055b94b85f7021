"""Real server and worker processes for tests that cross processes (daphne, Celery, a host website)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.error import URLError
from urllib.request import urlopen

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent

# What only the test process may have, never a process it starts (docs/testing.md): pytest's and pytest-django's
# own keys.
TEST_PROCESS_ONLY = ("DJANGO_SETTINGS_MODULE",)
# The environment `make test` was started with, as a user's shell had it, read before any fixture changes it.
USER_ENV = {k: v for k, v in os.environ.items() if k not in TEST_PROCESS_ONLY and not k.startswith("PYTEST_")}
# Written by a server that ran the ORM on its event loop: under daphne that is a 500 or a refused frame.
EVENT_LOOP_FAULT_LINE = "django.core.exceptions.SynchronousOnlyOperation"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def require(what: str, available: bool, why: str) -> None:
    """Skip when `what` ('services' or 'browser') is missing; fail instead under REQUIRE_<WHAT>=1."""
    if available:
        return
    if os.environ.get(f"REQUIRE_{what.upper()}") == "1":
        pytest.fail(f"REQUIRE_{what.upper()}=1 but {why}")
    pytest.skip(why)


def require_services() -> None:
    """PostgreSQL and Redis, as in production."""
    require(
        "services",
        settings.IS_POSTGRES and bool(settings.REDIS_URL),
        "DATABASE_URL (PostgreSQL) and REDIS_URL are not set",
    )


def database_url() -> str:
    """The URL of the database the tests use right now (the test database), for child processes."""
    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{s['NAME']}"
    user = s.get("USER") or ""
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    port = f":{s['PORT']}" if s.get("PORT") else ""
    return f"postgres://{auth}{s.get('HOST') or '127.0.0.1'}{port}/{s['NAME']}"


def child_env(**extra: str) -> dict[str, str]:
    """A started process's environment: the user's, the test database, and the settings a test names (real
    settings that production reads too, such as a shortened window); never a test-process-only switch."""
    env = dict(USER_ENV)
    env["DATABASE_URL"] = database_url()
    env.setdefault("SUPPORTDESK_VAR_DIR", str(settings.VAR_DIR))
    env["PYTHONUNBUFFERED"] = "1"
    env.update({k: str(v) for k, v in extra.items()})
    return env


def _wait_http(url: str, timeout: float, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
        try:
            with urlopen(url, timeout=2) as response:  # noqa: S310 — loopback only
                if response.status < 500:
                    return
        except URLError:
            pass
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout}s:\n{log.read_text()[-4000:]}")


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (its children, theirs, ...), read from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        parent = int(text[text.rindex(")") + 2 :].split()[1])
        children.setdefault(parent, []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return state[state.rindex(")") + 2] != "Z"


def _gone(pids: list[int], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while any(alive(pid) for pid in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


class ManagedProcess:
    """A child process with its output in a log file; stop() is idempotent and stops everything it started
    (rundesk's web, worker and beat run in sessions of their own), whatever state the process is in."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_dir: Path):
        self.name, self.argv, self.env = name, argv, env
        self.log = log_dir / f"{name}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        handle = self.log.open("ab")
        self.proc = subprocess.Popen(
            self.argv, cwd=ROOT, env=self.env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
        )
        handle.close()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10) -> None:
        if self.proc is None:
            return
        # Read before it exits: once it has, its orphans belong to init.
        tree = descendants(self.proc.pid)
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        if not _gone(tree, timeout):
            for pid in tree:
                if alive(pid):
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
            _gone(tree, 5)

    def kill(self) -> None:
        """Like a crash: no clean shutdown."""
        self.stop(signal.SIGKILL)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait_for_output(self, *texts: str, timeout: float = 60) -> str:
        """Its output once it holds every one of `texts`; fails when it exits or the time is up first."""
        deadline = time.monotonic() + timeout
        output = self.output()
        while not all(text in output for text in texts):
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{output[-4000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name}: not all of {texts} within {timeout}s:\n{output[-4000:]}")
            time.sleep(0.1)
            output = self.output()
        return output

    def event_loop_faults(self) -> list[str]:
        return sorted({line.strip() for line in self.output().splitlines() if line.startswith(EVENT_LOOP_FAULT_LINE)})


class AsgiServer(ManagedProcess):
    """daphne serving supportdesk.asgi on a free port of 127.0.0.1."""

    def __init__(self, log_dir: Path, port: int | None = None, **env: str):
        self.port = port or free_port()
        super().__init__(
            f"daphne-{self.port}",
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port), "supportdesk.asgi:application"],
            child_env(**env),
            log_dir,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> None:
        super().start()
        _wait_http(f"{self.url}/healthz", timeout, self.proc, self.log)

    def restart(self) -> None:
        self.stop()
        self.start()


class Rundesk(ManagedProcess):
    """`manage.py rundesk`, the command `make run` ends with, on free ports: web, worker, beat, demo website."""

    READY = "Supportdesk is running"

    def __init__(self, log_dir: Path, **env: str):
        self.port, self.site_port = free_port(), free_port()
        super().__init__(
            "rundesk",
            [sys.executable, "manage.py", "rundesk", "--port", str(self.port), "--site-port", str(self.site_port)],
            # The SMTP receiver it starts listens on a free port too (a real setting, as a deployment would set it).
            child_env(**{"MAIL_RECEIVER_PORT": str(free_port()), **env}),
            log_dir,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def site_url(self) -> str:
        return f"http://localhost:{self.site_port}"

    def start(self, timeout: float = 90) -> None:
        super().start()
        self.wait_for_output(self.READY, timeout=timeout)


class MailReceiver(ManagedProcess):
    """`manage.py mailreceiver`, the SMTP receiver as rundesk and docker-compose start it, on a free port."""

    def __init__(self, log_dir: Path, **env: str):
        self.port = free_port()
        super().__init__(
            f"mailreceiver-{self.port}",
            [sys.executable, "manage.py", "mailreceiver", "--host", "127.0.0.1", "--port", str(self.port)],
            child_env(**env),
            log_dir,
        )

    def start(self, timeout: float = 60) -> None:
        super().start()
        self.wait_for_output("SMTP receiver listening", timeout=timeout)


class CeleryWorker(ManagedProcess):
    """A real Celery worker process on the configured broker (filesystem by default, Redis with REDIS_URL)."""

    def __init__(self, log_dir: Path, name: str = "worker", concurrency: int = 1, **env: str):
        super().__init__(
            name,
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "supportdesk",
                "worker",
                "-P",
                "solo" if concurrency == 1 else "threads",
                "-c",
                str(concurrency),
                "-n",
                f"{name}-{os.getpid()}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-l",
                "INFO",
            ],
            child_env(**env),
            log_dir,
        )

    def start(self, timeout: float = 60) -> None:
        super().start()
        self.wait_for_output(" ready.", timeout=timeout)


class StaticSite:
    """A stand-in for a customer's website: serves given HTML pages on its own origin (another port)."""

    def __init__(self, host: str = "localhost"):
        self.pages: dict[str, str] = {}
        self.port = free_port()
        self.host = host
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 — http.server API
                body = pages.get(self.path.split("?")[0])
                if body is None:
                    self.send_error(404)
                    return
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    def add(self, path: str, html: str) -> str:
        self.pages[path] = html
        return f"{self.origin}{path}"

    def widget_page(
        self, *, desk_url: str, site_key: str, path: str = "/", head: str = "", body: str = "", lang: str = "en"
    ) -> str:
        """A page that embeds the widget with the one tag of protocol.md."""
        return self.add(
            path,
            f"<!doctype html><html lang='{lang}'><head><meta charset='utf-8'><title>Host page</title>{head}</head>"
            f"<body>{body}<script async src='{desk_url}/static/widget/widget.js' data-site-key='{site_key}'>"
            f"</script></body></html>",
        )

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
