"""The defect-variant mechanism: each variant applies cleanly; a drifted anchor fails loudly."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = sorted(p.stem for p in (ROOT / "variants").glob("*.json"))


def _copy_tree(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "rento", tmp_path / "rento")
    shutil.copytree(ROOT / "variants", tmp_path / "variants")
    shutil.copyfile(ROOT / "requirements.txt", tmp_path / "requirements.txt")  # pins, too
    return tmp_path


def test_required_variants_exist() -> None:
    assert {
        "never-healthy",
        "health-ignores-db",
        "error-stack-trace",
        "pg-without-tls",
        "migration-not-idempotent",
        "sqlite-drops-rows",
        "dashboard-miscounts",
        "alert-never-sent",
        "runs-as-root",
    } <= set(VARIANTS)


@pytest.mark.parametrize("name", VARIANTS)
def test_variant_applies_and_compiles(name: str, tmp_path: Path) -> None:
    root = _copy_tree(tmp_path)
    result = subprocess.run(
        [sys.executable, str(root / "variants/apply.py"), name],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    spec = json.loads((ROOT / "variants" / f"{name}.json").read_text())
    assert spec["description"] and spec["expect"]
    for edit in spec["edits"]:
        changed = (root / edit["file"]).read_text()
        assert edit["replace"] in changed and edit["find"] not in changed
        if edit["file"].endswith(".py"):
            compile(changed, edit["file"], "exec")
    # The clean tree is untouched.
    for edit in spec["edits"]:
        assert edit["find"] in (ROOT / edit["file"]).read_text()


def test_missing_anchor_fails_without_writing(tmp_path: Path) -> None:
    root = _copy_tree(tmp_path)
    spec = {
        "description": "broken",
        "expect": ["X"],
        "edits": [
            {"file": "rento/api/health.py", "find": "async def live", "replace": "async def x"},
            {"file": "rento/api/health.py", "find": "no such text", "replace": "y"},
        ],
    }
    (root / "variants/broken.json").write_text(json.dumps(spec))
    before = (root / "rento/api/health.py").read_text()
    result = subprocess.run(
        [sys.executable, str(root / "variants/apply.py"), "broken"], capture_output=True, text=True
    )
    assert result.returncode == 1 and "not found" in result.stderr
    assert (root / "rento/api/health.py").read_text() == before


def test_ambiguous_anchor_fails(tmp_path: Path) -> None:
    root = _copy_tree(tmp_path)
    spec = {
        "description": "d",
        "expect": ["X"],
        "edits": [{"file": "rento/api/health.py", "find": "return", "replace": "return"}],
    }
    (root / "variants/ambiguous.json").write_text(json.dumps(spec))
    result = subprocess.run(
        [sys.executable, str(root / "variants/apply.py"), "ambiguous"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1 and "ambiguous" in result.stderr
