"""The detection matrix scores variants caught by every criterion they name, and counts the
clean application's red criteria as false alarms — and never passes on nothing."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from releasegate.errors import ConfigError
from releasegate.selfcheck.catalogue import Variant, load_variant
from releasegate.selfcheck.matrix import GateOutcome, Matrix, clean_gates, run_matrix
from releasegate.selfcheck.report import render_markdown, write_selfcheck


def v(name: str, expect: tuple[str, ...], gate: tuple[str, ...] = ("--suite", "deploy")) -> Variant:
    return Variant(name=name, description=f"{name} is broken", expect=expect, gate=gate)


def fake_gate(outcomes: dict[str, dict[str, str]]):  # type: ignore[no-untyped-def]
    def gate(profile: Path, arguments: Sequence[str], reports: Path) -> GateOutcome:
        variant = next((a.split("=", 1)[1] for a in arguments if "VARIANT=" in a), "clean")
        verdicts = outcomes.get(variant, {})
        return GateOutcome(2 if "fail" in verdicts.values() else 0, verdicts,
                           dict.fromkeys(verdicts, "why"), 1.0, str(reports))
    return gate


def test_score_false_alarms_and_shared_clean_runs(tmp_path: Path) -> None:
    variants = [v("a", ("FUNC-HEALTH",), ("--suite", "deploy", "--", "-k", "health")),
                v("b", ("FUNC-HEALTH", "SEC-NONROOT")),
                v("c", ("SEC-NONROOT",), ("--suite", "e2e"))]
    gate = fake_gate({
        "a": {"FUNC-HEALTH": "fail"},
        "b": {"FUNC-HEALTH": "fail", "SEC-NONROOT": "pass"},   # missed one of two
        "c": {"SEC-NONROOT": "fail"},
        "clean": {"FUNC-HEALTH": "pass", "SEC-NONROOT": "error"},
    })
    matrix = run_matrix(tmp_path / "p.toml", variants, tmp_path, lambda _: None, gate=gate)
    assert [x.caught for x in matrix.variants] == [True, False, True]
    assert matrix.score == pytest.approx(2 / 3)
    # One clean run of every suite the gates name, whole.
    assert sorted(matrix.clean) == ["--suite deploy --suite e2e"]
    assert set(matrix.false_alarms) == {"SEC-NONROOT"}
    assert not matrix.passed
    text = render_markdown(matrix)
    assert text.startswith("# ❌ Self-check: 2 of 3 variants caught (67%), 1 false alarm")
    assert "`b` (b is broken): SEC-NONROOT was pass" in text
    written = write_selfcheck(matrix, tmp_path)
    data = json.loads(written["json"].read_text())
    assert data["caught"] == 2 and data["passed"] is False
    results = list((tmp_path / "selfcheck" / "allure-results").glob("*-result.json"))
    assert len(results) == 4  # three variants, one clean run


def test_clean_runs_share_suites_and_keep_other_options_apart() -> None:
    variants = [v("a", ("FUNC-HEALTH",), ("--suite", "deploy", "--", "-k", "health")),
                v("b", ("FUNC-HEALTH",), ("--suite", "load", "--suite", "deploy")),
                v("c", ("FUNC-HEALTH",), ("--suite", "deploy", "--set", "stack.x=1")),
                v("d", ("FUNC-HEALTH",), ("--suite", "soak"))]
    assert clean_gates(variants) == [("--suite", "deploy", "--suite", "load", "--suite", "soak"),
                                     ("--suite", "deploy", "--set", "stack.x=1")]


def test_a_gate_that_did_not_run_is_missed_and_says_so(tmp_path: Path) -> None:
    def crashed(profile: Path, arguments: Sequence[str], reports: Path) -> GateOutcome:
        return GateOutcome(1, {}, {}, 0.1, str(reports))
    matrix = run_matrix(tmp_path / "p.toml", [v("a", ("FUNC-HEALTH",))], tmp_path,
                        lambda _: None, gate=crashed)
    assert matrix.score == 0.0 and not matrix.passed
    assert "the gate did not run (exit 1)" in render_markdown(matrix)


def test_nothing_run_is_not_a_pass(tmp_path: Path) -> None:
    assert not Matrix().passed
    gate = fake_gate({"a": {"FUNC-HEALTH": "fail"}})  # the clean app produced no summary
    matrix = run_matrix(tmp_path / "p.toml", [v("a", ("FUNC-HEALTH",))], tmp_path,
                        lambda _: None, gate=gate)
    assert matrix.score == 1.0 and matrix.clean_failures and not matrix.passed


def test_a_variant_must_name_criteria_and_a_gate(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text(json.dumps({"description": "d", "expect": [], "gate": ["--suite", "e2e"]}))
    with pytest.raises(ConfigError, match="at least one criterion"):
        load_variant(path)
    path.write_text(json.dumps({"expect": ["FUNC-HEALTHY"], "gate": ["--suite", "e2e"]}))
    with pytest.raises(ConfigError, match="unknown criterion"):
        load_variant(path)
    path.write_text(json.dumps({"expect": ["FUNC-HEALTH"]}))
    with pytest.raises(ConfigError, match="gate"):
        load_variant(path)
    path.write_text(json.dumps({"expect": ["FUNC-HEALTH"], "gate": ["--suite", "deploy", "--",
                                                                     "-k", "x"],
                                "build_args": {"A": "1"}}))
    loaded = load_variant(path)
    assert loaded.suites == ("deploy",)
    assert loaded.run_arguments() == ["--set", "services.app.build.args.VARIANT=x", "--set",
                                      "services.app.build.args.A=1", "--suite", "deploy", "--",
                                      "-k", "x"]


def test_a_patched_source_copy_is_named_absolutely(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """`--reports-dir reports` is relative; the override must not be read against the
    profile's folder."""
    from releasegate.config.profile import load_profile
    from releasegate.selfcheck.catalogue import source_arguments
    repo = Path(__file__).resolve().parents[2]
    profile = load_profile(repo / "profiles" / "rento.toml")
    variant = load_variant(repo / "sut" / "rento" / "variants" / "sast-shell-command.json")
    monkeypatch.chdir(tmp_path)
    arguments = source_arguments(variant, profile, Path("reports") / "sources")
    assert arguments[0] == "--set"
    path = Path(arguments[1].split("=", 1)[1])
    assert path.is_absolute() and (path / "ops" / "backup.py").is_file()
    assert "shell=True" in (path / "ops" / "backup.py").read_text()
