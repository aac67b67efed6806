"""Operations: readiness (touches the database), liveness, and a server-error drill."""

from __future__ import annotations

import logging
import resource
import time
from typing import Any

from flask import current_app, jsonify
from flask_smorest import Blueprint
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ledger import db, security
from ledger.errors import error_body
from ledger.schemas import HealthOut

blp = Blueprint("utils", __name__, url_prefix="/api/v1/utils", description="Operations")
STARTED = time.monotonic()
log = logging.getLogger("ledger.health")


class DrillError(RuntimeError):
    """Raised on purpose by the server-error drill."""


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


@blp.route("/health-check", methods=["GET"])
@blp.doc(security=[])
@blp.response(200, HealthOut)
@blp.alt_response(503, schema=HealthOut, description="the database cannot be reached")
def health_check() -> Any:
    """Readiness: 200 only when the database answers a query, 503 otherwise.

    Shaped after the IETF health-check draft: an overall status and one entry per dependency
    under ``checks``, each "pass" or "fail".
    """
    started = time.perf_counter()
    facts: dict[str, Any] = {
        "version": current_app.config["LEDGER_SETTINGS"].version,
        "uptime_seconds": round(time.monotonic() - STARTED, 1),
        "memory": {"rss_bytes": _rss_bytes()},
    }
    try:
        with db.engine().connect() as conn:
            server_version = conn.execute(text("SHOW server_version")).scalar_one()
    except SQLAlchemyError:
        log.error("health check: database unreachable")
        # A Response, not a dict: the 200 schema would strip the error fields.
        return jsonify({**error_body(503, "the database is unreachable"), "status": "fail",
                        **facts, "checks": {"db": {"status": "fail"}}}), 503
    facts["checks"] = {"db": {"status": "pass", "postgres_version": str(server_version),
                              "latency_ms": round((time.perf_counter() - started) * 1000, 1)}}
    return {"status": "pass", **facts}


@blp.route("/ping", methods=["GET"])
@blp.doc(security=[])
def ping() -> dict[str, str]:
    """Liveness: the process answers; the database is not consulted."""
    return {"ping": "pong"}


@blp.route("/test-error", methods=["POST"])
@security.admin_required
def test_error() -> Any:
    """Fail on purpose (administrators only) to test logging and alerting end to end."""
    raise DrillError("server-error drill requested by an administrator")
