"""REL-HEALTH-RESTART: an application that stops answering its health check is restarted.

Plain Docker restarts containers that exit, never ones that are merely unhealthy (moby#28400):
the stack must provide something that acts on health. The harness makes the application
unhealthy for real — the profile's ``unhealthy_command``, or its main process frozen with SIGSTOP
so that the image's HEALTHCHECK times out — and then reads from the engine, not from its own
bookkeeping, that the container was marked unhealthy and started again within the limit.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from releasegate.config.profile import Profile
from releasegate.config.sections.reliability import ReliabilitySettings
from releasegate.measure.commands import run_profile_command
from releasegate.measure.parts import announce
from releasegate.measure.recorder import CheckList, Recorder
from releasegate.stack.autoheal import restarts
from releasegate.stack.containers import AUTOHEAL_JOURNAL
from releasegate.stack.model import StackInfo

pytestmark = [pytest.mark.reliability, pytest.mark.disruptive]
CRITERION = "REL-HEALTH-RESTART"
POLL_S = 0.5
HEALTHY_AGAIN_S = 60.0


def _state(container: Any) -> dict[str, Any]:
    container.reload()
    state = container.attrs["State"]
    return {"started_at": state.get("StartedAt"), "restarts": container.attrs.get("RestartCount"),
            "health": (state.get("Health") or {}).get("Status"), "status": container.status}


def _make_unhealthy(container: Any, profile: Profile, stack: StackInfo,
                    settings: ReliabilitySettings) -> str:
    if settings.unhealthy_command:
        result = run_profile_command(container, profile, settings.unhealthy_command,
                                     stack.template_values())
        return f"[commands] {settings.unhealthy_command}: {result.describe()}"
    container.kill(signal="SIGSTOP")
    return "SIGSTOP to the main process (it stops answering; the health check times out)"


def _events(client: Any, container: Any, since: float) -> list[str]:
    stream = client.events(since=int(since) - 1, until=int(time.time()) + 1, decode=True,
                           filters={"type": "container", "container": container.id})
    return [f"{e.get('Action') or e.get('status')} at "
            f"{time.strftime('%H:%M:%S', time.gmtime(e.get('time', 0)))}" for e in stream]


def _healthy_again(stack: StackInfo, profile: Profile) -> float | None:
    started = time.monotonic()
    with httpx.Client(timeout=5.0) as http:
        while time.monotonic() - started < HEALTHY_AGAIN_S:
            try:
                if http.get(stack.base_url + profile.app.health_path).status_code == 200:
                    return time.monotonic() - started
            except httpx.HTTPError:
                pass
            time.sleep(POLL_S)
    return None


@pytest.mark.criterion(CRITERION)
def test_unhealthy_application_is_restarted(
    healthy_stack: StackInfo, gate_profile: Profile, docker_client: Any, app_container: Any,
    healed: None, record: Recorder, request: pytest.FixtureRequest,
) -> None:
    if healthy_stack.provider != "containers":
        record.insufficient(CRITERION, "the stack is external: what restarts its containers is "
                            "not the harness's to provoke or observe")
        return
    limit = float(gate_profile.option(CRITERION, "restart_within_s"))
    checks, evidence = CheckList(), dict[str, Any]()
    check = (app_container.attrs["Config"].get("Healthcheck") or {}).get("Test") or []
    if not checks.add("the image declares a HEALTHCHECK the engine runs",
                      bool(check) and check[0] != "NONE", f"healthcheck: {check or 'none'}"):
        record.checks(CRITERION, checks, source="the container's configuration")
        return
    evidence["on_unhealthy"] = gate_profile.app.on_unhealthy
    before, since = _state(app_container), time.time()
    evidence["injected"] = _make_unhealthy(app_container, gate_profile, healthy_stack,
                                           gate_profile.section("reliability"))
    unhealthy_at = restarted_at = None
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and restarted_at is None:
        now = _state(app_container)
        if now["health"] == "unhealthy" and unhealthy_at is None:
            unhealthy_at = round(time.time() - since, 1)
        if now["started_at"] != before["started_at"] and now["status"] == "running":
            restarted_at = round(time.time() - since, 1)
        time.sleep(POLL_S)
    if restarted_at is None:
        app_container.kill(signal="SIGCONT")  # let the teardown find a live application
    after = _state(app_container)
    events = _events(docker_client, app_container, since)
    journal = Path(request.config.getoption("reports_dir")) / "run" / AUTOHEAL_JOURNAL
    evidence.update(before=before, after=after, unhealthy_after_s=unhealthy_at,
                    restarted_after_s=restarted_at, engine_events=events[:20],
                    # The restarter's own record, for people reading along; never the evidence.
                    restarter_journal=[e for e in restarts(journal) if e.get("at", 0) >= since])
    checks.add("the engine marked the container unhealthy", unhealthy_at is not None or any(
        e.startswith("health_status: unhealthy") for e in events), f"events: {events[:8]}")
    checks.add(f"the container was started again within {limit:g} s", restarted_at is not None,
               f"StartedAt still {after['started_at']} after {limit:g} s (restart.on_unhealthy "
               f"= {gate_profile.app.on_unhealthy!r})")
    checks.add("the engine's events show the restart (die, then start)",
               any(e.startswith("die") for e in events)
               and any(e.startswith("start") for e in events), f"events: {events[:8]}")
    again = _healthy_again(healthy_stack, gate_profile) if restarted_at is not None else None
    checks.add("healthy again after the restart", again is not None,
               f"no 200 within {HEALTHY_AGAIN_S:g} s")
    evidence["healthy_again_after_restart_s"] = again
    record.checks(CRITERION, checks, evidence=evidence,
                  source="the engine's container state (Health.Status, StartedAt, RestartCount) "
                         "polled every 0.5 s and its event stream")
    announce(request.config, f"reliability: unhealthy after {unhealthy_at} s, restarted after "
                             f"{restarted_at} s")
