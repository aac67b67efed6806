"""Restore round trip into a fresh database, and refusal of a tampered backup."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable

import psycopg

from rento.ops import tablestats
from rento.ops.pgconn import PgTarget
from rento.ops.seed import SeedSpec, seed

from .ops_helpers import last_json, ops_env, run_cli

SMALL = SeedSpec(buildings=4, rooms=30, renters=40, contracts=20, bills=60, seed=11)


def _stats(url: str) -> dict:
    with psycopg.connect(**PgTarget.from_url(url).connect_kwargs(), autocommit=True) as conn:
        tablestats.pin_session(conn)
        return tablestats.collect(conn)


def test_restore_round_trip_and_tamper_refusal(
    schema_db: str, new_database: Callable[..., str], tmp_path: Path
) -> None:
    seed(schema_db, SMALL)
    out_dir = tmp_path / "backups"
    made = run_cli(["backup"], ops_env(schema_db, out_dir))
    assert made.returncode == 0, made.stderr
    dump = Path(last_json(made.stdout)["path"])

    target = new_database("restored")
    proc = run_cli(
        ["restore", str(dump), "--database-url", target, "--verify"], ops_env(schema_db, out_dir)
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = last_json(proc.stdout)
    assert result["status"] == "ok" and result["verified"] is True
    assert result["rows"] > 0 and result["seconds"] >= 0
    assert all(t["equal"] for t in result["tables"].values())
    source, restored = _stats(schema_db), _stats(target)
    assert {k: v["rows"] for k, v in restored.items()} == {k: v["rows"] for k, v in source.items()}
    assert {k: v["md5"] for k, v in restored.items()} == {k: v["md5"] for k, v in source.items()}

    # The backup directory itself resolves through LATEST; a non-empty target is refused.
    again = run_cli(
        ["restore", str(out_dir), "--database-url", target], ops_env(schema_db, out_dir)
    )
    assert again.returncode == 1
    assert last_json(again.stdout)["reason"] == "target_not_empty"

    # One flipped byte: refused before anything touches the target database.
    tampered_dir = tmp_path / "tampered"
    tampered_dir.mkdir()
    for f in out_dir.glob(dump.name + "*"):
        shutil.copy2(f, tampered_dir / f.name)
    bad = tampered_dir / dump.name
    data = bytearray(bad.read_bytes())
    data[len(data) // 2] ^= 0xFF
    bad.write_bytes(bytes(data))
    empty = new_database("tamper")
    proc = run_cli(["restore", str(bad), "--database-url", empty], ops_env(schema_db, out_dir))
    assert proc.returncode == 1
    failure = last_json(proc.stdout)
    assert failure["reason"] == "checksum_mismatch"
    assert "checksum mismatch" in failure["error"]
    assert _stats(empty) == {}
