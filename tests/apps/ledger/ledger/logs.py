"""Plain-text logs on stdout, one line per event, each carrying the request's correlation id.

    2026-11-29 12:00:00,123 ERROR [cid=3f2a…] ledger.errors: unhandled error on POST /api/…

The id comes from the client's ``X-Correlation-ID`` header when it is a sane token, otherwise it
is generated; it is echoed on every response and named in every error body and alert.
"""

from __future__ import annotations

import logging
import re
import sys
import uuid

from flask import g, has_request_context, request

CORRELATION_HEADER = "X-Correlation-ID"
LOG_FORMAT = "%(asctime)s %(levelname)s [cid=%(correlation_id)s] %(name)s: %(message)s"
_ACCEPTED_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def correlation_id() -> str:
    """The current request's id ("-" outside a request)."""
    if not has_request_context():
        return "-"
    cid = g.get("correlation_id")
    if cid is None:
        offered = request.headers.get(CORRELATION_HEADER, "")
        cid = offered if _ACCEPTED_ID.match(offered) else uuid.uuid4().hex
        g.correlation_id = cid
    return str(cid)


def printable(text: str, limit: int = 200) -> str:
    """Client-controlled text made safe for a one-line log entry (no forged lines)."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text[:limit])


class CorrelationFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = correlation_id()
        return True


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.addFilter(CorrelationFilter())
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "ledger_handler", False):
            root.removeHandler(old)
    handler.ledger_handler = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
