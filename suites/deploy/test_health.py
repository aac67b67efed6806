"""FUNC-HEALTH: the health endpoint tells the truth — healthy when all is well (a 200 whose body
says the database is down is no healthy answer), 503 while the database is unreachable (so one
that never touches the database fails), healthy again after. The database of an external
environment is stopped only where its profile allows disruptive tests."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from releasegate.config.profile import Profile
from releasegate.measure.health import database_down
from releasegate.measure.recorder import CheckList, Recorder
from releasegate.stack.model import StackInfo

pytestmark = [pytest.mark.deploy, pytest.mark.disruptive]

# Keys a useful health body reports, matched loosely so any naming convention passes.
EXPECTED_FACTS = {"database": ("database", "db"), "memory": ("memory", "mem", "rss"),
                  "uptime": ("uptime",), "version": ("version",)}
RECOVERY_LIMIT_S = 30.0


def _keys(data: Any, prefix: str = "") -> set[str]:
    if not isinstance(data, dict):
        return set()
    out: set[str] = set()
    for key, value in data.items():
        out.add(f"{prefix}{key}".lower())
        out |= _keys(value, f"{prefix}{key}.")
    return out


def _probe(client: httpx.Client, path: str) -> int | str:
    try:
        return client.get(path).status_code
    except httpx.HTTPError as exc:
        return type(exc).__name__


def _until(client: httpx.Client, path: str, want_ok: bool, timeout: float) -> tuple[
    float | None, list[int | str]
]:
    """Seconds until the answer is (or stops being) 200, and every answer seen meanwhile."""
    seen: list[int | str] = []
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        status = _probe(client, path)
        seen.append(status)
        if (status == 200) == want_ok:
            return time.monotonic() - started, seen
        time.sleep(0.5)
    return None, seen


@pytest.mark.criterion("FUNC-HEALTH")
def test_health_reports_database_state(
    healthy_stack: StackInfo, gate_profile: Profile, record: Recorder,
    request: pytest.FixtureRequest,
) -> None:
    path = gate_profile.app.health_path
    outage_s = float(gate_profile.option("FUNC-HEALTH", "outage_s"))
    refusal = gate_profile.disruption_refusal()
    # Asked before anything is recorded: a database that cannot be reached makes the whole test
    # insufficient instead of leaving the healthy half to stand alone as a pass.
    db_container = None if refusal else request.getfixturevalue("db_container")
    checks = CheckList()
    evidence: dict[str, Any] = {}
    with httpx.Client(base_url=healthy_stack.base_url, timeout=5.0) as client:
        ok = client.get(path)
        body = ok.json() if ok.headers.get("content-type", "").startswith("application/json") \
            else None
        checks.add("200 while everything is up", ok.status_code == 200, f"got {ok.status_code}")
        down = database_down(body) if ok.status_code == 200 else []
        checks.add("the 200's body does not say the database is down", not down,
                   "; ".join(down))
        keys = _keys(body)
        for fact, names in EXPECTED_FACTS.items():
            checks.add(f"the body reports {fact}", any(
                k.split(".")[-1].startswith(names) or k.split(".")[0] in names for k in keys),
                f"keys: {sorted(keys)[:12]}")
        evidence["healthy_body"] = body
        if db_container is None:
            record.insufficient("FUNC-HEALTH", f"the database was not stopped: {refusal}",
                                scope="while the database is down")
            record.checks("FUNC-HEALTH", checks, source=f"HTTP GET {path}", evidence=evidence,
                          scope="while everything is up")
            return

        db_container.stop(timeout=10)
        try:
            down_after, seen_down = _until(client, path, want_ok=False, timeout=outage_s)
            settled = [_probe(client, path) for _ in range(3)]
            checks.add(f"non-200 within {outage_s:.0f} s of the database stopping",
                       down_after is not None,
                       f"answers while the database was down: {seen_down[-5:]}")
            checks.add("stays non-200 while the database is down",
                       all(s != 200 for s in settled), f"next answers {settled}")
            checks.add("the outage is reported as 503", 503 in [*seen_down, *settled],
                       f"answers {sorted({str(s) for s in [*seen_down, *settled]})}")
            evidence.update(down_after_s=down_after, answers_while_down=settled)
        finally:
            db_container.start()
        up_after, seen_up = _until(client, path, want_ok=True, timeout=RECOVERY_LIMIT_S + 30)
        checks.add(f"200 again within {RECOVERY_LIMIT_S:.0f} s of the database returning",
                   up_after is not None and up_after < RECOVERY_LIMIT_S,
                   f"after {up_after:.1f} s" if up_after is not None
                   else f"still {seen_up[-3:]} after {RECOVERY_LIMIT_S + 30:.0f} s")
        evidence["recovered_after_s"] = up_after
    record.checks("FUNC-HEALTH", checks,
                  source=f"HTTP GET {path} every 0.5 s while the harness stopped and restarted "
                         "the database container", evidence=evidence)
