"""The gate is only worth its failures: each broken variant of the reference application must
turn the gate red on every criterion it names, and the clean application must pass the same
checks.

The variants are the defect catalogue (sut/rento/variants/*.json, one file each). `make test`
runs those marked ``fast`` here; `make selfcheck` (`releasegate selfcheck`) runs every variant
and writes the whole detection matrix."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from releasegate.config.profile import load_profile
from releasegate.criteria import catalog
from releasegate.selfcheck.catalogue import (
    Variant,
    load_catalogue,
    render_index,
    source_arguments,
)
from tests.gate.conftest import REPO, leftover_objects

pytestmark = pytest.mark.gate
VARIANTS = REPO / "sut" / "rento" / "variants"
SUITES = REPO / "suites"
CATALOGUE = load_catalogue(VARIANTS)
PROFILE = load_profile(REPO / "profiles" / "rento.toml")


def test_clean_reference_application_passes_deploy_and_e2e(run_gate: Any) -> None:
    result = run_gate("--suite", "deploy", "--suite", "e2e")
    failed = {r["id"]: r["reasons"] for r in result.summary["criteria"]
              if r["verdict"] != "pass"}
    assert result.exit_code == 0, failed
    assert result.summary["release"]["verdict"] == "scope_passed"
    assert result.summary["run"]["partial"] is True
    assert not leftover_objects(result.run_id())


@pytest.mark.parametrize("spec", [v for v in CATALOGUE if v.fast], ids=lambda v: v.name)
def test_broken_variant_turns_every_criterion_it_names_red(
    run_gate: Any, spec: Variant, tmp_path: Path
) -> None:
    result = run_gate(*source_arguments(spec, PROFILE, tmp_path), *spec.run_arguments())
    assert result.exit_code == 2, result.output[-3000:]
    assert result.summary["release"]["verdict"] == "scope_failed"
    judged = {r["id"]: r["verdict"] for r in result.summary["criteria"]}
    assert {c: judged.get(c, "not judged") for c in spec.expect} == dict.fromkeys(
        spec.expect, "fail")
    assert not leftover_objects(result.run_id())


def _decided_by_suites() -> set[str]:
    text = "\n".join(p.read_text() for p in SUITES.rglob("*.py"))
    return {c.id for c in catalog.CRITERIA if re.search(rf"[\"']{re.escape(c.id)}[\"']", text)}


def test_every_variant_names_what_it_breaks_and_a_suite_decides_it() -> None:
    decided = _decided_by_suites()
    for spec in CATALOGUE:
        assert spec.suites, f"{spec.name}: its gate selects no --suite"
        # Every criterion a variant must turn red is one the suites decide today; a criterion
        # of a suite yet to come waits in also_breaks and moves to expect when its suite lands.
        assert set(spec.expect) <= decided, (spec.name, set(spec.expect) - decided)
        assert not set(spec.also_breaks) & decided, (
            f"{spec.name}: {set(spec.also_breaks) & decided} are decided by a suite now: move "
            "them to expect and widen the variant's focus")


def test_every_criterion_the_suites_decide_has_a_variant() -> None:
    covered = {c for spec in CATALOGUE for c in spec.expect}
    missing = _decided_by_suites() - covered
    assert not missing, f"no variant proves these can go red: {sorted(missing)}"


def test_the_catalogue_index_is_current() -> None:
    index = VARIANTS / "README.md"
    assert index.is_file() and index.read_text() == render_index(CATALOGUE), (
        "sut/rento/variants/README.md is stale: run `releasegate selfcheck --index`")
