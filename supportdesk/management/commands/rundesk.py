"""Starts the whole system in the foreground: daphne, a Celery worker, Celery beat, the SMTP receiver and the demo
website.

The demo website is served on another port, so the widget runs cross-origin as on a customer's site.
Ctrl-C stops all of them.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.request import urlopen

from django.conf import settings
from django.core.management.base import BaseCommand

from supportdesk.demo import DEMO_PAGES, DEMO_SITE_PORT, MANAGER, OPERATORS, demo_origins_follow, render_demo_site

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In each child: SIGTERM when rundesk itself dies, even by SIGKILL, so that no worker or beat outlives it."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class Command(BaseCommand):
    help = "Runs daphne, a Celery worker, Celery beat, the SMTP receiver and the demo website (Ctrl-C stops all)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="address the desk and the demo website listen on")
        parser.add_argument("--port", type=int, default=8000, help="the desk's port (web, inbox, admin)")
        parser.add_argument(
            "--site-port",
            type=int,
            default=DEMO_SITE_PORT,
            help="the demo website's port; the demo inboxes allow its origin",
        )

    def handle(self, *args, host: str, port: int, site_port: int, **options):
        desk_url = f"http://{host}:{port}"
        demo_origins_follow(site_port=site_port)
        site_dir = self._render_demo_site(desk_url)
        site = ThreadingHTTPServer((host, site_port), partial(QuietHandler, directory=str(site_dir)))
        threading.Thread(target=site.serve_forever, daemon=True).start()

        embedded = not settings.REDIS_URL
        python = sys.executable
        commands = {
            "web": [python, "-m", "daphne", "-b", host, "-p", str(port), "supportdesk.asgi:application"],
            "worker": [
                python,
                "-m",
                "celery",
                "-A",
                "supportdesk",
                "worker",
                "-l",
                "INFO",
                # Threads, not a prefork pool: a pool's forked children are not rundesk's, so when rundesk dies (even
                # by SIGKILL, PR_SET_PDEATHSIG below) a worker stopping warm could be left waiting on them; with
                # threads the worker is one process that stops with rundesk. Deployments run their own worker.
                *(["-P", "solo"] if embedded else ["-P", "threads", "-c", "2"]),
            ],
            "beat": [
                python,
                "-m",
                "celery",
                "-A",
                "supportdesk",
                "beat",
                "-l",
                "INFO",
                "-s",
                settings.CELERY_BEAT_SCHEDULE_FILENAME,
            ],
            "mail": [python, str(Path(settings.BASE_DIR) / "manage.py"), "mailreceiver"],
        }
        env = {**os.environ, "SITE_URL": os.environ.get("SITE_URL", desk_url), "PYTHONUNBUFFERED": "1"}
        children = {
            name: subprocess.Popen(argv, env=env, start_new_session=True, preexec_fn=_die_with_parent)
            for name, argv in commands.items()
        }

        def stop(*_):
            for child in children.values():
                if child.poll() is None:
                    os.killpg(child.pid, signal.SIGTERM)
            for child in children.values():
                try:
                    child.wait(10)
                except subprocess.TimeoutExpired:
                    os.killpg(child.pid, signal.SIGKILL)
            site.shutdown()

        signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt))
        try:
            self._wait_ready(f"{desk_url}/healthz", children)
            self._announce(desk_url, f"http://localhost:{site_port}")
            while all(child.poll() is None for child in children.values()):
                time.sleep(0.5)
            failed = [name for name, child in children.items() if child.poll() is not None]
            self.stderr.write(f"{', '.join(failed)} stopped; stopping the rest.")
        except KeyboardInterrupt:
            self.stdout.write("\nStopping…")
        finally:
            stop()

    def _render_demo_site(self, desk_url: str) -> Path:
        site_dir = Path(settings.VAR_DIR) / "demo-site"
        site_dir.mkdir(parents=True, exist_ok=True)
        for filename, site_key in DEMO_PAGES.items():
            html = render_demo_site(desk_url=desk_url, site_key=site_key, persian=filename == "fa.html")
            (site_dir / filename).write_text(html, encoding="utf-8")
        # The demo shop's own icon (a customer's site has one; without it every page view logs a 404).
        (site_dir / "favicon.svg").write_bytes((Path(settings.BASE_DIR) / "templates/demo/favicon.svg").read_bytes())
        return site_dir

    def _wait_ready(self, url: str, children: dict, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(child.poll() is not None for child in children.values()):
                raise KeyboardInterrupt
            try:
                with urlopen(url, timeout=2):  # noqa: S310 — our own server
                    return
            except OSError:
                time.sleep(0.2)
        self.stderr.write(f"{url} did not answer within {timeout:.0f} s")

    def _announce(self, desk_url: str, site_url: str) -> None:
        lines = [
            "",
            "Supportdesk is running. Ctrl-C stops everything.",
            "",
            f"  Demo website (widget, another origin): {site_url}/   (Persian: {site_url}/fa.html)",
            f"  Agent inbox:                           {desk_url}/inbox/",
            f"  Admin and reports:                     {desk_url}/admin/",
            f"  Health:                                {desk_url}/healthz",
            f"  SMTP receiver (mail to the inboxes):   {settings.MAIL_RECEIVER_HOST}:{settings.MAIL_RECEIVER_PORT}",
            "",
            "  Demo logins:",
            *[f"    {login.role:<26} {login.username} / {login.password}" for login in [MANAGER, *OPERATORS]],
            "",
        ]
        self.stdout.write("\n".join(lines))
        self.stdout.flush()
