"""PERF-ERROR-LATENCY and PERF-ERROR-MEMORY: a sustained storm of requests that end in handled
errors; the server's own duration of each (its Server-Timing header, or whatever the profile's
``[load.server_timing]`` names) and the application's memory growth after the warm-up."""

from __future__ import annotations

import statistics
from typing import Any

import pytest
from releasegate.fixtures.load import LoadRunner, Verdicts
from releasegate.fixtures.loadjudge import attach_timeline, run_evidence, untrusted

from releasegate.config.profile import Profile
from releasegate.config.sections.load import LoadSettings
from releasegate.loadgen import hdr
from releasegate.loadgen.plan import Stage
from releasegate.loadgen.results import Tally
from releasegate.measure.recorder import Recorder

pytestmark = [pytest.mark.load, pytest.mark.disruptive]

LATENCY, MEMORY = "PERF-ERROR-LATENCY", "PERF-ERROR-MEMORY"
BASELINE_S = 5.0
"""Memory right after the warm-up (its median) is the baseline the growth is measured from."""


def storm_endpoints(settings: LoadSettings, profile: Profile) -> list[dict[str, Any]]:
    """The profile's error endpoints, or two every application has: an unknown route and a
    login without credentials."""
    if settings.errors.endpoints:
        return list(settings.errors.endpoints)
    endpoints: list[dict[str, Any]] = [
        {"name": "unknown route", "path": "/releasegate-no-such-route/{int:1:1000000}",
         "auth": False}]
    if profile.login is not None:
        endpoints.append({"name": "login without credentials", "method": profile.login.method,
                          "path": profile.login.path, "body": {}, "auth": False})
    return endpoints


def not_errors(endpoints: dict[str, Tally]) -> list[str]:
    return [f"{name} answered {status} {n} time(s): not an error"
            for name, tally in endpoints.items() for status, n in tally.statuses.items()
            if status != "0" and int(status) < 400]


@pytest.mark.criterion(LATENCY, MEMORY)
def test_error_storm(load_runner: LoadRunner, load_settings: LoadSettings,
                     gate_profile: Profile, durations: str, record: Recorder,
                     verdicts: Verdicts) -> None:
    storm = load_settings.errors
    warmup = storm.warmup_s.of(durations)
    plan = load_runner.plan([Stage(seconds=storm.duration_s.of(durations), rate=storm.rate)],
                            scenario="generic", warmup_s=warmup,
                            config={"endpoints": storm_endpoints(load_settings, gate_profile)})
    run = load_runner.run(plan, "error storm")
    load_runner.say(f"error storm: {plan.duration_s:.0f} s at {storm.rate:g} req/s took "
                    f"{run.seconds:.0f} s")
    if untrusted(run, verdicts, [LATENCY, MEMORY]):
        verdicts.done()
        return
    plot = attach_timeline(record, run, "error-storm-timeline", "error storm")
    endpoints = run.result.endpoints()
    server = Tally()
    for tally in endpoints.values():
        server.merge(tally)
    timing = load_settings.server_timing
    extra = {**run_evidence(run), "endpoints": {n: t.describe() for n, t in endpoints.items()}}
    if server.server.get_total_count() == 0:
        verdicts.insufficient(LATENCY, f"no error answer carried a {timing.header} header with "
                              f"{timing.metric};dur=…: set [load.server_timing] header and "
                              "metric to where the application reports its own duration")
    else:
        for name, tally in sorted(endpoints.items()):  # one part per kind of error
            verdicts(LATENCY, value=hdr.percentile_ms(tally.server, 95.0),
                     samples=int(tally.server.get_total_count()), scope=name,
                     violations=not_errors({name: tally}), attachments=plot,
                     source=f"the application's own duration of each error answer "
                            f"({timing.header} {timing.metric};dur), in an HDR histogram, "
                            f"after a {warmup:g} s warm-up",
                     evidence={**extra, "server_ms": hdr.summary(tally.server),
                               "client_corrected_ms": hdr.summary(tally.corrected),
                               "statuses": dict(tally.statuses)})
    after = run.memory_after(warmup)
    baseline = [mb for t, mb in after if t < warmup + BASELINE_S]
    if not baseline or len(after) < 5:
        verdicts.insufficient(MEMORY, run.memory_note or f"{len(after)} memory samples after "
                              "the warm-up: the engine's stats stream gave too few")
    else:
        base = statistics.median(baseline)
        peak = max(mb for _, mb in after)
        verdicts(MEMORY, value=round(peak - base, 1), samples=len(after), attachments=plot,
                 source="the container engine's stats stream through the storm: the maximum "
                        f"minus the median of the first {BASELINE_S:g} s after the warm-up",
                 evidence={**extra, "baseline_mb": round(base, 1), "max_mb": round(peak, 1)})
    verdicts.done()
