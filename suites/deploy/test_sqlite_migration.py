"""FUNC-SQLITE-MIGRATION: a legacy SQLite database with every table filled migrates completely
into PostgreSQL, and migrating it a second time neither duplicates rows nor fails.

Nothing the application reports about its own migration is taken on trust: the application
only creates the empty schema (``sqlite_init``) and runs the migration (``sqlite_migrate``); the
harness fills the file itself, then reads the file and the target database over its own
connections and compares per-table row counts and ordered content hashes.
"""

from __future__ import annotations

import contextlib
import io
import json
import posixpath
import sqlite3
import tarfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker.errors
import psycopg
import pytest

from releasegate.config.profile import Profile
from releasegate.measure import table_digest as td
from releasegate.measure.commands import CommandResult, run_in_container, run_profile_command
from releasegate.measure.recorder import CheckList, Recorder
from releasegate.measure.sqlite_fill import FillError, fill_sqlite
from releasegate.stack.model import StackInfo

pytestmark = pytest.mark.deploy

CRITERION = "FUNC-SQLITE-MIGRATION"
SOURCE = ("SQLite file generated and read by the harness; PostgreSQL read over the harness's "
          "own connection")
SEED = 20261121
"""Fixed, so a failing run's data can be generated again byte for byte."""
CONTAINER_DIR = "/tmp"
"""World-writable in every image: the app user can create the file and its journal there."""
NEEDED = ("sqlite_init", "sqlite_migrate")


def _rows_per_table(profile: Profile) -> int:
    return int(profile.option(CRITERION, "rows_per_table"))


def _copy_out(container: Any, path: str, local: Path) -> tarfile.TarInfo:
    """Copy one file out of the container; returns its tar header (owner, mode)."""
    chunks, _ = container.get_archive(path)
    with tarfile.open(fileobj=io.BytesIO(b"".join(chunks))) as archive:
        member = archive.getmembers()[0]
        handle = archive.extractfile(member)
        if handle is None:
            raise FileNotFoundError(f"{path} in the container is not a regular file")
        local.write_bytes(handle.read())
    return member


def _copy_in(container: Any, path: str, local: Path, like: tarfile.TarInfo) -> None:
    """Put the filled file back in place, owned by whoever ``sqlite_init`` ran as."""
    data = local.read_bytes()
    info = tarfile.TarInfo(posixpath.basename(path))
    info.size, info.mode, info.mtime = len(data), 0o644, int(time.time())
    info.uid, info.gid, info.uname, info.gname = like.uid, like.gid, like.uname, like.gname
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        archive.addfile(info, io.BytesIO(data))
    if not container.put_archive(posixpath.dirname(path), buffer.getvalue()):
        raise RuntimeError(f"the container refused the file {path}")


class _Migration:
    """The evidence one test run gathers, phase by phase."""

    def __init__(self, container: Any, profile: Profile, values: dict[str, str]) -> None:
        self.container, self.profile, self.values = container, profile, values
        self.checks = CheckList()
        self.commands: dict[str, CommandResult] = {}
        self.tables: dict[str, dict[str, Any]] = {}
        self.column_problems: list[str] = []
        self.postgres_tables: list[str] = []

    def run(self, name: str, label: str) -> bool:
        result = run_profile_command(self.container, self.profile, name, self.values)
        self.commands[label] = result
        return self.checks.add(f"`{name}` ({label}) exits 0", result.ok,
                               "" if result.ok else result.describe())

    def source(self, local: Path, tables: list[str]) -> None:
        digests = td.digest_sqlite(local, tables)
        for table, digest in digests.items():
            self.tables[table] = {"sqlite": {"rows": digest.rows, "sha256": digest.sha256}}
        empty = [t for t in tables if digests[t].rows < 1]
        self.checks.add("every SQLite table holds generated rows before migrating", not empty,
                        f"empty: {', '.join(empty)}" if empty else f"{len(tables)} tables")

    def compare(self, local: Path, dsn: str, tables: list[str], phase: str) -> None:
        # A fresh autocommit connection per phase: no transaction of ours may hold locks while
        # the application migrates.
        with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
            shapes, problems = td.common_shapes(td.sqlite_shapes(local, tables),
                                                td.postgres_shapes(conn, tables))
            source = td.digest_sqlite(local, tables, shapes)
            target = td.digest_postgres(conn, tables, shapes)
            differences = {
                t: td.describe_difference(td.sqlite_lines(local, shapes[t]),
                                          td.postgres_lines(conn, shapes[t]),
                                          left_name="SQLite", right_name="PostgreSQL",
                                          key=shapes[t].key)
                for t in shapes if source[t].sha256 != target[t].sha256
            }
            self.postgres_tables = [str(r[0]) for r in conn.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema() ORDER BY 1").fetchall()]
        self.column_problems = [p for p in problems if "column only" in p]
        for table in tables:
            self._judge(table, phase, source.get(table), target.get(table), differences)

    def _judge(self, table: str, phase: str, source: td.TableDigest | None,
               target: td.TableDigest | None, differences: dict[str, str]) -> None:
        expected = self.tables[table]["sqlite"]["rows"]
        found = target.rows if target else None
        self.tables[table][f"postgres_{phase}"] = (
            {"rows": target.rows, "sha256": target.sha256} if target else "table missing")
        self.checks.add(f"{table}: exact row count after the {phase} run", found == expected,
                        f"SQLite {expected}, PostgreSQL "
                        f"{found if found is not None else 'has no such table'}")
        same = source is not None and target is not None and source.sha256 == target.sha256
        self.checks.add(f"{table}: ordered content hash equal after the {phase} run", same,
                        "" if same else differences.get(table, "no PostgreSQL table to hash"))

    def evidence(self, container_path: str, rows: int) -> dict[str, Any]:
        return {
            "sqlite_path": container_path, "rows_per_table": rows, "seed": SEED,
            "tables": self.tables, "column_mismatches": self.column_problems,
            "postgres_tables": self.postgres_tables,
            "commands": {label: {"argv": r.argv, "exit_code": r.exit_code,
                                 "seconds": round(r.seconds, 3)}
                         for label, r in self.commands.items()},
        }


@pytest.mark.criterion(CRITERION)
def test_sqlite_data_migrates_completely_and_idempotently(
    stack: StackInfo, gate_profile: Profile, app_container: Any,
    scratch_database: Callable[[str], Any], record: Recorder, tmp_path: Path,
) -> None:
    if missing := [n for n in NEEDED if n not in gate_profile.commands]:
        record.insufficient(CRITERION, f"the profile has no [commands] {', '.join(missing)}: "
                                       "without them no SQLite database can be created or "
                                       "migrated in the application container")
        return
    app_container.reload()
    if app_container.status != "running":
        record.insufficient(CRITERION, f"the application container is {app_container.status}, "
                                       "so the profile's commands cannot run in it")
        return
    rows = _rows_per_table(gate_profile)
    container_path = posixpath.join(CONTAINER_DIR,
                                    f"releasegate-{stack.run_id}-{uuid.uuid4().hex[:8]}.sqlite3")
    local = tmp_path / "legacy.sqlite3"
    with scratch_database("sqlite") as (dsn, scratch):
        values = {**stack.template_values(), "sqlite.path": container_path, **scratch}
        migration = _Migration(app_container, gate_profile, values)
        try:
            finished = _migrate(migration, local, container_path, rows, dsn, record)
        finally:
            with contextlib.suppress(Exception):  # best effort: the container may be gone
                run_in_container(app_container, ["rm", "-f", container_path,
                                                 f"{container_path}-journal"])
    if not finished:
        return
    outputs = "\n\n".join(f"## {label}: {' '.join(r.argv)} (exit {r.exit_code}, "
                          f"{r.seconds:.2f}s)\n{r.transcript()}"
                          for label, r in migration.commands.items())
    record.checks(
        CRITERION, migration.checks, source=SOURCE,
        evidence=migration.evidence(container_path, rows),
        attachments=[
            record.attach("sqlite-migration-commands.txt", outputs),
            record.attach("sqlite-migration-tables.json",
                          json.dumps(migration.tables, indent=2, ensure_ascii=False)),
        ],
    )


def _migrate(migration: _Migration, local: Path, container_path: str, rows: int, dsn: str,
             record: Recorder) -> bool:
    """Run every phase; False when the result was already recorded as insufficient."""
    checks = migration.checks
    if not migration.run("sqlite_init", "init"):
        return True
    try:
        member = _copy_out(migration.container, container_path, local)
    except (docker.errors.NotFound, FileNotFoundError) as exc:
        checks.add(f"`sqlite_init` created {container_path}", False, str(exc)[:300])
        return True
    try:
        counts = fill_sqlite(local, rows, seed=SEED)
    except FillError as exc:
        record.insufficient(CRITERION, f"the harness could not fill the application's SQLite "
                                       f"schema with generated rows: {exc}")
        return False
    except sqlite3.DatabaseError as exc:
        checks.add("`sqlite_init` created a readable SQLite database", False, str(exc))
        return True
    tables = sorted(counts)
    # No tables means nothing would be tested: that is a failure, not a vacuous pass.
    if not checks.add("the SQLite schema has tables", bool(tables), f"{len(tables)} tables"):
        return True
    migration.source(local, tables)
    _copy_in(migration.container, container_path, local, member)
    migration.run("sqlite_migrate", "first")
    migration.compare(local, dsn, tables, "first")
    checks.add("every SQLite column exists in PostgreSQL and no other",
               not migration.column_problems, "; ".join(migration.column_problems)[:600])
    migration.run("sqlite_migrate", "second")
    migration.compare(local, dsn, tables, "second")
    return True
