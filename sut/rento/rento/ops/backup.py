"""Verified, checksummed, private PostgreSQL backups.

One backup is three files in the backup directory, all mode 0600 in a 0700 directory:

``rento-<db>-<YYYYmmddTHHMMSS.ffffff>Z.dump``
    ``pg_dump --format=custom`` output.
``<dump>.sha256``
    ``sha256sum``-compatible checksum line.
``<dump>.manifest.json``
    creation time, database, server version, Alembic revision, and the exact row count and a
    content fingerprint of every table, taken in the same snapshot as the dump.

plus ``LATEST``, a one-line pointer to the newest verified dump.

Procedure: open a REPEATABLE READ transaction and export its snapshot; start ``pg_dump
--snapshot=<id>`` (argv list, no shell, password only in the child's environment) into a hidden
temporary file while the same transaction counts and fingerprints every table; check the exit
status; verify the artifact (non-empty, ``pg_restore --list`` reads it and lists the data of
every counted table); write checksum and manifest; rename everything into place and only then
replace ``LATEST``. Any failure removes the partial files, leaves ``LATEST`` alone and raises
:class:`BackupError`. Retention runs only after a success and never touches the new backup.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import hashlib
import json
import logging
import os
import re
import signal
import stat
import subprocess  # nosec B404 - fixed argv lists only, never a shell
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Protocol, Tuple

from rento.ops import notify, tablestats
from rento.ops.pgconn import DatabaseUrlError, PgTarget, connect
from rento.ops.settings import OpsSettings

DUMP_SUFFIX = ".dump"
SHA_SUFFIX = ".sha256"
MANIFEST_SUFFIX = ".manifest.json"
LATEST_NAME = "LATEST"
RUN_LOCK_NAME = ".backup.lock"
PARTIAL_SUFFIX = ".partial"
MANIFEST_FORMAT = "rento-backup/1"

NAME_RE = re.compile(r"^rento-(?P<db>.+)-(?P<ts>\d{8}T\d{6}\.\d{6})Z\.dump$")
_TS_FORMAT = "%Y%m%dT%H%M%S.%f"
_STDERR_LIMIT = 4000
# pg_dump gives up instead of queueing forever behind a schema change holding an exclusive lock.
LOCK_WAIT_TIMEOUT = "120s"
SNAPSHOT_SESSION_SETTINGS = (
    "SET statement_timeout = 0",
    "SET lock_timeout = 0",
    "SET idle_in_transaction_session_timeout = 0",
)


class Cancel(Protocol):
    def is_set(self) -> bool: ...


class BackupError(Exception):
    """A backup did not complete; ``reason`` is a stable machine-readable code."""

    def __init__(self, message: str, reason: str = "backup_failed") -> None:
        super().__init__(message)
        self.reason = reason


# --------------------------------------------------------------------------------------------
# file helpers
# --------------------------------------------------------------------------------------------
def ensure_private_dir(path: Path) -> None:
    """Create ``path`` (0700) or tighten an existing one; refuse a directory others can read
    when it cannot be fixed."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(
            f"cannot create backup directory {path}: {exc.strerror or exc}", _io_reason(exc)
        ) from exc
    st = path.stat()
    if stat.S_IMODE(st.st_mode) != 0o700:
        try:
            os.chmod(path, 0o700)
        except OSError as exc:
            if stat.S_IMODE(st.st_mode) & 0o077:
                raise BackupError(
                    f"backup directory {path} is accessible by other users and its mode "
                    f"cannot be changed ({exc.strerror or exc})",
                    "insecure_directory",
                ) from exc


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(path, 0o600)


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _unlink_quietly(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _io_reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "disk_full"
    return "io_error"


@contextlib.contextmanager
def run_lock(directory: Path, timeout: float, cancel: Optional[Cancel] = None) -> Iterator[None]:
    """Serialise backups that share a directory (scheduler and a manual run, two containers on
    one volume)."""
    fd = os.open(directory / RUN_LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
            if cancel is not None and cancel.is_set():
                raise BackupError("backup cancelled while waiting for another backup", "cancelled")
            if time.monotonic() > deadline:
                raise BackupError("another backup is still running in this directory", "locked")
            time.sleep(0.2)
        yield
    finally:
        os.close(fd)  # closing releases the lock


# --------------------------------------------------------------------------------------------
# naming, listing and retention
# --------------------------------------------------------------------------------------------
def _safe_db(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_]+", "_", name).strip("_")
    return cleaned or "db"


def backup_name(dbname: str, when: dt.datetime) -> str:
    return f"rento-{_safe_db(dbname)}-{when.astimezone(dt.timezone.utc).strftime(_TS_FORMAT)}Z.dump"


def parse_backup_time(name: str) -> Optional[dt.datetime]:
    match = NAME_RE.match(name)
    if not match:
        return None
    return dt.datetime.strptime(match.group("ts"), _TS_FORMAT).replace(tzinfo=dt.timezone.utc)


def list_backups(directory: Path) -> List[Tuple[dt.datetime, str]]:
    """Completed backups in ``directory``, newest first."""
    found: List[Tuple[dt.datetime, str]] = []
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return []
    for entry in entries:
        when = parse_backup_time(entry.name)
        if when is not None and entry.is_file(follow_symlinks=False):
            found.append((when, entry.name))
    found.sort(reverse=True)
    return found


def read_latest(directory: Path) -> Optional[str]:
    try:
        text = (directory / LATEST_NAME).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return text or None


def _remove_backup(directory: Path, name: str) -> None:
    for suffix in ("", SHA_SUFFIX, MANIFEST_SUFFIX):
        _unlink_quietly(directory / (name + suffix))


def apply_retention(
    directory: Path,
    keep: int,
    max_age_days: float,
    protect: Optional[str],
    now: Optional[dt.datetime] = None,
) -> List[str]:
    """Delete backups beyond the ``keep`` newest and those older than ``max_age_days``.

    ``protect`` (the backup just made) is never deleted. ``keep <= 0`` and ``max_age_days <= 0``
    disable the respective rule. Returns the names deleted, oldest last.
    """
    now = now or dt.datetime.now(dt.timezone.utc)
    backups = list_backups(directory)
    doomed: List[str] = []
    for index, (when, name) in enumerate(backups):
        if name == protect:
            continue
        too_many = keep > 0 and index >= keep
        too_old = max_age_days > 0 and (now - when) > dt.timedelta(days=max_age_days)
        if too_many or too_old:
            doomed.append(name)
    for name in doomed:
        _remove_backup(directory, name)
    # Side files whose dump is gone (e.g. a dump deleted by hand).
    present = {name for _, name in list_backups(directory)}
    for entry in os.scandir(directory):
        for suffix in (SHA_SUFFIX, MANIFEST_SUFFIX):
            if entry.name.endswith(suffix):
                base = entry.name[: -len(suffix)]
                if NAME_RE.match(base) and base not in present:
                    _unlink_quietly(directory / entry.name)
    return doomed


def _clean_stale_partials(directory: Path) -> None:
    """Temporary files of runs that died (the caller holds the run lock, so none is live)."""
    for entry in os.scandir(directory):
        if entry.name.startswith(".") and entry.name.endswith(PARTIAL_SUFFIX):
            _unlink_quietly(directory / entry.name)


# --------------------------------------------------------------------------------------------
# error classification
# --------------------------------------------------------------------------------------------
def classify_error(text: str, default: str) -> str:
    t = (text or "").lower()
    if "no space left on device" in t or "disk quota exceeded" in t or "enospc" in t:
        return "disk_full"
    if (
        "password authentication failed" in t
        or "authentication failed" in t
        or "no password supplied" in t
        or "password is required" in t
        or ("role" in t and "does not exist" in t)
        or "pg_hba.conf" in t
    ):
        return "auth_failed"
    if "server version mismatch" in t:
        return "version_mismatch"
    if (
        "could not connect" in t
        or "connection refused" in t
        or "could not translate host name" in t
        or "timeout expired" in t
        or "no route to host" in t
        or "network is unreachable" in t
        or ("connection to server" in t and "failed" in t)
        or ("database" in t and "does not exist" in t)
        or "server closed the connection" in t
        or "the database system is" in t
    ):
        return "unreachable"
    return default


def _signal_name(rc: int) -> str:
    try:
        return signal.Signals(-rc).name
    except ValueError:
        return f"signal {-rc}"


def _read_tail(fh: Any) -> str:
    fh.seek(0, os.SEEK_END)
    size = fh.tell()
    fh.seek(max(0, size - _STDERR_LIMIT))
    return str(fh.read().decode("utf-8", "replace").strip())


def tool_version(executable: str) -> Optional[str]:
    try:
        out = subprocess.run(  # nosec B603 - argv list, no shell
            [executable, "--version"],
            capture_output=True,
            timeout=15,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    text = out.stdout.decode("utf-8", "replace").strip()
    return text if out.returncode == 0 and text else None


def _stop_process(proc: "subprocess.Popen[bytes]") -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def run_tool(
    argv: List[str],
    env: Dict[str, str],
    *,
    timeout: float,
    cancel: Optional[Cancel] = None,
    redact: Any = None,
) -> Tuple[int, str, str]:
    """Run a client tool; returns (returncode, stdout tail, stderr tail)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(  # nosec B603 - argv list, no shell
            argv, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err, umask=0o077
        )
        try:
            _wait(proc, timeout, cancel)
        finally:
            _stop_process(proc)
        rc = proc.returncode
        stdout = out
        stdout.seek(0)
        stdout_text = stdout.read().decode("utf-8", "replace")
        stderr_text = _read_tail(err)
    if redact is not None:
        stderr_text = redact(stderr_text)
    return rc, stdout_text, stderr_text


def _program(proc: "subprocess.Popen[bytes]") -> str:
    args = proc.args
    first = args[0] if isinstance(args, (list, tuple)) and args else args
    return Path(str(first)).name


def _wait(proc: "subprocess.Popen[bytes]", timeout: float, cancel: Optional[Cancel]) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            proc.wait(timeout=0.1)
            return
        except subprocess.TimeoutExpired:
            pass
        if cancel is not None and cancel.is_set():
            _stop_process(proc)
            raise BackupError("backup cancelled (service shutting down)", "cancelled")
        if time.monotonic() > deadline:
            _stop_process(proc)
            raise BackupError(f"{_program(proc)} timed out after {timeout:.0f} s", "timeout")


# --------------------------------------------------------------------------------------------
# the backup itself
# --------------------------------------------------------------------------------------------
def _verify_artifact(
    path: Path, settings: OpsSettings, target: PgTarget, tables: Dict[str, Dict[str, Any]]
) -> None:
    size = path.stat().st_size
    if size <= 0:
        raise BackupError("backup verification failed: dump file is empty", "verify_failed")
    rc, listing, err = run_tool(
        [settings.pg_restore, "--list", str(path)],
        target.tool_env(),
        timeout=max(60.0, settings.backup_timeout_seconds),
        redact=target.redact,
    )
    if rc != 0:
        detail = err.splitlines()[-1] if err else f"exit status {rc}"
        raise BackupError(
            f"backup verification failed: pg_restore --list cannot read the dump ({detail})",
            "verify_failed",
        )
    listed = set()
    for line in listing.splitlines():
        if line.startswith(";") or " TABLE DATA " not in line:
            continue
        # "<id>; <oid> <oid> TABLE DATA <schema> <table> <owner>"
        rest = line.split(" TABLE DATA ", 1)[1].split()
        if len(rest) >= 2:
            listed.add(tablestats.table_key(rest[0], rest[1]))
    missing = sorted(set(tables) - listed)
    if missing:
        raise BackupError(
            "backup verification failed: no table data in the dump for " + ", ".join(missing),
            "verify_failed",
        )


def run_backup(
    settings: Optional[Any] = None,
    output_dir: Optional[str] = None,
    cancel: Optional[Cancel] = None,
) -> Dict[str, Any]:
    """Make one verified backup; returns its summary or raises :class:`BackupError`."""
    cfg = OpsSettings.from_settings(settings)
    started_mono = time.monotonic()
    started = dt.datetime.now(dt.timezone.utc)
    directory = Path(output_dir or cfg.backup_dir).expanduser().absolute()
    try:
        target = PgTarget.from_url(cfg.database_url)
    except DatabaseUrlError as exc:
        raise BackupError(str(exc), "config_error") from exc

    ensure_private_dir(directory)
    with run_lock(directory, timeout=max(60.0, cfg.backup_timeout_seconds), cancel=cancel):
        with contextlib.suppress(OSError):
            _clean_stale_partials(directory)
        result = _backup_locked(cfg, target, directory, started, cancel)
        try:
            deleted = apply_retention(
                directory, int(cfg.backup_keep), float(cfg.backup_max_age_days), result["file"]
            )
        except OSError as exc:  # retention trouble never undoes a good backup
            deleted = []
            notify.log_event(logging.WARNING, "backup retention failed", error=str(exc))
    result["deleted"] = deleted
    result["seconds"] = round(time.monotonic() - started_mono, 3)
    return result


def _backup_locked(
    cfg: OpsSettings,
    target: PgTarget,
    directory: Path,
    started: dt.datetime,
    cancel: Optional[Cancel],
) -> Dict[str, Any]:
    name = backup_name(target.dbname, started)
    final = directory / name
    final_sha = directory / (name + SHA_SUFFIX)
    final_manifest = directory / (name + MANIFEST_SUFFIX)
    tmp_dump = directory / f".{name}{PARTIAL_SUFFIX}"
    tmp_sha = directory / f".{name}{SHA_SUFFIX}{PARTIAL_SUFFIX}"
    tmp_manifest = directory / f".{name}{MANIFEST_SUFFIX}{PARTIAL_SUFFIX}"
    tmp_latest = directory / f".{LATEST_NAME}{PARTIAL_SUFFIX}"
    created: List[Path] = [tmp_dump, tmp_sha, tmp_manifest, tmp_latest]
    promoted: List[Path] = []
    t0 = time.monotonic()
    try:
        try:
            conn = connect(target, autocommit=True)
        except Exception as exc:
            message = target.redact(str(exc).strip())
            raise BackupError(
                f"cannot connect to the database {target.describe()}: {message}",
                classify_error(message, "unreachable"),
            ) from exc
        try:
            tablestats.pin_session(conn)
            with conn.cursor() as cur:
                # The snapshot transaction idles while pg_dump works: no server default may end it.
                for stmt in SNAPSHOT_SESSION_SETTINGS:
                    cur.execute(stmt)
            conn.autocommit = False
            import psycopg

            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            conn.read_only = True
            with conn.cursor() as cur:
                cur.execute(
                    "SELECT pg_export_snapshot(), current_database(), "
                    "current_setting('server_version'), current_setting('server_version_num')"
                )
                row = cur.fetchone()
                if row is None:
                    raise BackupError("the server did not export a snapshot", "dump_failed")
                snapshot, dbname, server_version, server_version_num = row

            fd = os.open(tmp_dump, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
            os.close(fd)
            argv = [
                cfg.pg_dump,
                "--format=custom",
                "--no-password",
                f"--snapshot={snapshot}",
                f"--lock-wait-timeout={LOCK_WAIT_TIMEOUT}",
                f"--file={tmp_dump}",
                f"--dbname={target.tool_dbname_arg()}",
            ]
            with tempfile.TemporaryFile() as err:
                try:
                    proc = subprocess.Popen(  # nosec B603 - argv list, no shell
                        argv,
                        env=target.tool_env(),
                        stdin=subprocess.DEVNULL,
                        stdout=subprocess.DEVNULL,
                        stderr=err,
                        umask=0o077,
                    )
                except OSError as exc:
                    raise BackupError(
                        f"cannot run pg_dump ({cfg.pg_dump}): {exc.strerror or exc}",
                        "dump_failed",
                    ) from exc
                try:
                    # Counted in the exported snapshot while pg_dump copies the same snapshot.
                    tables = tablestats.collect(conn)
                    revision = tablestats.alembic_revision(conn)
                    remaining = cfg.backup_timeout_seconds - (time.monotonic() - t0)
                    _wait(proc, max(1.0, remaining), cancel)
                finally:
                    _stop_process(proc)
                rc = proc.returncode
                stderr_text = target.redact(_read_tail(err))
        finally:
            conn.close()  # ends the snapshot transaction; never raises

        if rc != 0:
            last = stderr_text.splitlines()[-1] if stderr_text else ""
            if rc < 0:
                raise BackupError(
                    f"pg_dump was killed by {_signal_name(rc)}" + (f": {last}" if last else ""),
                    classify_error(stderr_text, "dump_killed"),
                )
            raise BackupError(
                f"pg_dump failed with exit status {rc}" + (f": {last}" if last else ""),
                classify_error(stderr_text, "dump_failed"),
            )

        os.chmod(tmp_dump, 0o600)
        _fsync_path(tmp_dump)
        _verify_artifact(tmp_dump, cfg, target, tables)
        size = tmp_dump.stat().st_size
        digest = sha256_file(tmp_dump)
        finished = dt.datetime.now(dt.timezone.utc)
        row_counts = {k: int(v["rows"]) for k, v in tables.items()}
        manifest = {
            "format": MANIFEST_FORMAT,
            "file": name,
            "bytes": size,
            "sha256": digest,
            "created_at": notify.iso(started),
            "finished_at": notify.iso(finished),
            "database": str(dbname),
            "source": target.describe(),
            "server_version": str(server_version),
            "server_version_num": int(server_version_num),
            "pg_dump_version": tool_version(cfg.pg_dump),
            "dump_format": "custom",
            "snapshot": str(snapshot),
            "alembic_revision": revision,
            "app_version": _app_version(),
            "row_counts": row_counts,
            "content_md5": {k: v.get("md5") for k, v in tables.items()},
            "total_rows": sum(row_counts.values()),
            "tables": len(row_counts),
        }
        _write_private(tmp_sha, f"{digest}  {name}\n".encode())
        _write_private(
            tmp_manifest,
            (json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True) + "\n").encode(),
        )
        # Promote: side files first, the dump last, then the pointer.
        for src, dst in ((tmp_sha, final_sha), (tmp_manifest, final_manifest), (tmp_dump, final)):
            os.replace(src, dst)
            promoted.append(dst)
        _fsync_path(directory)
        _write_private(tmp_latest, (name + "\n").encode())
        os.replace(tmp_latest, directory / LATEST_NAME)
        promoted.clear()  # LATEST names the new dump now: nothing below may remove it
        with contextlib.suppress(OSError):
            _fsync_path(directory)
    except BackupError:
        _cleanup(created + promoted)
        raise
    except OSError as exc:
        _cleanup(created + promoted)
        raise BackupError(
            f"backup failed: {exc.strerror or exc}"
            + (f" ({exc.filename})" if exc.filename else ""),
            _io_reason(exc),
        ) from exc
    except Exception as exc:
        _cleanup(created + promoted)
        message = target.redact(str(exc).strip()) or type(exc).__name__
        raise BackupError(
            f"backup failed: {message}", classify_error(message, "backup_failed")
        ) from exc
    return {
        "status": "ok",
        "path": str(final),
        "file": name,
        "bytes": size,
        "sha256": digest,
        "database": str(dbname),
        "tables": len(row_counts),
        "rows": manifest["total_rows"],
        "dump_seconds": round(time.monotonic() - t0, 3),
    }


def _cleanup(paths: List[Path]) -> None:
    for path in paths:
        with contextlib.suppress(OSError):
            _unlink_quietly(path)


def _app_version() -> Optional[str]:
    try:
        from rento import __version__

        return str(__version__)
    except Exception:
        return None


# --------------------------------------------------------------------------------------------
# reporting (shared by the command line and the scheduler)
# --------------------------------------------------------------------------------------------
def backup_and_report(
    settings: Optional[Any] = None,
    output_dir: Optional[str] = None,
    *,
    wait_for_alert: bool,
    cancel: Optional[Cancel] = None,
    trigger: str = "manual",
) -> Tuple[bool, Dict[str, Any]]:
    """Run a backup, log the outcome as a JSON line, alert on failure. Never raises."""
    cfg = OpsSettings.from_settings(settings)
    t0 = time.monotonic()
    try:
        result = run_backup(cfg, output_dir, cancel)
    except Exception as exc:
        reason = exc.reason if isinstance(exc, BackupError) else "backup_failed"
        message = str(exc) or type(exc).__name__
        with contextlib.suppress(DatabaseUrlError):
            message = PgTarget.from_url(cfg.database_url).redact(message)
        seconds = round(time.monotonic() - t0, 3)
        directory = str(Path(output_dir or cfg.backup_dir))
        cancelled = reason == "cancelled"
        notify.log_event(
            logging.WARNING if cancelled else logging.ERROR,
            "backup cancelled" if cancelled else "backup failed",
            event="backup_cancelled" if cancelled else "backup_failed",
            reason=reason,
            error=message,
            backup_dir=directory,
            trigger=trigger,
            seconds=seconds,
        )
        if not cancelled:
            event = notify.failure_event(
                "backup_failed",
                message,
                reason=reason,
                backup_dir=directory,
                trigger=trigger,
            )
            notify.send_alert(event, cfg, wait=wait_for_alert)
        return False, {
            "status": "failed",
            "reason": reason,
            "error": message,
            "seconds": seconds,
        }
    notify.log_event(
        logging.INFO,
        "backup completed",
        event="backup_completed",
        trigger=trigger,
        **{k: result[k] for k in ("path", "bytes", "sha256", "seconds", "rows", "tables")},
        deleted=result.get("deleted", []),
    )
    return True, result
