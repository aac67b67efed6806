"""REL-DB-RECONNECT (a slow or stuck database) and REL-NO-LOST-WRITES: a second instance of the
application reaches the database through the harness's TCP fault proxy, which adds latency,
stalls every connection, and then resets them, each for a while, under load.

The application may degrade — fast 503s, or answers that take as long as its configured limits —
but it must never hang past the limit, must say so on its readiness path when the database is
unusable, and must come back by itself. The latency it adds under each fault is reported.
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from typing import Any

import pytest

from releasegate.config.profile import Profile
from releasegate.config.sections.reliability import ReliabilitySettings
from releasegate.measure.faultproxy import LATENCY, PASS, RESET, STALL, FaultProxy
from releasegate.measure.parts import Parts, announce
from releasegate.measure.recorder import CheckList, Recorder
from releasegate.measure.traffic import Sample
from releasegate.stack.databases import database_env, network_gateway
from releasegate.stack.extra import extra_app
from releasegate.stack.model import StackInfo

from . import experiment
from .experiment import LEDGER, Context, Outcome

pytestmark = [pytest.mark.reliability, pytest.mark.disruptive]
CRITERION = "REL-DB-RECONNECT"
MODES = (("added latency", LATENCY), ("stalled connections", STALL),
         ("reset connections", RESET))


def _percentiles(samples: list[Sample]) -> dict[str, float] | None:
    answered = sorted(s.seconds * 1000 for s in samples if s.kind != "probe" and not s.failed)
    if len(answered) < 2:
        return None
    cuts = statistics.quantiles(answered, n=20, method="inclusive")
    return {"p50_ms": round(statistics.median(answered), 1), "p95_ms": round(cuts[18], 1),
            "n": len(answered)}


def added_latency(out: Outcome) -> dict[str, Any]:
    """Latency of answered requests during the fault, against the same traffic before it."""
    before = _percentiles([s for s in out.samples if s.started < out.fault_start])
    during = _percentiles(out.during("write", out.fault_start, out.fault_end)
                          + out.during("read", out.fault_start, out.fault_end))
    added = None
    if before and during:
        added = {k: round(during[k] - before[k], 1) for k in ("p50_ms", "p95_ms")}
    return {"before": before, "during": during, "added": added}


def mode_checks(out: Outcome, mode: str, limit_s: float, checks: CheckList) -> None:
    window = [s for s in out.samples if out.fault_start <= s.started <= out.fault_end]
    hung = [s for s in window if s.seconds > limit_s or "Timeout" in s.error]
    checks.add(f"every request answered within {limit_s:g} s (no hang)", not hung,
               f"{len(hung)} of {len(window)} did not, slowest "
               f"{max((s.seconds for s in hung), default=0):.1f} s")
    if mode in (STALL, RESET):
        probes = out.during("probe", out.fault_start, out.fault_end)
        checks.add("readiness answered 503 while the database was unusable",
                   any(p.status == 503 for p in probes),
                   f"answers: {sorted({str(p.status) for p in probes})}")


@pytest.mark.criterion(CRITERION, LEDGER)
def test_slow_database_degrades_without_hanging(
    ctx: Context, healthy_stack: StackInfo, gate_profile: Profile, docker_client: Any,
    durations: str, record: Recorder, request: pytest.FixtureRequest,
) -> None:
    scope = "slow database"
    if reason := experiment.unmeasurable(ctx):
        record.insufficient(CRITERION, reason, scope=scope)
        record.insufficient(LEDGER, reason, scope=scope)
        return
    settings: ReliabilitySettings = ctx.settings
    limit = float(gate_profile.option(CRITERION, "request_limit_s"))
    fault_s = settings.proxy_fault_s.of(durations)
    assert healthy_stack.db is not None and healthy_stack.network
    proxy = FaultProxy(network_gateway(docker_client, healthy_stack.network),
                       (healthy_stack.db.host, healthy_stack.db.port)).start()
    parts = Parts(record)
    try:
        host, port = proxy.address
        env = database_env(gate_profile, healthy_stack, {"db.host": host, "db.port": str(port)})
        if not env:
            reason = ("no variable of the application's environment uses {db.*} placeholders, "
                      "so it cannot be pointed at the fault proxy")
            record.insufficient(CRITERION, reason, scope=scope)
            record.insufficient(LEDGER, reason, scope=scope)
            return
        with extra_app(docker_client, healthy_stack, gate_profile, role="slow-db",
                       env=env) as extra:
            # The client waits past the limit, so that a request over it is seen, not cut off.
            slow = dataclasses.replace(ctx, base_url=extra.base_url, settings=dataclasses.replace(
                settings, request_timeout_s=limit + 5))
            for label, mode in MODES:
                _one_mode(parts, slow, proxy, label, mode, fault_s, limit, extra.healthy_after_s,
                          request)
    finally:
        proxy.stop()
    parts.finish()


def _one_mode(parts: Parts, ctx: Context, proxy: FaultProxy, label: str, mode: str,
              fault_s: float, limit: float, healthy_after: float | None,
              request: pytest.FixtureRequest) -> None:
    def inject() -> dict[str, Any]:
        proxy.set(mode, latency_ms=ctx.settings.proxy_latency_ms)
        try:
            time.sleep(fault_s)
        finally:
            proxy.set(PASS)
        return {"mode": mode, "latency_ms": ctx.settings.proxy_latency_ms if mode == LATENCY
                else None, "fault_s": fault_s}

    name = f"slow database: {label}"
    checks = CheckList()
    checks.add("the application reaches its database through the proxy", healthy_after
               is not None, "it never answered healthy")
    out = experiment.run(ctx, name, inject)
    svg = experiment.timeline(parts, out, label)
    checks.add("steady state before the fault", not out.before, "; ".join(out.before))
    mode_checks(out, mode, limit, checks)
    recovered = out.recovered_after(out.fault_end)
    checks.add("2xx again after the proxy passed traffic again", recovered is not None,
               f"not within {experiment.RECOVERY_WAIT_S:g} s")
    checks.add("steady state after recovery", not out.after, "; ".join(out.after))
    latency = added_latency(out)
    parts.measured(CRITERION, recovered if recovered is not None else
                   experiment.RECOVERY_WAIT_S, checks, scope=name, attachments=[svg],
                   evidence={**out.evidence(), "latency": latency,
                             "proxy_connections": proxy.connections},
                   source="requests and readiness probes through a second instance of the app "
                          "whose database connections pass the harness's TCP fault proxy")
    experiment.record_ledger(parts, out, svg)
    announce(request.config, f"reliability: {name}: latency {latency['added']}, 2xx again "
                             f"{recovered} s after, writes {out.ledger.counts()}")
