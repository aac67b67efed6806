"""Backups against a real PostgreSQL: success, every failure path, retention, scheduler."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import socket
import stat
import subprocess
import time
from pathlib import Path
from typing import Any, Dict, List

import psycopg
import pytest
from helpers import AlertReceiver

from rento.ops import backup as backup_mod
from rento.ops.pgconn import PgTarget
from rento.ops.seed import SeedSpec, seed
from rento.ops.settings import OpsSettings

from .ops_helpers import last_json, ops_env, run_cli

SMALL = SeedSpec(buildings=3, rooms=20, renters=30, contracts=15, bills=40, seed=5)


@pytest.fixture()
def seeded_db(schema_db: str) -> str:
    seed(schema_db, SMALL)
    return schema_db


def exact_counts(url: str) -> Dict[str, int]:
    target = PgTarget.from_url(url)
    with psycopg.connect(**target.connect_kwargs()) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            ).fetchall()
        ]
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}  # noqa: S608


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def visible_files(directory: Path) -> List[str]:
    return sorted(
        p.name
        for p in directory.iterdir()
        if not p.name.startswith(".backup.lock") and not p.name.startswith(".scheduler.lock")
    )


def test_backup_success_files_permissions_checksum_manifest(seeded_db: str, tmp_path: Path) -> None:
    out_dir = tmp_path / "backups"
    proc = run_cli(["backup"], ops_env(seeded_db, out_dir))
    assert proc.returncode == 0, proc.stderr
    result = last_json(proc.stdout)
    assert result["status"] == "ok"
    dump = Path(result["path"])
    assert dump.parent == out_dir and dump.is_file()
    assert result["bytes"] == dump.stat().st_size > 0
    assert result["seconds"] >= 0

    sha_file = dump.with_name(dump.name + ".sha256")
    manifest_file = dump.with_name(dump.name + ".manifest.json")
    latest = out_dir / "LATEST"
    assert mode(out_dir) == 0o700
    for f in (dump, sha_file, manifest_file, latest):
        assert mode(f) == 0o600, f
        assert f.stat().st_uid == os.geteuid()
    assert not [p for p in out_dir.iterdir() if p.name.endswith(".partial")]

    digest = hashlib.sha256(dump.read_bytes()).hexdigest()
    assert result["sha256"] == digest
    assert sha_file.read_text() == f"{digest}  {dump.name}\n"
    check = subprocess.run(["sha256sum", "-c", sha_file.name], cwd=out_dir, capture_output=True)
    assert check.returncode == 0

    manifest = json.loads(manifest_file.read_text())
    counts = exact_counts(seeded_db)
    assert manifest["row_counts"] == counts
    assert manifest["row_counts"]["bills"] == 40
    assert manifest["sha256"] == digest
    assert manifest["server_version_num"] >= 130000
    assert manifest["alembic_revision"]
    assert manifest["database"] and manifest["created_at"].endswith("Z")
    assert SMALL.seed  # data came from the seed
    assert latest.read_text().strip() == dump.name

    listing = subprocess.run(["pg_restore", "--list", str(dump)], capture_output=True, text=True)
    assert listing.returncode == 0 and "TABLE DATA public bills" in listing.stdout
    # No secret in the output or the logs.
    password = PgTarget.from_url(seeded_db).password
    assert password and password not in proc.stdout + proc.stderr


FAKE_KILLED = """#!/bin/sh
for a in "$@"; do case "$a" in --file=*) f="${a#--file=}";; esac; done
printf 'PGDMP partial' > "$f"
kill -KILL $$
"""
FAKE_ENOSPC = """#!/bin/sh
for a in "$@"; do case "$a" in --file=*) f="${a#--file=}";; esac; done
printf 'PGDMP partial data' > "$f"
echo "pg_dump: error: could not write to output file: No space left on device" >&2
exit 1
"""
FAKE_GARBAGE = """#!/bin/sh
for a in "$@"; do case "$a" in --file=*) f="${a#--file=}";; esac; done
printf 'this is not a dump' > "$f"
exit 0
"""


@pytest.mark.parametrize(
    "case",
    ["unreachable", "bad_password", "killed", "disk_full", "unverifiable"],
)
def test_backup_failure_alerts_and_keeps_latest(
    case: str,
    seeded_db: str,
    tmp_path: Path,
    alert_receiver: AlertReceiver,
    pg: Any,
) -> None:
    out_dir = tmp_path / "backups"
    backup_mod.run_backup(OpsSettings(database_url=seeded_db, backup_dir=str(out_dir)))
    latest_before = (out_dir / "LATEST").read_text()
    files_before = visible_files(out_dir)

    url = seeded_db
    extra: Dict[str, str] = {"RENTO_ALERT_WEBHOOK_URL": alert_receiver.url}
    if case == "unreachable":  # nothing listens on that port
        url = seeded_db.replace(f":{pg.port}/", f":{closed_port()}/")
    elif case == "bad_password":
        url = seeded_db.replace(f":{pg.password}@", ":wrong-password@")
    else:
        script = {"killed": FAKE_KILLED, "disk_full": FAKE_ENOSPC, "unverifiable": FAKE_GARBAGE}[
            case
        ]
        fake = tmp_path / "fake_pg_dump"
        fake.write_text(script)
        fake.chmod(0o755)
        extra["RENTO_PG_DUMP"] = str(fake)

    if case == "disk_full":
        alert_receiver.fail_next(1)  # the first delivery attempt fails: the CLI must retry
    proc = run_cli(["backup"], ops_env(url, out_dir, **extra))
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert (out_dir / "LATEST").read_text() == latest_before
    assert visible_files(out_dir) == files_before  # nothing partial, nothing promoted

    expected_reason = {
        "unreachable": "unreachable",
        "bad_password": "auth_failed",
        "killed": "dump_killed",
        "disk_full": "disk_full",
        "unverifiable": "verify_failed",
    }[case]
    result = last_json(proc.stdout)
    assert result["status"] == "failed" and result["reason"] == expected_reason

    error_lines = [json.loads(ln) for ln in proc.stderr.splitlines() if ln.startswith("{")]
    assert any(
        e.get("level") == "ERROR" and e.get("event") == "backup_failed" for e in error_lines
    ), proc.stderr

    alert = alert_receiver.wait_for(lambda e: e.get("event") == "backup_failed", timeout=5)
    assert alert["service"] == "rento"
    assert alert["error"] and alert["timestamp"]
    assert alert["reason"] == expected_reason
    if case == "disk_full":
        assert [a["status"] for a in alert_receiver.attempts] == [500, 200]
    assert "wrong-password" not in json.dumps(alert) + proc.stderr + proc.stdout


def _fake_backup(directory: Path, when: dt.datetime) -> str:
    name = backup_mod.backup_name("db", when)
    for suffix in ("", ".sha256", ".manifest.json"):
        (directory / (name + suffix)).write_text("x")
    return name


def test_retention_keep_and_max_age(seeded_db: str, tmp_path: Path) -> None:
    out_dir = tmp_path / "backups"
    out_dir.mkdir(mode=0o700)
    now = dt.datetime.now(dt.timezone.utc)
    recent = [_fake_backup(out_dir, now - dt.timedelta(hours=h)) for h in (1, 2, 3, 4)]
    old = [_fake_backup(out_dir, now - dt.timedelta(days=d)) for d in (40, 50)]
    orphan = out_dir / (backup_mod.backup_name("db", now - dt.timedelta(days=60)) + ".sha256")
    orphan.write_text("x")

    cfg = OpsSettings(
        database_url=seeded_db, backup_dir=str(out_dir), backup_keep=3, backup_max_age_days=30
    )
    result = backup_mod.run_backup(cfg)
    names = [n for _, n in backup_mod.list_backups(out_dir)]
    assert names == [result["file"], recent[0], recent[1]]
    assert set(result["deleted"]) == set(recent[2:] + old)
    for gone in recent[2:] + old:
        assert not (out_dir / (gone + ".sha256")).exists()
        assert not (out_dir / (gone + ".manifest.json")).exists()
    assert not orphan.exists()

    # Age rule alone; the backup just made is never deleted even with keep=1.
    cfg2 = OpsSettings(
        database_url=seeded_db, backup_dir=str(out_dir), backup_keep=1, backup_max_age_days=0.00001
    )
    result2 = backup_mod.run_backup(cfg2)
    assert [n for _, n in backup_mod.list_backups(out_dir)] == [result2["file"]]
    assert (out_dir / "LATEST").read_text().strip() == result2["file"]


def test_scheduler_makes_verified_backups_and_alerts(
    seeded_db: str,
    tmp_path: Path,
    alert_receiver: AlertReceiver,
    monkeypatch: pytest.MonkeyPatch,
    pg: Any,
) -> None:
    from rento import alerts
    from rento.config import get_settings
    from rento.ops.scheduler import start_scheduler, stop_scheduler

    out_dir = tmp_path / "auto"
    cfg = OpsSettings(database_url=seeded_db, backup_dir=str(out_dir), backup_interval_seconds=1)
    assert start_scheduler(OpsSettings(database_url=seeded_db, backup_interval_seconds=0)) is None
    first = start_scheduler(cfg)
    second = start_scheduler(cfg)  # another worker: must stay standby
    assert first is not None and second is not None
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and len(backup_mod.list_backups(out_dir)) < 2:
            time.sleep(0.2)
        assert first.is_leader != second.is_leader
    finally:
        stop_scheduler(first)
        stop_scheduler(second)
    assert not first.thread.is_alive() and not second.thread.is_alive()
    made = backup_mod.list_backups(out_dir)
    assert len(made) >= 2
    for _, name in made:
        dump = out_dir / name
        assert mode(dump) == 0o600
        expected = (out_dir / (name + ".sha256")).read_text().split()[0]
        assert hashlib.sha256(dump.read_bytes()).hexdigest() == expected
        assert (
            subprocess.run(["pg_restore", "--list", str(dump)], capture_output=True).returncode == 0
        )
    assert not [p for p in out_dir.iterdir() if p.name.endswith(".partial")]

    # A failing scheduled backup raises an alert through the service's dispatcher.
    monkeypatch.setenv("RENTO_ALERT_WEBHOOK_URL", alert_receiver.url)
    monkeypatch.setenv("RENTO_ENV", "development")
    get_settings.cache_clear()
    alerts.reset_dispatcher()
    try:
        unreachable = seeded_db.replace(f":{pg.port}/", f":{closed_port()}/")
        bad = OpsSettings(
            database_url=unreachable,
            backup_dir=str(tmp_path / "auto-bad"),
            backup_interval_seconds=1,
        )
        handle = start_scheduler(bad)
        try:
            alert = alert_receiver.wait_for(lambda e: e.get("event") == "backup_failed", 15)
        finally:
            stop_scheduler(handle)
        assert alert["trigger"] == "scheduler"
    finally:
        get_settings.cache_clear()
        alerts.reset_dispatcher()


def test_service_lifespan_runs_automatic_backups(schema_db: str, tmp_path: Path) -> None:
    """FUNC-BACKUP-AUTO through the real application start-up and shutdown."""
    import dataclasses

    from fastapi.testclient import TestClient

    from rento import db
    from rento.app import create_app
    from rento.config import Settings

    out_dir = tmp_path / "service-backups"
    settings = dataclasses.replace(
        Settings(),
        env="development",
        database_url=schema_db,
        secret_key="lifespan-test-" + "k" * 40,
        log_file="",
        backup_dir=str(out_dir),
        backup_interval_seconds=1.0,
    )
    # The engines are process-wide: keep whatever another test set up and put it back after.
    saved = (db._engine, db._health_engine, db._session_factory, db._request_slots)
    db._engine = db._health_engine = db._session_factory = db._request_slots = None
    try:
        with TestClient(create_app(settings, configure_logs=False)):
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and len(backup_mod.list_backups(out_dir)) < 2:
                time.sleep(0.2)
        made = backup_mod.list_backups(out_dir)
        assert len(made) >= 2
        assert (out_dir / "LATEST").read_text().strip() in {name for _, name in made}
        time.sleep(1.5)  # stopped with the application: no further backups
        assert len(backup_mod.list_backups(out_dir)) == len(made)
        assert not [p for p in out_dir.iterdir() if p.name.endswith(".partial")]
    finally:
        db.dispose_engines()
        db._engine, db._health_engine, db._session_factory, db._request_slots = saved
