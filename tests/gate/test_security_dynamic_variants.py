"""The dynamic security probes are only worth their failures. Each broken variant of the
reference application names its focused gate (its "gate" key); the defect catalogue
(tests/gate/test_variants.py, `releasegate selfcheck`) runs them. Here: the clean application
passes those same focused gates, and a document that does not parse is never a pass."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.gate.conftest import REPO, leftover_objects

pytestmark = pytest.mark.gate
VARIANTS = REPO / "sut" / "rento" / "variants"
MINE = ("sql-string-formatting", "stored-xss-page", "missing-ownership-check",
        "unauthenticated-debug-route")
FOCUSED = {
    "authz": ["--suite", "security", "--", "-k", "authz"],
    "injection": ["--suite", "security", "--", "-k", "injection"],
    "xss": ["--suite", "security", "--", "-k", "xss"],
    "fuzz": ["--suite", "security", "--", "-k", "fuzz"],
}


def variant(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VARIANTS / f"{name}.json").read_text())
    return data


def judged(result: Any) -> dict[str, str]:
    return {r["id"]: r["verdict"] for r in result.summary["criteria"]}


def test_each_variant_names_its_focused_gate() -> None:
    for name in MINE:
        spec = variant(name)
        assert spec["description"] and spec["expect"], name
        assert spec["gate"] in FOCUSED.values(), name


def test_clean_application_passes_the_authorization_probe(run_gate: Any) -> None:
    result = run_gate(*FOCUSED["authz"])
    verdicts = judged(result)
    assert result.exit_code == 0, {r["id"]: r["reasons"] for r in result.summary["criteria"]}
    assert verdicts["SEC-AUTHZ"] == "pass"
    assert not leftover_objects(result.run_id())


@pytest.mark.selfcheck
@pytest.mark.parametrize("probe", ["injection", "xss", "fuzz"])
def test_clean_application_passes_the_other_probes(run_gate: Any, probe: str) -> None:
    result = run_gate(*FOCUSED[probe])
    assert result.exit_code == 0, {r["id"]: r["reasons"] for r in result.summary["criteria"]}
    assert not leftover_objects(result.run_id())


@pytest.mark.selfcheck
def test_an_openapi_document_that_does_not_parse_is_insufficient_never_a_pass(
        run_gate: Any) -> None:
    # /health/live answers JSON that is not an OpenAPI document.
    result = run_gate("--set", "services.app.openapi_path=/health/live", *FOCUSED["authz"])
    assert result.exit_code == 3, result.output[-3000:]
    record = next(r for r in result.summary["criteria"] if r["id"] == "SEC-AUTHZ")
    assert record["verdict"] == "insufficient"
    assert any("not an OpenAPI 3 document" in reason for reason in record["reasons"])
