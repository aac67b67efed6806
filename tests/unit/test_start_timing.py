"""Each observed start becomes one PERF-CONTAINER-START part: its seconds, a failure with the
wait as a lower bound, or insufficient when the clocks cannot be reconciled."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from releasegate.criteria import catalog
from releasegate.criteria.thresholds import Threshold
from releasegate.evidence.container_start import StartObservation
from releasegate.evidence.measurement import MeasurementStore, Outcome
from releasegate.measure.recorder import Recorder
from releasegate.measure.start_timing import CRITERION, record_start

START = StartObservation(
    url="http://127.0.0.1:1/health", started_at="2026-11-21T10:00:01.5Z",
    arrived_at=1_790_000_000.0, seconds=4.25, waited_s=4.25, offset_s=0.0,
    offset_uncertainty_s=0.001, offset_note="", corrected=False, polls=20, last_status=200,
    last_error="", first_poll=False)


def recorder(tmp_path: Path) -> tuple[Recorder, MeasurementStore]:
    store = MeasurementStore(tmp_path / "m")
    thresholds = {CRITERION: Threshold.documented(catalog.get(CRITERION))}
    return Recorder(store, thresholds, test="t", declared=frozenset({CRITERION}),
                    on_record=lambda _: None), store


def test_a_timed_start_is_one_sample_and_does_not_fail_its_test_alone(tmp_path: Path) -> None:
    record, store = recorder(tmp_path)
    part = record_start(record, START, cause="restart 1")
    assert (part.value, part.samples, part.scope) == (4.25, 1, "restart 1")
    assert part.evidence["started_at_engine"] == START.started_at
    assert part.evidence["first_200_arrived_at_harness"].startswith("2026-")
    assert "State.StartedAt" in part.source and "time.time()" in part.source
    assert len(store.read_all()) == 1


def test_never_healthy_is_a_violation_with_the_wait_as_lower_bound(tmp_path: Path) -> None:
    record, store = recorder(tmp_path)
    never = replace(START, arrived_at=None, seconds=None, waited_s=25.4, last_status=503)
    with pytest.raises(pytest.fail.Exception):
        record_start(record, never, cause="first start")
    part = store.read_all()[0]
    assert part.value == 25.4 and "lower bound" in part.violations[0]


def test_clocks_that_disagree_are_insufficient_not_a_time(tmp_path: Path) -> None:
    record, store = recorder(tmp_path)
    record_start(record, replace(START, seconds=None, problem="the two clocks disagree"),
                 cause="restart 2")
    part = store.read_all()[0]
    assert part.outcome is Outcome.INSUFFICIENT and part.value is None
    assert part.reason == "the two clocks disagree"
