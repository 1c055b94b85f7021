"""Fixtures every test can use: real server, worker and browser processes, and eager Celery otherwise.

- `asgi_server`: daphne on a free port, on the test database (needs `transactional_db`, which it requests).
- `asgi_server_factory`: start several (for multi-process tests); each has .url, .ws_url, .restart(), .kill().
- `celery_worker`: a real worker process on the configured broker.
- `mail_receiver_factory`: the SMTP receiver (`manage.py mailreceiver`) on a free port.
- `rundesk`: `manage.py rundesk` (what `make run` starts) on free ports, stopped with everything it started.
- `host_site`: a stand-in customer website on another origin (`widget_page(...)` embeds the widget).
- `browser` / `browser_context`: Playwright driving /usr/bin/chromium.
- `named_desk_browser`: another Chromium that reaches the desk as http://desk.test:PORT and nothing outside.
Tests that need PostgreSQL + Redis call `tests.processes.require_services()`; under REQUIRE_SERVICES=1 (or
REQUIRE_BROWSER=1 for the browser) a missing one fails the test instead of skipping it.
"""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

import pytest
from django.conf import settings

from supportdesk.celery import app as celery_app
from tests import browser as playwright_thread
from tests.processes import AsgiServer, CeleryWorker, MailReceiver, Rundesk, StaticSite, require

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(autouse=True)
def _celery_eager_by_default():
    """In-process tests run tasks eagerly; `celery_worker` switches to the real broker."""
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager = True


@pytest.fixture(autouse=True)
def _test_process_holds_sockets(monkeypatch):
    """WebsocketCommunicator sockets live in the test process, so its realtime sends go to its own channel
    layer rather than over the bridge to a server process (test_realtime_bridge turns this off)."""
    from chat import realtime

    monkeypatch.setattr(realtime, "_server_process", True)


@pytest.fixture(autouse=True)
def _communicator_threads_close_their_connections(monkeypatch, django_db_blocker):
    """channels' WebsocketCommunicator swaps the connection cleanup after each database call for a no-op while it
    runs the consumer (so that a thread-sensitive call cannot close the main thread's test transaction). The
    consumers' calls run in worker threads with connections of their own, which then stayed checked out of the
    pool after their threads ended, until the pool ran dry. Off the main thread the cleanup runs as in daphne."""
    import threading

    from channels.testing import application
    from django.db import close_old_connections

    def close_off_the_main_thread():
        if threading.current_thread() is not threading.main_thread():
            # Handing a connection back is no database access, even in a test without the database (a thread may
            # keep one from an earlier test: SQLite's connections persist).
            with django_db_blocker.unblock():
                close_old_connections()

    monkeypatch.setattr(application, "no_op", close_off_the_main_thread)


@pytest.fixture(autouse=True)
def _no_snapshot_from_an_earlier_test():
    """chat.snapshots keeps a site's settings for 2 s in this process; a flushed database fires no signal."""
    from chat import snapshots

    snapshots.forget()


@pytest.fixture(autouse=True)
def _anonymous_limits_per_address_off(settings):
    """Every in-process request and socket comes from one address (127.0.0.1, or none for a communicator): the
    whole suite would add up to one flooder. The tests of the limits set the one they check (tests/chat)."""
    for name in (
        "WIDGET_SESSIONS_PER_ADDRESS_PER_MINUTE",
        "WIDGET_HELLOS_PER_ADDRESS_PER_MINUTE",
        "VISITOR_MESSAGES_PER_ADDRESS_PER_MINUTE",
        "OFFLINE_MESSAGES_PER_ADDRESS_PER_HOUR",
        "NEW_CONTACTS_PER_ADDRESS_PER_HOUR",
        "WIDGET_UPLOADS_PER_ADDRESS_PER_HOUR",
        "WS_MAX_SOCKETS_PER_ADDRESS",
    ):
        setattr(settings, name, 0)


@pytest.fixture(autouse=True)
def _mail_in_memory(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def group_listener():
    """listen(group) -> a GroupListener whose .frames() is what a socket in that group would have received."""
    from tests.layers import GroupListener

    listeners: list[GroupListener] = []

    def listen(group: str) -> GroupListener:
        listeners.append(GroupListener(group))
        return listeners[-1]

    yield listen
    for listener in listeners:
        listener.close()


@pytest.fixture
def log_dir(tmp_path) -> Path:
    path = tmp_path / "logs"
    path.mkdir()
    return path


def _dump_logs_on_failure(request, processes) -> None:
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        for proc in processes:
            print(f"\n----- {proc.name} log -----\n{proc.output()[-6000:]}")


def _assert_no_event_loop_faults(processes) -> None:
    """Whatever a test checked, a server that ran the ORM on its event loop failed someone: fail the test."""
    faults = {proc.name: proc.event_loop_faults() for proc in processes}
    faults = {name: lines for name, lines in faults.items() if lines}
    assert not faults, f"ORM calls on the event loop: {faults}"


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture
def asgi_server_factory(transactional_db, log_dir, request):
    started: list[AsgiServer] = []

    def start(port: int | None = None, **env: str) -> AsgiServer:
        server = AsgiServer(log_dir, port=port, **env)
        server.start()
        started.append(server)
        return server

    yield start
    _dump_logs_on_failure(request, started)
    for server in started:
        server.stop()
    _assert_no_event_loop_faults(started)


@pytest.fixture
def asgi_server(asgi_server_factory) -> AsgiServer:
    return asgi_server_factory()


def _purge_broker() -> None:
    if settings.CELERY_BROKER_URL.startswith("filesystem"):
        queue = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
        shutil.rmtree(queue, ignore_errors=True)
        queue.mkdir(parents=True, exist_ok=True)
    else:
        celery_app.control.purge()


@pytest.fixture
def celery_worker_factory(transactional_db, log_dir, request):
    started: list[CeleryWorker] = []
    _purge_broker()
    celery_app.conf.task_always_eager = False

    def start(name: str = "worker", concurrency: int = 1, **env: str) -> CeleryWorker:
        worker = CeleryWorker(log_dir, name=name, concurrency=concurrency, **env)
        worker.start()
        started.append(worker)
        return worker

    yield start
    _dump_logs_on_failure(request, started)
    for worker in started:
        worker.stop()
    celery_app.conf.task_always_eager = True


@pytest.fixture
def celery_worker(celery_worker_factory) -> CeleryWorker:
    return celery_worker_factory()


@pytest.fixture
def mail_receiver_factory(transactional_db, log_dir, request):
    """mail_receiver_factory(**env) -> `manage.py mailreceiver` on a free port, on the test database."""
    started: list[MailReceiver] = []

    def start(**env: str) -> MailReceiver:
        receiver = MailReceiver(log_dir, **env)
        started.append(receiver)
        receiver.start()
        return receiver

    yield start
    _dump_logs_on_failure(request, started)
    for receiver in started:
        receiver.stop()


@pytest.fixture
def rundesk(transactional_db, log_dir, request):
    """rundesk(**env) -> the whole system as `make run` starts it, on free ports, on the test database."""
    started: list[Rundesk] = []
    _purge_broker()

    def start(**env: str) -> Rundesk:
        desk = Rundesk(log_dir, **env)
        started.append(desk)
        desk.start()
        return desk

    yield start
    _dump_logs_on_failure(request, started)
    for desk in started:
        desk.stop(signal.SIGINT, timeout=30)
    _assert_no_event_loop_faults(started)


@pytest.fixture
def host_site():
    site = StaticSite()
    yield site
    site.close()


@pytest.fixture(scope="session")
def browser():
    require("browser", Path(CHROMIUM).exists(), f"no Chromium at {CHROMIUM}")
    # Playwright runs in a thread of its own (tests/browser.py): its event loop never runs in the tests' thread,
    # so their ORM calls are sync code to Django, as they are.
    playwright = playwright_thread.start()
    try:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    finally:
        playwright_thread.stop()


# The desk under a name that does not look like loopback: Swagger UI, for one, asks an online validator about any
# schema that is not on localhost or 127.0.0.1, so a test on those addresses would not see it.
DESK_HOST = "desk.test"


@pytest.fixture(scope="session")
def named_desk_browser(browser):
    """Chromium that finds DESK_HOST at 127.0.0.1 (and localhost as usual) and no other name: a page that asks
    for anything outside the machine gets nothing, and the test sees the request."""
    rules = f"MAP {DESK_HOST} 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE localhost"
    launched = browser.browser_type.launch(
        executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_ARGS, f"--host-resolver-rules={rules}"]
    )
    yield launched
    launched.close()


@pytest.fixture
def browser_context(browser, request):
    """A fresh browser profile (cookies, localStorage) per test; more can be made from `browser`."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    yield context
    context.close()


@pytest.fixture
def screenshot_dir() -> Path:
    path = Path(settings.BASE_DIR) / "var" / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path
