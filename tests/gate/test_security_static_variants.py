"""The static, image and container half of the security suite is only worth its failures: each
broken variant of the reference application turns the criteria it names red, the clean
application has no finding on them, and bad input is an error, never a pass."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.gate.conftest import REPO, GateResult, leftover_objects

pytestmark = pytest.mark.gate
VARIANTS = REPO / "sut" / "rento" / "variants"
MINE = ("sast-shell-command", "vulnerable-dependency", "secret-in-env", "pii-in-log",
        "backup-world-readable", "db-tls-optional")
CRITERIA = {"SEC-SAST", "SEC-DEPS", "SEC-SECRETS-ENV", "SEC-LOG-NO-SENSITIVE",
            "SEC-CONTAINER-HARDENING", "SEC-DB-TLS", "SEC-BACKUP-PERMS"}
# This half's test modules; the dynamic half of the suite lives beside them.
THIS_HALF = "test_static or test_image or test_secrets or test_pii or test_db_tls or " \
            "test_backup_perms"


def variant(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VARIANTS / f"{name}.json").read_text())
    return data


def source_with(name: str, tmp_path: Path) -> Path:
    """The application's source as the variant ships it. Static analysis reads the profile's
    source folder, not the image, so a variant that says ``"source_copy": true`` is judged on
    a copy of the source with the variant applied."""
    root = tmp_path / "app"
    shutil.copytree(REPO / "sut" / "rento" / "rento", root / "rento")
    shutil.copytree(VARIANTS, root / "variants")
    shutil.copyfile(REPO / "sut" / "rento" / "requirements.txt", root / "requirements.txt")
    subprocess.run([sys.executable, str(root / "variants" / "apply.py"), name], check=True,
                   capture_output=True)
    return root / "rento"


def build_args(name: str) -> list[str]:
    pairs = {"VARIANT": name, **variant(name).get("build_args", {})}
    return [arg for key, value in pairs.items()
            for arg in ("--set", f"services.app.build.args.{key}={value}")]


def verdicts(result: GateResult) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in result.summary["criteria"]}


def sarif_results(result: GateResult) -> list[dict[str, Any]]:
    sarif = json.loads((result.reports / "security.sarif").read_text())
    return list(sarif["runs"][0]["results"])


def test_clean_reference_application_has_no_finding(run_gate: Any) -> None:
    result = run_gate("--suite", "security", "--", "-k", THIS_HALF)
    judged = verdicts(result)
    assert set(judged) == CRITERIA, result.output[-3000:]
    not_passing = {cid: r["reasons"] for cid, r in judged.items()
                   if r["verdict"] != "pass" and cid != "SEC-DEPS"}
    assert not not_passing
    # The shared advisory snapshot is older than the 90-day limit: nothing found, nothing
    # cleared. That is the honest verdict, and the report says how old the database is.
    deps = judged["SEC-DEPS"]
    assert deps["verdict"] == "insufficient", deps["reasons"]
    assert any("days old (dated 2024-10-10)" in r for r in deps["reasons"])
    assert result.exit_code == 3 and sarif_results(result) == []
    summary_md = (result.reports / "summary.md").read_text()
    assert "## Security findings" not in summary_md
    assert not leftover_objects(result.run_id())


@pytest.mark.selfcheck
@pytest.mark.parametrize("name", MINE)
def test_broken_variant_turns_what_it_names_red(run_gate: Any, name: str,
                                                tmp_path: Path) -> None:
    spec = variant(name)
    source = (["--set", f"security.source={source_with(name, tmp_path)}"]
              if spec.get("source_copy") else [])
    result = run_gate(*build_args(name), *source, *spec["gate"])
    judged = verdicts(result)
    assert result.exit_code == 2, result.output[-3000:]
    assert {c: judged.get(c, {}).get("verdict", "not judged") for c in spec["expect"]} == \
        dict.fromkeys(spec["expect"], "fail")
    flagged = {r["properties"]["criterion"] for r in sarif_results(result)}
    assert set(spec["expect"]) <= flagged
    assert "## Security findings" in (result.reports / "summary.md").read_text()
    assert not leftover_objects(result.run_id())


def test_a_missing_source_and_an_unreachable_database_are_errors(run_gate: Any,
                                                                 tmp_path: Path) -> None:
    result = run_gate("--suite", "security", "--set", f"security.source={tmp_path}/no-src",
                      "--set", f"security.deps.advisory_db={tmp_path}/no-db",
                      "--", "-k", "static_analysis or shipped_dependencies")
    judged = verdicts(result)
    assert result.exit_code == 1
    assert judged["SEC-SAST"]["verdict"] == "error"
    assert any(f"[security] source {tmp_path}/no-src does not exist" in r
               for r in judged["SEC-SAST"]["reasons"])
    assert judged["SEC-DEPS"]["verdict"] == "error"
    assert any(f"{tmp_path}/no-db does not exist" in r for r in judged["SEC-DEPS"]["reasons"])


def test_a_waiver_without_expiry_is_one_line_and_no_run(run_gate: Any, tmp_path: Path) -> None:
    waivers = tmp_path / "waivers.toml"
    waivers.write_text('[[waiver]]\nrule = "B608"\nreason = "reviewed and accepted by us"\n')
    result = run_gate("--suite", "security", "--set", f"security.waivers_file={waivers}")
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if "expires" in line]
    assert lines and "waiver[0].expires: missing required key" in lines[0]
    assert not (result.reports / "summary.json").exists() or \
        result.summary["release"]["verdict"] != "scope_passed"


def test_every_variant_of_this_half_has_a_focused_gate() -> None:
    for name in MINE:
        spec = variant(name)
        assert spec["description"] and set(spec["expect"]) <= CRITERIA, name
        assert spec["gate"][:2] == ["--suite", "security"], name
