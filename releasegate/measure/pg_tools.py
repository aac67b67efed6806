"""PostgreSQL's own client tools, run by the harness inside a database container it started.

The fresh server's container has the tools of exactly the server's major version: it reads an
artifact's table of contents, restores with ``--exit-on-error --single-transaction`` (all or
nothing) when the application has no restore command of its own, and dumps both schemas for a
diff. Passwords travel in the exec's environment, never on a command line.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass, field
from typing import Any, Protocol

from releasegate.measure.backup_files import CUSTOM, PLAIN
from releasegate.measure.commands import CommandResult, run_in_container

_CREATED = re.compile(r"^;\s+Archive created at (\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) (\S+)")
_TABLE_DATA = re.compile(r"^\d+;\s+\d+\s+\d+\s+TABLE DATA\s+(\S+)\s+(\S+)\s")
# Lines of a schema dump that say nothing about the schema: comments, session settings, the
# random \restrict key of newer pg_dump versions, and ownership/privileges (a restore made with
# --no-owner --no-privileges legitimately differs there).
_NOISE = re.compile(r"^(--|SET |SELECT pg_catalog\.set_config|\\restrict|\\unrestrict|GRANT |"
                    r"REVOKE |ALTER DEFAULT PRIVILEGES )|OWNER TO ")


class DatabaseEndpoint(Protocol):
    """Where a database is, as the container running the tool reaches it."""

    host: str
    port: int
    user: str
    password: str
    database: str
    sslmode: str
# A cast: lower-case type words (pg_dump prints keywords upper-case), maybe an array.
_CAST = re.compile(r"::[a-z_][a-z0-9_.]*(?: [a-z_][a-z0-9_]*)*(?:\[\])?")
_PARENS = re.compile(r"[()]")


@dataclass
class Listing:
    tables: set[str] = field(default_factory=set)
    """``schema.table`` of every TABLE DATA entry."""
    created_at: float | None = None
    """When pg_dump created the archive (epoch seconds, whole seconds, UTC), if it says so."""


def _env(endpoint: DatabaseEndpoint) -> dict[str, str]:
    return {"PGPASSWORD": endpoint.password, "PGSSLMODE": endpoint.sslmode,
            "PGCONNECT_TIMEOUT": "10"}


def _target(endpoint: DatabaseEndpoint) -> list[str]:
    return ["-h", endpoint.host, "-p", str(endpoint.port), "-U", endpoint.user,
            "-d", endpoint.database]


def parse_listing(text: str) -> Listing:
    listing = Listing()
    for line in text.splitlines():
        if (match := _CREATED.match(line)) and match.group(2) in ("UTC", "GMT"):
            moment = dt.datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S")
            listing.created_at = moment.replace(tzinfo=dt.timezone.utc).timestamp()
        elif match := _TABLE_DATA.match(line):
            listing.tables.add(f"{match.group(1)}.{match.group(2)}")
    return listing


def list_archive(container: Any, path: str) -> tuple[CommandResult, Listing]:
    """``pg_restore --list`` of a custom-format artifact inside ``container``."""
    result = run_in_container(container, ["pg_restore", "--list", path])
    return result, parse_listing(result.stdout) if result.ok else Listing()


def restore(container: Any, path: str, fmt: str, target: DatabaseEndpoint) -> CommandResult:
    """All or nothing: the first error stops the restore and rolls every statement back."""
    if fmt == CUSTOM:
        argv = ["pg_restore", "--exit-on-error", "--single-transaction", "--no-owner",
                "--no-privileges", *_target(target), path]
    elif fmt == PLAIN:
        argv = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction",
                *_target(target), "-f", path]
    else:
        raise ValueError(f"the harness cannot restore a {fmt!r} artifact")
    return run_in_container(container, argv, env=_env(target))


def schema_dump(container: Any, endpoint: DatabaseEndpoint) -> CommandResult:
    return run_in_container(
        container, ["pg_dump", "--schema-only", "--no-owner", "--no-privileges",
                    *_target(endpoint)], env=_env(endpoint))


def normalise_schema(text: str) -> list[str]:
    """The statements of a schema dump without comments, settings, ownership or blank lines,
    and without casts and parentheses: PostgreSQL parses a restored CHECK or DEFAULT expression
    again and may print the same expression with its casts placed differently."""
    return [_PARENS.sub("", _CAST.sub("", line.rstrip())) for line in text.splitlines()
            if line.strip() and not _NOISE.search(line.strip())]


def schema_diff(source: str, restored: str, *, limit: int = 60) -> list[str]:
    """Unified diff of two normalised schema dumps (empty when they agree)."""
    diff = list(difflib.unified_diff(normalise_schema(source), normalise_schema(restored),
                                     "source", "restored", lineterm="", n=1))
    return diff[:limit]
