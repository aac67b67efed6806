"""Restore a backup into an empty database and prove it: checksum first, row counts after.

``pg_restore --exit-on-error --single-transaction --no-owner --no-privileges``: either the whole
backup is restored or nothing is. Afterwards every table's exact row count and content
fingerprint must equal the figures the manifest recorded in the dump's own snapshot.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Dict, Optional

from rento.ops import tablestats
from rento.ops.backup import (
    LATEST_NAME,
    MANIFEST_SUFFIX,
    SHA_SUFFIX,
    BackupError,
    run_tool,
    sha256_file,
)
from rento.ops.pgconn import DatabaseUrlError, PgTarget, connect
from rento.ops.settings import OpsSettings


class RestoreError(Exception):
    def __init__(self, message: str, reason: str = "restore_failed") -> None:
        super().__init__(message)
        self.reason = reason


def resolve_backup(path_arg: str) -> Path:
    """A dump file, a backup directory (its ``LATEST``) or a ``LATEST`` file itself."""
    path = Path(path_arg).expanduser()
    if path.is_dir():
        path = path / LATEST_NAME
    if path.name == LATEST_NAME and path.is_file():
        name = path.read_text(encoding="utf-8").strip()
        if not name:
            raise RestoreError(f"{path} is empty", "not_found")
        path = path.parent / name
    if not path.is_file():
        raise RestoreError(f"backup file not found: {path}", "not_found")
    return path


def verify_checksum(dump: Path) -> str:
    sha_file = dump.with_name(dump.name + SHA_SUFFIX)
    if not sha_file.is_file():
        raise RestoreError(
            f"checksum file {sha_file.name} is missing; refusing to restore an unverified backup",
            "checksum_missing",
        )
    fields = sha_file.read_text(encoding="utf-8").split()
    if not fields or len(fields[0]) != 64:
        raise RestoreError(f"checksum file {sha_file.name} is malformed", "checksum_missing")
    expected = fields[0].lower()
    actual = sha256_file(dump)
    if actual != expected:
        raise RestoreError(
            f"checksum mismatch for {dump.name}: expected {expected}, got {actual}; "
            "the backup is damaged or was altered, refusing to restore",
            "checksum_mismatch",
        )
    return actual


def load_manifest(dump: Path) -> Optional[Dict[str, Any]]:
    path = dump.with_name(dump.name + MANIFEST_SUFFIX)
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise RestoreError(f"manifest {path.name} is malformed", "manifest_invalid")
    return data


def _expected_from_manifest(manifest: Dict[str, Any]) -> Dict[str, Dict[str, Any]]:
    counts = manifest.get("row_counts") or {}
    hashes = manifest.get("content_md5") or {}
    return {k: {"rows": int(v), "md5": hashes.get(k)} for k, v in counts.items()}


def restore(
    file: str,
    database_url: str,
    *,
    verify: bool = True,
    settings: Optional[Any] = None,
) -> Dict[str, Any]:
    cfg = OpsSettings.from_settings(settings)
    t0 = time.monotonic()
    dump = resolve_backup(file)
    digest = verify_checksum(dump)
    manifest = load_manifest(dump)
    if verify and manifest is None:
        raise RestoreError(
            f"manifest {dump.name}{MANIFEST_SUFFIX} is missing: cannot verify the restore "
            "(use --no-verify to restore without verification)",
            "manifest_missing",
        )
    try:
        target = PgTarget.from_url(database_url)
    except DatabaseUrlError as exc:
        raise RestoreError(str(exc), "config_error") from exc

    try:
        with connect(target, autocommit=True) as conn:
            existing = tablestats.list_tables(conn)
    except Exception as exc:
        raise RestoreError(
            f"cannot connect to {target.describe()}: {target.redact(str(exc).strip())}",
            "unreachable",
        ) from exc
    if existing:
        names = ", ".join(tablestats.table_key(s, t) for s, t in existing[:10])
        raise RestoreError(
            f"target database {target.describe()} is not empty ({len(existing)} tables: "
            f"{names}); restore needs an empty database",
            "target_not_empty",
        )

    argv = [
        cfg.pg_restore,
        "--exit-on-error",
        "--single-transaction",
        "--no-owner",
        "--no-privileges",
        "--no-password",
        f"--dbname={target.tool_dbname_arg()}",
        str(dump),
    ]
    t_restore = time.monotonic()
    try:
        rc, _, err = run_tool(
            argv,
            target.tool_env(),
            timeout=max(60.0, float(cfg.backup_timeout_seconds)),
            redact=target.redact,
        )
    except BackupError as exc:
        raise RestoreError(str(exc), exc.reason) from exc
    except OSError as exc:
        raise RestoreError(f"cannot run pg_restore ({cfg.pg_restore}): {exc}") from exc
    restore_seconds = time.monotonic() - t_restore
    if rc != 0:
        detail = err.strip().splitlines()[-1] if err.strip() else f"exit status {rc}"
        raise RestoreError(f"pg_restore failed (nothing was restored): {detail}", "restore_failed")

    result: Dict[str, Any] = {
        "status": "ok",
        "file": str(dump),
        "sha256": digest,
        "database": target.describe(),
        "restore_seconds": round(restore_seconds, 3),
        "verified": False,
    }
    if verify and manifest is not None:
        with connect(target, autocommit=True) as conn:
            tablestats.pin_session(conn)
            actual = tablestats.collect(conn)
        expected = _expected_from_manifest(manifest)
        ok, report = tablestats.compare(expected, actual)
        result["tables"] = report
        result["rows"] = sum(int(v["rows"]) for v in actual.values())
        result["verified"] = ok
        result["alembic_revision"] = manifest.get("alembic_revision")
        if not ok:
            result["status"] = "mismatch"
            result["seconds"] = round(time.monotonic() - t0, 3)
            bad = sorted(k for k, v in report.items() if not v["equal"])
            raise VerificationError(result, bad)
    else:
        with connect(target, autocommit=True) as conn:
            actual = tablestats.collect(conn, hashes=False)
        result["tables"] = {k: {"rows_actual": v["rows"]} for k, v in actual.items()}
        result["rows"] = sum(int(v["rows"]) for v in actual.values())
    result["seconds"] = round(time.monotonic() - t0, 3)
    return result


class VerificationError(RestoreError):
    """Restored, but the figures differ from the manifest; ``result`` has the per-table report."""

    def __init__(self, result: Dict[str, Any], bad: Any) -> None:
        super().__init__(
            "restore verification failed: tables differ from the manifest: " + ", ".join(bad),
            "verify_failed",
        )
        self.result = result
