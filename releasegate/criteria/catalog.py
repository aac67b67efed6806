"""The documented acceptance criteria: one entry per stable ID in shared/acceptance-criteria.md.

This table is the contract between profiles, suites and reports. Limits are the documents' own
figures unless the entry is marked ``added``. A suite never invents an ID: it measures one of these.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Comparator(str, Enum):
    """How a measured value is held against its limit; each one knows which way is tighter."""

    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="

    def holds(self, measured: float, limit: float) -> bool:
        if self is Comparator.LT:
            return measured < limit
        if self is Comparator.LE:
            return measured <= limit
        if self is Comparator.GT:
            return measured > limit
        return measured >= limit

    def is_looser(self, candidate: float, documented: float) -> bool:
        """True when ``candidate`` admits values the documented limit would reject."""
        if self in (Comparator.LT, Comparator.LE):
            return candidate > documented
        return candidate < documented


class Area(str, Enum):
    FUNCTIONAL = "Functional"
    PERFORMANCE = "Performance"
    SECURITY = "Security"
    RELIABILITY = "Reliability"
    COMPATIBILITY = "Compatibility"


VIOLATIONS = "violations"
"""Unit of pass/fail criteria: the measured value is the number of failed checks, limit 0."""


@dataclass(frozen=True)
class Criterion:
    id: str
    title: str
    area: Area
    decided_by: str
    unit: str = VIOLATIONS
    comparator: Comparator = Comparator.LE
    limit: float = 0
    min_samples: int = 1
    pooled: bool = False
    """Every part is a sample of one series (each start of a container, say): ``min_samples``
    applies to the parts together, and the worst part speaks for them all."""
    source: str = ""
    added: bool = False
    severity: str = "blocker"

    @property
    def is_check_list(self) -> bool:
        return self.unit == VIOLATIONS


def _c(
    id: str, title: str, area: Area, decided_by: str, source: str, **kw: object
) -> Criterion:
    return Criterion(id=id, title=title, area=area, decided_by=decided_by, source=source, **kw)  # type: ignore[arg-type]


F, P, S, R, C = (
    Area.FUNCTIONAL,
    Area.PERFORMANCE,
    Area.SECURITY,
    Area.RELIABILITY,
    Area.COMPATIBILITY,
)
LT, GT, GE = Comparator.LT, Comparator.GT, Comparator.GE
DOC_A = "000 §验收标准"
DOC_B = "004 §4.1"
DOC_B_METRICS = "004 §成功指标"

CRITERIA: tuple[Criterion, ...] = (
    # Functional
    _c("FUNC-CONTAINER-BUILD-RUN", "The application image builds and the container runs", F,
       "image built from the app's Dockerfile in this run; container reaches healthy", DOC_A),
    _c("FUNC-PG-RUNNING", "PostgreSQL deployed and running", F,
       "the app's database is PostgreSQL of the profile's version, read back over the app's "
       "own connection path", DOC_A),
    _c("FUNC-MIGRATIONS", "Schema migrations apply cleanly and idempotently", F,
       "upgrade to head on an empty DB, run again = no-op; revision matches the code", DOC_A,
       added=True),
    _c("FUNC-SQLITE-MIGRATION", "SQLite data migrated completely to PostgreSQL", F,
       "every table filled; per-table exact counts and ordered content hashes equal; "
       "a second run neither duplicates nor fails", DOC_A),
    _c("FUNC-HEALTH", "Health endpoint reports the correct state", F,
       "200 with DB/memory/uptime/version when well; 503 while the database is unreachable",
       DOC_A),
    _c("FUNC-E2E-FLOWS", "Core business flows work end to end", F,
       "building → room → renter → contract → bills → payment → dashboard figures agree, "
       "through the public API only", DOC_B),
    _c("FUNC-ERROR-HANDLING", "Errors are handled consistently", F,
       "every 4xx/5xx has one structured body (code, message, request id), no stack trace, "
       "no SQL text; the same request id appears in the error log", DOC_B),
    _c("FUNC-ERROR-LOG-ALERT", "Error logs recorded and alerts sent", F,
       "a provoked server error produces a structured log entry and an alert delivered to a "
       "real HTTP receiver started by the harness", DOC_A),
    _c("FUNC-BACKUP-AUTO", "Automatic backup works", F,
       "the scheduler at a short interval produces at least two verified backups", DOC_A),
    # Performance
    _c("PERF-API-P95", "API response time, per endpoint", P,
       "every latency sample (HDR, open model), per endpoint, at normal load", DOC_A,
       unit="ms", comparator=LT, limit=1000, min_samples=100),
    _c("PERF-DB-QUERY-P95", "Database query time", P,
       "from the database itself (pg_stat_statements), not from the client", DOC_A,
       unit="ms", comparator=LT, limit=500),
    _c("PERF-MEMORY", "Application memory under normal load", P,
       "container memory sampled through the run; the maximum counts", DOC_A,
       unit="MB", comparator=LT, limit=512, min_samples=5),
    _c("PERF-BACKUP-DURATION", "Backup duration", P,
       "at the reference data volume, wall clock, artifact verified", DOC_A,
       unit="s", comparator=LT, limit=300),
    _c("PERF-CONTAINER-START", "Container start time", P,
       "from the engine's StartedAt to the arrival of the first healthy answer; at least 3 "
       "starts, the slowest judged", DOC_A,
       unit="s", comparator=LT, limit=30, min_samples=3, pooled=True),
    _c("PERF-ERROR-LATENCY", "Exception-handling latency", P,
       "server-side duration of requests that end in a handled error", DOC_B_METRICS,
       unit="ms", comparator=LT, limit=5, min_samples=100),
    _c("PERF-ERROR-MEMORY", "Memory cost of error handling", P,
       "memory growth over a sustained error storm", DOC_B_METRICS,
       unit="MB", comparator=LT, limit=30, min_samples=5),
    _c("PERF-STRESS-CAPACITY", "System limit found", P,
       "stepped load until p95 or error limit breaks; the last load meeting every limit",
       DOC_B, unit="req/s", comparator=GT, limit=0),
    _c("PERF-CONCURRENCY", "Concurrent clients", P,
       "connections held at once with error rate under limit", DOC_B_METRICS,
       unit="clients", comparator=GE, limit=10000),
    # Security
    _c("SEC-DB-TLS", "Database connections encrypted", S,
       "every application connection is TLS (pg_stat_ssl); the app refuses a server without TLS",
       DOC_A),
    _c("SEC-SECRETS-ENV", "Secrets only through the environment", S,
       "no secret in layers, ENV, source or logs; production refuses a missing/default secret",
       DOC_A),
    _c("SEC-NONROOT", "Container runs as non-root", S,
       "configured user and the running process's uid are both non-zero", DOC_A),
    _c("SEC-CONTAINER-HARDENING", "Container hardening (CIS Docker)", S,
       "HEALTHCHECK, not privileged, capabilities dropped, no docker socket, no suspicious ENV, "
       "Dockerfile lint clean", DOC_A, added=True),
    _c("SEC-LOG-NO-SENSITIVE", "Logs contain no sensitive information", S,
       "planted canary secrets and PII never appear in logs, responses, errors or reports",
       DOC_A),
    _c("SEC-BACKUP-PERMS", "Backup files have correct permissions", S,
       "mode 0600 or stricter, owned by the service user, directory not world-readable", DOC_A),
    _c("SEC-SAST", "Code vulnerability scan", S,
       "bandit: no unwaived finding of medium severity or higher", DOC_B),
    _c("SEC-DEPS", "Dependency vulnerability scan", S,
       "no known vulnerable dependency; an unreachable database is an error", DOC_B),
    _c("SEC-AUTHZ", "Permission tests", S,
       "no credentials 401; wrong role 403; another tenant's object 403/404; every operation",
       DOC_B),
    _c("SEC-INJECTION-SQL", "SQL injection", S,
       "error-, boolean- and time-based oracles and DB error logs over every parameter", DOC_B),
    _c("SEC-INJECTION-XSS", "XSS", S,
       "stored and reflected payloads, HTML checked in a real headless browser", DOC_B),
    _c("SEC-API-FUZZ", "Schema-driven API fuzzing", S,
       "all schemathesis checks including stateful; zero operations tested is insufficient",
       DOC_B),
    # Reliability
    _c("REL-RESTART-RECOVERY", "Automatic recovery after restart", R,
       "app and database restarted and killed: healthy again in time, no committed data lost",
       DOC_A, unit="s", comparator=LT, limit=30, added=True),
    _c("REL-DB-RECONNECT", "Reconnects after the database connection is lost", R,
       "health 503 while the DB is down, 2xx again within 30 s of its return, no app restart",
       DOC_A, unit="s", comparator=LT, limit=30),
    _c("REL-NO-LOST-WRITES", "No acknowledged write is lost", R,
       "Jepsen set check: every ok write read back, nothing unexpected, no duplicates", DOC_A,
       added=True),
    _c("REL-GRACEFUL-SHUTDOWN", "Graceful shutdown", R,
       "SIGTERM under load: in-flight requests complete, exit 0 within the grace period", DOC_A,
       added=True),
    _c("REL-BACKUP-RESTORE", "A backup restores", R,
       "restore into a fresh server with exit-on-error; counts and hashes equal; app works",
       DOC_A, added=True),
    _c("REL-BACKUP-FAIL-ALERT", "Backup failure raises an alert", R,
       "unreachable DB, bad credentials, killed dump, full disk: non-zero, no artifact, alert",
       DOC_A),
    _c("REL-HEALTH-RESTART", "Unhealthy container is restarted", R,
       "the container made unhealthy is actually restarted by the stack", DOC_A),
    _c("REL-LOG-ROTATION", "Log rotation works", R,
       "logs rotate at the configured size; old files bounded in count and size", DOC_A),
    _c("REL-SUCCESS-RATE", "Request success rate", R,
       "non-5xx ratio under normal load; at least 30,000 requests to claim it", DOC_B_METRICS,
       unit="%", comparator=GT, limit=99.99, min_samples=30000),
    _c("REL-AVAILABILITY", "Availability", R,
       "health probed every second through the soak", DOC_B_METRICS,
       unit="%", comparator=GT, limit=99.9, min_samples=60),
    _c("REL-SOAK-STABILITY", "Long-run stability", R,
       "memory slope, error rate and latency drift between first and last window", DOC_B),
    # Compatibility
    _c("COMPAT-PYTHON", "Runtime versions", C,
       "the app image on each Python of the matrix passes the e2e smoke", DOC_B),
    _c("COMPAT-POSTGRES", "Database versions", C,
       "the stack on each PostgreSQL of the matrix passes e2e smoke and backup/restore", DOC_B),
    _c("COMPAT-FRAMEWORK", "Framework versions", C,
       "lowest and highest supported dependency sets pass the e2e smoke", DOC_B),
    _c("COMPAT-BROWSER", "Browser", C,
       "HTML pages render without script errors in headless Chromium", DOC_B),
)

BY_ID: dict[str, Criterion] = {c.id: c for c in CRITERIA}


def get(criterion_id: str) -> Criterion:
    """Look up a documented criterion; an unknown ID is a programming or profile error."""
    try:
        return BY_ID[criterion_id]
    except KeyError:
        raise KeyError(f"unknown criterion ID {criterion_id!r}") from None


def closest(criterion_id: str) -> str | None:
    """The documented ID a typo most likely meant, for error messages."""
    import difflib

    matches = difflib.get_close_matches(criterion_id.upper(), BY_ID, n=1, cutoff=0.6)
    return matches[0] if matches else None
