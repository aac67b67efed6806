"""PERF-CONTAINER-START, one start at a time: every start of the application container that a
run observes is a sample, and the criterion needs at least three, the slowest judged.

The stack's own start is the first sample (the deployment suite records it from the stack's
start-up record). Any suite that (re)starts the application container adds one more by calling
:func:`record_after_start` right after the start — its test must declare
``@pytest.mark.criterion("PERF-CONTAINER-START")`` too, since that is what it then measures.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from releasegate.evidence.container_start import StartObservation, observe_start
from releasegate.evidence.measurement import Measurement, Outcome
from releasegate.measure.recorder import Recorder

CRITERION = "PERF-CONTAINER-START"
SOURCE = ("engine clock: State.StartedAt (docker inspect, RFC 3339 ns); harness wall clock: "
          "time.time() when the first HTTP 200 on the health path had arrived (polled every "
          "0.2 s); engine-harness offset read through the engine's SystemTime and corrected when "
          "larger than its uncertainty")


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="microseconds")


def evidence_of(start: StartObservation, cause: str) -> dict[str, Any]:
    return {
        "cause": cause, "url": start.url, "started_at_engine": start.started_at,
        "first_200_arrived_at_harness": _iso(start.arrived_at),
        "seconds": None if start.seconds is None else round(start.seconds, 3),
        "waited_s": round(start.waited_s, 3), "polls": start.polls,
        "clock_offset_s": start.offset_s, "clock_offset_uncertainty_s":
        start.offset_uncertainty_s, "clock_offset_corrected": start.corrected,
        "clock_note": start.offset_note, "answered_on_first_poll": start.first_poll,
        "last_status": start.last_status, "last_error": start.last_error[:200],
    }


def record_start(record: Recorder, start: StartObservation, *, cause: str) -> Measurement:
    """One PERF-CONTAINER-START part: the seconds of this start, or why there are none."""
    evidence = evidence_of(start, cause)
    if start.problem:
        return record(CRITERION, value=None, samples=0, source=SOURCE, evidence=evidence,
                      outcome=Outcome.INSUFFICIENT, reason=start.problem, scope=cause,
                      fail_test=False)
    if not start.healthy or start.seconds is None:
        last = start.last_status or start.last_error or "no answer"
        return record(CRITERION, value=round(start.waited_s, 3), samples=1, source=SOURCE,
                      violations=[f"no 200 on {start.url} within {start.waited_s:.0f} s of "
                                  f"the engine starting it (a lower bound; last: {last})"],
                      evidence=evidence, scope=cause)
    return record(CRITERION, value=round(start.seconds, 3), samples=1, source=SOURCE,
                  evidence=evidence, scope=cause)


def record_after_start(record: Recorder, container: Any, url: str, *, timeout: float,
                       cause: str) -> StartObservation:
    """Time the start that just happened (StartedAt → first 200 on ``url``) and record it."""
    start = observe_start(container, url, timeout=timeout)
    record_start(record, start, cause=cause)
    return start
