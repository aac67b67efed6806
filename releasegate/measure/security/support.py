"""What the security checks share: a tool that could not run, a bounded subprocess, a floor that
splits counted findings from listed ones, and the time each part took."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

from releasegate.evidence.findings import Finding, at_least


class ToolFailed(RuntimeError):
    """A scanner could not give an answer: the criterion is an error with this reason, never a
    pass."""


@dataclass
class ToolRun:
    argv: list[str]
    exit_code: int
    stdout: str
    stderr: str
    seconds: float

    def describe(self) -> str:
        tail = (self.stderr.strip() or self.stdout.strip()).splitlines()[-3:]
        return f"`{' '.join(self.argv)}` exited {self.exit_code}: {' | '.join(tail)}"[:500]


def run_tool(argv: list[str], *, timeout_s: float, cwd: str | None = None) -> ToolRun:
    """Run a scanner; a missing executable or a timeout is ToolFailed (the only outcomes a
    caller cannot interpret)."""
    started = time.monotonic()
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s,
                              cwd=cwd, check=False)
    except FileNotFoundError:
        raise ToolFailed(f"{argv[0]} is not installed") from None
    except subprocess.TimeoutExpired:
        command = " ".join(argv[:3])
        raise ToolFailed(f"`{command} …` did not finish within {timeout_s:g} s") from None
    return ToolRun(argv, proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started)


def split_by_floor(findings: Iterable[Finding], floor: str) -> tuple[list[Finding], list[Finding]]:
    """(counted, listed): findings at ``floor`` severity or worse count; the rest are shown."""
    counted: list[Finding] = []
    listed: list[Finding] = []
    for finding in findings:
        (counted if at_least(finding.severity, floor) else listed).append(finding)
    return counted, listed


@dataclass
class Stopwatch:
    seconds: float = 0.0


@contextmanager
def stopwatch() -> Iterator[Stopwatch]:
    """How long a part took, for the report's per-part times."""
    watch = Stopwatch()
    started = time.monotonic()
    try:
        yield watch
    finally:
        watch.seconds = round(time.monotonic() - started, 2)


def announce(config: Any, text: str) -> None:
    """A progress line for people watching the run (time per part), past pytest's capture."""
    capture = config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture is not None else nullcontext():
        stream = sys.__stderr__ or sys.stderr
        stream.write(f"\n[releasegate] {text}\n")
        stream.flush()
