"""What `make run` starts (manage.py rundesk): web, worker, beat and the demo website, ready within 60 s."""

import signal
import subprocess
import sys
import time
from urllib.request import urlopen

import pytest

from supportdesk.demo import create_demo
from tests.processes import ROOT, child_env, free_port

pytestmark = pytest.mark.slow


def _get(url: str) -> tuple[int, str, str]:
    with urlopen(url, timeout=5) as response:  # noqa: S310 — loopback
        return response.status, response.url, response.read().decode()


def test_rundesk_serves_everything_and_ctrl_c_stops_all(transactional_db, tmp_path):
    create_demo()
    port, site_port = free_port(), free_port()
    log = (tmp_path / "rundesk.log").open("w+")
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "rundesk", "--port", str(port), "--site-port", str(site_port)],
        cwd=ROOT,
        env=child_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    desk = f"http://127.0.0.1:{port}"
    try:
        started = time.monotonic()
        while "Supportdesk is running" not in (tmp_path / "rundesk.log").read_text():
            assert proc.poll() is None, (tmp_path / "rundesk.log").read_text()
            assert time.monotonic() - started < 60, "not ready within 60 s"
            time.sleep(0.2)
        output = (tmp_path / "rundesk.log").read_text()
        for expected in (
            f"http://localhost:{site_port}/",
            f"{desk}/inbox/",
            f"{desk}/admin/",
            "admin / admin-demo",
            "sara / sara-demo",
            "ali / ali-demo",
        ):
            assert expected in output

        status, _, page = _get(f"http://localhost:{site_port}/")
        assert status == 200
        assert f'src="{desk}/static/widget/widget.js" data-site-key="demo-site-key"' in page
        assert _get(f"{desk}/admin/login/")[0] == 200
        assert _get(f"{desk}/inbox/")[1].startswith(f"{desk}/accounts/login/")
        assert _get(f"{desk}/static/widget/widget.js")[0] == 200
        assert _get(f"{desk}/healthz")[0] == 200
        # The worker and beat are up too.
        deadline = time.monotonic() + 60
        while not (" ready." in output and "beat: Starting" in output) and time.monotonic() < deadline:
            time.sleep(0.2)
            output = (tmp_path / "rundesk.log").read_text()
        assert "beat: Starting" in output and " ready." in output, output[-3000:]
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)
    # Nothing left listening.
    with pytest.raises(OSError):
        urlopen(f"{desk}/healthz", timeout=2)  # noqa: S310
