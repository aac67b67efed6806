"""One cell of the compatibility matrix, start to finish, on a stack of its own.

A cell is the application image built on one Python (its ``BASE_IMAGE``) beside one PostgreSQL:
the image builds, the stack comes up on its own network (labelled with the cell's run id and
the gate run's, so the run's teardown and ``releasegate clean`` remove it), migrations apply to
an empty database twice, the profile's end-to-end smoke passes, and a backup made by the
application's own command restores into an empty database with every table's row count and
content hash equal. The first phase that does not succeed ends the cell and names it.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
from releasegate.fixtures.stack import scratch_db

from releasegate.config.profile import Profile
from releasegate.config.sections.compat import CompatSettings
from releasegate.errors import HarnessError
from releasegate.evidence.redact import secret_redactor
from releasegate.measure import table_digest
from releasegate.measure.alerts import start_receiver
from releasegate.measure.api import Api, LoginFailed, login
from releasegate.measure.commands import run_profile_command
from releasegate.measure.compat_plan import ERROR, FAILED, PASSED, Cell, CellResult
from releasegate.measure.jsonpath import MISSING, dig
from releasegate.measure.recorder import CheckList
from releasegate.measure.steps import FlowRunner
from releasegate.stack import build, engine, images, labels
from releasegate.stack.containers import ContainersStack
from releasegate.stack.model import StackInfo

INSUFFICIENT = "insufficient"
Say = Callable[[str], None]
Attach = Callable[[str, str | bytes], str]
TABLES = """SELECT table_name FROM information_schema.tables
 WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1"""


class _Stop(Exception):
    """A phase did not succeed: ``status`` says whose fault (the app's, or nobody could tell)."""

    def __init__(self, status: str, phase: str, detail: str, log: str = "") -> None:
        super().__init__(detail)
        self.status, self.phase, self.detail, self.log = status, phase, detail, log


@dataclass
class CellJob:
    """What a cell needs from the gate run."""

    profile: Profile
    settings: CompatSettings
    parent_run: str
    run_dir: Path
    attach: Attach
    say: Say
    build_args: dict[str, str] = field(default_factory=dict)
    """Build arguments beyond the profile's (a dependency set's requirements file)."""
    name: str = ""
    """What the cell is called in progress and reports (default: its key)."""


def run_cell(job: CellJob, cell: Cell) -> CellResult:
    """Every phase of ``cell``; never raises for what the cell itself did (that is its result)."""
    name = job.name or cell.key
    result = CellResult(cell)
    started = time.monotonic()
    stack: ContainersStack | None = None

    def clean(text: str) -> str:
        """The cell's own secrets (its database password…) masked like the run's."""
        return secret_redactor(stack.secrets)(text) if stack is not None else text

    def progress(message: str) -> None:
        job.say(clean(f"[{name}] {message}"))

    client = engine.connect_engine(auto_install=False, progress=progress)
    try:
        with _phase(result, "build"):
            image, pg_image = _build(client, job, cell, progress, result)
        stack = ContainersStack(
            _cell_profile(job.profile, image, cell.postgres, pg_image),
            run_id=f"{job.parent_run}-{_slug(name)}", run_dir=job.run_dir / _slug(name),
            progress=progress, alert_sink=start_receiver, parent_run=job.parent_run)
        with _phase(result, "start"):
            info = _start(stack)
        with _phase(result, "migrations"):
            _migrations(job.profile, client, info, result)
        _deadline(job, started)
        with _phase(result, "smoke"):
            _smoke(job, info, result)
        _deadline(job, started)
        with _phase(result, "backup-restore"):
            _round_trip(job, client, info, result)
        result.status = PASSED
    except _Stop as stop:
        result.status, result.phase, result.detail = stop.status, stop.phase, stop.detail
        logs = stop.log or _container_logs(stack)
        if logs:
            result.attachments.append(job.attach(f"compat-{_slug(name)}-{stop.phase}.log",
                                                 clean(logs)))
    except Exception as exc:  # the harness broke in this cell: an error, never a pass
        result.status, result.phase = ERROR, result.phase or "harness"
        result.detail = f"{type(exc).__name__}: {exc}"[:500]
    finally:
        if stack is not None:
            stack.stop()
        result.seconds = time.monotonic() - started
        result.detail = clean(result.detail)
        result.checks = [{**c, "detail": clean(str(c.get("detail", "")))} for c in result.checks]
    progress(f"{result.status}" + (f" at {result.phase}: {result.detail[:160]}"
                                   if result.status != PASSED else "")
             + f" in {result.seconds:.0f} s")
    return result


@contextmanager
def _phase(result: CellResult, name: str) -> Iterator[None]:
    result.phase = name
    started = time.monotonic()
    try:
        yield
    finally:
        result.phases[name] = time.monotonic() - started
    result.phase = ""


def _deadline(job: CellJob, started: float) -> None:
    if time.monotonic() - started > job.settings.cell_timeout_s:
        raise _Stop(ERROR, "timeout", f"the cell ran past [compat] cell_timeout_s = "
                    f"{job.settings.cell_timeout_s:g} s")


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in ".-" else "-" for ch in text)


def _cell_profile(profile: Profile, image: str, postgres: int, pg_image: str) -> Profile:
    """The profile with the cell's image (built already) and PostgreSQL. Nothing restarts the
    app: one that exits on start ends its cell at once, instead of after the health timeout."""
    app = dataclasses.replace(profile.app, build=None, image=image, restart_policy="no",
                              on_unhealthy="none")
    db = profile.db and dataclasses.replace(profile.db, version=postgres, image=pg_image)
    return dataclasses.replace(profile, app=app, db=db)


def _build(client: Any, job: CellJob, cell: Cell, progress: Say,
           result: CellResult) -> tuple[str, str]:
    spec = job.profile.app.build
    if spec is None:
        raise _Stop(INSUFFICIENT, "build", "the profile names a ready image: no other Python "
                    "can be built (give [services.app.build])")
    if job.profile.db is None:
        raise _Stop(INSUFFICIENT, "database", "the profile has no PostgreSQL service")
    try:
        base = images.ensure_image(client, images.recipe_for_python(cell.python),
                                   progress=progress)
        pg = images.ensure_image(client, images.recipe_for_postgres(cell.postgres),
                                 progress=progress)
    except HarnessError as exc:
        raise _Stop(ERROR, "build", f"base image: {exc.one_line()}") from None
    args = {**spec.args, **job.build_args, "BASE_IMAGE": base.tag}
    tag = build.image_tag(job.profile.name, spec, args)
    try:
        built = build.build_image(client, spec, tag=tag, build_args=args, progress=progress,
                                  labels={labels.ROLE: "app-image", labels.RUN: job.parent_run})
    except HarnessError as exc:
        raise _Stop(FAILED, "build", exc.message, log=exc.hint) from None
    result.evidence.update({"base_image": f"{base.tag} ({base.how})",
                            "python_version": base.facts.get("python_version", ""),
                            "postgres_image": f"{pg.tag} ({pg.how})", "image": built.tag})
    return built.tag, pg.tag


def _start(stack: ContainersStack) -> StackInfo:
    try:
        info = stack.start()
    except HarnessError as exc:
        phase = "database" if "PostgreSQL" in exc.message else "start"
        raise _Stop(FAILED if phase == "database" else ERROR, phase, exc.message,
                    log=exc.hint) from None
    if not info.healthy:
        raise _Stop(FAILED, "start", "the application never answered 200 on its health path "
                    f"(last: {info.startup.last_health_status or info.startup.last_health_error})")
    return info


def _container_logs(stack: ContainersStack | None) -> str:
    if stack is None:
        return ""
    return "\n".join(f"===== {role} =====\n{text}" for role, text in stack.capture_logs().items())


def _app(client: Any, info: StackInfo) -> Any:
    return client.containers.get(info.app_container)


def _migrations(profile: Profile, client: Any, info: StackInfo, result: CellResult) -> None:
    if "migrate" not in profile.commands:
        raise _Stop(INSUFFICIENT, "migrations", "the profile has no [commands] migrate")
    container = _app(client, info)
    with scratch_db(info, "compat_migrate") as (dsn, scratch):
        values = {**info.template_values(), **scratch}
        for attempt in ("first", "second"):
            done = run_profile_command(container, profile, "migrate", values)
            result.checks.append({"name": f"migrations: {attempt} upgrade exits 0",
                                  "ok": done.ok, "detail": "" if done.ok else done.describe()})
            if not done.ok:
                raise _Stop(FAILED, "migrations", done.describe(), log=done.transcript())
        with psycopg.connect(dsn, connect_timeout=10) as conn:
            tables = len(conn.execute(TABLES).fetchall())
    if tables == 0:
        raise _Stop(FAILED, "migrations", "the upgrade exited 0 but created no table")
    result.evidence["tables_after_migrations"] = tables


def _smoke(job: CellJob, info: StackInfo, result: CellResult) -> None:
    spec = job.profile.e2e
    wanted = job.settings.smoke_steps
    if wanted:
        unknown = sorted(set(wanted) - {s.name for s in spec.steps})
        if unknown:
            raise _Stop(INSUFFICIENT, "smoke", f"[compat] smoke_steps names no [[e2e.steps]] "
                        f"{unknown}")
        spec = dataclasses.replace(spec, flow=None,
                                   steps=tuple(s for s in spec.steps if s.name in wanted))
    if not spec.steps:
        raise _Stop(INSUFFICIENT, "smoke", "the profile declares no [[e2e.steps]] to run as "
                    "the smoke")
    sessions: list[Api] = []

    def admin() -> Api:
        if not sessions:
            sessions.append(login(info.base_url, job.profile.login, info.template_values()))
        return sessions[0]

    checks = CheckList()
    runner = FlowRunner(spec, base_url=info.base_url, values=info.template_values(),
                        recipe=job.profile.login, admin=admin, checks=checks,
                        base=job.profile.path.parent)
    try:
        run = runner.execute()
    except (LoginFailed, httpx.HTTPError) as exc:
        checks.add("the smoke runs", False, str(exc))
        run = None
    finally:
        for api in sessions:
            api.close()
    result.checks += [{"name": f"smoke: {c['name']}", "ok": c["ok"], "detail": c["detail"]}
                      for c in checks.as_dicts()]
    result.evidence["smoke_steps"] = len(spec.steps)
    if checks.violations or run is None:
        raise _Stop(FAILED, "smoke", "; ".join(checks.violations[:3]) or "the smoke broke")


def _artifact(stdout: str, path: str) -> str:
    """The artifact the backup command says it wrote: ``path`` in its last JSON line."""
    for line in reversed(stdout.strip().splitlines()):
        try:
            data = json.loads(line)
        except ValueError:
            continue
        found = dig(data, path)
        if found is not MISSING and isinstance(found, str) and found:
            return found
    return ""


def _round_trip(job: CellJob, client: Any, info: StackInfo, result: CellResult) -> None:
    profile = job.profile
    missing = [n for n in ("backup", "restore") if n not in profile.commands]
    if missing:
        raise _Stop(INSUFFICIENT, "backup-restore", f"the profile has no [commands] {missing}")
    assert info.db is not None
    container = _app(client, info)
    values = info.template_values()
    made = run_profile_command(container, profile, "backup", values)
    if not made.ok:
        raise _Stop(FAILED, "backup-restore", f"backup: {made.describe()}", made.transcript())
    artifact = _artifact(made.stdout, job.settings.backup_artifact)
    if not artifact:
        raise _Stop(INSUFFICIENT, "backup-restore", "the backup command's stdout names no "
                    f"artifact at {job.settings.backup_artifact!r} ([compat] backup_artifact)")
    with psycopg.connect(info.db.dsn(), connect_timeout=10) as conn:
        tables = [str(r[0]) for r in conn.execute(TABLES).fetchall()]
        source = table_digest.digest_postgres(conn, tables)
    with scratch_db(info, "compat_restore") as (dsn, scratch):
        restore_values = {**values, **scratch, "backup.path": artifact,
                          "restore.url": scratch["scratch.url"]}
        done = run_profile_command(container, profile, "restore", restore_values)
        if not done.ok:
            raise _Stop(FAILED, "backup-restore", f"restore: {done.describe()}",
                        done.transcript())
        with psycopg.connect(dsn, connect_timeout=10) as conn:
            restored = table_digest.digest_postgres(conn, tables)
    differ = [f"{t}: {source[t].rows} rows → {restored[t].rows if t in restored else 'missing'}"
              for t in source if restored.get(t) != source[t]]
    rows = sum(d.rows for d in source.values())
    result.evidence.update({"round_trip_tables": len(source), "round_trip_rows": rows})
    result.checks.append({"name": "backup-restore: every table equal (rows and content hash)",
                          "ok": not differ, "detail": "; ".join(differ[:5])})
    if differ:
        raise _Stop(FAILED, "backup-restore", f"{len(differ)} table(s) differ after the "
                    f"restore: {'; '.join(differ[:3])}")
    if rows == 0:
        raise _Stop(INSUFFICIENT, "backup-restore", "the database held no row to carry over, "
                    "so the round trip proved nothing")


def run_all(job: CellJob, cells: list[Cell], workers: int) -> list[CellResult]:
    """The cells, ``workers`` at a time (each on its own network), in the order given."""
    from concurrent.futures import ThreadPoolExecutor

    if not cells:
        return []
    job.say(f"[compat] {len(cells)} cell(s), {min(workers, len(cells))} at a time: "
            + ", ".join(c.key for c in cells))
    done: list[CellResult] = []

    def one(cell: Cell) -> CellResult:
        result = run_cell(job, cell)
        done.append(result)
        job.say(f"[compat] {len(done)}/{len(cells)} done — {cell.key}: {result.status} "
                f"({result.seconds:.0f} s)")
        return result

    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="cell") as pool:
        return list(pool.map(one, cells))
