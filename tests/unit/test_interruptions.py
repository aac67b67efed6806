"""Container interruptions read from engine events: paired down/up, named by their cause."""

from __future__ import annotations

from typing import Any

from releasegate.stack.interruptions import interruptions_from_events

APP, DB = "a" * 64, "d" * 64
ROLES = {APP: "app", DB: "db"}


def ev(cid: str, action: str, at: float, **attrs: str) -> dict[str, Any]:
    return {"id": cid, "Action": action, "timeNano": int(at * 1e9),
            "Actor": {"ID": cid, "Attributes": attrs}}


def test_die_then_start_is_one_interruption_with_its_exit_code() -> None:
    found = interruptions_from_events(
        [ev(APP, "start", 1.0), ev(APP, "die", 10.0, exitCode="137"), ev(APP, "start", 12.5)],
        ROLES)
    assert len(found) == 1
    assert (found[0].role, found[0].down_at, found[0].up_at) == ("app", 10.0, 12.5)
    assert found[0].cause == "die (exit code 137) → start; engine events"


def test_pause_unpause_and_a_container_still_down() -> None:
    found = interruptions_from_events(
        [ev(DB, "pause", 5.0), ev(DB, "unpause", 8.0), ev(APP, "die", 20.0)], ROLES, now=30.0)
    assert [(i.role, i.down_at, i.up_at) for i in found] == [("db", 5.0, 8.0),
                                                             ("app", 20.0, 30.0)]
    assert "still down" in found[1].cause


def test_the_unhealthy_restarter_is_named_and_others_ignored() -> None:
    found = interruptions_from_events(
        [ev(APP, "die", 10.0), ev(APP, "start", 11.0), ev("x" * 64, "die", 10.0)], ROLES,
        autoheal=[{"at": 11.2, "container": APP}])
    assert len(found) == 1
    assert "unhealthy-restarter" in found[0].cause
