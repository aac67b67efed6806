"""REL-SOAK-STABILITY and REL-AVAILABILITY: the normal load held for the soak's duration, the
health path probed every second throughout, memory's least-squares slope with its confidence
interval, and the drift of the error rate and p95 between the first and the last window."""

from __future__ import annotations

import pytest
from hdrh.histogram import HdrHistogram
from releasegate.fixtures.load import LoadRun, LoadRunner, Verdicts
from releasegate.fixtures.loadjudge import attach_timeline, run_evidence, untrusted

from releasegate.config.profile import Profile
from releasegate.config.sections.load import LoadSettings
from releasegate.loadgen import hdr
from releasegate.loadgen.plan import Stage
from releasegate.loadgen.results import Tally
from releasegate.measure.memory import memory_check, slope
from releasegate.measure.probe import HealthProber, Probe
from releasegate.measure.recorder import CheckList, Recorder
from releasegate.stack.model import StackInfo

pytestmark = [pytest.mark.soak, pytest.mark.disruptive]

STABILITY, AVAILABILITY = "REL-SOAK-STABILITY", "REL-AVAILABILITY"


def _window(run: LoadRun, first: bool, length_s: float) -> Tally:
    measured = run.result.measured()
    per = max(1, round(length_s / run.result.plan.window_s))
    tally: Tally = run.result.overall(measured[:per] if first else measured[-per:])
    return tally


def _error_pct(tally: Tally) -> float:
    return 100.0 * tally.server_errors / tally.count if tally.count else 0.0


def stability_checks(run: LoadRun, profile: Profile, window_s: float, p95_limit_ms: float,
                     *, short: bool, horizon_h: float) -> tuple[CheckList, dict[str, object],
                                                                str]:
    """The three checks, their evidence, and a reason when one of them cannot be decided."""
    checks = CheckList()
    slope_limit = float(profile.option(STABILITY, "memory_slope_mb_per_h"))
    drift_pct = float(profile.option(STABILITY, "p95_drift_pct"))
    error_points = float(profile.option(STABILITY, "error_drift_pct_points"))
    undecided = ""
    memory = run.memory_after(run.result.plan.warmup_s)
    fit = slope(memory)
    memory_limit = profile.thresholds["PERF-MEMORY"].limit \
        if "PERF-MEMORY" in profile.thresholds else 512.0
    peak = max((mb for _, mb in memory), default=0.0)
    passed, detail = memory_check(fit, slope_limit, short=short,
                                  headroom_mb=memory_limit - peak, horizon_h=horizon_h)
    if passed is None:
        undecided = run.memory_note if fit is None and run.memory_note else \
            f"memory slope: {detail}"
    else:
        checks.add(f"memory slope below {slope_limit:g} MB/h (95 % CI)", passed, detail)
    first, last = _window(run, True, window_s), _window(run, False, window_s)
    p_first, p_last = hdr.percentile_ms(first.corrected, 95), hdr.percentile_ms(last.corrected, 95)
    if p_first is None or p_last is None:
        undecided = undecided or "the first or last window had no answered request"
    else:
        grew = p_last - p_first
        checks.add(f"p95 drift within {drift_pct:g} % (first → last {window_s:g} s window)",
                   not (grew > p_first * drift_pct / 100 and grew > p95_limit_ms / 10),
                   f"{p_first:.0f} → {p_last:.0f} ms")
    e_first, e_last = _error_pct(first), _error_pct(last)
    checks.add(f"error rate drift within {error_points:g} percentage points",
               e_last - e_first <= error_points, f"{e_first:.3f} % → {e_last:.3f} %")
    evidence: dict[str, object] = {"memory_slope": None if fit is None else vars(fit),
                "first_window": first.describe(), "last_window": last.describe(),
                "window_s": window_s}
    return checks, evidence, undecided


@pytest.mark.criterion(STABILITY, AVAILABILITY)
def test_soak(load_runner: LoadRunner, load_settings: LoadSettings, gate_profile: Profile,
              healthy_stack: StackInfo, durations: str, reference_data: str, record: Recorder,
              verdicts: Verdicts) -> None:
    soak = load_settings.soak
    rate = soak.rate or load_settings.rate
    window_s = soak.window_s.of(durations)
    plan = load_runner.plan([Stage(seconds=soak.duration_s.of(durations), rate=rate)],
                            warmup_s=load_settings.warmup_s.of(durations))
    path = soak.probe_path or gate_profile.app.health_path
    prober = HealthProber(healthy_stack.base_url, path, timeout_s=soak.probe_timeout_s).start()
    try:
        run = load_runner.run(plan, "soak")
    finally:
        probes = prober.stop()
    load_runner.say(f"soak: {plan.duration_s:.0f} s at {rate:g} req/s took {run.seconds:.0f} s")
    if untrusted(run, verdicts, [STABILITY, AVAILABILITY]):
        verdicts.done()
        return
    plot = attach_timeline(record, run, "soak-timeline", f"soak: {rate:g} req/s")
    ok = sum(1 for p in probes if p.ok)
    failed = [f"{p.at:.0f} s: {p.status or p.note}" for p in probes if not p.ok]
    verdicts(AVAILABILITY, value=100.0 * ok / len(probes) if probes else None,
             samples=len(probes), attachments=plot,
             source=f"GET {path} once a second through the soak; 200 within "
                    f"{soak.probe_timeout_s:g} s counts as available",
             evidence={"probes": len(probes), "available": ok, "unavailable": failed[:50],
                       "probe_ms": hdr.summary(_probe_histogram(probes))})
    limit = gate_profile.thresholds["PERF-API-P95"].limit \
        if "PERF-API-P95" in gate_profile.thresholds else 1000.0
    release_s = soak.duration_s.of("release")
    checks, evidence, undecided = stability_checks(
        run, gate_profile, window_s, limit, short=plan.duration_s < release_s,
        horizon_h=release_s / 3600.0)
    if undecided and not checks.violations:
        verdicts.insufficient(STABILITY, undecided)
    else:
        # A decided violation fails the criterion even when another check is undecided.
        verdicts(
            STABILITY, value=float(len(checks.violations)), samples=len(checks.checks),
            source="memory from the engine's stats stream (least squares after the warm-up); "
                   "error rate and corrected p95 of the first and last windows",
            violations=checks.violations, checks=checks.as_dicts(), attachments=plot,
            evidence={**evidence, **run_evidence(run), "undecided": undecided})
    verdicts.done()


def _probe_histogram(probes: list[Probe]) -> HdrHistogram:
    histogram = hdr.new()
    for p in probes:
        if p.ms is not None:
            hdr.record_seconds(histogram, p.ms / 1000.0)
    return histogram
