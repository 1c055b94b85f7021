"""The system runs as separate processes: a daphne server and a real Celery worker on the configured broker."""

import json
import signal
import time
import uuid
from pathlib import Path
from urllib.request import urlopen

import pytest
from django.conf import settings

from supportdesk.celery import ping
from tests.processes import USER_ENV, ManagedProcess, alive, child_env, descendants

pytestmark = pytest.mark.slow


def test_daphne_serves_healthz_static_and_login(asgi_server):
    with urlopen(f"{asgi_server.url}/healthz") as response:
        body = json.load(response)
    assert response.status == 200
    assert body["checks"] == {"database": "ok", "channel_layer": "ok"}
    with urlopen(f"{asgi_server.url}/admin/login/") as response:
        assert response.status == 200
    with urlopen(f"{asgi_server.url}/inbox/") as response:
        # Not logged in: redirected to the login page.
        assert response.url.startswith(f"{asgi_server.url}/accounts/login/")


def test_celery_worker_runs_a_task_from_the_configured_broker(celery_worker):
    marker = uuid.uuid4().hex
    ping.delay(marker)
    target = Path(settings.VAR_DIR, f"ping-{marker}")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not target.exists():
        time.sleep(0.1)
    assert target.exists(), celery_worker.output()[-3000:]
    assert "supportdesk.ping[" in celery_worker.output()
    target.unlink()


def test_a_started_server_gets_the_users_environment_and_no_test_only_switch(asgi_server_factory, monkeypatch):
    """A test-only switch once reached the servers under test and hid a 500 on the widget's first call: what the
    test process alone holds (pytest's keys, the settings module it chose) never reaches a server."""
    monkeypatch.setenv("PYTEST_SOMETHING_OF_THE_RUNNER", "1")
    server = asgi_server_factory(QUEUE_TIMEOUT_SECONDS="30")
    environ = dict(
        item.split("=", 1) for item in Path(f"/proc/{server.proc.pid}/environ").read_text().split("\0") if "=" in item
    )
    assert "DJANGO_SETTINGS_MODULE" not in environ
    assert not [key for key in environ if key.startswith("PYTEST_")]
    added = set(environ) - set(USER_ENV)
    assert added <= {"DATABASE_URL", "SUPPORTDESK_VAR_DIR", "PYTHONUNBUFFERED", "QUEUE_TIMEOUT_SECONDS"}
    assert environ["QUEUE_TIMEOUT_SECONDS"] == "30"


def test_stop_ends_everything_a_process_started_even_when_it_ignores_signals(log_dir):
    """rundesk's web, worker and beat run in sessions of their own: a test whose wait timed out left them running,
    taking later tests' tasks from the shared broker directory."""
    proc = ManagedProcess(
        "stubborn",
        ["bash", "-c", 'trap "" INT TERM; setsid sleep 300 & echo started; wait'],
        child_env(),
        log_dir,
    )
    proc.start()
    deadline = time.monotonic() + 10
    while "started" not in proc.output() and time.monotonic() < deadline:
        time.sleep(0.05)
    tree = descendants(proc.proc.pid)
    assert tree
    proc.stop(signal.SIGINT, timeout=2)
    assert proc.proc.poll() is not None
    assert not [pid for pid in tree if alive(pid)]
