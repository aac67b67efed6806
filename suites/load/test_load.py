"""The application at its normal load: per-endpoint latency (PERF-API-P95), the success rate
(REL-SUCCESS-RATE), memory (PERF-MEMORY) and the database's own statement times
(PERF-DB-QUERY-P95), all from one open-model run of the profile's scenario."""

from __future__ import annotations

import time
from typing import Any

import pytest
from releasegate.fixtures.load import LoadRunner, Verdicts
from releasegate.fixtures.loadjudge import (
    attach_timeline,
    endpoint_latency,
    memory_max,
    run_evidence,
    success_rate,
    untrusted,
)

from releasegate.config.profile import Profile
from releasegate.config.sections.load import LoadSettings
from releasegate.loadgen import hdr
from releasegate.loadgen.plan import Stage
from releasegate.loadgen.rules import Abort, WindowRule
from releasegate.loadgen.scenario import check_against_openapi
from releasegate.loadgen.scenarios import scenario_endpoints
from releasegate.measure.api import Api
from releasegate.measure.dbtiming import StatementWindow, statement_durations_ms
from releasegate.measure.recorder import Recorder

pytestmark = [pytest.mark.load, pytest.mark.disruptive]

CRITERIA = ["PERF-API-P95", "REL-SUCCESS-RATE", "PERF-MEMORY", "PERF-DB-QUERY-P95"]


def check_scenario(settings: LoadSettings, profile: Profile, anon: Api) -> str:
    """Every endpoint of the scenario must be one the application documents."""
    endpoints = scenario_endpoints(settings.scenario, settings.scenario_config)
    path = profile.app.openapi_path
    if not path:
        return "the profile names no OpenAPI document: endpoints were not checked against it"
    response = anon.get(path)
    if response.status_code != 200:
        pytest.fail(f"the OpenAPI document at {path} answered {response.status_code}: the "
                    "scenario's endpoints cannot be checked", pytrace=False)
    check_against_openapi(endpoints, response.json())
    return f"{len(endpoints)} endpoints, every one an operation of {path}"


def _optional(request: pytest.FixtureRequest, name: str) -> tuple[Any, str]:
    try:
        return request.getfixturevalue(name), ""
    except pytest.skip.Exception as exc:
        return None, str(exc)


@pytest.mark.criterion(*CRITERIA)
def test_normal_load(load_runner: LoadRunner, load_settings: LoadSettings,
                     gate_profile: Profile, durations: str, reference_data: str, anon: Api,
                     record: Recorder, verdicts: Verdicts,
                     request: pytest.FixtureRequest) -> None:
    s = load_settings
    checked = check_scenario(s, gate_profile, anon)
    limit = gate_profile.thresholds["PERF-API-P95"].limit \
        if "PERF-API-P95" in gate_profile.thresholds else 1000.0
    rule = WindowRule(limit_ms=limit, window_s=s.window_s)
    plan = load_runner.plan([Stage(seconds=s.duration_s.of(durations), rate=s.rate)],
                            warmup_s=s.warmup_s.of(durations))
    dsn, db_note = _optional(request, "db_dsn")
    db_container, log_note = _optional(request, "db_container")
    window = StatementWindow(dsn) if dsn else None
    if window:
        window.open()
    since = int(time.time()) - 1
    try:
        run = load_runner.run(plan, "normal load",
                              abort=Abort(rule, s.abort_after_s, s.abort_factor))
    finally:
        statements = window.close() if window else []
    until = int(time.time()) + 1
    load_runner.say(f"load: {plan.duration_s:.0f} s at {s.rate:g} req/s took {run.seconds:.0f} s")
    extra = {**run_evidence(run), "scenario_check": checked, "reference_data": reference_data}
    if untrusted(run, verdicts, CRITERIA):
        verdicts.done()
        return
    plot = attach_timeline(record, run, "load-timeline", f"normal load: {s.rate:g} req/s")
    endpoint_latency(verdicts, run, "PERF-API-P95", limit, rule, plot, extra)
    success_rate(verdicts, run, "REL-SUCCESS-RATE",
                 gate_profile.thresholds["REL-SUCCESS-RATE"].limit
                 if "REL-SUCCESS-RATE" in gate_profile.thresholds else 99.99, extra)
    memory_max(verdicts, run, "PERF-MEMORY", extra, plot)
    if db_container is None or window is None:
        verdicts.insufficient("PERF-DB-QUERY-P95", "the database's own statement times cannot "
                              f"be read here: {db_note or log_note}")
    else:
        log = db_container.logs(stdout=False, stderr=True, since=since, until=until)
        times = statement_durations_ms(log.decode("utf-8", "replace"))
        histogram = hdr.new()
        for ms in times:
            hdr.record_seconds(histogram, ms / 1000.0)
        verdicts("PERF-DB-QUERY-P95", value=hdr.percentile_ms(histogram, 95.0),
                 samples=len(times),
                 source="the database's own log: every statement's duration "
                        "(log_min_duration_statement = 0 for the window), in an HDR histogram",
                 evidence={"statements": hdr.summary(histogram),
                           "pg_stat_statements_top": statements,
                           "why_not_the_mean": "pg_stat_statements keeps a mean and a maximum "
                           "per statement; a mean hides the slow tail a p95 is about"})
    verdicts.done()
