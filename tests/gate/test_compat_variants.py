"""The compatibility suite, proven against the reference application as a user runs it.

In `make test`: one cell alone (`--cell`, as one CI job of a matrix would), its stacks gone
afterwards, and its report merged. In `make selfcheck`: the default pairwise matrix on the clean
application within its time budget, and every compatibility variant red exactly where it says
("cells": which cells fail, which pass).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from releasegate.cli import main
from releasegate.report.matrix import cells_from_records
from tests.gate.conftest import REPO, GateResult

PROFILE = ("--profile", "profiles/rento.toml")
VARIANTS = REPO / "sut" / "rento" / "variants"
PAIRWISE_BUDGET_S = 8 * 60
COMPAT_VARIANTS = sorted(
    p.stem for p in VARIANTS.glob("*.json")
    if any(c.startswith("COMPAT-") for c in json.loads(p.read_text()).get("expect", [])))


def cells(result: GateResult) -> dict[str, str]:
    found, _ = cells_from_records(result.summary["criteria"])
    return {str(c["cell"]): str(c["status"]) for c in found}


def leftovers(run_id: str) -> list[str]:
    """Containers and networks of the run, or of the cell stacks started beside it."""
    import docker

    client = docker.from_env()
    names: list[str] = []
    for label in (f"io.releasegate.run={run_id}", f"io.releasegate.parent={run_id}"):
        names += [c.name for c in client.containers.list(all=True, filters={"label": label})]
        names += [n.name for n in client.networks.list(filters={"label": label})]
    return names


def test_one_cell_alone_leaves_the_rest_of_the_plan_to_other_jobs(run_gate: Any,
                                                                  tmp_path: Path) -> None:
    result = run_gate(*PROFILE, "--suite", "compat", "--cell", "py3.11-pg15", "--", "-k",
                      "matrix")
    assert cells(result) == {"py3.11-pg15": "passed", "py3.9-pg13": "not run",
                             "py3.13-pg17": "not run", "py3.14-pg18": "not run"}
    # One job cannot claim the matrix: the cells it left are not run, which blocks.
    assert result.verdict("COMPAT-PYTHON") == "not_run" and result.exit_code == 3
    assert "[py3.11-pg15]" in result.output and "[compat] 1/1 done" in result.output
    assert leftovers(result.run_id()) == []
    merged = tmp_path / "merged"
    assert main(["report", "--no-html", "--reports-dir", str(merged), "--merge",
                 str(result.reports)]) == 3
    text = (merged / "summary.md").read_text()
    assert "## Compatibility matrix" in text and "· not run" in text


@pytest.mark.selfcheck
def test_default_pairwise_matrix_passes_on_the_clean_application(run_gate: Any) -> None:
    started = time.monotonic()
    result = run_gate(*PROFILE, "--suite", "compat", "--", "-k", "matrix", timeout=1800)
    took = time.monotonic() - started
    assert set(cells(result).values()) == {"passed"} and len(cells(result)) == 4
    assert result.exit_code == 0
    assert took <= PAIRWISE_BUDGET_S, f"the pairwise matrix took {took:.0f} s"
    assert "## Compatibility matrix" in (result.reports / "summary.md").read_text()


@pytest.mark.selfcheck
@pytest.mark.parametrize("variant", COMPAT_VARIANTS)
def test_compat_variant_is_red_where_it_says(run_gate: Any, variant: str) -> None:
    spec = json.loads((VARIANTS / f"{variant}.json").read_text())
    result = run_gate(*PROFILE, *spec["gate"][:spec["gate"].index("--")],
                      "--set", f"services.app.build.args.VARIANT={variant}",
                      *spec["gate"][spec["gate"].index("--"):], timeout=1800)
    for criterion in spec["expect"]:
        assert result.verdict(criterion) == "fail", criterion
    # A failure the witnesses put on the other side is not counted against this one.
    for criterion, cleared in spec.get("cleared", {}).items():
        record = next(r for r in result.summary["criteria"] if r["id"] == criterion)
        assert not {p["scope"] for p in record["parts"]} & set(cleared), criterion
    assert result.exit_code == 2
    if "cells" in spec:
        assert cells(result) == spec["cells"]
        # Each failing cell's build log or container logs are attached to its parts.
        attached = {a for r in result.summary["criteria"] for a in r["attachments"]}
        for cell, status in spec["cells"].items():
            if status == "failed":
                assert any(f"compat-{cell}-" in a for a in attached), (cell, attached)
