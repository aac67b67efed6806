"""The gate is only worth its failures: each broken variant of the reference application must
turn the gate red on the right criterion, and the clean application must pass the same checks."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.gate.conftest import REPO, leftover_objects

pytestmark = pytest.mark.gate
VARIANTS = REPO / "sut" / "rento" / "variants"
# The slice of the gate that exercises each defect, to keep the self-check affordable.
FOCUS = {
    "never-healthy": ["--suite", "deploy", "--set", "stack.health_timeout_s=25", "--",
                      "-k", "build_run or start_time"],
    "health-ignores-db": ["--suite", "deploy", "--", "-k", "health"],
    "error-stack-trace": ["--suite", "e2e", "--", "-k", "errors"],
}


def variant(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VARIANTS / f"{name}.json").read_text())
    return data


def test_clean_reference_application_passes_deploy_and_e2e(run_gate: Any) -> None:
    result = run_gate("--suite", "deploy", "--suite", "e2e")
    failed = {r["id"]: r["reasons"] for r in result.summary["criteria"]
              if r["verdict"] != "pass"}
    assert result.exit_code == 0, failed
    assert result.summary["release"]["verdict"] == "scope_passed"
    assert result.summary["run"]["partial"] is True
    assert not leftover_objects(result.run_id())


@pytest.mark.parametrize("name", sorted(FOCUS))
def test_broken_variant_turns_the_gate_red(run_gate: Any, name: str) -> None:
    spec = variant(name)
    result = run_gate("--set", f"services.app.build.args.VARIANT={name}", *FOCUS[name])
    assert result.exit_code == 2, result.output[-3000:]
    assert result.summary["release"]["verdict"] == "scope_failed"
    # A variant names every criterion it should break; the reference profile may not require
    # all of them yet, but each one it does judge must be red, and at least one must be judged.
    judged = {r["id"]: r["verdict"] for r in result.summary["criteria"]}
    expected = [c for c in spec["expect"] if c in judged]
    assert expected, f"the focused gate judged none of {spec['expect']}"
    assert {c: judged[c] for c in expected} == dict.fromkeys(expected, "fail")
    assert not leftover_objects(result.run_id())


def test_every_variant_has_a_focused_gate() -> None:
    assert sorted(p.stem for p in VARIANTS.glob("*.json")) == sorted(FOCUS)
