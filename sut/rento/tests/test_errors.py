"""Every error status has the one JSON shape; request ids and timing headers are always there."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from helpers import Api, assert_error, unique


def test_request_id_and_server_timing_on_every_response(client: TestClient, admin: Api) -> None:
    for r in (client.get("/health/live"), client.get("/nope")):
        assert re.fullmatch(r"[0-9a-f]{32}", r.headers["x-request-id"])
        assert re.fullmatch(r"app;dur=\d+(\.\d+)?", r.headers["server-timing"])
        assert r.headers["x-content-type-options"] == "nosniff"
    # A request that used the database also says how long it waited for a database slot.
    r = admin.get("/api/buildings")
    timing = r.headers["server-timing"]
    assert re.fullmatch(r"app;dur=\d+(\.\d+)?, db-wait;dur=\d+(\.\d+)?", timing), timing
    total, wait = (float(part.split("dur=")[1]) for part in timing.split(", "))
    assert 0 <= wait <= total
    r = client.get("/health/live", headers={"X-Request-ID": "client-id_1.2-3"})
    assert r.headers["x-request-id"] == "client-id_1.2-3"
    for bad in ("has space", "x" * 65, "semi;colon", "<script>"):
        r = client.get("/health/live", headers={"X-Request-ID": bad})
        assert r.headers["x-request-id"] != bad
        assert re.fullmatch(r"[0-9a-f]{32}", r.headers["x-request-id"])
    r = client.get("/nope", headers={"X-Request-ID": "trace-me-42"})
    assert assert_error(r, 404)["request_id"] == "trace-me-42"


def test_error_statuses_share_one_shape(client: TestClient, admin: Api) -> None:
    assert_error(client.get("/api/buildings"), 401, "not_authenticated")
    assert_error(client.get("/no/such/route"), 404, "not_found")
    assert_error(admin.get("/api/buildings/999999"), 404, "building_not_found")
    assert_error(admin.get("/api/buildings/not-a-number"), 404, "not_found")
    assert_error(admin.get("/api/buildings/0"), 422, "validation_error")
    r = client.delete("/health/live")
    assert_error(r, 405, "method_not_allowed")
    assert r.headers["allow"] == "GET"
    r = admin.request("PUT", "/api/buildings")
    assert_error(r, 405)
    assert r.headers["allow"] == "GET, POST"
    assert_error(admin.patch("/api/users/me", json={}), 405)
    assert_error(
        client.post(
            "/api/auth/login", content=b"{not json", headers={"Content-Type": "application/json"}
        ),
        422,
    )
    r = admin.post(
        "/api/users", json={"username": "ab", "password": "short", "role": "king", "extra": 1}
    )
    body = assert_error(r, 422, "validation_error")
    assert body["details"] and all(set(d) == {"loc", "msg"} for d in body["details"])
    assert "king" not in r.text  # input values are never echoed
    name = unique("dup-")
    admin.create("/api/users", {"username": name, "password": "password-123"})
    assert_error(
        admin.post("/api/users", json={"username": name, "password": "password-123"}),
        409,
        "username_taken",
    )
    big = b'{"name": "' + b"x" * (1024 * 1024 + 10) + b'"}'
    r = admin.post("/api/buildings", content=big, headers={"Content-Type": "application/json"})
    assert_error(r, 413, "payload_too_large")


def test_out_of_range_values_are_client_errors(admin: Api) -> None:
    assert_error(admin.get("/api/buildings/99999999999999999999"), 422)
    assert_error(admin.get("/api/rooms?floor=99999999999"), 422)
    assert_error(admin.post("/api/buildings", json={"name": "x", "floors": 2**40}), 422)
    b = admin.create("/api/buildings", {"name": "x"})
    for rent in ("1e20", "NaN", "-1", "1.001", "Infinity"):
        r = admin.post("/api/rooms", json={"building_id": b["id"], "number": "1", "rent": rent})
        assert_error(r, 422)
    # JSON Schema types are enforced, without lax coercion (but 2.0 is an integer).
    assert_error(admin.post("/api/buildings", json={"name": "x", "floors": True}), 422)
    assert_error(admin.post("/api/buildings", json={"name": "x", "floors": "3"}), 422)
    assert admin.post("/api/buildings", json={"name": "x", "floors": 2.0}).json()["floors"] == 2
    assert_error(admin.get("/api/bills", params={"due_before": "0"}), 422)
    room = {"building_id": b["id"], "rent": 10.005}
    assert admin.post("/api/rooms", json={**room, "number": "r1"}).json()["rent"] == "10.01"
    assert (
        admin.post("/api/rooms", json={**room, "number": "r2", "area": "12.5"}).status_code == 201
    )
    assert_error(admin.post("/api/rooms", json={**room, "number": "r3", "area": "100000000"}), 422)
    lone_surrogate = b'{"name": "\\ud800"}'
    r = admin.post(
        "/api/renters", content=lone_surrogate, headers={"Content-Type": "application/json"}
    )
    assert_error(r, 422)


def test_unhandled_error_is_a_clean_500(admin: Api) -> None:
    r = admin.post("/api/admin/diagnostics/error")
    body = assert_error(r, 500, "internal_error")
    assert set(body) == {"code", "message", "request_id"}
    assert "DiagnosticError" not in r.text and "diagnostic" not in r.text.lower()


def test_openapi_available_docs_disabled_in_production(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    for path in (
        "/api/buildings",
        "/api/rooms/{room_id}",
        "/api/contracts/{contract_id}/bills/generate",
        "/api/dashboard/stats",
        "/api/payments",
        "/health/ready",
        "/metrics",
    ):
        assert path in spec["paths"], path
    assert_error(client.get("/docs"), 404)
    assert_error(client.get("/redoc"), 404)
