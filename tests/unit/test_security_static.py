"""SEC-SAST and SEC-DEPS logic: bandit's report as findings, the offline OSV matcher, the
database's age, and the fall-back from pip-audit when its service does not answer."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.version import Version

from releasegate.config.sections.security_checks import DepsSettings
from releasegate.measure.security import deps
from releasegate.measure.security.advisories import AdvisoryDatabase, AdvisoryDbMissing
from releasegate.measure.security.sast import parse_report, run_bandit
from releasegate.measure.security.support import ToolFailed, ToolRun, split_by_floor

TODAY = date(2026, 11, 29)
SNAPSHOT = Path(__file__).resolve().parents[3] / "shared" / "advisory-db"


def test_bandit_flags_a_shell_command_with_its_file_and_line(tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "ok.py").write_text("x = 1\n")
    (app / "ops.py").write_text(
        "import subprocess\n\n\ndef run(name):\n"
        "    return subprocess.run(f'ls {name}', shell=True)\n")
    result = run_bandit(app)
    assert result.files == 2
    shell = [f for f in result.findings if f.rule == "B602"]
    assert [(f.location, f.severity, f.criterion) for f in shell] == [
        ("app/ops.py:5", "high", "SEC-SAST")]
    assert "shell=True" in shell[0].evidence and "-t B602" in shell[0].reproduction
    counted, listed = split_by_floor(result.findings, "medium")
    assert shell[0] in counted and all(f.severity == "low" for f in listed)


def test_a_source_path_that_does_not_exist_is_a_tool_failure(tmp_path: Path) -> None:
    with pytest.raises(ToolFailed, match=r"\[security\] source .*missing does not exist"):
        run_bandit(tmp_path / "missing")


def test_a_file_bandit_could_not_parse_is_a_finding_not_a_gap(tmp_path: Path) -> None:
    report = {"metrics": {"_totals": {"loc": 3}, str(tmp_path / "app/a.py"): {}},
              "results": [], "errors": [{"filename": str(tmp_path / "app/b.py"),
                                         "reason": "syntax error while parsing AST"}]}
    result = parse_report(report, tmp_path / "app")
    assert [(f.rule, f.location, f.severity) for f in result.findings] == [
        ("unscanned", "app/b.py:0", "medium")]


def _advisory(root: Path, package: str, ident: str, events: list[dict[str, str]],
              versions: list[str] = (), modified: str = "2024-10-10T17:22:00Z",  # type: ignore[assignment]
              withdrawn: bool = False) -> None:
    folder = root / "vulns" / package
    folder.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = {
        "id": ident, "modified": modified, "details": f"{package} breaks. More text.",
        "aliases": [f"CVE-{ident}"],
        "affected": [{"package": {"name": package, "ecosystem": "PyPI"},
                      "ranges": [{"type": "ECOSYSTEM", "events": events}],
                      "versions": list(versions)}]}
    if withdrawn:
        data["withdrawn"] = "2024-01-01T00:00:00Z"
    import yaml

    (folder / f"{ident}.yaml").write_text(yaml.safe_dump(data))


@pytest.fixture
def db_root(tmp_path: Path) -> Path:
    root = tmp_path / "advisory-db"
    _advisory(root, "idna", "PYSEC-1", [{"introduced": "0.1"}, {"fixed": "3.7"}],
              modified="2024-07-11T00:00:00Z")
    _advisory(root, "Demo-Pkg", "PYSEC-2", [{"introduced": "1.0"}, {"last_affected": "1.4"}])
    _advisory(root, "listed", "PYSEC-3", [], versions=["2.0.1"])
    _advisory(root, "gone", "PYSEC-4", [{"introduced": "0"}], withdrawn=True)
    return root


def test_offline_matcher_follows_ranges_last_affected_and_version_lists(db_root: Path) -> None:
    db = AdvisoryDatabase.open(db_root)
    assert db.dated == date(2024, 10, 10) and db.files == 4
    assert [a.id for a in db.matches("IDNA", "3.6")] == ["PYSEC-1"]
    assert db.matches("idna", "3.7") == [] and db.matches("idna", "0.0.9") == []
    assert [a.id for a in db.matches("demo_pkg", "1.4")] == ["PYSEC-2"]
    assert db.matches("demo-pkg", "1.4.1") == []
    assert [a.id for a in db.matches("listed", "2.0.1")] == ["PYSEC-3"]
    assert db.matches("listed", "2.0.2") == [] and db.matches("gone", "1.0") == []


@given(st.tuples(st.integers(0, 20), st.integers(0, 20), st.integers(0, 20)))
def test_one_range_affects_exactly_introduced_up_to_fixed(parts: tuple[int, int, int]) -> None:
    from releasegate.measure.security.advisories import _in_range

    low, high, probe = (Version(f"1.{n}") for n in parts)
    if high < low:  # the database's events are sorted before they are read
        low, high = high, low
    events = (("introduced", str(low)), ("fixed", str(high)))
    assert _in_range(probe, events) == (low <= probe < high)


def test_a_missing_database_is_a_precise_failure(tmp_path: Path) -> None:
    with pytest.raises(AdvisoryDbMissing, match="does not exist"):
        AdvisoryDatabase.open(tmp_path / "nowhere")
    shipped = deps.ShippedVersions({"idna": "3.6"}, "test")
    settings = DepsSettings(advisory_db=tmp_path / "nowhere", pip_audit="never")
    with pytest.raises(ToolFailed, match=r"nowhere does not exist; point \[security.deps\]"):
        deps.audit(shipped, settings, max_age_days=90, today=TODAY)


def test_a_stale_database_still_reports_what_it_finds_but_cannot_clear(db_root: Path) -> None:
    shipped = deps.ShippedVersions({"idna": "3.6", "jinja2": "3.1.6"}, "test")
    settings = DepsSettings(advisory_db=db_root, pip_audit="never")
    old = deps.audit(shipped, settings, max_age_days=90, today=TODAY)
    assert [(f.rule, f.location) for f in old.findings] == [("PYSEC-1", "idna==3.6")]
    assert "780 days old (dated 2024-10-10), older than the 90-day limit" in old.too_old_reason
    fresh = deps.audit(shipped, settings, max_age_days=90, today=date(2024, 11, 1))
    assert fresh.too_old_reason == "" and fresh.database_age_days == 22


def test_lock_file_pins_with_extras_and_markers(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.txt"
    lock.write_text("# pins\npsycopg[binary]==3.2.13\nidna==3.6 ; python_version >= '3.8'\n"
                    "-r other.txt\nflask>=2\n")
    assert deps.versions_from_lock_file(lock).versions == {"psycopg": "3.2.13", "idna": "3.6"}
    with pytest.raises(ToolFailed, match="pins no version"):
        (tmp_path / "empty.txt").write_text("flask\n")
        deps.versions_from_lock_file(tmp_path / "empty.txt")


def _fake_pip_audit(monkeypatch: pytest.MonkeyPatch, stdout: str, stderr: str = "") -> list[str]:
    seen: list[str] = []

    def run_tool(argv: list[str], **_: Any) -> ToolRun:
        seen.append(Path(argv[argv.index("-r") + 1]).read_text())
        return ToolRun(argv, 1, stdout, stderr, 0.1)

    monkeypatch.setattr(deps, "run_tool", run_tool)
    return seen


def test_pip_audit_without_an_answer_falls_back_to_the_offline_database(
    db_root: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent = _fake_pip_audit(monkeypatch, "", "ERROR: idna: Dependency not found on PyPI")
    shipped = deps.ShippedVersions({"idna": "3.6", "app": "1.0"}, "test", frozenset({"app"}))
    result = deps.audit(shipped, DepsSettings(advisory_db=db_root), max_age_days=90,
                        today=TODAY)
    assert sent == ["idna==3.6\n"]  # the app's own local package is not sent to an index
    assert result.findings[0].tool == "advisory-db" and "offline" in result.source
    assert any("did not get an answer" in n for n in result.notes)


def test_pip_audit_answers_when_its_service_does(db_root: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    answer = {"dependencies": [{"name": "idna", "version": "3.6", "vulns": [
        {"id": "GHSA-jjg7", "fix_versions": ["3.7"], "aliases": ["CVE-2024-3651"],
         "description": "Quadratic time. Details."}]}]}
    _fake_pip_audit(monkeypatch, json.dumps(answer))
    result = deps.audit(deps.ShippedVersions({"idna": "3.6"}, "test"),
                        DepsSettings(advisory_db=db_root), max_age_days=90, today=TODAY)
    assert [(f.tool, f.rule, f.location) for f in result.findings] == [
        ("pip-audit", "GHSA-jjg7", "idna==3.6")]
    assert result.too_old_reason == "" and "fixed in 3.7" in result.findings[0].evidence


@pytest.mark.skipif(not SNAPSHOT.is_dir(), reason="the shared advisory snapshot is not here")
def test_the_shared_snapshot_knows_idna_3_6_and_its_date() -> None:
    db = AdvisoryDatabase.open(SNAPSHOT)
    assert db.dated == date(2024, 10, 10)
    assert "PYSEC-2024-60" in [a.id for a in db.matches("idna", "3.6")]
    assert db.matches("idna", "3.20") == []


def test_the_advisory_database_is_found_without_a_profile_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from releasegate.measure.security import deps

    monkeypatch.setenv(deps.ADVISORY_DB_ENV, str(tmp_path / "mirror"))
    assert deps.default_advisory_db() == tmp_path / "mirror"
    monkeypatch.delenv(deps.ADVISORY_DB_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    bundled = deps.bundled_advisory_db()
    assert (bundled / "SNAPSHOT.txt").is_file()
    assert "dated 2024-10-10" in (bundled / "SNAPSHOT.txt").read_text()
    assert len(list((bundled / "vulns").rglob("*.yaml"))) > 2000
    assert deps.bundled_advisory_db() == bundled  # unpacked once
