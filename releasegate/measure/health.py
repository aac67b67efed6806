"""What "healthy" means to the deployment suite: who decides that a container reached it, and
when a health answer's own body contradicts its 200.

Applications spell their health bodies many ways (``{"status": "ok", "database": {"status":
"up"}}``, Spring's ``{"components": {"db": {"status": "DOWN"}}}``, ``{"db": false}``, the IETF
draft's ``checks`` lists), so the reading is by role and loose on names, strict on meaning.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DOWN_WORDS = frozenset({
    "down", "error", "err", "fail", "failed", "failing", "failure", "unhealthy", "unavailable",
    "disconnected", "unreachable", "offline", "dead", "critical", "ko", "not_ok", "not ok",
    "red", "outage", "broken", "timeout",
})
STATUS_KEYS = frozenset({"status", "state", "health", "result", "overall"})
FLAG_KEYS = frozenset({"ok", "healthy", "up", "ready", "alive", "connected", "available",
                       "reachable"})
DB_NAMES = frozenset({"database", "databases", "db", "dbs", "postgres", "postgresql", "pg",
                      "sql", "datastore", "datasource", "rdbms"})
ERROR_KEYS = frozenset({"error", "errors", "exception"})
MAX_DEPTH = 6


def _norm(key: object) -> str:
    return str(key).strip().lower().replace("-", "_").replace(" ", "_")


def _db_key(key: object) -> bool:
    k = _norm(key)
    return (k in DB_NAMES or k.startswith(("database", "db_", "postgres"))
            or k.endswith(("_db", "_database")) or k.split(":")[0] in DB_NAMES)


def _down_word(value: object) -> bool:
    return isinstance(value, str) and value.strip().lower() in DOWN_WORDS


def _field_says_down(key: str, value: object, in_db: bool) -> bool:
    k = _norm(key)
    if k in STATUS_KEYS and _down_word(value):
        return True
    if k in FLAG_KEYS and value is False:
        return True
    # An error reported inside the database's own entry is the database failing.
    return in_db and k in ERROR_KEYS and bool(value) and not isinstance(value, (int, float))


def database_down(body: Any) -> list[str]:
    """Every place in a health body that says the database (or the service as a whole) is down;
    empty when nothing does. Meant for bodies that came with a 200."""
    reasons: list[str] = []
    if body is False:
        return ["the body is false"]

    def visit(node: Any, path: str, in_db: bool, depth: int) -> None:
        if depth > MAX_DEPTH:
            return
        if isinstance(node, list):
            for index, item in enumerate(node):
                visit(item, f"{path}[{index}]", in_db, depth + 1)
            return
        if not isinstance(node, Mapping):
            return
        # A checks-list entry names its component: {"name": "database", "status": "fail"}.
        named_db = any(_db_key(node.get(k, "")) for k in ("name", "component", "id", "type")
                       if isinstance(node.get(k), str))
        db_here = in_db or named_db
        for key, value in node.items():
            where = f"{path}.{key}" if path else str(key)
            # Top-level status fields speak for the whole service, database included.
            status_down = (db_here or depth == 0) and _field_says_down(str(key), value, db_here)
            named_down = _db_key(key) and (_down_word(value) or value is False)
            if status_down or named_down:
                reasons.append(f"{where} is {value!r}")
            visit(value, where, db_here or _db_key(key), depth + 1)

    visit(body, "", False, 0)
    return reasons


def declared_healthcheck(config: Mapping[str, Any] | None) -> list[str] | None:
    """The HEALTHCHECK an image (or container) config declares; None for none or ``NONE``."""
    test = ((config or {}).get("Healthcheck") or {}).get("Test") or []
    if not test or str(test[0]).upper() == "NONE":
        return None
    return [str(part) for part in test]


def reaches_healthy(*, healthcheck: list[str] | None, engine_status: str, probe_ok: bool,
                    health_path: str, probe_detail: str) -> tuple[str, bool, str]:
    """(check name, ok, detail) for "the container reaches healthy".

    Where the image declares a HEALTHCHECK the engine's verdict on it decides; where it does
    not, the harness's own probe of the profile's health path does. A missing HEALTHCHECK is a
    hardening finding (SEC-CONTAINER-HARDENING), not a failed build."""
    if healthcheck:
        return ("reaches healthy: the engine's health status from the image's HEALTHCHECK",
                engine_status == "healthy", f"health status {engine_status!r}")
    return (f"reaches healthy: 200 on {health_path} to the harness's probe (the image declares "
            "no HEALTHCHECK, which is SEC-CONTAINER-HARDENING's finding)", probe_ok, probe_detail)
