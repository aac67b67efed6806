"""Error log entries, alert delivery with retry to a real HTTP receiver, log rotation, redaction."""

from __future__ import annotations

import json
import logging
import socket
import time
from pathlib import Path
from typing import Any, Dict, List

from fastapi.testclient import TestClient
from helpers import AlertReceiver, Api

from rento import alerts
from rento.config import get_settings
from rento.logging_setup import configure_logging


def _log_lines(log_file: Path) -> List[Dict[str, Any]]:
    for handler in logging.getLogger().handlers:
        handler.flush()
    lines = []
    for path in sorted(log_file.parent.glob(log_file.name + "*")):
        lines += [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return lines


def test_server_error_logged_and_alerted_with_retry(
    admin: Api, alert_receiver: AlertReceiver, log_file: Path
) -> None:
    alert_receiver.fail_next(1, status=500)
    r = admin.post("/api/admin/diagnostics/error", headers={"X-Request-ID": "diag-test-1"})
    assert r.status_code == 500 and r.json()["request_id"] == "diag-test-1"

    event = alert_receiver.wait_for(lambda e: e.get("request_id") == "diag-test-1", timeout=10)
    assert event["event"] == "server_error" and event["service"] == "rento"
    assert event["version"] == "test-1.2.3" and event["error_type"] == "DiagnosticError"
    assert event["method"] == "POST" and event["path"] == "/api/admin/diagnostics/error"
    assert event["message"] and event["timestamp"]
    attempts = [a for a in alert_receiver.attempts if a["event"].get("request_id") == "diag-test-1"]
    assert [a["status"] for a in attempts] == [500, 200]

    errors = [
        e
        for e in _log_lines(log_file)
        if e["level"] == "ERROR"
        and e.get("request_id") == "diag-test-1"
        and e["logger"] == "rento.errors"
    ]
    assert len(errors) == 1
    entry = errors[0]
    assert (
        entry["error_type"] == "DiagnosticError"
        and entry["route"] == "/api/admin/diagnostics/error"
    )
    assert entry["method"] == "POST" and "Traceback" in entry["traceback"]
    access = [
        e
        for e in _log_lines(log_file)
        if e["logger"] == "rento.access" and e["request_id"] == "diag-test-1"
    ]
    assert access and access[0]["status"] == 500 and access[0]["duration_ms"] >= 0


def test_alert_queue_never_blocks_and_drops_when_full() -> None:
    # A receiver that accepts connections but never answers: every attempt runs into the timeout.
    with socket.socket() as blackhole:
        blackhole.bind(("127.0.0.1", 0))
        blackhole.listen(100)
        port = blackhole.getsockname()[1]
        dispatcher = alerts.AlertDispatcher(
            f"http://127.0.0.1:{port}/", retries=0, timeout=1, queue_size=2
        )
        started = time.monotonic()
        accepted = [dispatcher.submit({"event": "x", "n": i}) for i in range(50)]
        assert time.monotonic() - started < 0.5  # submitting never waits for delivery
        assert accepted[:2] == [True, True] and accepted.count(True) <= 3
        dispatcher.close(timeout=0)


def test_send_alert_wait_delivers_synchronously(
    app_env: Dict[str, str], alert_receiver: AlertReceiver
) -> None:
    assert alerts.send_alert(
        {"event": "backup_failed", "message": "disk full at 13800138000"}, wait=True
    )
    event = alert_receiver.wait_for(lambda e: e.get("event") == "backup_failed", timeout=2)
    assert "13800138000" not in json.dumps(event) and event["service"] == "rento"


def test_logs_hold_no_personal_data_or_secrets(
    client: TestClient, admin: Api, app_env: Dict[str, str], log_file: Path
) -> None:
    canaries = {
        "phone": "13912345678",
        "id_card": "44030119900101123X",
        "email": "canary.pii@example.net",
    }
    renter = admin.create(
        "/api/renters", {"name": "Canary", **canaries, "emergency_phone": "13700001234"}
    )
    admin.get("/api/renters", params={"q": canaries["phone"]})
    admin.patch(f"/api/renters/{renter['id']}", json={"remark": "password=hunter2-canary"})
    client.post("/api/auth/login", json={"username": "ghost", "password": "canary-password-xyz"})
    logging.getLogger("rento.test").info(
        "simulated leak %s %s",
        canaries["email"],
        app_env["DATABASE_URL"],
        extra={"card": canaries["id_card"]},
    )
    text = "".join(p.read_text() for p in log_file.parent.glob(log_file.name + "*"))
    for value in [
        *canaries.values(),
        "13700001234",
        "hunter2-canary",
        "canary-password-xyz",
        app_env["RENTO_SECRET_KEY"],
        "rento-test-password",
    ]:
        assert value not in text, value
    assert admin.headers["Authorization"].split()[1] not in text


def test_log_rotation_bounds_files(tmp_path: Path) -> None:
    target = tmp_path / "rot.log"
    try:
        configure_logging("INFO", str(target), max_bytes=4096, backup_count=2)
        log = logging.getLogger("rento.rotation")
        for i in range(400):
            log.info("line %d %s", i, "x" * 60)
        for handler in logging.getLogger().handlers:
            handler.flush()
        files = sorted(p.name for p in tmp_path.iterdir())
        assert files == ["rot.log", "rot.log.1", "rot.log.2"], files
        for path in tmp_path.iterdir():
            assert path.stat().st_size <= 4096
            assert all(
                json.loads(line)["logger"] == "rento.rotation"
                for line in path.read_text().splitlines()
            )
    finally:
        s = get_settings()
        configure_logging(s.log_level, s.log_file, s.log_max_bytes, s.log_backup_count)
