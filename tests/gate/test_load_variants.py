"""The load, stress and soak suites are only worth their failures. Each of their variants (a slow
endpoint, a leak, a stalling service, …) is run by the catalogue's own self-check
(tests/gate/test_variants.py reads ``expect`` and ``gate`` from its JSON); here the clean
application runs each of those focused gates and must not be red on what they name. Bad load
settings end in one line before anything starts.

A run on a machine that others kept busy is ``insufficient`` by design (the generator's
self-watch): such a run proves nothing either way, so the check is skipped with that reason
instead of passing or failing on noise."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.gate.conftest import REPO, GateResult

pytestmark = pytest.mark.gate
VARIANTS = REPO / "sut" / "rento" / "variants"
LOAD_VARIANTS = ("slow-dashboard", "periodic-stall", "slow-query", "memory-ballast",
                 "memory-leak", "slow-errors", "flaky-health", "connection-cap", "slow-api",
                 "rare-server-errors")


def _spec(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VARIANTS / f"{name}.json").read_text())
    return data


def _clean_gates() -> dict[tuple[str, ...], list[str]]:
    """Each distinct focused gate once, with every criterion its variants name."""
    gates: dict[tuple[str, ...], set[str]] = {}
    for name in LOAD_VARIANTS:
        spec = _spec(name)
        gates.setdefault(tuple(spec["gate"]), set()).update(spec["expect"])
    return {gate: sorted(criteria) for gate, criteria in gates.items()}


def _verdicts(result: GateResult, criteria: list[str]) -> dict[str, str]:
    records = {r["id"]: r for r in result.summary["criteria"]}
    for cid in criteria:  # a short soak leaves slow growth to the release soak: not red
        record = records.get(cid, {})
        if record.get("verdict") == "insufficient" and "release soak" in " ".join(
                record.get("reasons", [])):
            record["verdict"] = "undecided at CI durations"
    contended = [cid for cid in criteria if cid in records
                 and records[cid]["verdict"] == "insufficient"
                 and "contended machine" in " ".join(records[cid]["reasons"])]
    if contended:
        pytest.skip(f"the machine was busy with other work: {contended} insufficient, which "
                    "proves nothing either way")
    return {cid: records[cid]["verdict"] if cid in records else "not judged"
            for cid in criteria}


@pytest.mark.selfcheck
@pytest.mark.parametrize("gate", list(_clean_gates()), ids=" ".join)
def test_clean_application_passes_the_same_focused_gate(run_gate: Any,
                                                        gate: tuple[str, ...]) -> None:
    result = run_gate(*gate, timeout=1200)
    verdicts = _verdicts(result, _clean_gates()[gate])
    # Green, or (only the soak's slope) left to the release soak: never red, never unmeasured.
    assert set(verdicts.values()) <= {"pass", "undecided at CI durations"}, verdicts


@pytest.mark.parametrize(("setting", "words"), [
    ("load.rate=0", "load.rate: 0 is not above 0"),
    ("load.duration_s.ci=8", "fewer than the 100 PERF-API-P95 needs"),
    ("load.scenario=no_such_scenario", "load scenario 'no_such_scenario' was not found"),
])
def test_bad_load_settings_are_one_line_before_anything_starts(
        run_gate: Any, setting: str, words: str) -> None:
    result = run_gate("--suite", "load", "--set", setting, timeout=120)
    assert result.exit_code == 1
    lines = [ln for ln in result.output.splitlines() if words in ln]
    assert len(lines) == 1, result.output[-2000:]
    assert not (result.reports / "summary.json").exists()


def test_every_load_variant_names_its_gate_and_criteria() -> None:
    for name in LOAD_VARIANTS:
        spec = _spec(name)
        assert spec["expect"] and spec["gate"][:1] == ["--suite"], name
