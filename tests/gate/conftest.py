"""Helpers for running whole gates as a user would: the CLI in a subprocess, then the summary."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
RUN_LABEL = "io.releasegate.run"


@dataclass
class GateResult:
    exit_code: int
    output: str
    reports: Path

    @property
    def summary(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.reports / "summary.json").read_text())
        return data

    def verdict(self, criterion: str) -> str:
        for record in self.summary["criteria"]:
            if record["id"] == criterion:
                return str(record["verdict"])
        raise KeyError(criterion)

    def run_id(self) -> str:
        return str(self.summary["run"]["id"])


@pytest.fixture
def run_gate(tmp_path: Path) -> Any:
    def run(*args: str, env: dict[str, str] | None = None, timeout: float = 900) -> GateResult:
        reports = tmp_path / "reports"
        proc = subprocess.run(
            [sys.executable, "-m", "releasegate", "run", "--reports-dir", str(reports),
             "--no-html", *args],
            cwd=REPO, capture_output=True, text=True, timeout=timeout,
            env={**os.environ, **(env or {})},
        )
        output = proc.stdout + proc.stderr
        sys.stdout.write(output[-6000:])
        return GateResult(proc.returncode, output, reports)

    return run


def leftover_objects(run_id: str) -> list[str]:
    """Containers and networks the run left behind (there must be none)."""
    import docker

    client = docker.from_env()
    selector = {"label": f"{RUN_LABEL}={run_id}"}
    names = [c.name for c in client.containers.list(all=True, filters=selector)]
    names += [n.name for n in client.networks.list(filters=selector)]
    return names
