"""The application factory."""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, g, request
from sqlalchemy import Engine

from ledger import db, errors
from ledger.alerts import AlertSender
from ledger.api import ledgers, login, users, utils
from ledger.config import Settings, load_settings
from ledger.logs import CORRELATION_HEADER, configure_logging, correlation_id, printable

access_log = logging.getLogger("ledger.access")
MAX_BODY_BYTES = 64 * 1024


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> Flask:
    settings = settings or load_settings()
    configure_logging(settings.log_level)
    app = Flask("ledger")
    app.config.update(
        LEDGER_SETTINGS=settings, MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        API_TITLE="Ledger", API_VERSION=settings.version, OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1", OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={
            "security": [{"OAuth2PasswordBearer": []}],
            "info": {"description": "Personal bookkeeping: ledgers, entries, balances."},
        },
    )
    db.init_app(app, engine or db.make_engine(settings.database))
    app.extensions["ledger.alerts"] = AlertSender(
        settings.alert_webhook_url, service="ledger", attempts=settings.alert_attempts)
    api = errors.Api(app)
    api.spec.components.security_scheme("OAuth2PasswordBearer", {
        "type": "oauth2",
        "flows": {"password": {"tokenUrl": "/api/v1/login/access-token", "scopes": {}}},
    })
    app.extensions["ledger.api"] = api
    for module in (login, users, ledgers, utils):
        api.register_blueprint(module.blp)
    errors.init_app(app)
    _observe(app)
    return app


def _observe(app: Flask) -> None:
    @app.before_request
    def start_timer() -> None:
        g.started = time.perf_counter()
        correlation_id()

    @app.after_request
    def finish(response: Response) -> Response:
        response.headers[CORRELATION_HEADER] = correlation_id()
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Cache-Control", "no-store")
        elapsed = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
        level = (logging.ERROR if response.status_code >= 500 else
                 logging.WARNING if response.status_code >= 400 else logging.INFO)
        access_log.log(level, "%s %s %d %.1fms", request.method, printable(request.path),
                       response.status_code, elapsed)
        return response
