"""REL-RESTART-RECOVERY and REL-NO-LOST-WRITES: the application, then the database, restarted and
then killed (SIGKILL to the main process, as a crash or the OOM killer would) under load. The
stack must be healthy and taking writes again within the limit, and no acknowledged write may be
lost, none may appear twice, none that failed may appear."""

from __future__ import annotations

import functools
import time
from typing import Any

import pytest

from releasegate.evidence.container_start import StartObservation, observe_start
from releasegate.measure.parts import Parts, announce
from releasegate.measure.processes import kill_main
from releasegate.measure.recorder import CheckList, Recorder
from releasegate.measure.start_timing import record_start

from . import experiment
from .experiment import LEDGER, Context

pytestmark = [pytest.mark.reliability, pytest.mark.disruptive]
CRITERION = "REL-RESTART-RECOVERY"
FAULTS = ("app restart", "app kill", "db restart", "db kill")
START = "PERF-CONTAINER-START"
"""Every start of the application container is one more sample of its start time."""
SELF_RESTART_WAIT_S = 10.0
STOP_TIMEOUT_S = 10


def _started(container: Any) -> tuple[str, int]:
    container.reload()
    return str(container.attrs["State"].get("StartedAt")), int(container.attrs.get(
        "RestartCount", 0))


def _kill(container: Any) -> dict[str, Any]:
    """SIGKILL the main process; see who brings the container back. Recovery is timed from the
    kill when the container's restart policy restarts it, from the harness's own start when
    nothing would (the run's database has no orchestrator of its own)."""
    before = _started(container)
    policy = (container.attrs["HostConfig"].get("RestartPolicy") or {}).get("Name") or "no"
    killed_at = time.time()
    notes: dict[str, Any] = {"signal": kill_main(container), "restart_policy": policy}
    deadline = time.monotonic() + (SELF_RESTART_WAIT_S if policy != "no" else 0.0)
    while time.monotonic() < deadline:
        container.reload()
        if container.status == "running" and _started(container) != before:
            return {**notes, "restarted_by": "the container's restart policy",
                    "recovery_from": killed_at}
        time.sleep(0.2)
    _wait_exited(container)
    container.start()
    return {**notes, "restarted_by": "the harness", "recovery_from": time.time()}


def _wait_exited(container: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        container.reload()
        if container.status in ("exited", "dead"):
            return
        time.sleep(0.1)


@pytest.mark.criterion(CRITERION, LEDGER)
@pytest.mark.parametrize("fault", [
    pytest.param(f, id=f.replace(" ", "-"),
                 marks=[pytest.mark.criterion(START)] if f.startswith("app") else [])
    for f in FAULTS])
def test_recovers_from_restart_and_kill(
    fault: str, ctx: Context, app_container: Any, db_container: Any, healed: None,
    record: Recorder, request: pytest.FixtureRequest,
) -> None:
    role, action = fault.split()
    declared = (CRITERION, LEDGER, START) if role == "app" else (CRITERION, LEDGER)
    if reason := experiment.unmeasurable(ctx):
        for criterion in declared:
            record.insufficient(criterion, reason, scope=fault)
        return
    target = app_container if role == "app" else db_container
    starts: list[StartObservation] = []

    def inject() -> dict[str, Any]:
        if action == "restart":
            target.restart(timeout=STOP_TIMEOUT_S)
            notes = {"action": f"engine restart (stop timeout {STOP_TIMEOUT_S} s)",
                     "recovery_from": time.time()}
        else:
            notes = _kill(target)
        if role == "app":
            starts.append(observe_start(target, ctx.base_url + ctx.profile.app.health_path,
                                        timeout=ctx.profile.health_timeout_s))
        return notes

    out = experiment.run(ctx, fault, inject)
    parts = Parts(record)
    svg = experiment.timeline(parts, out, fault)
    checks = CheckList()
    checks.add("steady state before the fault", not out.before, "; ".join(out.before))
    recovered = out.recovered_after(float(out.notes.pop("recovery_from", out.fault_end)))
    checks.add("healthy and taking writes again", recovered is not None,
               f"not within {experiment.RECOVERY_WAIT_S:g} s")
    if fault == "app kill":
        checks.add("the stack brought the killed application back by itself",
                   out.notes.get("restarted_by") == "the container's restart policy",
                   str(out.notes.get("restarted_by")))
    checks.add("steady state after recovery", not out.after, "; ".join(out.after))
    lost = experiment.ledger_violations(out)
    checks.add("no committed data lost (the write ledger is clean)", not lost,
               "; ".join(lost)[:600])
    parts.measured(CRITERION, recovered if recovered is not None else
                   experiment.RECOVERY_WAIT_S, checks, scope=fault, attachments=[svg],
                   evidence={**out.evidence(), "recovered_s": recovered,
                             "recovered_after_fault_start_s": out.recovered_after(
                                 out.fault_start)},
                   source="harness clock from the container running again (a restart's end, "
                          "the kill when a restart policy brings it back, else the harness's "
                          "start) to the first 200 on the health path and an acknowledged write")
    experiment.record_ledger(parts, out, svg)
    for start in starts:
        parts.attempt(functools.partial(record_start, record, start,
                                        cause=f"{fault} by the reliability suite"))
    announce(request.config, f"reliability: {fault}: recovered in {recovered} s, writes "
                             f"{out.ledger.counts()}")
    parts.finish()
