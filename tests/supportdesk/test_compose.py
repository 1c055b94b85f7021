"""docker-compose.yml describes production: every command points at real modules, every variable is read."""

import importlib
import re
from pathlib import Path

import yaml

from tests.processes import ROOT

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SETTINGS_SOURCE = (ROOT / "supportdesk" / "settings.py").read_text()
READ_BY_SETTINGS = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z][A-Z0-9_]*)"', SETTINGS_SOURCE)) | {
    "DJANGO_SETTINGS_MODULE"
}


def test_production_services_are_all_there():
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(COMPOSE["services"])


def test_every_command_points_at_real_modules():
    for name in ("web", "worker", "beat", "migrate"):
        command = COMPOSE["services"][name]["command"]
        if command[0] == "daphne":
            module, attr = command[-1].split(":")
            assert hasattr(importlib.import_module(module), attr), name
        elif command[0] == "celery":
            app = importlib.import_module(command[command.index("-A") + 1])
            assert app.celery_app.main == "supportdesk"
            assert command[command.index("-A") + 2] in {"worker", "beat"}
        else:
            assert command[:2] == ["python", "manage.py"]
            assert (ROOT / "manage.py").exists()


# Read by the servers themselves, not by the settings: daphne sizes its pool of threads for database calls by it.
READ_BY_SERVERS = {"ASGI_THREADS"}


def test_every_variable_set_is_one_the_settings_read():
    for name in ("web", "worker", "beat", "migrate"):
        variables = set(COMPOSE["services"][name]["environment"])
        unknown = variables - READ_BY_SETTINGS - READ_BY_SERVERS
        assert not unknown, f"{name} sets variables the settings never read: {unknown}"


def test_the_image_runs_the_web_server():
    dockerfile = (Path(ROOT) / "Dockerfile").read_text()
    assert "supportdesk.asgi:application" in dockerfile
    # What was tested: the runtime lock, every package pinned with its hashes.
    assert "pip install --no-cache-dir --require-hashes -r requirements.lock" in dockerfile
