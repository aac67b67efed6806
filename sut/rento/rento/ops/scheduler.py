"""Automatic backups from inside the service process.

``start_scheduler(settings)`` starts a daemon thread when ``RENTO_BACKUP_INTERVAL_SECONDS > 0``
(returns ``None`` otherwise); ``stop_scheduler(handle)`` stops it, cancelling a running dump so
shutdown stays fast. Every worker process may call ``start_scheduler``: the threads compete for
an exclusive ``fcntl`` lock on ``<backup dir>/.scheduler.lock`` and only the holder makes
backups, so a container with several workers makes one backup per interval. When the holder
exits, the lock is released by the kernel and a standby thread in another worker takes over.

The first backup is due one interval after the newest existing backup (immediately after a short
start-up delay when that moment has passed or there is none); later ones follow every interval.
Failures are logged and alerted like manual ones.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import errno
import fcntl
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any, Optional

from rento.ops import notify
from rento.ops.backup import backup_and_report, ensure_private_dir, list_backups
from rento.ops.settings import OpsSettings

SCHEDULER_LOCK_NAME = ".scheduler.lock"
START_DELAY_SECONDS = 5.0
LOCK_RETRY_SECONDS = 30.0


@dataclasses.dataclass
class SchedulerHandle:
    thread: threading.Thread
    stop_event: threading.Event
    settings: OpsSettings
    state: "dict[str, Any]" = dataclasses.field(default_factory=dict)

    @property
    def is_leader(self) -> bool:
        return bool(self.state.get("leader"))

    @property
    def runs(self) -> int:
        return int(self.state.get("runs", 0))


def start_scheduler(settings: Any = None) -> Optional[SchedulerHandle]:
    """Start automatic backups if ``backup_interval_seconds > 0``; returns the handle or None."""
    cfg = OpsSettings.from_settings(settings)
    interval = float(cfg.backup_interval_seconds or 0)
    if interval <= 0:
        return None
    stop = threading.Event()
    handle = SchedulerHandle(
        thread=threading.Thread(target=lambda: None), stop_event=stop, settings=cfg
    )
    handle.thread = threading.Thread(
        target=_loop, args=(handle,), name="rento-backup-scheduler", daemon=True
    )
    handle.thread.start()
    notify.log_event(
        logging.INFO,
        "backup scheduler started",
        event="backup_scheduler_started",
        interval_seconds=interval,
        backup_dir=cfg.backup_dir,
    )
    return handle


def stop_scheduler(handle: Optional[SchedulerHandle], timeout: float = 10.0) -> None:
    """Stop the scheduler thread (a dump in progress is cancelled and cleaned up)."""
    if handle is None:
        return
    handle.stop_event.set()
    if handle.thread.is_alive() and handle.thread is not threading.current_thread():
        handle.thread.join(timeout)
    notify.log_event(logging.INFO, "backup scheduler stopped", event="backup_scheduler_stopped")


def _try_lock(directory: Path) -> Optional[int]:
    fd = os.open(directory / SCHEDULER_LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno in (errno.EAGAIN, errno.EACCES):
            return None
        raise
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd


def _first_due(directory: Path, interval: float) -> float:
    """Monotonic time of the first backup."""
    now_wall = dt.datetime.now(dt.timezone.utc)
    delay = min(interval, START_DELAY_SECONDS)
    backups = list_backups(directory)
    if backups:
        age = (now_wall - backups[0][0]).total_seconds()
        delay = max(delay, interval - age)
    return time.monotonic() + delay


def _loop(handle: SchedulerHandle) -> None:
    cfg = handle.settings
    stop = handle.stop_event
    interval = float(cfg.backup_interval_seconds)
    directory = Path(cfg.backup_dir).expanduser().absolute()
    lock_fd: Optional[int] = None
    next_due = 0.0
    try:
        while not stop.is_set():
            if lock_fd is None:
                try:
                    ensure_private_dir(directory)
                    lock_fd = _try_lock(directory)
                except Exception as exc:
                    notify.log_event(
                        logging.ERROR,
                        "backup scheduler cannot use the backup directory",
                        event="backup_scheduler_error",
                        error=str(exc),
                        backup_dir=str(directory),
                    )
                    lock_fd = None
                if lock_fd is None:
                    stop.wait(min(interval, LOCK_RETRY_SECONDS))
                    continue
                handle.state["leader"] = True
                next_due = _first_due(directory, interval)
                notify.log_event(
                    logging.INFO,
                    "backup scheduler is active in this process",
                    event="backup_scheduler_leader",
                    pid=os.getpid(),
                )
            wait = next_due - time.monotonic()
            if wait > 0:
                stop.wait(wait)
                continue
            started = time.monotonic()
            ok, _ = backup_and_report(cfg, wait_for_alert=False, cancel=stop, trigger="scheduler")
            handle.state["runs"] = handle.state.get("runs", 0) + 1
            handle.state["last_ok"] = ok
            # Fixed rate; a backup longer than the interval is followed by the next at once.
            next_due = max(started + interval, time.monotonic())
    except Exception as exc:  # the thread must log, never die silently
        notify.log_event(
            logging.ERROR,
            "backup scheduler crashed",
            event="backup_scheduler_error",
            error=str(exc),
        )
    finally:
        handle.state["leader"] = False
        if lock_fd is not None:
            os.close(lock_fd)
