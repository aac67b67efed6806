"""Processes inside a container, found and killed from outside it.

The engine lists a container's processes with their host pids (``docker top``); where the
harness shares the engine's host it kills by that pid after checking it is still the same
program, otherwise it signals the container-side pid through an exec.
"""

from __future__ import annotations

import os
import posixpath
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Process:
    pid: int
    """Host pid, as the engine reports it."""
    command: str


def processes(container: Any) -> list[Process]:
    listing = container.top()
    titles = [t.upper() for t in listing.get("Titles") or []]
    pid_at, cmd_at = titles.index("PID"), titles.index("CMD") if "CMD" in titles else -1
    return [Process(int(row[pid_at]), str(row[cmd_at])) for row in listing.get("Processes")
            or []]


def named(found: list[Process], name: str) -> list[Process]:
    """The processes whose program is ``name`` (``/usr/bin/pg_dump --args`` is ``pg_dump``)."""
    return [p for p in found if p.command.split() and
            posixpath.basename(p.command.split()[0]) == name]


def wait_for(container: Any, name: str, *, timeout: float, poll: float = 0.1) -> Process | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = named(processes(container), name)
        if found:
            return found[0]
        time.sleep(poll)
    return None


def _namespace_pid(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("NSpid:"):
                return int(line.split()[-1])
    except (OSError, ValueError):
        return None
    return None


def kill(container: Any, process: Process, sig: int = signal.SIGKILL) -> str:
    """Send ``sig`` to the process; returns how it was sent."""
    cmdline = Path(f"/proc/{process.pid}/cmdline")
    try:
        same = cmdline.read_bytes().replace(b"\0", b" ").strip().decode("utf-8", "replace")
    except OSError:
        same = ""
    if same and same.split()[0] == process.command.split()[0]:
        os.kill(process.pid, sig)
        return f"signal {sig} to host pid {process.pid}"
    inner = _namespace_pid(process.pid)
    if inner is None:
        raise ProcessLookupError(f"pid {process.pid} ({process.command[:60]}) is not visible "
                                 "from here")
    code, output = container.exec_run(["sh", "-c", f"kill -{int(sig)} {inner}"], user="0")
    if code != 0:
        raise ProcessLookupError(f"kill inside the container failed: {output!r}")
    return f"signal {sig} to pid {inner} inside the container"


def kill_main(container: Any, sig: int = signal.SIGKILL) -> str:
    """Signal the container's main process the way a crash or the kernel's OOM killer would:
    from outside, not through the engine — so the engine treats it as a crash (its restart
    policy applies), not as a stop it was asked for."""
    container.reload()
    pid = int((container.attrs.get("State") or {}).get("Pid") or 0)
    if pid <= 0:
        raise ProcessLookupError(f"container {container.name} has no running process")
    if Path(f"/proc/{pid}").exists():
        os.kill(pid, sig)
        return f"signal {sig} to the main process (host pid {pid})"
    container.kill(signal=sig)
    return f"signal {sig} through the engine (the host's processes are not visible here)"
