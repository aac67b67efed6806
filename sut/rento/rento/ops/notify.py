"""Structured log lines and alerts for the operations tools.

Every outcome is logged as one JSON object per line. Failures also raise an alert: inside the
service through ``rento.alerts.send_alert`` (queued, retried in the background); from the
command line the alert is delivered before the process exits (the background queue would die
with the process), with the same retries.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
import time
import urllib.error
import urllib.request
from typing import Any, Dict, Optional

from rento.ops.settings import OpsSettings

LOGGER_NAME = "rento.ops"
log = logging.getLogger(LOGGER_NAME)

_RESERVED = set(vars(logging.LogRecord("x", 0, "x", 0, "x", None, None))) | {"message", "asctime"}


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def iso(ts: Optional[dt.datetime] = None) -> str:
    return (
        (ts or utc_now())
        .astimezone(dt.timezone.utc)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


class JsonLineFormatter(logging.Formatter):
    """One JSON object per record: timestamp, level, logger, message and the ``extra`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        out: Dict[str, Any] = {
            "timestamp": iso(dt.datetime.fromtimestamp(record.created, dt.timezone.utc)),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _RESERVED and not key.startswith("_"):
                out[key] = value
        return json.dumps(out, ensure_ascii=False, default=str)


def ensure_cli_logging(level: str = "INFO") -> None:
    """JSON log lines on stderr for command-line runs (stdout carries the result), through the
    service's own formatter and redaction filter, unless logging is already configured."""
    if logging.getLogger().handlers:
        return
    try:
        from rento.logging_setup import configure_logging
    except ImportError:  # pragma: no cover - the service always ships it
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonLineFormatter())
        logging.getLogger().addHandler(handler)
        logging.getLogger().setLevel(level)
        return
    configure_logging(level, "", stream=sys.stderr)


def log_event(level: int, message: str, **fields: Any) -> None:
    """Log ``message`` with ``fields`` as structured extras (keys clashing with LogRecord are
    prefixed)."""
    extra = {(k if k not in _RESERVED else f"ops_{k}"): v for k, v in fields.items()}
    log.log(level, message, extra=extra)


def failure_event(kind: str, error: str, **fields: Any) -> Dict[str, Any]:
    event: Dict[str, Any] = {
        "event": kind,
        "service": "rento",
        "severity": "error",
        "error": error,
        "timestamp": iso(),
    }
    event.update(fields)
    return event


def send_alert(event: Dict[str, Any], settings: OpsSettings, *, wait: bool) -> bool:
    """Raise an alert through the service's dispatcher (``rento.alerts``).

    ``wait=False`` (inside the service): queued and retried in the background. ``wait=True``
    (command line, the process ends right after): delivered now, with retries. Never raises.
    """
    try:
        from rento import alerts
    except ImportError:  # pragma: no cover - the service always ships it
        return deliver_now(event, settings)
    try:
        return bool(alerts.send_alert(event, wait=wait))
    except Exception as exc:  # an alert must never break the caller
        log_event(logging.WARNING, "alert hand-off failed", error_type=type(exc).__name__)
        return False


def deliver_now(event: Dict[str, Any], settings: OpsSettings) -> bool:
    """POST ``event`` as JSON to the webhook, retrying with back-off; never raises."""
    url = settings.alert_webhook_url
    if not url:
        log_event(
            logging.WARNING,
            "alert not sent: RENTO_ALERT_WEBHOOK_URL is not set",
            alert_event=event.get("event"),
        )
        return False
    if not url.lower().startswith(("http://", "https://")):
        log_event(logging.WARNING, "alert not sent: webhook URL must be http(s)")
        return False
    body = json.dumps(event, ensure_ascii=False, default=str).encode("utf-8")
    attempts = max(1, int(settings.alert_retries) + 1)
    delay = 0.5
    last = ""
    for attempt in range(1, attempts + 1):
        request = urllib.request.Request(  # noqa: S310 - scheme checked above
            url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "User-Agent": "rento-ops"},
        )
        try:
            with urllib.request.urlopen(  # noqa: S310  # nosec B310 - scheme checked above
                request, timeout=float(settings.alert_timeout_seconds)
            ) as resp:
                if 200 <= resp.status < 300:
                    log_event(
                        logging.INFO,
                        "alert delivered",
                        alert_event=event.get("event"),
                        attempt=attempt,
                    )
                    return True
                last = f"HTTP {resp.status}"
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}"
        except Exception as exc:
            last = type(exc).__name__
        if attempt < attempts:
            time.sleep(delay)
            delay = min(delay * 2, 5.0)
    log_event(
        logging.ERROR,
        "alert delivery failed",
        alert_event=event.get("event"),
        attempts=attempts,
        error=last,
    )
    return False
