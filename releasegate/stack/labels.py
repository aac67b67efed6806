"""Labels that tie every container and network to its run, and the clean-up that uses them.

With the testcontainers reaper unavailable, these labels are what lets ``releasegate clean``
remove what a crashed or killed run left behind — and only that.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from typing import Any

RUN = "io.releasegate.run"
PID = "io.releasegate.pid"
HOST = "io.releasegate.host"
CREATED = "io.releasegate.created"
ROLE = "io.releasegate.role"
PARENT = "io.releasegate.parent"
"""On a stack a suite starts beside the run's own (a compatibility cell): the run it belongs to,
so cleaning that run removes it too."""


def run_labels(run_id: str, role: str, parent: str | None = None) -> dict[str, str]:
    labels = {
        RUN: run_id, PID: str(os.getpid()), HOST: socket.gethostname(),
        CREATED: str(int(time.time())), ROLE: role,
    }
    if parent:
        labels[PARENT] = parent
    return labels


def _owner_alive(labels: dict[str, str]) -> bool:
    if labels.get(HOST) != socket.gethostname():
        return True  # another machine's run: not ours to judge
    try:
        os.kill(int(labels.get(PID, "0")), 0)
    except (ProcessLookupError, ValueError):
        return False
    except PermissionError:
        return True
    return int(labels.get(PID, "0")) > 0


def clean(
    client: Any, *, run_id: str | None = None, include_live: bool = False,
    progress: Callable[[str], None] = print,
) -> int:
    """Remove containers, then networks, of dead runs (or of one run, with the stacks started
    beside it). Returns how many."""
    selectors = [f"{RUN}={run_id}", f"{PARENT}={run_id}"] if run_id else [RUN]
    removed = 0
    containers = {c.id: c for selector in selectors
                  for c in client.containers.list(all=True, filters={"label": selector})}
    for container in containers.values():
        if run_id is None and not include_live and _owner_alive(container.labels):
            continue
        progress(f"removing container {container.name} (run {container.labels.get(RUN)})")
        container.remove(force=True, v=True)
        removed += 1
    networks = {n.id: n for selector in selectors
                for n in client.networks.list(filters={"label": selector})}
    for network in networks.values():
        labels = network.attrs.get("Labels") or {}
        if run_id is None and not include_live and _owner_alive(labels):
            continue
        progress(f"removing network {network.name}")
        try:
            network.remove()
            removed += 1
        except Exception as exc:  # a container of a live run may still be attached
            progress(f"  kept {network.name}: {exc}")
    return removed
