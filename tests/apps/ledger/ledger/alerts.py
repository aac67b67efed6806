"""Alerts for server errors, POSTed as JSON to ``ALERT_WEBHOOK_URL`` from a background thread.

A request never waits for the webhook: events go on a bounded queue, a daemon thread delivers
them with retries and exponential back-off, and a full queue drops (and logs) rather than block.
The thread is started lazily in the process that sends, so it survives gunicorn's fork.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import queue
import threading
import time
import urllib.error
import urllib.request
from typing import Any

log = logging.getLogger("ledger.alerts")
QUEUE_SIZE = 200


class AlertSender:
    def __init__(self, url: str | None, *, service: str, attempts: int = 4,
                 timeout_s: float = 3.0, backoff_s: float = 0.5) -> None:
        self.url = url
        self.service = service
        self.attempts = attempts
        self.timeout_s = timeout_s
        self.backoff_s = backoff_s
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue(maxsize=QUEUE_SIZE)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def server_error(self, *, correlation_id: str, method: str, path: str, status: int,
                     error: str) -> None:
        self.send({
            "type": "server_error", "correlation_id": correlation_id, "method": method,
            "path": path, "status": status, "error": error,
            "occurred_at": dt.datetime.now(dt.timezone.utc).isoformat(),
        })

    def send(self, event: dict[str, Any]) -> None:
        if not self.url:
            return
        self._ensure_thread()
        try:
            self._queue.put_nowait({"service": self.service, "event": event})
        except queue.Full:
            log.warning("alert queue full: dropped alert for %s", event.get("correlation_id"))

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is not None and self._thread.is_alive() and self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._run, name="alert-sender", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            payload = self._queue.get()
            try:
                self._deliver(payload)
            except Exception:  # the sender must outlive any single bad alert
                log.exception("alert delivery crashed")
            finally:
                self._queue.task_done()

    def _deliver(self, payload: dict[str, Any]) -> bool:
        assert self.url is not None
        data = json.dumps(payload).encode()
        cid = payload["event"].get("correlation_id")
        for attempt in range(1, self.attempts + 1):
            request = urllib.request.Request(  # noqa: S310 - the URL is the operator's, http(s) only
                self.url, data=data, method="POST",
                headers={"Content-Type": "application/json", "User-Agent": "ledger-alerts"})
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as answer:  # noqa: S310
                    if answer.status < 300:
                        log.info("alert for %s delivered (attempt %d)", cid, attempt)
                        return True
                    problem = f"answered {answer.status}"
            except urllib.error.HTTPError as exc:
                problem = f"answered {exc.code}"
            except (urllib.error.URLError, OSError) as exc:
                problem = f"{type(exc).__name__}: {exc}"
            log.warning("alert for %s not delivered (attempt %d of %d): %s",
                        cid, attempt, self.attempts, problem)
            if attempt < self.attempts:
                time.sleep(self.backoff_s * 2 ** (attempt - 1))
        log.error("alert for %s given up after %d attempts", cid, self.attempts)
        return False

    def drain(self, timeout_s: float = 10.0) -> bool:
        """Wait until every queued alert was handled (tests, graceful shutdown)."""
        deadline = time.monotonic() + timeout_s
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.05)
        return not self._queue.unfinished_tasks
