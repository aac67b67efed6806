"""Health endpoints against a real server that is stopped and started under the running app."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient
from helpers import Api, assert_error
from pgcluster import PgCluster


def test_live_and_ready(client: TestClient) -> None:
    assert client.get("/health/live").json() == {"status": "alive"}
    r = client.get("/health/ready")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok" and body["version"] == "test-1.2.3"
    assert body["database"]["status"] == "up" and body["database"]["latency_ms"] >= 0
    assert body["database"]["server_version"].split(".")[0].isdigit()
    assert body["memory"]["rss_mb"] > 0 and body["uptime_s"] >= 0


def test_ready_turns_503_while_database_is_down_and_recovers(
    client: TestClient, platform_admin: Api, pg: PgCluster
) -> None:
    assert client.get("/health/ready").status_code == 200
    pg.stop()
    try:
        started = time.monotonic()
        r = client.get("/health/ready")
        elapsed = time.monotonic() - started
        assert r.status_code == 503 and elapsed < 3.0, (r.status_code, elapsed)
        body = r.json()
        assert body["status"] == "unavailable" and body["database"]["status"] == "down"
        assert body["database"]["error"].isidentifier()  # a class name, nothing more
        assert body["request_id"] == r.headers["x-request-id"] and body["code"]
        assert "127.0.0.1" not in r.text and "password" not in r.text
        assert client.get("/health/live").status_code == 200  # liveness ignores the database
        assert_error(platform_admin.get("/api/buildings"), 503, "database_unavailable")
    finally:
        pg.start()
    deadline = time.monotonic() + 20
    while client.get("/health/ready").status_code != 200:
        assert time.monotonic() < deadline, "did not recover within 20 s"
        time.sleep(0.2)
    assert platform_admin.get("/api/buildings").status_code == 200


def test_metrics_for_admin(platform_admin: Api) -> None:
    platform_admin.get("/api/rooms/123456")
    text = platform_admin.get("/metrics").text
    assert "rento_http_request_duration_seconds_bucket{" in text
    assert 'route="/api/rooms/{room_id}"' in text and "/api/rooms/123456" not in text
    assert "rento_db_pool_size" in text and "rento_db_pool_checked_out" in text
    assert "rento_db_pool_overflow" in text and "rento_http_errors_total" in text
