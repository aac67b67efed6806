"""The gate is only worth its failures: each broken variant of the reference application must
turn the gate red on every criterion it names, and the clean application must pass the same
checks."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from releasegate.criteria import catalog
from tests.gate.conftest import REPO, leftover_objects

pytestmark = pytest.mark.gate
VARIANTS = REPO / "sut" / "rento" / "variants"
SUITES = REPO / "suites"
# The slice of the gate that exercises each defect, to keep the self-check affordable.
FOCUS = {
    "never-healthy": ["--suite", "deploy", "--set", "stack.health_timeout_s=25", "--",
                      "-k", "build_run or start_time"],
    "health-ignores-db": ["--suite", "deploy", "--", "-k", "health"],
    "pg-without-tls": ["--suite", "deploy", "--", "-k", "postgresql"],
    "migration-not-idempotent": ["--suite", "deploy", "--", "-k", "migrations_apply"],
    "sqlite-drops-rows": ["--suite", "deploy", "--", "-k", "sqlite"],
    "runs-as-root": ["--suite", "deploy", "--", "-k", "non_root"],
    "error-stack-trace": ["--suite", "e2e", "--", "-k", "errors"],
    "dashboard-miscounts": ["--suite", "e2e", "--", "-k", "core_business_flow"],
    "alert-never-sent": ["--suite", "e2e", "--", "-k", "logged_and_alerted"],
}


def variant(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VARIANTS / f"{name}.json").read_text())
    return data


def build_args(name: str) -> list[str]:
    """VARIANT, and the build arguments of a variant whose defect is in the image recipe."""
    pairs = {"VARIANT": name, **variant(name).get("build_args", {})}
    return [arg for key, value in pairs.items()
            for arg in ("--set", f"services.app.build.args.{key}={value}")]


def test_clean_reference_application_passes_deploy_and_e2e(run_gate: Any) -> None:
    result = run_gate("--suite", "deploy", "--suite", "e2e")
    failed = {r["id"]: r["reasons"] for r in result.summary["criteria"]
              if r["verdict"] != "pass"}
    assert result.exit_code == 0, failed
    assert result.summary["release"]["verdict"] == "scope_passed"
    assert result.summary["run"]["partial"] is True
    assert not leftover_objects(result.run_id())


@pytest.mark.parametrize("name", list(FOCUS))
def test_broken_variant_turns_every_criterion_it_names_red(run_gate: Any, name: str) -> None:
    spec = variant(name)
    result = run_gate(*build_args(name), *FOCUS[name])
    assert result.exit_code == 2, result.output[-3000:]
    assert result.summary["release"]["verdict"] == "scope_failed"
    judged = {r["id"]: r["verdict"] for r in result.summary["criteria"]}
    assert {c: judged.get(c, "not judged") for c in spec["expect"]} == dict.fromkeys(
        spec["expect"], "fail")
    assert not leftover_objects(result.run_id())


def _decided_by_suites() -> set[str]:
    text = "\n".join(p.read_text() for p in SUITES.rglob("*.py"))
    return {c.id for c in catalog.CRITERIA if re.search(rf"[\"']{re.escape(c.id)}[\"']", text)}


def test_every_variant_has_a_focused_gate_and_names_what_it_breaks() -> None:
    assert sorted(p.stem for p in VARIANTS.glob("*.json")) == sorted(FOCUS)
    decided = _decided_by_suites()
    for name in FOCUS:
        spec = variant(name)
        assert spec["expect"], name
        # Every criterion a variant must turn red is one the suites decide today; a criterion
        # of a suite yet to come waits in also_breaks and moves to expect when its suite lands.
        assert set(spec["expect"]) <= decided, (name, set(spec["expect"]) - decided)
        assert not set(spec.get("also_breaks", [])) & decided, (
            f"{name}: {set(spec['also_breaks']) & decided} are decided by a suite now: move "
            "them to expect and widen the variant's focus")


def test_every_criterion_the_spine_decides_has_a_variant() -> None:
    covered = {c for name in FOCUS for c in variant(name)["expect"]}
    missing = _decided_by_suites() - covered
    assert not missing, f"no variant proves these can go red: {sorted(missing)}"
