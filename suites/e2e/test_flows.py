"""FUNC-E2E-FLOWS: the core business flows work end to end, through the public API only."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from releasegate.config.profile import Profile
from releasegate.measure.api import Api
from releasegate.measure.recorder import CheckList, Recorder
from releasegate.stack.model import StackInfo

pytestmark = pytest.mark.e2e
Flow = Callable[[Api, str, CheckList], dict[str, Any]]


def load_flow(name: str) -> Flow:
    """``rento`` → the bundled flow; ``package.module:function`` → the user's own."""
    module_name, _, attr = name.partition(":")
    if not attr:
        module_name, attr = f"releasegate.suites.e2e.flows.{name}", "run"
    flow: Flow = getattr(importlib.import_module(module_name), attr)
    return flow


@pytest.mark.criterion("FUNC-E2E-FLOWS")
def test_core_business_flow(
    healthy_stack: StackInfo, gate_profile: Profile, api: Api, record: Recorder
) -> None:
    name = gate_profile.e2e.get("flow")
    if not name:
        record.insufficient("FUNC-E2E-FLOWS", "the profile names no [e2e] flow")
        return
    flow = load_flow(str(name))
    checks = CheckList()
    evidence: dict[str, Any] = {"flow": name}
    try:
        evidence.update(flow(api, healthy_stack.base_url, checks))
    except httpx.HTTPError as exc:
        checks.add("the application answers every step", False, f"{type(exc).__name__}: {exc}")
    except Exception as exc:  # a broken step already recorded why; the rest cannot proceed
        checks.add("the flow runs to the end", False, f"stopped at: {exc}")
    record.checks("FUNC-E2E-FLOWS", checks, evidence=evidence,
                  source=f"flow {name!r} driven over the public HTTP API; figures compared "
                         "with the data the flow created in a fresh tenant")
