"""The backup and reliability suites are only worth their failures. Their broken variants live
in the defect catalogue (sut/rento/variants, run by tests/gate/test_variants.py and
`releasegate selfcheck`); here: every one of their criteria has a variant, the clean application
passes both suites and the fast variant's focus, and bad input (no backup command, a restore
command the image lacks, no one to restart an unhealthy app) is insufficient or failed with the
reason — never a pass — and leaves nothing running."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.gate.conftest import REPO, GateResult, leftover_objects

pytestmark = pytest.mark.gate
VARIANTS = REPO / "sut" / "rento" / "variants"
PROFILE = REPO / "profiles" / "rento.toml"
SUITES = ("backup", "reliability")
CRITERIA = {"FUNC-BACKUP-AUTO", "PERF-BACKUP-DURATION", "REL-BACKUP-RESTORE",
            "REL-BACKUP-FAIL-ALERT", "REL-NO-LOST-WRITES", "REL-RESTART-RECOVERY",
            "REL-DB-RECONNECT", "REL-GRACEFUL-SHUTDOWN", "REL-HEALTH-RESTART", "REL-LOG-ROTATION"}
FAST = "backup-hides-failed-dump"
"""The one variant whose focused gate is quick enough for every CI run."""


def spec(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VARIANTS / f"{name}.json").read_text())
    return data


def ours() -> list[str]:
    """Variants whose focused gate runs these suites."""
    return sorted(p.stem for p in VARIANTS.glob("*.json")
                  if any(s in spec(p.stem).get("gate", []) for s in SUITES))


def verdicts(result: GateResult) -> dict[str, str]:
    return {r["id"]: r["verdict"] for r in result.summary["criteria"]}


def reasons(result: GateResult, criterion: str) -> str:
    return " ".join(next(r["reasons"] for r in result.summary["criteria"]
                         if r["id"] == criterion))


def test_every_variant_of_these_suites_names_a_gate_and_its_criteria() -> None:
    names = ours()
    assert len(names) >= 9, names
    for name in names:
        data = spec(name)
        assert data["description"] and (data["edits"] or data.get("build_args")), name
        assert set(data["expect"]) & CRITERIA, (name, data["expect"])
        assert data["gate"][0] == "--suite", name
    assert spec(FAST).get("fast") is True
    covered = {c for name in names for c in spec(name)["expect"]}
    assert covered >= CRITERIA, CRITERIA - covered


def test_the_clean_application_passes_the_fast_variants_focused_gate(run_gate: Any) -> None:
    """The catalogue's own test runs the fast variant (tests/gate/test_variants.py); the clean
    application must pass the same focus, or that red proves nothing."""
    result = run_gate(*spec(FAST)["gate"])
    assert result.exit_code == 0, result.output[-3000:]
    assert verdicts(result) == {"REL-BACKUP-FAIL-ALERT": "pass"}
    assert not leftover_objects(result.run_id())


@pytest.mark.selfcheck
def test_the_clean_application_passes_both_suites(run_gate: Any) -> None:
    result = run_gate("--suite", "backup", "--suite", "reliability")
    judged = verdicts(result)
    assert result.exit_code == 0, {c: reasons(result, c) for c, v in judged.items() if v != "pass"}
    # The app restarts the drills cause are PERF-CONTAINER-START samples too.
    assert set(judged) == CRITERIA | {"PERF-CONTAINER-START"}
    assert set(judged.values()) == {"pass"}
    assert not leftover_objects(result.run_id())


@pytest.mark.selfcheck
def test_nothing_restarts_an_unhealthy_app_without_the_stack_doing_it(run_gate: Any) -> None:
    result = run_gate("--set", "services.app.restart.on_unhealthy=none", "--suite",
                      "reliability", "--", "-k", "unhealthy")
    assert result.exit_code == 2, result.output[-3000:]
    assert verdicts(result) == {"REL-HEALTH-RESTART": "fail"}
    assert "was started again" in reasons(result, "REL-HEALTH-RESTART")
    assert not leftover_objects(result.run_id())


def _profile_without(tmp_path: Path, *commands: str) -> Path:
    # Paths in the profile are relative to it: anchor them before it moves.
    text = PROFILE.read_text().replace('"../', f'"{REPO}/')
    for name in commands:
        text = re.sub(rf"(?m)^{name} = \[.*\]\n", "", text)
    path = tmp_path / "profile.toml"
    path.write_text(text)
    return path


@pytest.mark.selfcheck
def test_no_backup_command_is_insufficient_with_the_reason(run_gate: Any, tmp_path: Path) -> None:
    profile = _profile_without(tmp_path, "backup", "restore")
    result = run_gate("--profile", str(profile), "--suite", "backup", "--", "-k",
                      "reference or failed_backup")
    assert result.exit_code == 3, result.output[-3000:]
    judged = verdicts(result)
    for criterion in ("PERF-BACKUP-DURATION", "REL-BACKUP-RESTORE", "REL-BACKUP-FAIL-ALERT"):
        assert judged[criterion] == "insufficient"
        assert "[commands] backup" in reasons(result, criterion)
    assert not leftover_objects(result.run_id())


@pytest.mark.selfcheck
def test_a_restore_command_missing_from_the_image_fails_the_restore(run_gate: Any) -> None:
    result = run_gate("--set", 'commands.restore=["rento-restore-missing", "{backup.path}"]',
                      "--suite", "backup", "--", "-k", "reference")
    assert result.exit_code == 2, result.output[-3000:]
    assert verdicts(result) == {"PERF-BACKUP-DURATION": "pass", "REL-BACKUP-RESTORE": "fail"}
    assert "rento-restore-missing" in reasons(result, "REL-BACKUP-RESTORE")
    assert not leftover_objects(result.run_id())
