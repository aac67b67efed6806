"""Alert delivery to a webhook (RENTO_ALERT_WEBHOOK_URL), off the request path.

``send_alert(event)`` puts the event on a bounded queue and returns at once; one daemon thread
POSTs events as JSON, with a per-attempt timeout and exponential backoff between retries. When the
queue is full the event is dropped and counted (``rento_alerts_total{outcome="dropped"}``): an
alert storm must never slow requests down or exhaust memory.

Short-lived processes (CLI commands) pass ``wait=True`` to deliver synchronously before exiting;
pending events are also flushed, within a bound, when the interpreter exits.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import http.client
import json
import logging
import queue
import ssl
import threading
import time
import urllib.parse
from typing import Any, Dict, Optional

from rento import metrics
from rento.config import get_settings
from rento.redaction import redact_value

log = logging.getLogger("rento.alerts")

_STOP = object()


class AlertDispatcher:
    def __init__(
        self,
        url: str,
        retries: int = 3,
        timeout: float = 2.0,
        queue_size: int = 100,
        backoff_base: float = 0.5,
        backoff_max: float = 5.0,
        user_agent: str = "rento",
    ) -> None:
        self.url = url
        self.retries = max(0, retries)
        self.timeout = timeout
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.user_agent = user_agent
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max(1, queue_size))
        self._thread: Optional[threading.Thread] = None
        self._lock = threading.Lock()
        parsed = urllib.parse.urlsplit(url)
        # Only the host is ever logged: webhook URLs often carry a token in the path or query.
        self.target = parsed.hostname or "?"

    @property
    def enabled(self) -> bool:
        return bool(self.url)

    def submit(self, event: Dict[str, Any]) -> bool:
        if not self.enabled:
            return False
        self._ensure_thread()
        try:
            self._queue.put_nowait(event)
            return True
        except queue.Full:
            metrics.ALERTS.labels(outcome="dropped").inc()
            log.warning("alert dropped: queue full", extra={"event": event.get("event")})
            return False

    def deliver(self, event: Dict[str, Any]) -> bool:
        """Send one event now, with retries; True when the receiver accepted it."""
        body = json.dumps(event, ensure_ascii=False, default=str).encode("utf-8")
        attempts = self.retries + 1
        for attempt in range(1, attempts + 1):
            outcome = self._post(body)
            if outcome == "ok":
                metrics.ALERTS.labels(outcome="sent").inc()
                log.info(
                    "alert delivered",
                    extra={"event": event.get("event"), "attempt": attempt, "target": self.target},
                )
                return True
            if outcome == "permanent" or attempt == attempts:
                break
            time.sleep(min(self.backoff_max, self.backoff_base * (2 ** (attempt - 1))))
        metrics.ALERTS.labels(outcome="failed").inc()
        log.error(
            "alert delivery failed",
            extra={"event": event.get("event"), "attempts": attempt, "target": self.target},
        )
        return False

    def flush(self, timeout: float) -> bool:
        """Wait until queued events are processed (True) or the timeout passes (False)."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)
        return True

    def close(self, timeout: float = 5.0) -> None:
        self.flush(timeout)
        thread = self._thread
        if thread is not None and thread.is_alive():
            with contextlib.suppress(queue.Full):
                self._queue.put_nowait(_STOP)
            thread.join(timeout=0.5)

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="rento-alerts", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            event = self._queue.get()
            try:
                if event is _STOP:
                    return
                self.deliver(event)
            except Exception:  # the worker must survive anything a receiver does
                log.exception("alert worker error")
            finally:
                self._queue.task_done()

    def _post(self, body: bytes) -> str:
        """One attempt: "ok", "retry" (network error, 5xx, 429) or "permanent" (other 4xx)."""
        parts = urllib.parse.urlsplit(self.url)
        host = parts.hostname or ""
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        conn: http.client.HTTPConnection
        if parts.scheme == "https":
            conn = http.client.HTTPSConnection(
                host, parts.port, timeout=self.timeout, context=ssl.create_default_context()
            )
        elif parts.scheme == "http":
            conn = http.client.HTTPConnection(host, parts.port, timeout=self.timeout)
        else:
            return "permanent"
        try:
            conn.request(
                "POST",
                path,
                body=body,
                headers={"Content-Type": "application/json", "User-Agent": self.user_agent},
            )
            status = conn.getresponse().status
        except (OSError, http.client.HTTPException) as exc:
            log.warning(
                "alert attempt failed",
                extra={"error_type": type(exc).__name__, "target": self.target},
            )
            return "retry"
        finally:
            conn.close()
        if 200 <= status < 300:
            return "ok"
        log.warning("alert receiver answered %s", status, extra={"target": self.target})
        return "retry" if status >= 500 or status == 429 else "permanent"


_dispatcher: Optional[AlertDispatcher] = None
_dispatcher_lock = threading.Lock()


def get_dispatcher() -> AlertDispatcher:
    global _dispatcher
    with _dispatcher_lock:
        if _dispatcher is None:
            s = get_settings()
            _dispatcher = AlertDispatcher(
                s.alert_webhook_url,
                retries=s.alert_retries,
                timeout=s.alert_timeout_seconds,
                queue_size=s.alert_queue_size,
                user_agent=f"rento/{s.version}",
            )
        return _dispatcher


def reset_dispatcher() -> None:
    """Drop the dispatcher so the next alert re-reads the settings (tests, reconfiguration)."""
    global _dispatcher
    with _dispatcher_lock:
        old, _dispatcher = _dispatcher, None
    if old is not None:
        old.close(timeout=0)


def send_alert(event: Dict[str, Any], *, wait: bool = False) -> bool:
    """Send an alert event; fills in service, version and timestamp when missing.

    Returns True when the event was queued (or, with ``wait=True``, delivered). Returns False when
    alerting is disabled (no RENTO_ALERT_WEBHOOK_URL), the queue is full, or delivery failed.
    """
    settings = get_settings()
    full: Dict[str, Any] = {
        "service": "rento",
        "version": settings.version,
        "timestamp": dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds"),
    }
    full.update(event)
    # request_id is validated to a harmless charset and must stay intact for correlation.
    full = {k: v if k == "request_id" else redact_value(v) for k, v in full.items()}
    dispatcher = get_dispatcher()
    if not dispatcher.enabled:
        log.info("alert not sent: no webhook configured", extra={"event": full.get("event")})
        return False
    if wait:
        return dispatcher.deliver(full)
    return dispatcher.submit(full)


@atexit.register
def _flush_at_exit() -> None:
    dispatcher = _dispatcher
    if dispatcher is not None and dispatcher.enabled:
        bound = (dispatcher.retries + 1) * (dispatcher.timeout + dispatcher.backoff_max)
        dispatcher.flush(timeout=min(bound, 15.0))
