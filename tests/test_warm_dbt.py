"""The warm dbt process: a command run through it behaves like its own process, and faults end it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orchestration.warm_dbt import SOCKET_VARIABLE, WarmDbt

CLIENT = str(Path(sys.executable).with_name("retention-dbt"))


@pytest.fixture
def warm_probe():
    """A warm process whose children run tests/warm_probe.py instead of dbt."""
    warm = WarmDbt()
    warm.start(entry="tests.warm_probe:main")
    yield warm
    warm.stop()


def client(args: list[str], env: dict[str, str], **kwargs) -> subprocess.Popen:
    return subprocess.Popen([CLIENT, *args], env={**os.environ, **env}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, **kwargs)


def gone(pid: int, seconds: float = 5.0) -> bool:
    """Whether process `pid` has ended (or is a zombie) within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status = Path(f"/proc/{pid}/status")
        try:
            if "zombie" in status.read_text().lower():
                return True
        except (FileNotFoundError, ProcessLookupError):
            # Gone before the open, or while its status was read (the kernel then answers ESRCH).
            return True
        time.sleep(0.05)
    return False


def test_a_command_gets_the_clients_arguments_folder_environment_and_exit_status(warm_probe, tmp_path):
    process = client(["echo", "3", "hello", "world"], {**warm_probe.environment(), "PROBE_VALUE": "x1"}, cwd=tmp_path)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 3
    # stdout and stderr are the client's own (here one pipe), in order.
    assert output.splitlines() == [f"hello world {tmp_path} x1", "to stderr"]


def test_an_interrupted_client_interrupts_its_command(warm_probe):
    process = client(["wait"], warm_probe.environment())
    child = int(process.stdout.readline())
    assert child != process.pid  # the command runs in the warm process's child, not in the client
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 130
    assert process.stdout.read().splitlines()[0] == "interrupted"
    assert gone(child)


def test_a_killed_client_takes_its_command_along(warm_probe):
    # What a successor does to a dead run's dbt process (orchestration/runs/lock.py): it knows the client only.
    process = client(["wait"], warm_probe.environment())
    child = int(process.stdout.readline())
    process.kill()
    process.wait(timeout=30)
    assert gone(child)


def test_without_a_warm_process_the_client_is_plain_dbt(tmp_path):
    plain = subprocess.run([str(Path(sys.executable).with_name("dbt")), "nosuchcommand"], capture_output=True,
                           text=True, cwd=tmp_path)
    without = subprocess.run([CLIENT, "nosuchcommand"], capture_output=True, text=True, cwd=tmp_path,
                             env={**os.environ, SOCKET_VARIABLE: str(tmp_path / "absent.sock")})
    warm = WarmDbt()
    warm.start()
    try:
        through = subprocess.run([CLIENT, "nosuchcommand"], capture_output=True, text=True, cwd=tmp_path,
                                 env={**os.environ, **warm.environment()})
    finally:
        warm.stop()
    assert plain.returncode == without.returncode == through.returncode == 2  # click's usage error
    assert "No such command 'nosuchcommand'" in plain.stderr
    assert without.stderr == through.stderr == plain.stderr


def test_the_warm_process_ends_with_stop_and_leaves_nothing(warm_probe):
    socket_path = Path(warm_probe.environment()[SOCKET_VARIABLE])
    process = warm_probe._process
    warm_probe.stop()
    assert process.poll() is not None
    assert not socket_path.parent.exists()
    assert warm_probe.environment() == {}


def test_the_warm_process_builds_the_schemas_each_command_validates():
    import importlib

    from dbt_common.dataclass_schema import dbtClassMixin

    from orchestration.warm_dbt import WARM_SCHEMAS, _build_schemas

    _build_schemas()
    before = dbtClassMixin.json_schema.cache_info()
    for name in WARM_SCHEMAS:
        module, cls = name.split(":")
        schema = getattr(importlib.import_module(module), cls).json_schema()
        assert schema["type"] == "object"
    after = dbtClassMixin.json_schema.cache_info()
    # Every one was built already: each call is a hit, none builds anew.
    assert (after.hits - before.hits, after.misses - before.misses) == (len(WARM_SCHEMAS), 0)
