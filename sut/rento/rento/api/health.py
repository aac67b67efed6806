"""Liveness, readiness and metrics.

``/health/live`` never touches the database: the container HEALTHCHECK uses it, so a database
outage does not make the orchestrator restart a perfectly healthy process.
``/health/ready`` does one real round trip over the application's own connection path (same URL,
same TLS) and answers 503 when that fails or takes longer than ``READY_TIMEOUT_S``.
"""

from __future__ import annotations

import asyncio
import os
import resource
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from rento import db, metrics
from rento.api.deps import Principal, require_admin
from rento.config import get_settings
from rento.errors import error_responses
from rento.logging_setup import request_id_var

router = APIRouter(tags=["health"])

READY_TIMEOUT_S = 2.5
STARTED_AT = time.monotonic()
# A dedicated, small executor: a hung database can occupy at most these threads, and the main
# threadpool (which serves the API) is never starved by health probes.
_probe_executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="rento-health")


def _rss_mb() -> float:
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return round(pages * os.sysconf("SC_PAGE_SIZE") / (1024 * 1024), 1)
    except (OSError, ValueError, IndexError):
        # Not Linux: peak RSS (KiB on Linux/BSD) is the best portable approximation.
        return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _common() -> Dict[str, Any]:
    return {
        "memory": {"rss_mb": _rss_mb()},
        "uptime_s": round(time.monotonic() - STARTED_AT, 1),
        "version": get_settings().version,
    }


@router.get("/health/live")
async def live() -> Dict[str, str]:
    return {"status": "alive"}


@router.get("/health/ready", responses={503: {"description": "Database unavailable"}})
async def ready() -> JSONResponse:
    loop = asyncio.get_running_loop()
    try:
        engine = db.get_health_engine()
        database = await asyncio.wait_for(
            loop.run_in_executor(_probe_executor, db.probe, engine), timeout=READY_TIMEOUT_S
        )
    except Exception as exc:
        # Only the class name: driver messages can contain host names, users or SQL.
        error = "Timeout" if isinstance(exc, asyncio.TimeoutError) else type(exc).__name__
        body = {
            "code": "database_unavailable",
            "message": "The database is not answering",
            "request_id": request_id_var.get(),
            "status": "unavailable",
            "database": {"status": "down", "error": error},
            **_common(),
        }
        return JSONResponse(body, status_code=503, headers={"Retry-After": "5"})
    return JSONResponse({"status": "ok", "database": database, **_common()})


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}, **error_responses(401, 403)},
)
def prometheus_metrics(request: Request, user: Principal = Depends(require_admin)) -> Response:
    return Response(metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")
