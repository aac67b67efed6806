"""Application factory: ``rento.app:create_app`` (uvicorn ``--factory``) or ``rento serve``."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Dict, Optional

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from rento import alerts, db, metrics
from rento.api import (
    admin,
    auth,
    bills,
    buildings,
    contracts,
    dashboard,
    health,
    pages,
    payments,
    renters,
    rooms,
)
from rento.bootstrap import prepare, wait_for_database
from rento.config import ConfigError, Settings, get_settings
from rento.errors import ErrorBody, install_error_handlers
from rento.logging_setup import configure_logging
from rento.middleware import RequestContextMiddleware
from rento.ops.scheduler import start_scheduler, stop_scheduler
from rento.redaction import register_secret_values

log = logging.getLogger("rento")


def create_app(settings: Optional[Settings] = None, configure_logs: bool = True) -> FastAPI:
    """Build the application; raises ConfigError when the configuration must not serve traffic.

    ``settings`` defaults to the process settings (the environment). An explicit object drives
    start-up (database, migrations, scheduler); request handling (token signing, alerts) always
    reads ``get_settings()``, so tests passing settings keep both in agreement.
    """
    settings = settings or get_settings()
    if configure_logs:
        configure_logging(
            settings.log_level, settings.log_file, settings.log_max_bytes, settings.log_backup_count
        )
    register_secret_values(
        [
            settings.secret_key,
            settings.admin_password,
            db.database_password(settings.database_url) or "",
        ]
    )
    problems = settings.problems()
    if problems:
        raise ConfigError("; ".join(problems))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = db.init_engines(settings)
        await run_in_threadpool(wait_for_database, engine, settings.db_startup_wait_seconds)
        await run_in_threadpool(prepare, engine, settings)
        metrics.BUILD_INFO.labels(version=settings.version).set(1)
        backup_scheduler = start_scheduler(settings)  # None when RENTO_BACKUP_INTERVAL_SECONDS=0
        log.info(
            "rento started",
            extra={"version": settings.version, "env": settings.env},
        )
        try:
            yield
        finally:
            log.info("rento stopping")
            await run_in_threadpool(stop_scheduler, backup_scheduler)
            # Give queued alerts (e.g. for the last errors) a bounded chance to leave.
            await run_in_threadpool(
                alerts.get_dispatcher().flush, min(5.0, settings.alert_timeout_seconds * 2)
            )
            db.dispose_engines()

    development = not settings.is_production
    app = FastAPI(
        title="Rento",
        version=settings.version,
        description="Rental management API: buildings, rooms, renters, contracts, bills, payments.",
        docs_url="/docs" if development else None,
        redoc_url=None,
        openapi_url="/openapi.json",
        lifespan=lifespan,
        # Operation ids are the handler names (get_room, create_payment): stable, and the names
        # that OpenAPI links refer to.
        generate_unique_id_function=lambda route: route.name,
    )
    _document_error_body(app)
    install_error_handlers(app)
    app.add_middleware(RequestContextMiddleware)
    for module in (
        health,
        auth,
        buildings,
        rooms,
        renters,
        contracts,
        bills,
        payments,
        dashboard,
        admin,
        pages,
    ):
        app.include_router(module.router)
    return app


def _document_error_body(app: FastAPI) -> None:
    """Put ErrorBody into components: error responses refer to it by $ref, not via a model."""
    generate = app.openapi

    def openapi() -> Dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            body = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.update(body.pop("$defs", {}))
            components["ErrorBody"] = body
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]
