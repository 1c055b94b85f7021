"""What gets installed is the lock: every package pinned with its hashes, at the versions the inputs name.

CI also runs `make lock-check`, which regenerates the locks from requirements*.txt and fails on any difference.
"""

import re
from pathlib import Path

from tests.processes import ROOT

PIN = re.compile(r"^([A-Za-z0-9._-]+)(?:\[[^\]]*\])?==([^\s;\\]+)", re.MULTILINE)


def _name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(path: str) -> dict[str, str]:
    return {_name(name): version for name, version in PIN.findall((Path(ROOT) / path).read_text())}


def _entries(path: str) -> list[str]:
    text = (Path(ROOT) / path).read_text()
    return [entry for entry in re.split(r"\n(?=[A-Za-z0-9])", text) if PIN.match(entry)]


def test_each_lock_pins_what_its_inputs_name_at_the_same_version():
    for lock, inputs in (
        ("requirements.lock", ["requirements.txt"]),
        ("requirements-dev.lock", ["requirements.txt", "requirements-dev.txt"]),
    ):
        locked = _pins(lock)
        for path in inputs:
            for name, version in _pins(path).items():
                assert locked.get(name) == version, f"{lock} has {name}=={locked.get(name)}, {path} asks {version}"


def test_every_locked_package_has_hashes_and_the_runtime_pins_are_the_dev_pins():
    for lock in ("requirements.lock", "requirements-dev.lock"):
        for entry in _entries(lock):
            assert "--hash=sha256:" in entry, f"{lock}: no hash for {entry.splitlines()[0]}"
    runtime, dev = _pins("requirements.lock"), _pins("requirements-dev.lock")
    assert {name: dev.get(name) for name in runtime} == runtime
