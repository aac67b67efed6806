"""The command line: migrations (idempotent, match the models), config refusal, SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Dict, List

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from pgcluster import PgCluster, free_port
from sqlalchemy import create_engine

from rento.models import Base

ROOT = Path(__file__).resolve().parents[1]


def _env(**extra: str) -> Dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("RENTO_") and k != "DATABASE_URL"
    }
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


def _rento(
    args: List[str], env: Dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess:  # type: ignore[type-arg]
    return subprocess.run(
        [sys.executable, "-m", "rento.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture()
def fresh_db(pg: PgCluster) -> str:
    name = f"mig_{uuid.uuid4().hex[:8]}"
    pg.psql(f"CREATE DATABASE {name} OWNER {pg.user}")
    return pg.url.replace("/rento?", f"/{name}?")


def test_migrations_apply_idempotently_and_match_models(fresh_db: str) -> None:
    head = _rento(["db", "head"], _env()).stdout.strip()
    assert head == "0002"
    assert _rento(["db", "current", "--database-url", fresh_db], _env()).stdout.strip() == ""
    first = _rento(["db", "upgrade", "--database-url", fresh_db], _env())
    assert first.returncode == 0 and first.stdout.strip() == head, first.stderr
    second = _rento(["db", "upgrade"], _env(DATABASE_URL=fresh_db))
    assert second.returncode == 0 and second.stdout.strip() == head
    assert "Running upgrade" not in second.stderr
    assert _rento(["db", "current"], _env(DATABASE_URL=fresh_db)).stdout.strip() == head
    engine = create_engine(fresh_db)
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
        )
    engine.dispose()
    assert diff == []


@pytest.mark.parametrize(
    "env, reason",
    [
        ({}, "RENTO_SECRET_KEY is not set"),
        ({"RENTO_SECRET_KEY": "change-me"}, "well-known default"),
        ({"RENTO_SECRET_KEY": "too-short"}, "shorter than 32"),
        ({"RENTO_SECRET_KEY": "k" * 40, "RENTO_ADMIN_PASSWORD": "admin"}, "RENTO_ADMIN_PASSWORD"),
    ],
)
def test_production_refuses_to_start(env: Dict[str, str], reason: str) -> None:
    result = _rento(
        ["serve"],
        _env(DATABASE_URL="postgresql://u:p@127.0.0.1:1/x", RENTO_LOG_FILE="", **env),
        timeout=30,
    )
    assert result.returncode == 2
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, result.stdout
    assert lines[0]["level"] == "CRITICAL" and "refusing to start" in lines[0]["message"]
    assert reason in lines[0]["message"]
    assert "change-me" not in result.stdout
    check = _rento(["check-config"], _env(DATABASE_URL="postgresql://u:p@h/x", **env))
    assert check.returncode == 2 and reason in check.stdout


def test_serve_answers_then_exits_zero_on_sigterm(pg: PgCluster, tmp_path: Path) -> None:
    port = free_port()
    env = _env(
        DATABASE_URL=pg.url,
        RENTO_SECRET_KEY="s" * 48,
        RENTO_ADMIN_PASSWORD="serve-test-admin-password",
        RENTO_PORT=str(port),
        RENTO_LOG_FILE=str(tmp_path / "serve.log"),
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "rento.cli", "serve"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/health/ready", timeout=2
                ) as r:
                    assert r.status == 200
                    assert r.headers.get("server") is None
                    break
            except OSError:
                assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
                assert time.monotonic() < deadline, "server did not become ready"
                time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=25) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    output = proc.stdout.read().decode() if proc.stdout else ""
    messages = [json.loads(line)["message"] for line in output.splitlines() if line.startswith("{")]
    assert "rento started" in messages and "rento stopping" in messages
