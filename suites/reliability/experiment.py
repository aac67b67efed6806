"""One fault as an experiment: steady state checked, traffic started, the fault injected and
healed, recovery timed, steady state checked again, then every write read back.

The traffic is the write ledger's writers, a few readers and a readiness probe; all of it is
kept as samples for the fault's timeline. Recovery is the first moment after the fault when the
health path answers 200 *and* a write is acknowledged.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from releasegate.config.profile import Profile
from releasegate.config.sections.reliability import ReliabilitySettings
from releasegate.measure.ledger import OK, WriteLedger, summarise
from releasegate.measure.parts import Parts
from releasegate.measure.timeline import Window, render_svg
from releasegate.measure.traffic import Sample, Traffic, Writer, read_back_api, read_back_sql

LEAD_S = 2.0
"""Traffic runs this long before the fault."""
TAIL_S = 1.5
"""…and this long after recovery."""
RECOVERY_WAIT_S = 75.0
STEADY_WAIT_S = 30.0
POLL_S = 0.25
LEDGER = "REL-NO-LOST-WRITES"
LEDGER_SOURCE = ("write ledger: every write's outcome as the client saw it; read back after "
                 "healing through the application's API and straight from its database table")


@dataclass
class Context:
    """What every experiment needs: where the application is and how to talk to it."""

    profile: Profile
    settings: ReliabilitySettings
    base_url: str
    headers: dict[str, str]
    values: dict[str, str]
    dsn: str


@dataclass
class Outcome:
    name: str
    ledger: WriteLedger
    samples: list[Sample] = field(default_factory=list)
    before: list[str] = field(default_factory=list)
    after: list[str] = field(default_factory=list)
    fault_start: float = 0.0
    fault_end: float = 0.0
    recovered_at: float | None = None
    notes: dict[str, Any] = field(default_factory=dict)
    reads: dict[str, dict[str, int] | str] = field(default_factory=dict)

    def recovered_after(self, since: float) -> float | None:
        return None if self.recovered_at is None else round(self.recovered_at - since, 3)

    def during(self, kind: str, start: float, stop: float) -> list[Sample]:
        return [s for s in self.samples if s.kind == kind and start <= s.started <= stop]

    def evidence(self) -> dict[str, Any]:
        return {"fault": self.name, "steady_before": self.before or "ok",
                "steady_after": self.after or "ok",
                "fault_s": round(self.fault_end - self.fault_start, 2),
                "recovered_after_fault_end_s": self.recovered_after(self.fault_end),
                "requests": len(self.samples),
                "failed_requests": sum(1 for s in self.samples if s.failed),
                "writes": self.ledger.counts(), **self.notes}


def _health(http: httpx.Client, path: str) -> int | None:
    try:
        return http.get(path).status_code
    except httpx.HTTPError:
        return None


def steady_state(ctx: Context, ledger: WriteLedger) -> list[str]:
    """Problems with the steady state: health must be 200 and a write must be acknowledged."""
    problems = []
    with httpx.Client(base_url=ctx.base_url, timeout=10.0) as http:
        status = _health(http, ctx.profile.app.health_path)
    if status != 200:
        problems.append(f"{ctx.profile.app.health_path} answered {status}")
    writer = Writer(ctx.base_url, ctx.settings.writes, ctx.headers, ctx.values, timeout=10.0)
    try:
        write, _ = writer.write(ledger)
    finally:
        writer.close()
    if write.outcome != OK:
        problems.append(f"a write was not acknowledged: {write.status} {write.detail}")
    return problems


def wait_steady(ctx: Context, ledger: WriteLedger, wait_s: float = STEADY_WAIT_S) -> list[str]:
    """The steady state, given a little time to settle after an earlier test's fault; the
    problems that remain when the time is up."""
    deadline = time.monotonic() + wait_s
    while True:
        problems = steady_state(ctx, ledger)
        if not problems or time.monotonic() >= deadline:
            return problems
        time.sleep(1.0)


def wait_recovered(ctx: Context, ledger: WriteLedger, limit_s: float) -> float | None:
    """Epoch seconds when health answered 200 and then a write was acknowledged, or None."""
    deadline = time.monotonic() + limit_s
    writer = Writer(ctx.base_url, ctx.settings.writes, ctx.headers, ctx.values, timeout=5.0)
    try:
        with httpx.Client(base_url=ctx.base_url, timeout=5.0) as http:
            while time.monotonic() < deadline:
                if _health(http, ctx.profile.app.health_path) == 200:
                    write, _ = writer.write(ledger)
                    if write.outcome == OK:
                        return write.done_at
                time.sleep(POLL_S)
    finally:
        writer.close()
    return None


def run(ctx: Context, name: str, fault: Callable[[], dict[str, Any]],
        ledger: WriteLedger | None = None) -> Outcome:
    """Run ``fault`` (inject, hold, heal; returns notes) under traffic, as an experiment.
    Writes the fault makes itself belong in ``ledger`` (made here when not given)."""
    settings = ctx.settings
    out = Outcome(name, ledger or new_ledger(name))
    out.before = wait_steady(ctx, out.ledger)
    with Traffic(ctx.base_url, headers=ctx.headers, recipe=settings.writes, ledger=out.ledger,
                 values=ctx.values, reads=settings.reads, writers=settings.writers,
                 readers=settings.readers, interval_s=settings.write_interval_ms / 1000,
                 read_interval_s=settings.read_interval_ms / 1000,
                 timeout_s=settings.request_timeout_s, max_s=300.0,
                 probe_path=ctx.profile.app.health_path) as traffic:
        time.sleep(LEAD_S)
        out.fault_start = time.time()
        try:
            out.notes.update(fault())
        finally:
            out.fault_end = time.time()
        out.recovered_at = wait_recovered(ctx, out.ledger, RECOVERY_WAIT_S)
        time.sleep(TAIL_S)
    out.samples = traffic.samples
    out.after = steady_state(ctx, out.ledger) if out.recovered_at else ["never recovered"]
    out.reads = {
        "API": read_back_api(ctx.base_url, ctx.headers, settings.writes, out.ledger.prefix,
                             ctx.values),
        "SQL": read_back_sql(ctx.dsn, settings.writes, out.ledger.prefix)}
    return out


def new_ledger(name: str) -> WriteLedger:
    return WriteLedger(name.replace(" ", "-").replace(":", ""))


def timeline(parts: Parts, out: Outcome, label: str) -> str:
    svg = render_svg(out.samples, [Window(out.fault_start, out.fault_end, label)],
                     title=f"{out.name}: requests over time")
    return parts.record.attach(f"timeline-{out.ledger.prefix.strip('-')}.svg", svg)


def ledger_violations(out: Outcome) -> list[str]:
    return summarise(out.ledger, out.reads)[0]


def record_ledger(parts: Parts, out: Outcome, attachment: str) -> None:
    """REL-NO-LOST-WRITES for this fault: the set check against both final reads."""
    violations, evidence = summarise(out.ledger, out.reads)
    writes = sum(out.ledger.counts().values())
    parts(LEDGER, value=float(len(violations)), samples=writes, source=LEDGER_SOURCE,
          violations=violations, evidence={**evidence, "fault": out.name},
          attachments=[attachment], scope=out.name)


def unmeasurable(ctx: Context) -> str:
    """Why no experiment can run with this profile ("" when one can)."""
    writes = ctx.settings.writes
    if not writes.defined:
        return ("the profile's [reliability.writes] names no write: without a write ledger no "
                "fault experiment can tell whether data survived")
    if not (writes.read_path and writes.sql_table):
        return ("the profile's [reliability.writes] needs read_path and sql_table: every write "
                "is read back through the API and from the database")
    return ""
