"""The report's git revision is the tested application's, not the harness checkout's."""

from __future__ import annotations

import subprocess
from pathlib import Path

from releasegate.config.profile import load_profile
from releasegate.gate import application_revision, git_revision
from releasegate.stack.model import StackInfo, StartupRecord

REPO = Path(__file__).resolve().parents[2]


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout.strip()


def _app_repo(tmp_path: Path) -> Path:
    app = tmp_path / "app"
    app.mkdir()
    (app / "Dockerfile").write_text("FROM scratch\n")
    _git(app, "init", "-q")
    _git(app, "add", ".")
    _git(app, "-c", "user.name=t", "-c", "user.email=t@example.test", "commit", "-q", "-m", "x")
    return app


def _profile(tmp_path: Path, app_keys: str, tail: str = "") -> Path:
    path = tmp_path / "p.toml"
    path.write_text(f'[profile]\nname = "r"\n[services.app]\nkind = "app"\nport = 80\n'
                    f"{app_keys}\n{tail}")
    return path


def test_a_built_application_reports_its_build_contexts_revision(tmp_path: Path) -> None:
    app = _app_repo(tmp_path)
    profile = load_profile(_profile(tmp_path, 'build = { context = "app" }'))
    expected = _git(app, "rev-parse", "--short=12", "HEAD")
    assert application_revision(profile, None) == expected
    assert expected != git_revision(REPO)
    (app / "Dockerfile").write_text("FROM scratch\nLABEL changed=1\n")
    assert application_revision(profile, None) == f"{expected}-dirty"


def test_an_image_application_reports_its_image(tmp_path: Path) -> None:
    profile = load_profile(_profile(tmp_path, 'image = "shop:2.1"'))
    info = StackInfo(run_id="r", provider="containers", base_url="",
                     startup=StartupRecord(image_id="sha256:0123456789abcdef0123"))
    assert application_revision(profile, info) == "image shop:2.1 (sha256:0123456789ab)"


def test_an_external_environment_is_not_given_the_harness_revision(tmp_path: Path) -> None:
    profile = load_profile(_profile(tmp_path, 'image = "shop:2.1"',
                                    '[stack]\nprovider = "external"\n'
                                    '[external]\nbase_url = "http://127.0.0.1:9"\n'))
    assert application_revision(profile, None) == "unknown (an external environment)"
