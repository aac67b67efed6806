"""Reading health: a 200 whose body says the database is down is no healthy answer, and who
decides that a container reached healthy depends on whether its image declares a HEALTHCHECK."""

from __future__ import annotations

from typing import Any

import pytest

from releasegate.measure.health import database_down, declared_healthcheck, reaches_healthy


@pytest.mark.parametrize("body", [
    {"status": "ok", "database": {"status": "up", "latency_ms": 1.2, "server_version": "15.4"},
     "memory": {"rss_mb": 80}, "uptime_s": 12.0, "version": "1.0.0"},
    {"status": "UP", "components": {"db": {"status": "UP"}, "diskSpace": {"status": "UP"}}},
    {"status": "pass", "checks": {"postgres:connections": [{"status": "pass"}]}},
    {"healthy": True, "db": True},
    True,
    None,
    [],
])
def test_bodies_that_report_a_working_database(body: Any) -> None:
    assert database_down(body) == []


@pytest.mark.parametrize(("body", "where"), [
    ({"status": "ok", "database": {"status": "down", "error": "OperationalError"}},
     "database.status"),
    ({"status": "error", "uptime_s": 3}, "status"),
    ({"status": "UP", "components": {"db": {"status": "DOWN"}}}, "components.db.status"),
    ({"database": "unavailable"}, "database"),
    ({"db": False, "version": "2"}, "db"),
    ({"status": "ok", "database": {"connected": False}}, "database.connected"),
    ({"checks": [{"name": "database", "status": "fail"}]}, "checks[0].status"),
    ({"checks": {"postgres:connections": [{"status": "fail"}]}},
     "checks.postgres:connections[0].status"),
    ({"ok": False}, "ok"),
    ({"status": "ok", "db": {"status": "up", "error": "timeout after 2 s"}}, "db.error"),
])
def test_bodies_that_say_the_database_is_down(body: Any, where: str) -> None:
    reasons = database_down(body)
    assert any(r.startswith(f"{where} is ") for r in reasons), reasons


def test_a_bare_false_is_down() -> None:
    assert database_down(False) == ["the body is false"]


def test_unrelated_components_do_not_speak_for_the_database() -> None:
    assert database_down({"status": "ok", "cache": {"status": "down"}}) == []


def test_a_healthcheck_is_declared_unless_absent_or_none() -> None:
    assert declared_healthcheck({"Healthcheck": {"Test": ["CMD", "true"]}}) == ["CMD", "true"]
    assert declared_healthcheck({"Healthcheck": {"Test": ["NONE"]}}) is None
    assert declared_healthcheck({"Healthcheck": None}) is None
    assert declared_healthcheck({}) is None and declared_healthcheck(None) is None


def test_with_a_healthcheck_the_engine_decides() -> None:
    name, ok, detail = reaches_healthy(healthcheck=["CMD", "x"], engine_status="unhealthy",
                                       probe_ok=True, health_path="/h", probe_detail="200")
    assert not ok and "HEALTHCHECK" in name and "unhealthy" in detail
    assert reaches_healthy(healthcheck=["CMD", "x"], engine_status="healthy", probe_ok=False,
                           health_path="/h", probe_detail="503")[1]


def test_without_a_healthcheck_the_harness_probe_decides_and_it_is_no_build_failure() -> None:
    name, ok, _ = reaches_healthy(healthcheck=None, engine_status="no HEALTHCHECK",
                                  probe_ok=True, health_path="/h", probe_detail="after 2.0 s")
    assert ok and "/h" in name and "SEC-CONTAINER-HARDENING" in name
    assert not reaches_healthy(healthcheck=None, engine_status="no HEALTHCHECK", probe_ok=False,
                               health_path="/h", probe_detail="503")[1]
