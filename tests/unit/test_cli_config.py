"""`releasegate run` brings its own pytest configuration: the suites' markers and strict options
hold wherever the profile lives and whatever directory the run starts from, and a user's
pytest.ini or conftest.py around the suites or the working directory changes nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from releasegate import cli
from releasegate.errors import ConfigError

PROFILE = """
[profile]
name = "cli-config"
[stack]
provider = "external"
[external]
base_url = "http://127.0.0.1:9"
[services.app]
kind = "app"
image = "unused:1"
port = 8000
"""

# Collect through the CLI's own pytest arguments, with the suites folder swapped for ours.
COLLECT = """
import sys
from pathlib import Path
import pytest
from releasegate import cli
cli.suites_dir = lambda: Path(sys.argv[1])
args = cli._parser().parse_args(["run", "--profile", sys.argv[2], "--reports-dir", sys.argv[3],
                                 "--no-html", "--", "--collect-only", "-q"])
sys.exit(int(pytest.main(cli.pytest_arguments(args))))
"""

HOSTILE_INI = "[pytest]\naddopts = --no-such-option\nmarkers =\n    unrelated: not ours\n"
HOSTILE_CONFTEST = "raise RuntimeError('a conftest.py outside the suites was loaded')\n"


def _suites(root: Path, body: str) -> Path:
    suites = root / "lib" / "suites"
    (suites / "deploy").mkdir(parents=True)
    (suites / "__init__.py").write_text("")
    (suites / "deploy" / "__init__.py").write_text("")
    (suites / "deploy" / "test_probe.py").write_text(f"import pytest\n\n{body}")
    return suites


def _collect(tmp_path: Path, body: str) -> subprocess.CompletedProcess[str]:
    # The suites sit in a user's project whose pytest.ini and conftest.py would break any run
    # that read them; the profile lives elsewhere; the run starts from a third directory that
    # has its own hostile configuration.
    project = tmp_path / "project"
    suites = _suites(project, body)
    (project / "pytest.ini").write_text(HOSTILE_INI)
    (project / "conftest.py").write_text(HOSTILE_CONFTEST)
    profile = tmp_path / "profiles" / "p.toml"
    profile.parent.mkdir()
    profile.write_text(PROFILE)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    (cwd / "pyproject.toml").write_text("[tool.pytest.ini_options]\naddopts = '--no-such-option'\n")
    (cwd / "conftest.py").write_text(HOSTILE_CONFTEST)
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    env.pop("PYTEST_ADDOPTS", None)
    return subprocess.run(
        [sys.executable, "-c", COLLECT, str(suites), str(profile), str(tmp_path / "reports")],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False,
    )


def test_suite_markers_come_with_the_plugin(tmp_path: Path) -> None:
    result = _collect(tmp_path, '@pytest.mark.deploy\n@pytest.mark.disruptive\n'
                      '@pytest.mark.criterion("FUNC-HEALTH")\ndef test_ok():\n    pass\n')
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "suites/deploy/test_probe.py::test_ok" in output
    assert "gate_pytest.ini" in output or "1 test collected" in output


def test_strict_markers_hold_outside_the_repository(tmp_path: Path) -> None:
    result = _collect(tmp_path, "@pytest.mark.deplyo\ndef test_typo():\n    pass\n")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "'deplyo' not found in `markers`" in output


def test_the_suites_come_from_the_releasegate_suites_package() -> None:
    import releasegate.suites

    assert cli.suites_dir() == Path(releasegate.suites.__file__).resolve().parent
    assert (cli.suites_dir() / "deploy").is_dir()


def test_no_profile_and_none_nearby_is_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "CHECKOUT_PROFILE", tmp_path / "absent" / "rento.toml")
    with pytest.raises(ConfigError):
        cli.default_profile()
    assert cli.main(["run", "--no-html"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "no --profile given" in err[0] and "releasegate init" in err[0]
    (tmp_path / "releasegate.toml").write_text(PROFILE)
    assert cli.default_profile() == Path("releasegate.toml")
