"""SEC-INJECTION-SQL: payload dictionaries into every string parameter, four oracles.

Targets: every path parameter, every string query parameter and every free-text field of a JSON
body, of every operation but DELETE (a benign baseline would delete the object). Oracles, as
sqlmap's: PostgreSQL error text in the answer; an error in the database's own log inside the
request's time window; a boolean pair whose true half changes the answer while the false half
matches the benign one; and a ``pg_sleep`` payload answered later than the baseline's mean + 7σ
(and half the requested delay), confirmed by a second try.
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from releasegate.evidence.findings import Finding
from releasegate.measure.security.errorcheck import ErrorInspector, curl_line
from releasegate.measure.security.openapi import Operation, Resolver, example, is_free_text

TOOL = "releasegate-sqli"
SCOPE = "injection traffic"
BASELINE = 5
SIGMA = 7.0
MIN_SIGMA_S = 0.01
PG_ERRORS = re.compile(
    r"syntax error at or near|unterminated quoted (string|identifier)|"
    r"unterminated dollar-quoted|invalid input syntax for|operator does not exist|"
    r"column \"?[\w.]+\"? does not exist|function [\w.]+\(.*\) does not exist|"
    r"zero-length delimited identifier|current transaction is aborted|"
    r"psycopg|sqlalchemy\.exc|SQLSTATE|PG::|pg_query|\[SQL:", re.IGNORECASE)
"""Answers and log lines that show text reaching the SQL parser (constraint violations and
other errors a well-formed statement can meet are not in here)."""


@dataclass(frozen=True)
class Payloads:
    errors: tuple[str, ...]
    booleans: tuple[tuple[str, str], ...]
    sleeps: tuple[str, ...]
    """With ``{sleep}`` where the delay in seconds goes."""

    @classmethod
    def load(cls, folder: Path) -> Payloads:
        def lines(name: str) -> list[str]:
            path = folder / name
            if not path.is_file():
                raise FileNotFoundError(f"payload dictionary {path} is missing")
            return [line.rstrip("\n") for line in path.read_text(encoding="utf-8").splitlines()
                    if line.strip() and not line.startswith("#")]

        pairs = [tuple(line.split("\t", 1)) for line in lines("sql-boolean.txt")]
        return cls(tuple(lines("sql-error.txt")),
                   tuple((p[0], p[1]) for p in pairs if len(p) == 2),
                   tuple(lines("sql-time.txt")))


@dataclass(frozen=True)
class Target:
    op: Operation
    location: str
    """``path``, ``query`` or ``body``."""
    name: str

    @property
    def label(self) -> str:
        return f"{self.op.label} {self.location}:{self.name}"


@dataclass
class Sent:
    payload: str
    started: float
    ended: float
    response: httpx.Response

    @property
    def seconds(self) -> float:
        return self.ended - self.started


def targets(ops: list[Operation], resolver: Resolver) -> tuple[list[Target], dict[str, str]]:
    """(what to inject into, operations left out with the reason)."""
    found: list[Target] = []
    skipped: dict[str, str] = {}
    for op in ops:
        if op.method == "DELETE":
            skipped[op.label] = "DELETE: a benign baseline request would delete the object"
            continue
        found += [Target(op, "path", p.name) for p in op.params_in("path")]
        found += [Target(op, "query", p.name) for p in op.params_in("query")
                  if is_free_text(resolver.resolve(p.schema)) or not p.schema]
        body = resolver.resolve(op.body) if op.body is not None else None
        if isinstance(body, dict):
            found += [Target(op, "body", name) for name, prop in
                      (body.get("properties") or {}).items() if is_free_text(prop)]
    return found, skipped


class Budget:
    def __init__(self, max_requests: int, max_seconds: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.left = max_requests
        self.clock = clock
        self.deadline = clock() + max_seconds

    def take(self, count: int = 1) -> bool:
        if self.left < count or self.clock() > self.deadline:
            return False
        self.left -= count
        return True


@dataclass
class SqliResult:
    findings: list[Finding] = field(default_factory=list)
    probed: list[str] = field(default_factory=list)
    not_probed: dict[str, str] = field(default_factory=dict)
    requests: int = 0
    windows: list[tuple[float, float, Target, str, httpx.Response]] = field(default_factory=list)
    """(start, end, target, payload, answer) of every payload request, for the log oracle."""


class SqliProbe:
    def __init__(self, client: httpx.Client, resolver: Resolver, inspector: ErrorInspector,
                 payloads: Payloads, *, captured: dict[str, Any], sleep_s: float,
                 budget: Budget) -> None:
        self.client, self.resolver, self.inspector = client, resolver, inspector
        self.payloads, self.captured, self.sleep_s, self.budget = (
            payloads, captured, sleep_s, budget)
        self.result = SqliResult()

    def request(self, target: Target, value: Any) -> Sent:
        op = target.op
        path_values = {p.name: self.captured.get(p.name, example(self.resolver.resolve(
            p.schema))) for p in op.params_in("path")}
        params = {p.name: self.captured.get(p.name, example(self.resolver.resolve(p.schema)))
                  for p in op.params_in("query") if p.required}
        body = example(self.resolver.resolve(op.body)) if op.body is not None else None
        if isinstance(body, dict):
            body.update({k: v for k, v in self.captured.items() if k in body})
        if target.location == "path":
            path_values[target.name] = value
        elif target.location == "query":
            params[target.name] = value
        elif isinstance(body, dict):
            body[target.name] = value
        self.result.requests += 1
        started = time.time()
        response = self.client.request(op.method, op.url(path_values), params=params,
                                       json=body if op.body is not None else None)
        sent = Sent(str(value), started, time.time(), response)
        self.inspector.inspect_httpx(response, scope=SCOPE)
        return sent

    def run(self, all_targets: list[Target]) -> SqliResult:
        per_target = BASELINE + 1 + len(self.payloads.errors) + 2 * len(
            self.payloads.booleans) + len(self.payloads.sleeps)
        for target in all_targets:
            if not self.budget.take(per_target):
                self.result.not_probed[target.label] = "the probe's request or time budget ran out"
                continue
            self._probe(target)
            self.result.probed.append(target.label)
        return self.result

    def _probe(self, target: Target) -> None:
        benign = "rg-benign" if target.location != "path" else self.captured.get(target.name, 1)
        baseline = [self.request(target, benign) for _ in range(BASELINE)]
        times = [s.seconds for s in baseline]
        for payload in self.payloads.errors:
            sent = self.request(target, payload)
            self.result.windows.append((sent.started, sent.ended, target, payload, sent.response))
            match = PG_ERRORS.search(sent.response.text)
            if match:
                self._finding(target, "sqli-error-in-response", sent,
                              f"the answer shows a database error: {match.group(0)!r}")
        self._boolean(target, baseline)
        self._timing(target, times)

    def _boolean(self, target: Target, baseline: list[Sent]) -> None:
        reference = [s.response for s in baseline]
        stable = len({(r.status_code, r.text) for r in reference}) == 1
        for true_payload, false_payload in self.payloads.booleans:
            yes, no = self.request(target, true_payload), self.request(target, false_payload)
            if not stable:
                continue
            same_as_benign = (no.response.status_code, no.response.text) == (
                reference[0].status_code, reference[0].text)
            if (yes.response.is_success and no.response.is_success and same_as_benign
                    and yes.response.text != no.response.text):
                self._finding(target, "sqli-boolean", yes,
                              f"{true_payload!r} changed the answer ({len(yes.response.text)} "
                              f"bytes) while {false_payload!r} left it as the benign value's "
                              f"({len(no.response.text)} bytes)")

    def _timing(self, target: Target, times: list[float]) -> None:
        mean = statistics.fmean(times)
        sigma = max(statistics.pstdev(times), MIN_SIGMA_S)
        limit = max(mean + SIGMA * sigma, self.sleep_s / 2)
        for template in self.payloads.sleeps:
            payload = template.replace("{sleep}", f"{self.sleep_s:g}")
            first = self.request(target, payload)
            if first.seconds <= limit:
                continue
            second = self.request(target, payload)
            if second.seconds > limit:
                self._finding(target, "sqli-time", second,
                              f"{payload!r} answered in {first.seconds:.2f} s and "
                              f"{second.seconds:.2f} s; baseline {mean:.3f} s ± {sigma:.3f} "
                              f"(limit {limit:.2f} s)")
                return

    def _finding(self, target: Target, rule: str, sent: Sent, evidence: str) -> None:
        request = sent.response.request
        self.result.findings.append(Finding(
            tool=TOOL, rule=rule, severity="critical", criterion="SEC-INJECTION-SQL",
            title=f"SQL injection through {target.location} parameter {target.name!r}",
            location=target.op.label, evidence=evidence,
            reproduction=curl_line(request.method, str(request.url), dict(request.headers),
                                   request.content or None)))


def log_findings(result: SqliResult, log_lines: list[tuple[float, str]], *,
                 slack_s: float = 0.05) -> list[Finding]:
    """Database errors logged inside a payload request's time window (± slack)."""
    found: list[Finding] = []
    for stamp, line in log_lines:
        if not PG_ERRORS.search(line):
            continue
        for started, ended, target, payload, response in result.windows:
            if started - slack_s <= stamp <= ended + slack_s:
                request = response.request
                found.append(Finding(
                    tool=TOOL, rule="sqli-database-log", severity="critical",
                    criterion="SEC-INJECTION-SQL",
                    title=f"SQL injection through {target.location} parameter {target.name!r}",
                    location=target.op.label,
                    evidence=f"payload {payload!r}; the database logged: {line.strip()[:300]}",
                    reproduction=curl_line(request.method, str(request.url),
                                           dict(request.headers), request.content or None)))
                break
    return found


def parse_docker_log(raw: bytes) -> list[tuple[float, str]]:
    """``docker logs --timestamps`` lines as (epoch seconds, text)."""
    from datetime import datetime

    out: list[tuple[float, str]] = []
    for line in raw.decode("utf-8", "replace").splitlines():
        stamp, _, text = line.partition(" ")
        try:
            head, _, frac = stamp.rstrip("Z").partition(".")
            when = datetime.fromisoformat(head + "+00:00").timestamp() + float(f"0.{frac or 0}")
        except ValueError:
            continue
        out.append((when, text))
    return out
