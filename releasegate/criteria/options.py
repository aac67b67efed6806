"""The suite knobs a profile may set per criterion (``[thresholds."ID"] options``), typed and
bounded, each with its documented default and the direction in which it gets stricter.

An option is part of the criterion's limit: fewer rows migrated, a longer outage allowed, fewer
fields required in an error body or a longer alert timeout all let through what the documented
criterion would not. Such a value is a *loosening*, and like a looser limit it needs a waiver.
An unknown option is an error, never a silently ignored typo.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any


class Stricter(str, Enum):
    """Which way a value tightens the criterion."""

    HIGHER = "higher"
    """More is stricter (rows per table, clients held)."""
    LOWER = "lower"
    """Less is stricter (a timeout, an allowed outage)."""
    SUPERSET = "superset"
    """A table that must name every documented key; extra keys are stricter."""
    NEUTRAL = "neutral"
    """Describes the target, not how hard to look (the PostgreSQL major expected)."""


@dataclass(frozen=True)
class OptionSpec:
    name: str
    kind: type
    """int, float, str, bool or dict (of non-empty strings)."""
    default: Any
    """The documented value; None where it comes from elsewhere in the profile."""
    stricter: Stricter
    help: str
    minimum: float | None = None
    maximum: float | None = None

    def check(self, value: Any) -> tuple[Any, str]:
        """(normalised value, problem); problem is "" when the value is acceptable."""
        if self.kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if isinstance(value, bool) and self.kind is not bool:
            return value, f"expected {self.kind.__name__}, got a boolean"
        if not isinstance(value, self.kind):
            return value, f"expected {self.kind.__name__}, got {type(value).__name__} {value!r}"
        if isinstance(value, dict):
            if not all(isinstance(item, str) and item for item in value.values()):
                return value, "expected a table of non-empty strings"
            return {str(k): str(v) for k, v in value.items()}, ""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if self.minimum is not None and value < self.minimum:
                return value, f"{value!r} is below the minimum {self.minimum:g}"
            if self.maximum is not None and value > self.maximum:
                return value, f"{value!r} is above the maximum {self.maximum:g}"
        return value, ""

    def loosens(self, value: Any) -> bool:
        """True when ``value`` admits what the documented default would reject."""
        if self.default is None or self.stricter is Stricter.NEUTRAL:
            return False
        if self.stricter is Stricter.HIGHER:
            return bool(value < self.default)
        if self.stricter is Stricter.LOWER:
            return bool(value > self.default)
        return not set(self.default) <= set(value)


def _o(name: str, kind: type, default: Any, stricter: Stricter, help: str,
       minimum: float | None = None, maximum: float | None = None) -> OptionSpec:
    return OptionSpec(name, kind, default, stricter, help, minimum, maximum)


H, L, SUP, N = Stricter.HIGHER, Stricter.LOWER, Stricter.SUPERSET, Stricter.NEUTRAL

OPTIONS: dict[str, tuple[OptionSpec, ...]] = {
    "FUNC-PG-RUNNING": (
        _o("postgres_major", int, None, N,
           "the PostgreSQL major version the release must run on (default: services.db.version)",
           9, 99),
    ),
    "FUNC-SQLITE-MIGRATION": (
        _o("rows_per_table", int, 25, H, "rows generated in every SQLite table", 1, 100_000),
    ),
    "FUNC-HEALTH": (
        _o("outage_s", float, 20.0, L,
           "seconds the health endpoint may take to turn non-200 once the database is gone",
           1, 300),
    ),
    "FUNC-ERROR-HANDLING": (
        _o("body_fields", dict,
           {"code": "code", "message": "message", "request_id": "request_id"}, SUP,
           "the fields every error body must carry, by role: { code = \"…\", message = "
           "\"…\", request_id = \"…\" } name the application's own field for each"),
    ),
    "REL-SOAK-STABILITY": (
        _o("memory_slope_mb_per_h", float, 50.0, L,
           "memory growth (least-squares slope over the soak) the release tolerates; the "
           "slope's 95 % confidence interval must lie below it", 0.1, 10_000),
        _o("p95_drift_pct", float, 50.0, L,
           "how much the last window's p95 may exceed the first window's (and by more than "
           "a tenth of the PERF-API-P95 limit)", 1, 1000),
        _o("error_drift_pct_points", float, 0.1, L,
           "how many percentage points the last window's error rate may exceed the first's",
           0, 100),
    ),
    "FUNC-ERROR-LOG-ALERT": (
        _o("alert_timeout_s", float, 20.0, L,
           "seconds a provoked server error may take to reach the alert receiver", 1, 600),
    ),
    "REL-BACKUP-FAIL-ALERT": (
        _o("alert_timeout_s", float, 60.0, L,
           "seconds a failed backup's alert may take to reach the alert receiver", 1, 600),
    ),
    "REL-DB-RECONNECT": (
        _o("outage_s", float, 10.0, H,
           "seconds each database outage lasts (the criterion asks for 10-20)", 10, 120),
        _o("request_limit_s", float, 30.0, L,
           "longest answer allowed while the database is slow or stalled (no hang)", 1, 300),
    ),
    "REL-GRACEFUL-SHUTDOWN": (
        _o("grace_s", float, 30.0, L,
           "the deployment's grace period between SIGTERM and SIGKILL", 1, 300),
    ),
    "REL-HEALTH-RESTART": (
        _o("restart_within_s", float, 90.0, L,
           "seconds from making the application unhealthy to its restart", 10, 600),
    ),
    "SEC-DEPS": (
        _o("advisory_db_max_age_days", int, 90, L,
           "days the vulnerability database may be old; an older one cannot clear a dependency",
           1, 3650),
    ),
}


def specs(criterion_id: str) -> dict[str, OptionSpec]:
    return {spec.name: spec for spec in OPTIONS.get(criterion_id, ())}


def defaults(criterion_id: str) -> dict[str, Any]:
    return {name: spec.default for name, spec in specs(criterion_id).items()}


def loosened(criterion_id: str, values: Mapping[str, Any]) -> list[str]:
    """One description per option in ``values`` that is weaker than documented."""
    known = specs(criterion_id)
    return [
        f"option {name} = {value!r} vs documented {known[name].default!r}"
        for name, value in values.items()
        if name in known and known[name].loosens(value)
    ]
