"""REL-GRACEFUL-SHUTDOWN and REL-NO-LOST-WRITES: SIGTERM under load. Every request the
application had accepted before the signal must complete successfully, and the process must
exit with code 0 within the deployment's grace period (the engine's stop sends SIGTERM, then
SIGKILL when the grace period is over).

So that requests are surely in flight, and surely accepted, when the signal comes: the harness
locks the write table against writes, sends a burst of writes on warm connections (each now
waits inside the database, in the middle of its request), sends SIGTERM, and lets the writes go
a moment later. A request counts as in flight when it was sent at least ``ACCEPTED_S`` before the
signal and had not been answered when the signal was sent.
"""

from __future__ import annotations

import functools
import threading
import time
from typing import Any

import httpx
import pytest

from releasegate.config.profile import Profile
from releasegate.evidence.container_start import StartObservation, observe_start
from releasegate.measure.db_hold import table_locked
from releasegate.measure.ledger import WriteLedger
from releasegate.measure.parts import Parts, announce
from releasegate.measure.recorder import CheckList, Recorder
from releasegate.measure.start_timing import record_start
from releasegate.measure.traffic import Sample, Writer

from . import experiment
from .experiment import LEDGER, Context

pytestmark = [pytest.mark.reliability, pytest.mark.disruptive]
CRITERION = "REL-GRACEFUL-SHUTDOWN"
START = "PERF-CONTAINER-START"
BURST = 8
ACCEPTED_S = 0.5
"""A request this old when the signal is sent was accepted (the held writes are older)."""
HOLD_S = 0.8
RELEASE_S = 1.0
"""…and are let go this long after it."""


def _burst(ctx: Context, ledger: WriteLedger, samples: list[Sample]) -> list[threading.Thread]:
    """Writes, each on its own connection — opened and used once beforehand, so that the burst
    itself only sends requests, all at the same moment."""
    lock = threading.Lock()
    go = threading.Barrier(BURST + 1, timeout=30)
    liveness = ctx.profile.app.liveness_path

    def one() -> None:
        writer = Writer(ctx.base_url, ctx.settings.writes, ctx.headers, ctx.values,
                        timeout=ctx.settings.request_timeout_s)
        try:
            writer.http.get(liveness)
            go.wait()
            sample = writer.write(ledger)[1]
        except (httpx.HTTPError, threading.BrokenBarrierError) as exc:
            sample = Sample("write", time.time(), 0.0, None, f"not sent: {type(exc).__name__}")
        finally:
            writer.close()
        with lock:
            samples.append(sample)

    threads = [threading.Thread(target=one, daemon=True) for _ in range(BURST)]
    for thread in threads:
        thread.start()
    go.wait()
    return threads


@pytest.mark.criterion(CRITERION, LEDGER, START)
def test_sigterm_under_load_drains_and_exits_zero(
    ctx: Context, gate_profile: Profile, app_container: Any, healed: None, record: Recorder,
    request: pytest.FixtureRequest,
) -> None:
    scope = "SIGTERM under load"
    if reason := experiment.unmeasurable(ctx):
        for criterion in (CRITERION, LEDGER, START):
            record.insufficient(criterion, reason, scope=scope)
        return
    grace = float(gate_profile.option(CRITERION, "grace_s"))
    ledger = experiment.new_ledger("sigterm")
    burst: list[Sample] = []
    signal_at = [0.0]
    starts: list[StartObservation] = []

    def inject() -> dict[str, Any]:
        stopped: dict[str, Any] = {}

        def stop() -> None:
            clock = time.monotonic()
            app_container.stop(timeout=int(grace))
            stopped["seconds"] = time.monotonic() - clock

        stopper = threading.Thread(target=stop, daemon=True)
        with table_locked(ctx.dsn, ctx.settings.writes.sql_table, mode="EXCLUSIVE"):
            threads = _burst(ctx, ledger, burst)
            time.sleep(HOLD_S)
            signal_at[0] = time.time()
            stopper.start()
            time.sleep(RELEASE_S)
        stopper.join(timeout=grace + 30)
        app_container.reload()
        state = app_container.attrs["State"]
        for thread in threads:
            thread.join(timeout=ctx.settings.request_timeout_s + 5)
        app_container.start()
        starts.append(observe_start(app_container, ctx.base_url + gate_profile.app.health_path,
                                    timeout=gate_profile.health_timeout_s))
        return {"grace_s": grace, "stopped_after_s": round(stopped.get("seconds", grace), 3),
                "exit_code": state.get("ExitCode"), "oom_killed": state.get("OOMKilled"),
                "held_writes": BURST}

    out = experiment.run(ctx, scope, inject, ledger)
    out.samples += burst
    parts = Parts(record)
    svg = experiment.timeline(parts, out, "SIGTERM → exit → start")
    checks = CheckList()
    checks.add("steady state before the signal", not out.before, "; ".join(out.before))
    at = signal_at[0]
    in_flight = [s for s in out.samples if s.kind != "probe" and s.started <= at - ACCEPTED_S
                 and s.started + s.seconds >= at]
    failed = [s for s in in_flight if s.status is None or s.status >= 300]
    checks.add(f"every request in flight at the signal completed ({len(in_flight)} were)",
               bool(in_flight) and not failed,
               "none was in flight: the load could not show a drain" if not in_flight else
               f"{len(failed)} failed: " + ", ".join(
                   f"{s.kind} sent {at - s.started:.2f} s before: {s.status or s.error} after "
                   f"{s.seconds:.2f} s" for s in failed[:6]))
    notes = out.notes
    checks.add("the process exited with code 0", notes.get("exit_code") == 0 and not
               notes.get("oom_killed"), f"exit code {notes.get('exit_code')}")
    checks.add(f"it exited within the grace period ({grace:g} s)",
               float(notes.get("stopped_after_s", grace)) < grace,
               f"after {notes.get('stopped_after_s')} s")
    checks.add("healthy and taking writes again after a start", out.recovered_at is not None)
    parts.checks(CRITERION, checks, attachments=[svg],
                 evidence={**out.evidence(), "in_flight": len(in_flight),
                           "in_flight_writes": sum(1 for s in in_flight if s.kind == "write")},
                 source="the engine's stop (SIGTERM, SIGKILL after the grace period), its exit "
                        "code and the answers the harness's clients got to requests in flight")
    experiment.record_ledger(parts, out, svg)
    for start in starts:
        parts.attempt(functools.partial(record_start, record, start,
                                        cause="start after SIGTERM by the reliability suite"))
    if not starts:
        parts.insufficient(START, "the application was not started again", scope=scope)
    announce(request.config, f"reliability: SIGTERM: {len(in_flight)} in flight, exit "
                             f"{notes.get('exit_code')} after {notes.get('stopped_after_s')} s")
    parts.finish()
