"""A wheel built from this repository is a working `releasegate`, away from the repository.

The wheel goes into a fresh virtual environment; the dependencies are borrowed from the running
environment (a path entry after the new site-packages) so the test needs no index and stays
fast. Then, from an unrelated directory and with the profile in a temporary folder, the
installed command runs the installed suites against the reference application.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
def _sources() -> tuple[str, ...]:
    """What the wheel is built from: the packaging metadata and every folder it maps."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    return ("pyproject.toml", "README.md", *sorted(set(config["package-dir"].values())))


SOURCES = _sources()


def _run(argv: list[str], *, cwd: Path, timeout: float,
         env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=env, check=False)
    sys.stdout.write(f"$ {' '.join(argv)}\n{done.stdout[-4000:]}{done.stderr[-4000:]}\n")
    return done


def _build_wheel(tmp: Path) -> Path:
    # A copy, so the build's own files (build/, *.egg-info) never land in the working tree.
    source = tmp / "source"
    source.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in SOURCES:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=ignore)
        else:
            shutil.copy2(path, source / name)
    argv = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp / "dist")]
    try:
        import setuptools  # noqa: F401 - the build backend, when it is already here

        argv.append("--no-build-isolation")
    except ImportError:
        pass
    built = _run([*argv, str(source)], cwd=tmp, timeout=300)
    assert built.returncode == 0, built.stderr
    wheels = list((tmp / "dist").glob("releasegate-*.whl"))
    assert len(wheels) == 1
    return wheels[0]


def _install(wheel: Path, tmp: Path) -> tuple[Path, Path]:
    venv = tmp / "venv"
    made = _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp, timeout=120)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()"
                      "['purelib'])"], cwd=tmp, timeout=60).stdout.strip())
    # Dependencies come after the new site-packages: the wheel's releasegate wins, and this
    # environment's .pth files (an editable releasegate among them) are not processed.
    (site / "zz_borrowed_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    installed = _run([sys.executable, "-m", "pip", "--python", str(python), "install",
                      "--no-deps", "--no-index", "-q", str(wheel)], cwd=tmp, timeout=300)
    assert installed.returncode == 0, installed.stderr
    return venv, site


def _profile_outside_the_repository(tmp: Path) -> Path:
    """The reference profile moved away: its paths relative to profiles/ made absolute."""
    text = (REPO / "profiles" / "rento.toml").read_text()
    assert 'context = "../sut/rento"' in text
    profile = tmp / "x.toml"
    profile.write_text(text.replace('= "../', f'= "{REPO}/'))
    return profile


def test_installed_wheel_runs_the_installed_suites(tmp_path: Path) -> None:
    wheel = _build_wheel(tmp_path)
    venv, site = _install(wheel, tmp_path)
    command = str(venv / "bin" / "releasegate")

    version = _run([command, "--version"], cwd=tmp_path, timeout=60)
    assert version.returncode == 0 and version.stdout.startswith("releasegate "), version.stderr

    # The suites and fixtures ship inside the releasegate namespace, and only there.
    assert (site / "releasegate" / "suites" / "deploy" / "test_nonroot.py").is_file()
    assert (site / "releasegate" / "fixtures" / "stack.py").is_file()
    assert (site / "releasegate" / "gate_pytest.ini").is_file()
    assert not (site / "suites").exists() and not (site / "fixtures").exists()
    entry_points = next(site.glob("releasegate-*.dist-info")) / "entry_points.txt"
    assert "[pytest11]" in entry_points.read_text()
    assert "releasegate.pytest_plugin = releasegate.pytest_plugin" in entry_points.read_text()

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # Without a profile, and none nearby: one line, exit 1.
    bare = _run([command, "run", "--no-html"], cwd=elsewhere, timeout=60)
    assert bare.returncode == 1
    assert bare.stderr.strip().count("\n") == 0 and "no --profile given" in bare.stderr

    profile = _profile_outside_the_repository(tmp_path)
    reports = tmp_path / "reports"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTEST_ADDOPTS")}
    run = _run([command, "run", "--profile", str(profile), "--suite", "deploy", "--no-html",
                "--reports-dir", str(reports), "--", "-k", "nonroot"],
               cwd=elsewhere, timeout=600, env=env)
    output = run.stdout + run.stderr
    assert run.returncode in (0, 3), output  # a partial run never reads as a harness error
    assert f"rootdir: {site / 'releasegate'}" in output
    assert "configfile: gate_pytest.ini" in output
    assert "suites/deploy/test_nonroot.py ." in output
    summary = json.loads((reports / "summary.json").read_text())
    verdicts = {r["id"]: r["verdict"] for r in summary["criteria"]}
    assert verdicts["SEC-NONROOT"] == "pass"

    # The installed command also writes a user's starter profile, and it loads.
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps({"openapi": "3.1.0", "info": {"title": "Shop"},
                                "paths": {"/healthz": {"get": {}}}}))
    init = _run([command, "init", "--openapi", str(spec), "--dockerfile",
                 str(REPO / "sut" / "rento" / "Dockerfile")], cwd=elsewhere, timeout=60)
    assert init.returncode == 0, init.stderr
    loads = _run([str(venv / "bin" / "python"), "-c", "from releasegate.config.profile import "
                  "load_profile as load; print(load('releasegate.toml').app.health_path)"],
                 cwd=elsewhere, timeout=60)
    assert loads.stdout.strip() == "/healthz", loads.stderr
