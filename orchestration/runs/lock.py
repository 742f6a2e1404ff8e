"""One writer per warehouse: an OS file lock that a run holds from its first step to its last.

The lock is `flock` on `<warehouse>.lock`. The operating system releases it
when the holding process ends, however it ends (kill -9, the OOM killer, a
deploy), so a dead run can never block the next one. The holder writes who
it is into the file (run id, process, command, start time) and empties the
file when it releases the lock: a waiter names the run it waits for, and a
run that finds the file still filled after taking the lock knows its
predecessor died holding it.

Within one process the lock is re-entrant (a second `flock` on the same
file from the same process would wait for itself): a caller that already
holds it, such as a test around a run, finds it held by its own process.

A run that starts processes writing the warehouse (dbt) notes them in its
record: if the run is killed alone and they go on, the next run stops them
before it opens the file.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

# How long a run waits for the warehouse by default before it gives up.
DEFAULT_WAIT_SECONDS = 900.0
MAX_WAIT_SECONDS = 86400.0
POLL_SECONDS = 0.5
PROGRESS_EVERY_SECONDS = 30.0


class WarehouseBusy(RuntimeError):
    """Another run holds the warehouse and did not release it in time; the message names it."""


def process_start_ticks(pid: int) -> int | None:
    """When process `pid` started (clock ticks since boot), or None where /proc does not tell.

    Together with the pid this names one process for good: a pid the system
    hands out again belongs to a process that started later.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except OSError:
        return None
    # Field 22, counted after the command name, which may itself hold spaces and parentheses.
    return int(stat.rsplit(")", 1)[1].split()[19])


def process_is_alive(pid: int, host: str, start_ticks: int | None) -> bool | None:
    """Whether that process still runs; None when it runs on another machine (nobody here can tell)."""
    if host != socket.gethostname():
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, under another user
    return start_ticks is None or process_start_ticks(pid) in (None, start_ticks)


@dataclass(frozen=True)
class Holder:
    """Who holds (or held) the warehouse: a run, its process and how it was started."""

    run_id: str
    command: str  # e.g. "retention run", "schedule daily_refresh", "the Dagster UI"
    pid: int
    host: str
    started_at: str  # ISO 8601, UTC
    start_ticks: int | None = None
    # Processes the run started that write the warehouse too (dbt): [pid, start ticks] each.
    children: tuple[tuple[int, int | None], ...] = ()

    @classmethod
    def this_process(cls, run_id: str, command: str) -> Holder:
        """The record of a run in this process, starting now."""
        pid = os.getpid()
        return cls(run_id, command, pid, socket.gethostname(),
                   datetime.now(timezone.utc).isoformat(timespec="seconds"), process_start_ticks(pid))

    def describe(self) -> str:
        """E.g. `run 1a2b3c4d (retention run, pid 4242, since 2026-12-01 10:02:11 UTC)`."""
        since = self.started_at.replace("T", " ").replace("+00:00", " UTC")
        where = "" if self.host == socket.gethostname() else f" on {self.host}"
        return f"run {self.run_id[:8]} ({self.command}, pid {self.pid}{where}, since {since})"

    def to_json(self) -> str:
        """The record as written into the lock file."""
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Holder | None:
        """The record read back; None for an empty or half-written file."""
        try:
            record = json.loads(text)
            record["children"] = tuple(tuple(child) for child in record.get("children", ()))
            return cls(**record)
        except (ValueError, TypeError, AttributeError):
            return None


def lock_path(warehouse: Path) -> Path:
    """The lock file of a warehouse file: `<warehouse>.lock` beside it."""
    return warehouse.with_name(warehouse.name + ".lock")


@dataclass
class _Held:
    fd: int
    holder: Holder
    depth: int


# Locks this process holds, by lock file: what makes the lock re-entrant within a process.
_HELD: dict[Path, _Held] = {}


def _read_record(fd: int) -> Holder | None:
    os.lseek(fd, 0, os.SEEK_SET)
    data = b""
    while chunk := os.read(fd, 4096):
        data += chunk
    return Holder.from_json(data.decode("utf-8", errors="replace")) if data.strip() else None


def _write_record(fd: int, holder: Holder | None) -> None:
    data = holder.to_json().encode("utf-8") if holder else b""
    os.pwrite(fd, data, 0)
    os.ftruncate(fd, len(data))
    os.fsync(fd)


def current_holder(warehouse: Path) -> Holder | None:
    """Who holds the warehouse now, from the lock file, without touching the lock; None when free."""
    path = lock_path(warehouse)
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        holder = _read_record(fd)
    finally:
        os.close(fd)
    if holder is None:
        return None
    # A record left by a holder that died is not a holder.
    return None if process_is_alive(holder.pid, holder.host, holder.start_ticks) is False else holder


@dataclass(frozen=True)
class Acquired:
    """The lock, taken: by whom, and the record of a predecessor that died holding it (if any)."""

    holder: Holder
    died_holding: Holder | None
    reentered: bool


def acquire(warehouse: Path, holder: Holder, wait_seconds: float = DEFAULT_WAIT_SECONDS,
            progress: Callable[[str], None] = lambda _: None) -> Acquired:
    """Take the writer lock of `warehouse` for `holder`, waiting at most `wait_seconds` for another run.

    While waiting, `progress` hears whom the run waits for, at once and every
    half minute. After `wait_seconds` the wait ends with WarehouseBusy.
    """
    if not 0 <= wait_seconds <= MAX_WAIT_SECONDS:  # NaN included: no wait may be unbounded
        raise ValueError(f"wait_seconds must be between 0 and {MAX_WAIT_SECONDS:.0f}, not {wait_seconds}")
    path = lock_path(warehouse)
    held = _HELD.get(path)
    if held is not None:
        held.depth += 1
        return Acquired(held.holder, None, reentered=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _wait_for(fd, warehouse, wait_seconds, progress)
        died_holding = _read_record(fd)
        _write_record(fd, holder)
    except BaseException:
        os.close(fd)  # closing drops the lock if it was taken
        raise
    _HELD[path] = _Held(fd, holder, 1)
    return Acquired(holder, died_holding, reentered=False)


def _wait_for(fd: int, warehouse: Path, wait_seconds: float, progress: Callable[[str], None]) -> None:
    """Block until the lock is ours, or raise WarehouseBusy after `wait_seconds`."""
    started = time.monotonic()
    told = None
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        waited = time.monotonic() - started
        holder = current_holder(warehouse)
        who = holder.describe() if holder else "another run"
        if waited >= wait_seconds:
            raise WarehouseBusy(
                f"{warehouse} is in use by {who}; gave up waiting after {waited:.0f} s "
                "(RETENTION_LOCK_WAIT_SECONDS). Run again when it has finished, or stop it first."
            )
        if told is None or waited - told >= PROGRESS_EVERY_SECONDS:
            progress(f"waiting for {who} to finish with {warehouse} "
                     f"({waited:.0f} s so far, at most {wait_seconds:.0f} s)")
            told = waited
        time.sleep(min(POLL_SECONDS, max(wait_seconds - waited, 0.01)))


def add_child(warehouse: Path, pid: int) -> None:
    """Note in the record that this run started process `pid` (dbt), so that if this run dies and leaves it
    running, the next run stops it before it opens the warehouse."""
    held = _HELD.get(lock_path(warehouse))
    if held is None:
        return
    held.holder = replace(held.holder, children=(*held.holder.children, (pid, process_start_ticks(pid))))
    _write_record(held.fd, held.holder)


def stop_children(holder: Holder, grace_seconds: float = 10.0) -> list[int]:
    """Stop the processes a dead holder started that still run (SIGTERM, then SIGKILL); return their pids."""
    alive = [pid for pid, ticks in holder.children if process_is_alive(pid, holder.host, ticks)]
    for pid in alive:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_seconds
    while any(process_is_alive(pid, holder.host, None) for pid in alive) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in alive:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return alive


def release(warehouse: Path) -> None:
    """Give the lock back (the outermost release of this process empties the record and unlocks)."""
    path = lock_path(warehouse)
    held = _HELD.get(path)
    if held is None:
        return
    held.depth -= 1
    if held.depth > 0:
        return
    del _HELD[path]
    try:
        _write_record(held.fd, None)
    finally:
        os.close(held.fd)


@contextmanager
def writer_lock(warehouse: Path, holder: Holder, wait_seconds: float = DEFAULT_WAIT_SECONDS,
                progress: Callable[[str], None] = lambda _: None) -> Iterator[Acquired]:
    """`acquire` ... `release` as a context manager."""
    acquired = acquire(warehouse, holder, wait_seconds, progress)
    try:
        yield acquired
    finally:
        release(warehouse)
