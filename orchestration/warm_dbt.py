"""dbt without its start-up cost: a warm process that has imported dbt forks one child per command.

Importing dbt-core and dbt-duckdb takes about 1.8 s of CPU before a command
does anything, and a run starts dbt three times (staging, marts, customer
360). The run therefore starts one *warm* process early (`WarmDbt.start`,
while the raw files load): it imports dbt once and waits on a Unix socket in
a private folder. Each dbt command is then started as `retention-dbt <args>`
(`client_main`, the `dbt_executable` of the dbt resource), a process that
imports nothing heavy: it hands the warm process its stdout and stderr, its
arguments, folder and environment; the warm process forks a child that runs
exactly what `dbt <args>` would, writing straight into the client's stdout
(so dagster-dbt reads dbt's JSON log lines as before) and sends back the exit
status, with which the client exits. Each command is still a fresh process
(state never leaks from one command to the next: the fork comes from a
process that only imported modules), only its imports are done.

Faults behave as with a plain dbt process, whose place the client takes:
- a signal to the client (SIGINT from dagster-dbt on interruption, SIGTERM)
  is passed on to the child;
- the client killed outright (the run killed, or a successor stopping what a
  dead run left, orchestration/runs/lock.py): the child notices its socket
  close and kills itself at once, so the warehouse file is freed;
- the warm process ends when the process that started it ends (its stdin
  closes); a child already running finishes its command, as dbt would;
- no warm process (not started, failed to start, or ended): the client
  becomes plain dbt itself (exec), so a command never fails for its sake.

Standard library only: the client must start in milliseconds.
"""

from __future__ import annotations

import importlib
import json
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

# The environment variable that tells the client where the warm process listens.
SOCKET_VARIABLE = "RETENTION_WARM_DBT_SOCKET"
SOCKET_NAME = "dbt.sock"
# What the warm process imports before it waits: dbt's command line, the adapter, the tasks and the parser.
WARM_MODULES = ("dbt.cli.main", "dbt.adapters.duckdb", "dbt.adapters.duckdb.impl", "dbt.task.build",
                "dbt.parser.manifest", "dbt.contracts.graph.manifest", "duckdb")
# dbt's configuration classes whose JSON schema each command builds to validate the project, the profile,
# the flags and the node configs (0.3-0.7 s of CPU a command, the same every time): built once here, the
# children inherit them (dbt caches each class's schema; it depends on the class only).
WARM_SCHEMAS = ("dbt.contracts.project:ProjectFlags", "dbt.contracts.project:ProfileConfig",
                "dbt.contracts.project:Project", "dbt.contracts.project:PackageConfig",
                "dbt.contracts.project:Configuration", "dbt.contracts.selection:SelectorFile",
                "dbt.adapters.duckdb.credentials:DuckDBCredentials",
                "dbt.artifacts.resources.v1.model:ModelConfig", "dbt.artifacts.resources.v1.config:TestConfig",
                "dbt.artifacts.resources.v1.seed:SeedConfig",
                "dbt.artifacts.resources.v1.source_definition:SourceConfig")
# Header of a request: the payload's length; the fds (stdout, stderr) travel with it.
HEADER = struct.Struct("!Q")
STATUS = struct.Struct("!i")
# Signals the client passes on to the child (one byte each on the socket).
FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# What a child runs: "module:function", called with the command's arguments (the tests give one of theirs).
DBT_ENTRY = "orchestration.warm_dbt:run_dbt"


def run_dbt(args: list[str]) -> None:
    """What `dbt <args>` does (its console script), in this process; ends with SystemExit."""
    from dbt.cli.main import cli

    cli.main(args=args, prog_name="dbt")


def dbt_command() -> str:
    """The plain `dbt` of this Python environment (what the client execs without a warm process)."""
    beside = Path(sys.executable).with_name("dbt")
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")


def client_main() -> None:
    """`retention-dbt <args>`: run `dbt <args>` in a child of the warm process, or as plain dbt without one."""
    args = sys.argv[1:]
    path = os.environ.get(SOCKET_VARIABLE)
    conn = None
    if path:
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            conn.connect(path)
        except OSError:
            conn.close()
            conn = None
    if conn is None:
        os.execv(dbt_command(), ["dbt", *args])
    payload = json.dumps({"args": args, "cwd": os.getcwd(), "env": dict(os.environ)}).encode()
    socket.send_fds(conn, [HEADER.pack(len(payload))], [sys.stdout.fileno(), sys.stderr.fileno()])
    conn.sendall(payload)
    for signum in FORWARDED_SIGNALS:
        signal.signal(signum, lambda received, _frame: conn.send(bytes([received])))
    status = _receive_exactly(conn, STATUS.size)
    if status is None:
        print("dbt (in the warm dbt process) ended without an exit status: it was killed", file=sys.stderr)
        sys.exit(1)
    sys.exit(STATUS.unpack(status)[0])


def _receive_exactly(conn: socket.socket, size: int) -> bytes | None:
    """`size` bytes from the socket, or None if it closed first."""
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def serve(listener_fd: int, entry: str = DBT_ENTRY) -> None:
    """The warm process: import dbt, then fork a child per request (running `entry`) until stdin closes.

    `listener_fd` is a socket that listens already (WarmDbt.start binds it): a
    client that comes while this process still imports waits in its backlog.
    """
    # Interruptions reach the run and its dbt commands; this process ends when its stdin closes.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    listener = socket.socket(fileno=listener_fd)
    for module in WARM_MODULES if entry == DBT_ENTRY else (entry.split(":")[0],):
        importlib.import_module(module)
    if entry == DBT_ENTRY:
        _build_schemas()
    # Children are reaped by the system; their status goes to their clients, not to this process.
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    stdin = sys.stdin.fileno()
    while True:
        ready, _, _ = select.select([listener, stdin], [], [])
        if stdin in ready and not os.read(stdin, 1024):
            return
        if listener in ready:
            conn, _ = listener.accept()
            _fork_command(listener, conn, entry)


def _build_schemas() -> None:
    """Build the JSON schemas of WARM_SCHEMAS; one that another dbt version lacks is left to the commands."""
    for name in WARM_SCHEMAS:
        module, cls = name.split(":")
        try:
            getattr(importlib.import_module(module), cls).json_schema()
        except Exception:  # noqa: BLE001 - a warm-up that fails only leaves the work to each command
            continue


def _fork_command(listener: socket.socket, conn: socket.socket, entry: str) -> None:
    """Read one request and fork the child that runs it; the warm process keeps nothing of it."""
    try:
        header, fds, _, _ = socket.recv_fds(conn, HEADER.size, 2)
        if len(header) != HEADER.size or len(fds) != 2:
            raise OSError("incomplete request")
        payload = _receive_exactly(conn, HEADER.unpack(header)[0])
        if payload is None:
            raise OSError("incomplete request")
        request = json.loads(payload)
    except (OSError, ValueError):
        conn.close()
        return
    pid = os.fork()
    if pid == 0:
        listener.close()
        _run_child(conn, fds, request, entry)  # never returns
    conn.close()
    for fd in fds:
        os.close(fd)


def _run_child(conn: socket.socket, fds: list[int], request: dict, entry: str) -> None:
    """In the forked child: become `dbt <args>` writing to the client's stdout and stderr, report the status."""
    status = 1
    try:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(fds[0], 1)
        os.dup2(fds[1], 2)
        for fd in (devnull, *fds):
            os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        threading.Thread(target=_follow_client, args=(conn,), daemon=True).start()
        sys.argv = ["dbt", *request["args"]]
        module, function = entry.split(":")
        try:
            getattr(importlib.import_module(module), function)(request["args"])
            status = 0
        except SystemExit as exit_:
            status = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        except KeyboardInterrupt:
            status = 130
    except BaseException as error:  # anything else: say it where dbt's output goes
        print(f"dbt (in the warm dbt process) failed: {error!r}", file=sys.stderr)
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
            conn.sendall(STATUS.pack(status))
        finally:
            os._exit(status)


def _follow_client(conn: socket.socket) -> None:
    """Pass on the client's signals; if the client is gone (killed), end this command at once."""
    while True:
        try:
            data = conn.recv(16)
        except OSError:
            data = b""
        if not data:
            os.kill(os.getpid(), signal.SIGKILL)
        for signum in data:
            os.kill(os.getpid(), signum)


class WarmDbt:
    """A warm dbt process of this process (see the module docstring): `start`, `environment`, `stop`."""

    def __init__(self) -> None:
        self._process: subprocess.Popen | None = None
        self._folder: str | None = None

    def start(self, entry: str = DBT_ENTRY) -> None:
        """Start the warm process (it imports dbt in the background); a no-op when it runs already."""
        if self._process is not None and self._process.poll() is None:
            return
        self.stop()
        # A private folder: only this user can connect (the requests carry the environment, secrets included).
        self._folder = tempfile.mkdtemp(prefix="retention-dbt-")
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
            listener.bind(os.path.join(self._folder, SOCKET_NAME))
            listener.listen(8)
            self._process = subprocess.Popen(
                [sys.executable, "-m", __name__, str(listener.fileno()), entry], stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL, pass_fds=[listener.fileno()])

    def environment(self) -> dict[str, str]:
        """What a client needs in its environment to use the warm process (nothing when there is none)."""
        if self._process is None or self._process.poll() is not None or self._folder is None:
            return {}
        return {SOCKET_VARIABLE: os.path.join(self._folder, SOCKET_NAME)}

    def stop(self) -> None:
        """End the warm process (commands still running finish) and remove its folder."""
        if self._process is not None:
            if self._process.stdin is not None:
                self._process.stdin.close()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None


if __name__ == "__main__":
    serve(int(sys.argv[1]), *sys.argv[2:3])
