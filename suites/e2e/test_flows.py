"""FUNC-E2E-FLOWS: the core business flows work end to end, through the public API only.

The flow is the profile's: ``[[e2e.steps]]`` (no code), and/or a Python ``[e2e] flow`` for what
steps cannot say. Whether a flow is declared at all is decided before any login is tried.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from releasegate.config.profile import Profile
from releasegate.measure.api import Api, LoginAttempt, LoginFailed
from releasegate.measure.recorder import CheckList, Recorder
from releasegate.measure.steps import FlowRunner, load_callable
from releasegate.stack.model import StackInfo

pytestmark = pytest.mark.e2e
Flow = Callable[[Api, str, CheckList], dict[str, Any]]
CRITERION = "FUNC-E2E-FLOWS"


def load_flow(name: str, profile: Profile) -> Flow:
    """``name`` → a bundled flow; ``package.module:function`` or ``file.py:function`` (next to
    the profile) → the user's own."""
    spec = name if ":" in name else f"releasegate.suites.e2e.flows.{name}:run"
    flow: Flow = load_callable(spec, profile.path.parent)
    return flow


@pytest.mark.criterion(CRITERION)
def test_core_business_flow(
    healthy_stack: StackInfo, gate_profile: Profile, record: Recorder,
    request: pytest.FixtureRequest,
) -> None:
    spec = gate_profile.e2e
    if not spec.defined:
        record.insufficient(CRITERION, "the profile names no [e2e] flow: declare "
                                       "[[e2e.steps]] or [e2e] flow = \"package.module:function\"")
        return
    attempt: LoginAttempt | None = (request.getfixturevalue("admin_login") if spec.needs_admin
                                    else None)
    if attempt is not None and attempt.api is None:
        record.insufficient(CRITERION, attempt.failure)
        return

    def admin() -> Api:
        if attempt is None or attempt.api is None:
            raise LoginFailed("this flow declared no step that uses the profile's own login")
        return attempt.api

    checks = CheckList()
    evidence: dict[str, Any] = {"flow": spec.flow}
    runner = FlowRunner(spec, base_url=healthy_stack.base_url,
                        values=healthy_stack.template_values(), recipe=gate_profile.login,
                        admin=admin, checks=checks, base=gate_profile.path.parent)
    try:
        run = runner.execute()
        evidence.update(run.evidence())
        if spec.flow and not run.stopped:
            evidence.update(load_flow(spec.flow, gate_profile)(admin(), healthy_stack.base_url,
                                                               checks))
    except httpx.HTTPError as exc:
        checks.add("the application answers every step", False, f"{type(exc).__name__}: {exc}")
    except Exception as exc:  # a broken step already recorded why; the rest cannot proceed
        checks.add("the flow runs to the end", False, f"stopped at: {exc}")
    record.checks(CRITERION, checks, evidence=evidence,
                  source="the profile's end-to-end flow driven over the public HTTP API "
                         f"({len(spec.steps)} declared steps"
                         + (f", Python flow {spec.flow!r}" if spec.flow else "") + ")")
