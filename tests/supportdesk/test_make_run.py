"""What `make run` starts (manage.py rundesk): web, worker, beat and the demo website, ready within 60 s."""

import json
import os
import signal
import time
from pathlib import Path
from urllib.request import Request, urlopen

import pytest

from chat.models import Inbox
from supportdesk.demo import create_demo
from tests.processes import alive, descendants

pytestmark = pytest.mark.slow


def _get(url: str) -> tuple[int, str, str]:
    with urlopen(url, timeout=5) as response:  # noqa: S310 — loopback
        return response.status, response.url, response.read().decode()


def test_rundesk_serves_everything_and_ctrl_c_stops_all(rundesk):
    create_demo()
    desk = rundesk()
    output = desk.output()
    for expected in (
        f"{desk.site_url}/",
        f"{desk.url}/inbox/",
        f"{desk.url}/admin/",
        "admin / admin-demo",
        "sara / sara-demo",
        "ali / ali-demo",
    ):
        assert expected in output

    status, _, page = _get(f"{desk.site_url}/")
    assert status == 200
    assert f'src="{desk.url}/static/widget/widget.js" data-site-key="demo-site-key"' in page
    assert _get(f"{desk.url}/admin/login/")[0] == 200
    assert _get(f"{desk.url}/inbox/")[1].startswith(f"{desk.url}/accounts/login/")
    assert _get(f"{desk.url}/static/widget/widget.js")[0] == 200
    assert _get(f"{desk.url}/healthz")[0] == 200
    # Browsers ask both sites for an icon: neither answers 404.
    status, url, icon = _get(f"{desk.url}/favicon.ico")
    assert status == 200 and url.endswith("/static/desk/favicon.svg") and icon.startswith("<svg")
    assert '<link rel="icon" href="/favicon.svg"' in page
    assert _get(f"{desk.site_url}/favicon.svg")[2].startswith("<svg")
    desk.wait_for_output(" ready.", "beat: Starting", "SMTP receiver listening")
    children = descendants(desk.proc.pid)

    desk.proc.send_signal(signal.SIGINT)
    desk.proc.wait(30)
    # Nothing left running or listening.
    left = {pid: _command(pid) for pid in children if alive(pid)}
    assert not left, f"still running after rundesk was killed: {left}"
    with pytest.raises(OSError):
        urlopen(f"{desk.url}/healthz", timeout=2)  # noqa: S310


def test_the_demo_inboxes_allow_the_demo_website_on_any_port(rundesk):
    """On other ports than 8000/8001 the widget's first call was refused: the inboxes allowed port 8001 only."""
    create_demo()
    shop = Inbox.objects.get(site_key="demo-site-key")
    shop.allowed_origins = [*shop.allowed_origins, "https://shop.example.com"]
    shop.save()
    desk = rundesk()
    request = Request(
        f"{desk.url}/api/widget/v1/session",
        data=json.dumps({"site_key": "demo-site-key"}).encode(),
        headers={"Content-Type": "application/json", "Origin": desk.site_url},
        method="POST",
    )
    with urlopen(request, timeout=10) as response:  # noqa: S310 — loopback
        assert response.status == 200
        assert response.headers["Access-Control-Allow-Origin"] == desk.site_url
    shop.refresh_from_db()
    assert shop.allowed_origins == [
        "https://shop.example.com",
        f"http://127.0.0.1:{desk.site_port}",
        f"http://localhost:{desk.site_port}",
    ]


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:200]
    except OSError:
        return "?"


def test_web_worker_and_beat_stop_when_rundesk_is_killed(rundesk):
    """A rundesk killed without its Ctrl-C handler (kill -9, a crashed terminal) leaves no worker or beat behind
    to take tasks from the broker."""
    create_demo()
    desk = rundesk()
    desk.wait_for_output(" ready.", "beat: Starting")
    children = descendants(desk.proc.pid)
    assert len(children) >= 3
    os.kill(desk.proc.pid, signal.SIGKILL)
    desk.proc.wait(10)
    deadline = time.monotonic() + 20
    while [pid for pid in children if alive(pid)] and time.monotonic() < deadline:
        time.sleep(0.2)
    left = {pid: _command(pid) for pid in children if alive(pid)}
    assert not left, f"still running after rundesk was killed: {left}"
