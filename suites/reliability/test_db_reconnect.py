"""REL-DB-RECONNECT and REL-NO-LOST-WRITES: the database stopped, cut off the network, and paused,
each for the outage the criterion asks for, under load. Readiness must say 503 during the
outage (and answer, not hang), the application must serve 2xx again within 30 s of the database
returning, and it must do so by reconnecting — not by being restarted."""

from __future__ import annotations

import time
from typing import Any

import pytest

from releasegate.config.profile import Profile
from releasegate.measure.parts import Parts, announce
from releasegate.measure.recorder import CheckList, Recorder
from releasegate.stack.model import StackInfo

from . import experiment
from .experiment import LEDGER, Context, Outcome

pytestmark = [pytest.mark.reliability, pytest.mark.disruptive]
CRITERION = "REL-DB-RECONNECT"
FAULTS = ("stopped", "disconnected", "paused")
DETECT_S = 5.0
"""Readiness may go on answering 200 this long after the database went away."""


def started(container: Any) -> tuple[str, int]:
    container.reload()
    return str(container.attrs["State"].get("StartedAt")), int(container.attrs.get(
        "RestartCount", 0))


def readiness_checks(out: Outcome, checks: CheckList, what: str) -> None:
    """Readiness during the outage: a 503, no 200 once the outage is detectable, no hang."""
    during = [p for p in out.during("probe", out.fault_start, out.fault_end)
              if p.started + p.seconds <= out.fault_end]
    statuses = sorted({str(p.status) for p in during})
    checks.add(f"readiness answered 503 while the database was {what}",
               any(p.status == 503 for p in during), f"answers: {statuses}")
    late_ok = [p for p in during if p.status == 200 and p.started >= out.fault_start + DETECT_S]
    checks.add(f"readiness never claimed 200 more than {DETECT_S:g} s into the outage",
               not late_ok, f"{len(late_ok)} answers of 200 while the database was {what}")
    hung = [p for p in during if p.status is None]
    checks.add("readiness answered every probe during the outage (no hang)", not hung,
               f"{len(hung)} probes got no answer: {sorted({p.error for p in hung})}")


@pytest.mark.criterion(CRITERION, LEDGER)
@pytest.mark.parametrize("fault", FAULTS)
def test_reconnects_without_a_restart(
    fault: str, ctx: Context, healthy_stack: StackInfo, gate_profile: Profile,
    docker_client: Any, app_container: Any, db_container: Any, healed: None, record: Recorder,
    request: pytest.FixtureRequest,
) -> None:
    if reason := experiment.unmeasurable(ctx):
        record.insufficient(CRITERION, reason, scope=fault)
        record.insufficient(LEDGER, reason, scope=fault)
        return
    outage = float(gate_profile.option(CRITERION, "outage_s"))
    network = docker_client.networks.get(healthy_stack.network)
    aliases = [gate_profile.db.name] if gate_profile.db else []

    def inject() -> dict[str, Any]:
        if fault == "stopped":
            db_container.stop(timeout=10)
        elif fault == "disconnected":
            network.disconnect(db_container)
        else:
            db_container.pause()
        time.sleep(outage)
        if fault == "stopped":
            db_container.start()
        elif fault == "disconnected":
            network.connect(db_container, aliases=aliases)
        else:
            db_container.unpause()
        return {"outage_s": outage}

    app_before = started(app_container)
    out = experiment.run(ctx, f"database {fault}", inject)
    app_after = started(app_container)
    parts = Parts(record)
    svg = experiment.timeline(parts, out, f"database {fault}")
    checks = CheckList()
    checks.add("steady state before the fault", not out.before, "; ".join(out.before))
    readiness_checks(out, checks, fault)
    recovered = out.recovered_after(out.fault_end)
    checks.add("2xx again after the database returned", recovered is not None,
               f"not within {experiment.RECOVERY_WAIT_S:g} s")
    checks.add("the application was not restarted (same start time and restart count)",
               app_before == app_after, f"{app_before} → {app_after}")
    checks.add("steady state after recovery", not out.after, "; ".join(out.after))
    parts.measured(CRITERION, recovered if recovered is not None else
                   experiment.RECOVERY_WAIT_S, checks, scope=f"database {fault}",
                   attachments=[svg], evidence={**out.evidence(), "app_started": app_after},
                   source="readiness probed every 0.5 s and writes under load; recovery from the "
                          "database's return to the first 200 and acknowledged write; the "
                          "application's StartedAt and RestartCount read from the engine")
    experiment.record_ledger(parts, out, svg)
    announce(request.config, f"reliability: database {fault} {outage:g} s: 2xx again "
                             f"{recovered} s after, writes {out.ledger.counts()}")
    parts.finish()
