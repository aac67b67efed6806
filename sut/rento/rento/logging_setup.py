"""Structured JSON logging to stdout and to a size-rotated file.

Every record becomes one JSON object per line with ts, level, logger, message and request_id
(taken from a context variable set by the request middleware), plus any ``extra`` fields. A
redaction filter runs on each handler so that no sink ever sees unmasked personal data or secrets,
whichever logger produced the record (our own, uvicorn, SQLAlchemy, alembic).
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import logging.handlers
import os
import sys
from typing import Any, Dict, List, Optional, TextIO

from rento.redaction import redact, redact_value

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None)).keys()
    | {"message", "asctime", "taskName", "color_message"}  # the last one: uvicorn's ANSI copy
)


class RedactionFilter(logging.Filter):
    """Masks secrets and personal data in the message, its args, extras and the traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_rento_redacted", False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the record
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        for key, value in list(vars(record).items()):
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                setattr(record, key, redact_value(value))
        record._rento_redacted = True
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: Dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, tz=dt.timezone.utc).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id_var.get(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_") and key not in payload:
                payload[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            payload.setdefault("exc_type", record.exc_info[0].__name__)
        if record.exc_text:
            payload["traceback"] = record.exc_text
        return json.dumps(payload, ensure_ascii=False, default=str)


def configure_logging(
    level: str = "INFO",
    log_file: str = "",
    max_bytes: int = 10 * 1024 * 1024,
    backup_count: int = 5,
    stream: Optional[TextIO] = None,
) -> List[logging.Handler]:
    """Install JSON handlers on the root logger (idempotent: replaces earlier handlers)."""
    formatter = JsonFormatter()
    redaction = RedactionFilter()
    handlers: List[logging.Handler] = []

    handlers.append(logging.StreamHandler(stream or sys.stdout))

    file_problem: Optional[str] = None
    if log_file:
        try:
            directory = os.path.dirname(log_file)
            if directory:
                os.makedirs(directory, exist_ok=True)
            handlers.append(
                logging.handlers.RotatingFileHandler(
                    log_file, maxBytes=max_bytes, backupCount=backup_count, encoding="utf-8"
                )
            )
        except OSError as exc:
            # Logging to stdout alone is better than not starting: the container runtime keeps it.
            file_problem = f"log file disabled: {type(exc).__name__}: {exc.strerror}"

    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
        old.close()
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(redaction)
        root.addHandler(handler)
    root.setLevel(level.upper())

    # uvicorn installs its own handlers unless told otherwise; route everything through ours.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    # Our middleware writes the access log (with request id and route); uvicorn's would duplicate.
    logging.getLogger("uvicorn.access").disabled = True

    if file_problem:
        logging.getLogger("rento").warning(file_problem)
    return handlers
