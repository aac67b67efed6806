"""Restarts a container the engine reports *unhealthy* — plain Docker never does (moby#28400).

This is the stack's half of REL-HEALTH-RESTART: the profile asks for it with
``restart.on_unhealthy = "restart"``. Every restart is appended to a JSON-lines file in the run
directory so that suites (on any xdist worker) can check a restart really happened.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

POLL_S = 2.0


class UnhealthyRestarter:
    def __init__(self, container: Any, journal: Path, progress: Callable[[str], None]) -> None:
        self.container = container
        self.journal = journal
        self.progress = progress
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="autoheal", daemon=True)

    def start(self) -> UnhealthyRestarter:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=POLL_S * 3)

    def _watch(self) -> None:
        while not self._stop.wait(POLL_S):
            try:
                self.container.reload()
                health = (self.container.attrs.get("State") or {}).get("Health") or {}
                if health.get("Status") != "unhealthy":
                    continue
                self.progress(f"container {self.container.name} is unhealthy: restarting it")
                self.container.restart(timeout=10)
                self._log({"at": time.time(), "container": self.container.id,
                           "reason": "unhealthy", "last_check": (health.get("Log") or [{}])[-1]
                           .get("Output", "")[:200]})
            except Exception as exc:  # the container may be gone during teardown
                if self._stop.is_set():
                    return
                self.progress(f"autoheal: {type(exc).__name__}: {exc}")

    def _log(self, event: dict[str, Any]) -> None:
        with self.journal.open("a") as handle:
            handle.write(json.dumps(event) + "\n")


def restarts(journal: Path) -> list[dict[str, Any]]:
    if not journal.is_file():
        return []
    return [json.loads(line) for line in journal.read_text().splitlines() if line.strip()]
