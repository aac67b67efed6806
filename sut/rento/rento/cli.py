"""The ``rento`` command: serve, database migrations, configuration check, operations tools.

Each group of subcommands registers itself through a ``register(subparsers)`` function, so that
operations tooling (``rento.ops.cli``) plugs in without this module knowing its commands.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from typing import Any, List, Optional

from rento.config import ConfigError, Settings, get_settings
from rento.logging_setup import configure_logging
from rento.ops import cli as ops_cli

log = logging.getLogger("rento")


def _load_settings() -> Settings:
    try:
        return get_settings()
    except ConfigError as exc:
        configure_logging(stream=sys.stderr)
        log.critical("refusing to start: %s", exc)
        raise SystemExit(2) from None


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = _load_settings()
    configure_logging(
        settings.log_level, settings.log_file, settings.log_max_bytes, settings.log_backup_count
    )
    problems = settings.problems()
    if problems:
        log.critical("refusing to start: %s", "; ".join(problems))
        return 2
    # Files we create (logs, backups) are never world-readable.
    os.umask(0o027)
    # uvicorn drains in-flight requests on SIGTERM/SIGINT and then re-raises the signal; with the
    # default disposition that would kill the process (exit 143). A stop requested by signal is the
    # normal way a container ends, so after the graceful shutdown we exit 0.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _exit_cleanly)
    uvicorn.run(
        "rento.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_config=None,
        access_log=False,
        server_header=False,
        proxy_headers=False,
        timeout_graceful_shutdown=settings.shutdown_timeout_seconds,
    )
    return 0


def _exit_cleanly(signum: int, frame: Any) -> None:
    raise SystemExit(0)


def _database_url(args: argparse.Namespace) -> str:
    url = args.database_url or os.environ.get("DATABASE_URL", "")
    if not url:
        print("error: no database URL (set DATABASE_URL or pass --database-url)", file=sys.stderr)
        raise SystemExit(2)
    return str(url)


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from rento.migrations_runner import current_revision, upgrade

    url = _database_url(args)
    configure_logging(stream=sys.stderr)
    upgrade(url, args.revision)
    print(current_revision(url) or "")
    return 0


def cmd_db_head(args: argparse.Namespace) -> int:
    from rento.migrations_runner import head_revision

    print(head_revision())
    return 0


def cmd_db_current(args: argparse.Namespace) -> int:
    from rento.migrations_runner import current_revision

    print(current_revision(_database_url(args)) or "")
    return 0


def cmd_check_config(args: argparse.Namespace) -> int:
    settings = _load_settings()
    problems = settings.problems()
    for problem in problems:
        print(f"problem: {problem}")
    if problems:
        return 2
    print(f"configuration OK (env={settings.env}, version={settings.version})")
    return 0


def register(subparsers: Any) -> None:
    serve = subparsers.add_parser("serve", help="run the HTTP server (uvicorn)")
    serve.set_defaults(func=cmd_serve)

    db = subparsers.add_parser("db", help="database schema migrations")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    up = db_sub.add_parser("upgrade", help="apply migrations (default: to head)")
    up.add_argument("--database-url", help="default: $DATABASE_URL")
    up.add_argument("--revision", default="head")
    up.set_defaults(func=cmd_db_upgrade)
    head = db_sub.add_parser("head", help="print the head revision id of this code")
    head.set_defaults(func=cmd_db_head)
    current = db_sub.add_parser("current", help="print the database's current revision id")
    current.add_argument("--database-url", help="default: $DATABASE_URL")
    current.set_defaults(func=cmd_db_current)

    check = subparsers.add_parser("check-config", help="validate settings from the environment")
    check.set_defaults(func=cmd_check_config)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rento", description="Rento rental management service")
    subparsers = parser.add_subparsers(dest="command", required=True)
    register(subparsers)
    ops_cli.register(subparsers)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
