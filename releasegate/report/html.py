"""The single-file HTML report, rendered by Allure Report 3 from reports/allure-results.

HTML is a convenience: it needs Node.js and the pinned npm toolchain in reports/ (package.json,
package-lock.json, allurerc.mjs). When either is missing or Allure fails, these functions say
so through ``progress`` and return; they never raise, because the verdict, summary.md and
junit.xml must not depend on a browser-friendly copy of them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

Progress = Callable[[str], None]

RESULTS = "allure-results"
OUTPUT = "html"
CONFIG = "allurerc.mjs"
INSTALL_TIMEOUT_S = 600.0
GENERATE_TIMEOUT_S = 600.0
# The pinned npm toolchain (package.json, lock file, allurerc.mjs) lives in the repository's
# reports/ folder, whatever --reports-dir a run writes to.
TOOLCHAIN = Path(__file__).resolve().parents[2] / "reports"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_TAIL_LINES = 15


@dataclass(frozen=True)
class _Outcome:
    ok: bool
    output: str


def _clean(text: str) -> str:
    return _ANSI.sub("", text).strip()


def _tail(text: str) -> str:
    return "\n".join(_clean(text).splitlines()[-_TAIL_LINES:])


def _run(command: Sequence[str], cwd: Path, timeout: float) -> _Outcome:
    # No colour codes in captured output; no update nagging from npm on every run.
    env = {**os.environ, "NO_COLOR": "1", "FORCE_COLOR": "0", "NPM_CONFIG_UPDATE_NOTIFIER": "false"}
    try:
        done = subprocess.run(
            list(command), cwd=cwd, env=env, capture_output=True, text=True,
            encoding="utf-8", errors="replace", timeout=timeout, check=False,
        )
    except subprocess.TimeoutExpired:
        return _Outcome(False, f"{command[0]} did not finish within {timeout:.0f} s")
    except OSError as exc:
        return _Outcome(False, f"could not start {command[0]}: {exc}")
    output = _clean(f"{done.stdout}\n{done.stderr}")
    if done.returncode != 0:
        return _Outcome(False, f"exit code {done.returncode}\n{_tail(output)}")
    return _Outcome(True, output)


def _pinned_version(reports_dir: Path) -> str | None:
    try:
        package = json.loads((reports_dir / "package.json").read_text(encoding="utf-8"))
        return str(package["dependencies"]["allure"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _installed_version(reports_dir: Path) -> str | None:
    try:
        package = (reports_dir / "node_modules" / "allure" / "package.json").read_text("utf-8")
        return str(json.loads(package)["version"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _toolchain(reports_dir: Path, progress: Progress) -> tuple[str, Path] | str:
    """(node, allure cli) ready to run, or why not."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        return "Node.js and npm are not installed (Node 20 or newer is needed)"
    pinned = _pinned_version(reports_dir)
    if pinned is None:
        return f"{reports_dir / 'package.json'} is missing or does not pin allure"
    if _installed_version(reports_dir) != pinned:
        # The lock file pins every transitive package; `npm ci` installs exactly that.
        progress(f"installing Allure Report {pinned} in {reports_dir} (npm ci)")
        installed = _run([npm, "ci", "--no-audit", "--no-fund"], reports_dir, INSTALL_TIMEOUT_S)
        if not installed.ok:
            return f"npm ci failed: {installed.output}"
        if _installed_version(reports_dir) != pinned:
            return f"npm ci did not install allure {pinned}"
    return node, reports_dir / "node_modules" / "allure" / "cli.js"


def _index(output: Path) -> Path | None:
    for candidate in (output / "index.html", output / "awesome" / "index.html"):
        if candidate.is_file():
            return candidate
    return None


def _workdir(reports_dir: Path) -> Path:
    """The directory Allure runs in: the config resolves everything relative to itself."""
    target = reports_dir.resolve()
    if target != TOOLCHAIN:
        shutil.copyfile(TOOLCHAIN / CONFIG, target / CONFIG)
        link = target / "node_modules"
        if not link.exists():
            link.symlink_to(TOOLCHAIN / "node_modules", target_is_directory=True)
    return target


def generate_html(
    reports_dir: Path,
    progress: Progress = print,
    *,
    report_name: str | None = None,
    timeout: float = GENERATE_TIMEOUT_S,
) -> Path | None:
    """Render reports/html/index.html (one self-contained file); None, with a message, if not."""
    output = reports_dir / OUTPUT
    # A report left by an earlier run must not survive a failed generation and be mistaken
    # for this run's.
    shutil.rmtree(output, ignore_errors=True)
    if not (reports_dir / RESULTS).is_dir():
        progress(f"HTML report not generated: {reports_dir / RESULTS} does not exist")
        return None
    tools = _toolchain(TOOLCHAIN, progress)
    if isinstance(tools, str):
        progress(f"HTML report not generated: {tools}. summary.md and junit.xml are complete.")
        return None
    node, cli = tools
    workdir = _workdir(reports_dir)
    command = [node, str(cli), "generate", RESULTS, "-o", OUTPUT, "--config", CONFIG]
    if report_name:
        command += ["--report-name", report_name]
    generated = _run(command, workdir, timeout)
    index = _index(output)
    if not generated.ok or index is None:
        why = generated.output if not generated.ok else "no index.html was produced"
        progress(f"HTML report not generated: allure generate failed: {why}")
        return None
    return index


def run_quality_gate(
    reports_dir: Path, progress: Progress = print, *, timeout: float = GENERATE_TIMEOUT_S
) -> tuple[bool, str]:
    """Allure's own quality gate over reports/allure-results, as configured in allurerc.mjs.

    A gate that could not be evaluated is not a passed gate: ``(False, why)``.
    """
    if not (reports_dir / RESULTS).is_dir():
        return False, f"{reports_dir / RESULTS} does not exist"
    tools = _toolchain(TOOLCHAIN, progress)
    if isinstance(tools, str):
        return False, f"quality gate not evaluated: {tools}"
    node, cli = tools
    checked = _run([node, str(cli), "quality-gate", RESULTS, "--config", CONFIG],
                   _workdir(reports_dir), timeout)
    return checked.ok, checked.output
