"""SEC-NONROOT: the configured user and the running process are both non-root (a USER the
container cannot resolve to a uid is a violation, not a pass)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from releasegate.measure.commands import run_in_container
from releasegate.measure.recorder import CheckList, Recorder
from releasegate.measure.users import configured_uid

pytestmark = pytest.mark.deploy


def _resolver(container: Any) -> Callable[[str], int | None]:
    def resolve(name: str) -> int | None:
        result = run_in_container(container, ["id", "-u", name])
        text = result.stdout.strip()
        return int(text) if result.ok and text.isdigit() else None

    return resolve


@pytest.mark.criterion("SEC-NONROOT")
def test_runs_as_non_root(app_container: Any, record: Recorder) -> None:
    checks = CheckList()
    configured = str(app_container.attrs["Config"].get("User") or "")
    uid, problem = configured_uid(configured, _resolver(app_container))
    checks.add("image/container USER is set to a non-root user", not problem,
               problem or f"USER={configured}, uid {uid}")
    status = run_in_container(app_container, ["cat", "/proc/1/status"])
    uids = [line.split()[1:] for line in status.stdout.splitlines() if line.startswith("Uid:")]
    real_uids = [int(u) for u in uids[0]] if uids else []
    checks.add("PID 1 runs with non-zero real, effective, saved and filesystem uids",
               bool(real_uids) and all(u != 0 for u in real_uids),
               f"Uid line {real_uids}" if real_uids else f"unreadable: {status.describe()}")
    top = app_container.top(ps_args="-o uid,pid,comm")
    processes = top.get("Processes") or []
    root_procs = [p for p in processes if p and p[0] == "0"]
    checks.add("no process in the container runs as uid 0", bool(processes) and not root_procs,
               f"{len(root_procs)} root process(es): {root_procs[:3]}")
    record.checks("SEC-NONROOT", checks,
                  source="docker inspect Config.User; /proc/1/status in the container; docker top",
                  evidence={"configured_user": configured, "configured_uid": uid,
                            "pid1_uids": real_uids,
                            "processes": processes[:10]})
