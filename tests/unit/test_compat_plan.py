"""The compatibility matrix's plan, its attribution of a cell's outcome to each side, its
profile section, the --cell flag and the table the reports show."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from releasegate.cli import cell_overrides
from releasegate.config.profile import load_profile
from releasegate.errors import ConfigError
from releasegate.measure.compat_plan import (
    Cell,
    CellResult,
    blame,
    concerns,
    exclusion,
    full,
    make_plan,
    pairwise,
    requires_python,
    shared_failure,
    witnesses,
)
from releasegate.report.matrix import cells_from_records, matrix_markdown
from releasegate.stack import labels

REPO = Path(__file__).resolve().parents[2]
PYTHONS = ("3.9", "3.11", "3.13", "3.14")
POSTGRES = (13, 15, 17, 18)


@given(st.lists(st.sampled_from(["3.9", "3.10", "3.11", "3.12", "3.13", "3.14"]), min_size=1,
                max_size=6, unique=True),
       st.lists(st.sampled_from([13, 14, 15, 16, 17, 18]), min_size=1, max_size=6, unique=True))
def test_pairwise_covers_every_version_in_as_few_cells_as_the_longer_list(
        pythons: list[str], postgres: list[int]) -> None:
    cells = pairwise(pythons, postgres)
    assert {c.python for c in cells} == set(pythons)
    assert {c.postgres for c in cells} == set(postgres)
    assert len(cells) == max(len(pythons), len(postgres))


def test_default_plans() -> None:
    plan = make_plan(PYTHONS, POSTGRES, matrix="pairwise")
    assert [c.key for c in plan.cells] == ["py3.9-pg13", "py3.11-pg15", "py3.13-pg17",
                                            "py3.14-pg18"]
    assert len(make_plan(PYTHONS, POSTGRES, matrix="full").cells) == 16 == len(
        full(PYTHONS, POSTGRES))


def test_requires_python_excludes_a_version_and_repairs_its_partner() -> None:
    plan = make_plan(PYTHONS, POSTGRES, matrix="pairwise", requires=">=3.10")
    assert "3.9" in plan.excluded and ">=3.10" in plan.excluded["3.9"]
    assert {c.postgres for c in plan.cells} == set(POSTGRES)  # 13 still tried
    assert all(c.python != "3.9" for c in plan.cells)
    assert exclusion("3.9", ">=3.9") == "" and exclusion("3.14", "") == ""
    assert exclusion("3.13", ">=3.9,<3.13") != ""


def test_chosen_cells_run_alone_and_the_rest_of_the_plan_is_owed(tmp_path: Path) -> None:
    plan = make_plan(PYTHONS, POSTGRES, matrix="pairwise", chosen=["py3.11-pg15"])
    assert plan.cells == (Cell("3.11", 15),)
    assert len(plan.planned) == 4
    extra = make_plan(PYTHONS, POSTGRES, matrix="pairwise", chosen=["py3.9-pg18"])
    assert Cell("3.9", 18) in extra.planned and len(extra.planned) == 5


def test_pyproject_requirement(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nrequires-python = ">=3.10"\n')
    assert requires_python(tmp_path / "pyproject.toml") == ">=3.10"
    assert requires_python(tmp_path / "missing.toml") == ""


@pytest.mark.parametrize(("phase", "python", "postgres"), [
    ("build", "failed", "unmeasured"),
    ("database", "unmeasured", "failed"),
    ("smoke", "failed", "failed"),
    ("backup-restore", "failed", "failed"),
])
def test_a_phase_of_one_side_leaves_the_other_unmeasured(phase: str, python: str,
                                                          postgres: str) -> None:
    result = CellResult(Cell("3.9", 13), status="failed", phase=phase)
    assert (concerns(result, "python"), concerns(result, "postgres")) == (python, postgres)
    assert concerns(CellResult(Cell("3.9", 13), status="passed"), "python") == "passed"


def test_cells_must_be_in_the_matrix(tmp_path: Path) -> None:
    profile = REPO / "profiles" / "rento.toml"
    loaded = load_profile(profile, overrides=cell_overrides(["py3.11-pg15"]))
    assert loaded.section("compat").cells == ("py3.11-pg15",)
    with pytest.raises(ConfigError, match="outside the matrix"):
        load_profile(profile, overrides=cell_overrides(["py3.12-pg15"]))
    with pytest.raises(ConfigError, match="not a cell"):
        load_profile(profile, overrides=cell_overrides(["3.11/15"]))
    with pytest.raises(ConfigError, match="build_arg"):
        load_profile(profile, overrides=['compat.framework.build_arg=""'])


def _part(cell: str, status: str, **extra: Any) -> dict[str, Any]:
    python, pg = cell.removeprefix("py").split("-pg")
    return {"scope": cell, "evidence": {"cell": cell, "python": python, "postgres": int(pg),
                                        "status": status, "seconds": 12.0, **extra}}


def test_matrix_table_prefers_a_measured_cell_over_a_not_run_placeholder() -> None:
    records = [
        {"id": "COMPAT-PYTHON", "parts": [_part("py3.11-pg15", "not run"),
                                          _part("py3.9-pg13", "failed", phase="build",
                                                detail="SyntaxError")]},
        {"id": "COMPAT-PYTHON", "parts": [_part("py3.11-pg15", "passed")]},
        {"id": "COMPAT-POSTGRES", "parts": [{"evidence": {"cell": "py3.8", "python": "3.8",
                                                          "status": "excluded",
                                                          "detail": "requires >=3.9"}}]},
        {"id": "FUNC-HEALTH", "parts": [_part("py3.13-pg17", "passed")]},
    ]
    cells, excluded = cells_from_records(records)
    assert {c["cell"]: c["status"] for c in cells} == {"py3.11-pg15": "passed",
                                                       "py3.9-pg13": "failed"}
    table = matrix_markdown(cells, excluded)
    assert "| 3.11 | — | ✅ passed, 12 s |" in table
    assert "❌ FAILED (build), 12 s" in table and "SyntaxError" in table
    assert "| 3.8 | excluded | excluded |" in table
    long = [{**cells[0], "cell": "py3.9-pg13", "status": "failed", "phase": "backup-restore",
             "detail": "restore: `rento restore " + "x" * 400 + "` exited 1: SET timeout"}]
    assert "exited 1: SET timeout" in matrix_markdown(long, {})
    assert matrix_markdown([], {}) == ""


class _Listing:
    def __init__(self, items: list[Any]) -> None:
        self.items = items

    def list(self, all: bool = False, filters: dict[str, str] | None = None) -> list[Any]:
        key, _, value = (filters or {})["label"].partition("=")
        return [i for i in self.items if i.labels.get(key) == value or (not value and key
                                                                          in i.labels)]


class _Thing:
    def __init__(self, name: str, labels: dict[str, str]) -> None:
        self.name, self.labels, self.id, self.attrs = name, labels, name, {"Labels": labels}
        self.removed = False

    def remove(self, **_: Any) -> None:
        self.removed = True


def test_cleaning_a_run_removes_the_cell_stacks_started_beside_it() -> None:
    own = _Thing("own", labels.run_labels("run1", "app"))
    cell = _Thing("cell", labels.run_labels("run1-py3.9-pg13", "app", parent="run1"))
    other = _Thing("other", labels.run_labels("run2", "app"))

    class Client:
        containers = _Listing([own, cell, other])
        networks = _Listing([])

    assert labels.clean(Client(), run_id="run1", progress=lambda _: None) == 2
    assert own.removed and cell.removed and not other.removed


def _result(python: str, pg: int, status: str, phase: str = "") -> CellResult:
    return CellResult(Cell(python, pg), status=status, phase=phase)


def test_a_shared_failure_is_blamed_on_the_side_that_fails_elsewhere_too() -> None:
    failed = _result("3.9", 13, "failed", "start")
    assert shared_failure(failed) and not shared_failure(_result("3.9", 13, "failed", "build"))
    assert witnesses(failed.cell, "3.11", 15) == [Cell("3.9", 15), Cell("3.11", 13)]
    witness = _result("3.11", 13, "failed", "start")
    results = [failed, _result("3.9", 15, "passed"), witness, _result("3.11", 15, "passed")]
    assert blame(failed, "python", results) == "exonerated"
    assert blame(failed, "postgres", results) == "failed"
    assert blame(witness, "python", results) == "exonerated"
    assert blame(witness, "postgres", results) == "failed"
    # The other witness passes too: the pair itself is broken, and both sides count it.
    results[2] = _result("3.11", 13, "passed")
    assert blame(failed, "python", results) == "failed"
    # A witness that got past the failed phase and broke later still clears its side.
    results[2] = witness
    results[1] = _result("3.9", 15, "failed", "backup-restore")
    assert blame(failed, "python", results) == "exonerated"
    results[1] = _result("3.9", 15, "failed", "start")
    assert blame(failed, "python", results) == "failed"
    # Without witnesses, nobody is cleared.
    assert blame(failed, "python", [failed]) == "failed"
    assert witnesses(Cell("3.11", 15), "3.11", 15) == []


def test_a_failure_is_never_blamed_on_nobody() -> None:
    # Each side passed somewhere and failed somewhere else: an interaction, both count it.
    cells = [_result("3.9", 13, "passed"), _result("3.9", 15, "failed", "backup-restore"),
             _result("3.11", 15, "passed"), _result("3.13", 15, "failed", "backup-restore"),
             _result("3.9", 17, "failed", "backup-restore")]
    assert blame(cells[1], "python", cells) == "failed"
    assert blame(cells[1], "postgres", cells) == "failed"
