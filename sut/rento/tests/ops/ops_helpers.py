"""Helpers shared by the operations tests (imported by name; fixtures live in conftest.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

ROOT = Path(__file__).resolve().parents[2]  # sut/rento


def create_schema(url: str) -> None:
    """The application schema, the way production gets it: Alembic upgrade to head."""
    from rento.ops import schema

    schema.upgrade_head(url)


def ops_env(url: str, backup_dir: Path, **extra: str) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RENTO_", "PG"))}
    env.update(
        {
            "PYTHONPATH": str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
            "DATABASE_URL": url,
            "RENTO_ENV": "development",
            "RENTO_BACKUP_DIR": str(backup_dir),
            "RENTO_LOG_FILE": "",
            "RENTO_ALERT_RETRIES": "2",
            "RENTO_ALERT_TIMEOUT_SECONDS": "2",
        }
    )
    env.update(extra)
    return env


def run_cli(
    args: List[str], env: Dict[str, str], timeout: float = 120
) -> "subprocess.CompletedProcess[str]":
    """``python -m rento.cli ARGS`` in a child process, as operators and the harness run it."""
    return subprocess.run(
        [sys.executable, "-m", "rento.cli", *args],
        env=env,
        cwd=str(ROOT),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def last_json(stdout: str) -> Dict[str, Any]:
    lines = [ln for ln in stdout.splitlines() if ln.strip().startswith("{")]
    assert lines, f"no JSON on stdout: {stdout!r}"
    return json.loads(lines[-1])
