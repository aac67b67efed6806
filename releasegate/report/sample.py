"""A realistic run summary with every verdict in it, for previewing the report formats.

Rendering this shows what a release manager will see without standing up a stack; the report
tests build on it too.
"""

from __future__ import annotations

import copy
from typing import Any

from releasegate.criteria import catalog
from releasegate.report.summary import SCHEMA, Record, Summary


def record(criterion_id: str, verdict: str, measured: float | None, **overrides: Any) -> Record:
    """A verdict record shaped like VerdictRecord.to_json(), defaults from the catalog."""
    c = catalog.get(criterion_id)
    data: Record = {
        "id": c.id, "title": c.title, "area": c.area.value, "measured": measured,
        "unit": c.unit, "limit": c.limit, "comparator": c.comparator.value, "verdict": verdict,
        "evidence": {}, "source": "", "severity": c.severity, "blocking": True,
        "documented_limit": c.limit, "samples": 1 if measured is not None else 0,
        "min_samples": c.min_samples, "reasons": [], "attachments": [], "waiver": None,
        "parts": [],
    }
    data.update(overrides)
    return data


def _part(scope: str, verdict: str, measured: float | None, samples: int, reason: str = "",
          checks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "scope": scope, "test": f"suites/test_{scope.replace(' ', '_')}.py", "verdict": verdict,
        "measured": measured, "samples": samples, "violations": [reason] if reason else [],
        "checks": checks or [], "evidence": {}, "source": "harness", "reason": reason,
    }


def sample_summary() -> Summary:
    health_reason = "health answered 200 while the database was unreachable (expected 503)"
    criteria = [
        record("FUNC-CONTAINER-BUILD-RUN", "pass", 0, source="docker build + healthcheck"),
        record("FUNC-HEALTH", "fail", 1, samples=2, reasons=[f"[db down] {health_reason}"],
               attachments=["attachments/1a2b3c4d-app.log", "attachments/9f8e7d6c-gone.log"],
               parts=[
                   _part("db up", "pass", 0, 1, checks=[
                       {"name": "status 200", "ok": True},
                       {"name": "reports database state", "ok": True}]),
                   _part("db down", "fail", 1, 1, health_reason, checks=[
                       {"name": "status 503", "ok": False, "detail": "got 200"}]),
               ]),
        record("PERF-API-P95", "pass", 812.34, samples=12000, source="HDR histogram, open model",
               parts=[_part("GET /api/buildings", "pass", 812.34, 6000),
                      _part("POST /api/contracts", "pass", 640.0, 6000)]),
        record("PERF-CONCURRENCY", "waived", 2000, limit=2000, samples=2000,
               waiver={"reason": "2-core CI runner cannot hold 10,000 clients",
                       "expires": "2026-12-31", "approved_by": "release board"}),
        record("REL-SUCCESS-RATE", "insufficient", 99.995, samples=1200, reasons=[
            "1200 observation(s), at least 30000 needed to claim this"]),
        record("SEC-DEPS", "error", None, reasons=[
            "advisory database unreachable: the scan cannot claim anything"]),
        record("SEC-SAST", "fail", 2, severity="normal", blocking=False, reasons=[
            "bandit B608 (medium): possible SQL injection in app/reports.py:41",
            "bandit B105 (medium): hard-coded password string in app/config.py:12"]),
        record("SEC-API-FUZZ", "not_run", None, reasons=["no suite evaluated this criterion"]),
    ]
    coverage = {"documented": 45, "required": 44, "excluded": 1, "in_scope": 44,
                "assessed": 6, "not_run": 38}
    return {
        "schema": SCHEMA,
        "run": {
            "id": "a1b2c3d4", "started_at": "2026-11-21T10:15:03+00:00",
            "finished_at": "2026-11-21T10:27:06+00:00", "duration_s": 723.4,
            "profile": "profiles/rento.toml", "profile_name": "rento", "provider": "containers",
            "suites": ["deploy", "e2e", "performance", "security", "reliability"],
            "partial": False, "target": "http://127.0.0.1:49153",
            "environment": {
                "releasegate": "0.1.0", "python": "3.11.7", "machine": "x86_64, 2 cores",
                "git_revision": "3f2c1e0", "docker_server": "20.10.24", "postgres": "15.14",
                "app_image": "rento:3f2c1e0",
            },
            "timings": {"stack_up_s": 48.2},
        },
        "release": {
            "verdict": "not_ready", "exit_code": 2,
            "blockers": ["FUNC-HEALTH", "REL-SUCCESS-RATE", "SEC-DEPS", "SEC-API-FUZZ"],
            "warnings": ["SEC-SAST"], "reason": "1 blocking criterion(s) failed",
            "partial": False, "headline": "NOT READY — 6 of 45 documented criteria assessed; "
            "38 not run; 1 failed; 1 could not be measured; 1 insufficient; 1 excluded",
            "coverage": coverage,
        },
        "coverage": coverage,
        "criteria": criteria,
        "excluded": [{"id": "COMPAT-BROWSER", "title": "Browser",
                      "reason": "the service serves no HTML pages", "expires": "",
                      "approved_by": "release board"}],
        "out_of_scope": ["COMPAT-PYTHON", "COMPAT-POSTGRES"],
        "stray": [],
        "harness_errors": [],
        "error": None,
    }


def sample_previous() -> Summary:
    """The run before sample_summary(): health still passed and the API was a little faster."""
    previous = copy.deepcopy(sample_summary())
    previous["run"].update({"id": "0f0e0d0c", "started_at": "2026-11-20T09:00:00+00:00"})
    for item in previous["criteria"]:
        if item["id"] == "FUNC-HEALTH":
            item.update({"verdict": "pass", "measured": 0, "reasons": []})
        elif item["id"] == "PERF-API-P95":
            item["measured"] = 790.1
    previous["release"].update({"blockers": ["REL-SUCCESS-RATE", "SEC-DEPS", "SEC-API-FUZZ"],
                                "verdict": "error", "exit_code": 1})
    return previous
