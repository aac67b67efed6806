"""Operations subcommands of the ``rento`` CLI.

``backup``, ``restore``, ``sqlite-init``, ``migrate-sqlite`` and ``seed``. Each prints one JSON
object on stdout (the result, or the failure) and logs JSON lines on stderr. Exit codes: 0 success,
1 failure (including a verification mismatch), 2 usage or configuration error, 3 ``seed`` refused
because the account already has data.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import sys
from typing import Any, Dict, Optional

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_REFUSED = 3


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "backup",
        help="make a verified, checksummed pg_dump backup",
        description="pg_dump --format=custom of DATABASE_URL into RENTO_BACKUP_DIR, verified, "
        "with .sha256 and .manifest.json, LATEST updated and retention applied.",
    )
    p.add_argument("--output-dir", help="backup directory (default: RENTO_BACKUP_DIR)")
    p.set_defaults(func=cmd_backup)

    p = subparsers.add_parser(
        "restore",
        help="restore a backup into an empty database and verify it",
        description="Checks the .sha256 first, restores with pg_restore --exit-on-error "
        "--single-transaction, then compares every table's exact row count and content "
        "fingerprint with the manifest.",
    )
    p.add_argument("file", help="dump file, backup directory (uses LATEST) or a LATEST file")
    p.add_argument("--database-url", required=True, help="target database (must be empty)")
    p.add_argument(
        "--verify",
        action=_BooleanOptional,
        default=True,
        help="compare row counts and fingerprints with the manifest (default: on)",
    )
    p.set_defaults(func=cmd_restore)

    p = subparsers.add_parser(
        "sqlite-init", help="create the legacy SQLite schema (all application tables)"
    )
    p.add_argument("path", help="SQLite database file (created if missing)")
    p.set_defaults(func=cmd_sqlite_init)

    p = subparsers.add_parser(
        "migrate-sqlite",
        help="copy every table from the legacy SQLite database into PostgreSQL and verify",
    )
    p.add_argument("--source", required=True, help="SQLite database file")
    p.add_argument("--database-url", help="target database (default: DATABASE_URL)")
    p.add_argument("--batch-size", type=_positive_int, default=5000, help="rows per batch")
    p.add_argument(
        "--skip-upgrade",
        action="store_true",
        help="do not run 'alembic upgrade head' on the target first",
    )
    p.set_defaults(func=cmd_migrate_sqlite)

    p = subparsers.add_parser(
        "seed",
        help="load deterministic reference data into one account",
        description="Deterministic, consistent reference data (COPY). Refuses an account that "
        "already has buildings or renters (exit 3).",
    )
    p.add_argument("--database-url", help="target database (default: DATABASE_URL)")
    p.add_argument("--buildings", type=_non_negative_int, default=200)
    p.add_argument("--rooms", type=_non_negative_int, default=5000)
    p.add_argument("--renters", type=_non_negative_int, default=20000)
    p.add_argument("--contracts", type=_non_negative_int, default=10000)
    p.add_argument("--bills", type=_non_negative_int, default=50000)
    p.add_argument(
        "--payments",
        type=_non_negative_int,
        default=None,
        help="exact number of payments (default: 1-3 per paid or partly paid bill)",
    )
    p.add_argument("--account-id", type=_positive_int, default=1)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument(
        "--as-of",
        type=dt.date.fromisoformat,
        default=None,
        help="reference date for contract and bill dates (default: 2026-11-01)",
    )
    p.add_argument(
        "--skip-if-present",
        action="store_true",
        help="exit 0 instead of 3 when the account already has data",
    )
    p.set_defaults(func=cmd_seed)


class _BooleanOptional(argparse.Action):
    """``--verify`` / ``--no-verify`` (argparse.BooleanOptionalAction is 3.9+ but differs in
    help output across versions; this keeps one behaviour)."""

    def __init__(self, option_strings: Any, dest: str, **kwargs: Any) -> None:
        strings = list(option_strings)
        for opt in option_strings:
            if opt.startswith("--"):
                strings.append("--no-" + opt[2:])
        super().__init__(strings, dest, nargs=0, **kwargs)

    def __call__(self, parser: Any, namespace: Any, values: Any, option_string: Any = None) -> None:
        setattr(namespace, self.dest, not str(option_string).startswith("--no-"))


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be a positive integer")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def _emit(obj: Dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def _settings() -> Any:
    from rento.config import get_settings

    return get_settings()


def _fail(message: str, code: int = EXIT_FAILED, **extra: Any) -> int:
    from rento.ops import notify

    notify.log_event(logging.ERROR, message, **extra)
    out = {"status": "failed", "error": message}
    out.update(extra)
    _emit(out)
    return code


def _database_url(args: Any) -> Optional[str]:
    url = getattr(args, "database_url", None)
    if url:
        return str(url)
    return _settings().database_url or None


def _prepare() -> Optional[int]:
    from rento.config import ConfigError
    from rento.ops import notify

    notify.ensure_cli_logging()
    try:
        _settings()
    except ConfigError as exc:
        return _fail(f"configuration error: {exc}", EXIT_USAGE)
    return None


# --------------------------------------------------------------------------------------------
def cmd_backup(args: Any) -> int:
    early = _prepare()
    if early is not None:
        return early
    from rento.ops.backup import backup_and_report

    os.umask(0o077)
    ok, result = backup_and_report(
        _settings(), args.output_dir, wait_for_alert=True, trigger="manual"
    )
    if ok:
        _emit(
            {
                "status": "ok",
                "path": result["path"],
                "bytes": result["bytes"],
                "seconds": result["seconds"],
                "sha256": result["sha256"],
                "tables": result["tables"],
                "rows": result["rows"],
                "deleted": result.get("deleted", []),
            }
        )
        return EXIT_OK
    _emit(result)
    return EXIT_FAILED


def cmd_restore(args: Any) -> int:
    early = _prepare()
    if early is not None:
        return early
    from rento.ops import notify
    from rento.ops.restore import RestoreError, VerificationError, restore

    try:
        result = restore(args.file, args.database_url, verify=args.verify, settings=_settings())
    except VerificationError as exc:
        notify.log_event(logging.ERROR, str(exc), event="restore_failed", reason=exc.reason)
        out = dict(exc.result)
        out["status"] = "failed"
        out["error"] = str(exc)
        _emit(out)
        return EXIT_FAILED
    except RestoreError as exc:
        return _fail(str(exc), event="restore_failed", reason=exc.reason)
    notify.log_event(
        logging.INFO,
        "restore completed",
        event="restore_completed",
        file=result["file"],
        rows=result.get("rows"),
        seconds=result["seconds"],
        verified=result["verified"],
    )
    _emit(result)
    return EXIT_OK


def cmd_sqlite_init(args: Any) -> int:
    early = _prepare()
    if early is not None:
        return early
    from rento.ops.sqlite_migrate import sqlite_init

    try:
        result = sqlite_init(args.path)
    except Exception as exc:
        return _fail(f"sqlite-init failed: {exc}")
    _emit(result)
    return EXIT_OK


def cmd_migrate_sqlite(args: Any) -> int:
    early = _prepare()
    if early is not None:
        return early
    from rento.ops import notify
    from rento.ops.pgconn import redact_url
    from rento.ops.sqlite_migrate import MigrationError, migrate_sqlite

    url = _database_url(args)
    if not url:
        return _fail("no target database: give --database-url or set DATABASE_URL", EXIT_USAGE)
    try:
        ok, report = migrate_sqlite(
            args.source, url, batch_size=args.batch_size, upgrade=not args.skip_upgrade
        )
    except MigrationError as exc:
        return _fail(f"migration failed: {exc}", event="sqlite_migration_failed")
    except Exception as exc:
        return _fail(
            f"migration failed: {redact_url(str(exc).strip()) or type(exc).__name__}",
            event="sqlite_migration_failed",
        )
    level = logging.INFO if ok else logging.ERROR
    notify.log_event(
        level,
        "sqlite migration completed" if ok else "sqlite migration verification failed",
        event="sqlite_migration",
        status=report["status"],
        rows_source=report["rows_source"],
        rows_target=report["rows_target"],
    )
    _emit(report)
    return EXIT_OK if ok else EXIT_FAILED


def cmd_seed(args: Any) -> int:
    early = _prepare()
    if early is not None:
        return early
    from rento.ops.pgconn import redact_url
    from rento.ops.seed import DEFAULT_AS_OF, SeedError, SeedRefused, SeedSpec, seed

    url = _database_url(args)
    if not url:
        return _fail("no target database: give --database-url or set DATABASE_URL", EXIT_USAGE)
    spec = SeedSpec(
        buildings=args.buildings,
        rooms=args.rooms,
        renters=args.renters,
        contracts=args.contracts,
        bills=args.bills,
        payments=args.payments,
        account_id=args.account_id,
        seed=args.seed,
        as_of=args.as_of or DEFAULT_AS_OF,
    )
    try:
        result = seed(url, spec)
    except SeedRefused as exc:
        if args.skip_if_present:
            _emit({"status": "skipped", "reason": str(exc), "account_id": spec.account_id})
            return EXIT_OK
        return _fail(str(exc), EXIT_REFUSED, reason="account_has_data")
    except SeedError as exc:
        return _fail(f"seed failed: {exc}")
    except Exception as exc:
        return _fail(f"seed failed: {redact_url(str(exc).strip()) or type(exc).__name__}")
    _emit(result)
    return EXIT_OK
