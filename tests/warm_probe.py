"""A stand-in for dbt in the tests of orchestration/warm_dbt.py: quick to import, and it can wait."""

from __future__ import annotations

import os
import sys
import time


def main(args: list[str]) -> None:
    """`echo CODE WORDS...`: print where and how it runs, exit CODE. `wait`: print the pid, sleep until signalled."""
    if args[0] == "echo":
        print(" ".join(args[2:]), os.getcwd(), os.environ.get("PROBE_VALUE"), flush=True)
        print("to stderr", file=sys.stderr, flush=True)
        sys.exit(int(args[1]))
    print(os.getpid(), flush=True)
    try:
        time.sleep(60)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        raise
