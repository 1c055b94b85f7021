"""The system runs as separate processes: a daphne server and a real Celery worker on the configured broker."""

import json
import time
import uuid
from pathlib import Path
from urllib.request import urlopen

import pytest
from django.conf import settings

from supportdesk.celery import ping

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
