"""What a started stack looks like to the suites: endpoints and start-up observations.

Plain, JSON-serialisable data: the controller starts the stack once and hands this to every
pytest-xdist worker through a file, so workers never touch container lifecycles themselves.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote


class AlertSink(Protocol):
    """A receiver for the application's alerts, handed to the stack by whoever measures them."""

    @property
    def url(self) -> str: ...

    def stop(self) -> None: ...


AlertSinkFactory = Callable[[str], AlertSink]
"""Starts a sink listening on the given address (the run network's gateway) and returns it."""


@dataclass
class DatabaseEndpoint:
    host: str
    port: int
    user: str
    password: str
    database: str
    sslmode: str = "require"
    version: str = ""

    def dsn(self, database: str | None = None) -> str:
        """A libpq URI for the harness's own connections (admin credentials)."""
        return (
            f"postgresql://{quote(self.user, safe='')}:{quote(self.password, safe='')}"
            f"@{self.host}:{self.port}/{quote(database or self.database, safe='')}"
            f"?sslmode={self.sslmode}"
        )


@dataclass
class StartupRecord:
    """How bringing the application up went — evidence for the deployment criteria."""

    image: str = ""
    image_id: str = ""
    built_in_run: bool = False
    build_seconds: float | None = None
    build_log_tail: str = ""
    base_image: str = ""
    base_image_source: str = ""
    container_started: bool = False
    healthy_after_s: float | None = None
    health_wait_s: float = 0.0
    last_health_status: int | None = None
    last_health_error: str = ""
    logs_path: str = ""
    start: dict[str, Any] = field(default_factory=dict)
    """The first start as observed (evidence.container_start.StartObservation, as a dict)."""


@dataclass
class StackInfo:
    run_id: str
    provider: str
    base_url: str
    app_container: str | None = None
    db_container: str | None = None
    network: str | None = None
    db: DatabaseEndpoint | None = None
    db_internal_host: str | None = None
    """The database as the application reaches it: a host (port 5432) or host:port."""
    alerts_url: str | None = None
    """The receiver as the application sees it (inside the run's network)."""
    alerts_read_url: str | None = None
    """The same receiver as the harness sees it."""
    secrets: dict[str, str] = field(default_factory=dict)
    startup: StartupRecord = field(default_factory=StartupRecord)
    facts: dict[str, str] = field(default_factory=dict)
    limitations: dict[str, str] = field(default_factory=dict)
    """What this provider cannot offer, by capability, with the reason (external targets)."""

    def template_values(self) -> dict[str, str]:
        """Placeholder values as the application sees them (inside the run's network)."""
        values = {f"secret.{k}": v for k, v in self.secrets.items()}
        values["run.id"] = self.run_id
        if self.alerts_url:
            values["alerts.url"] = self.alerts_url
        if self.db is not None and self.db_internal_host:
            host, _, port = self.db_internal_host.partition(":")
            values.update({
                "db.host": host, "db.port": port or "5432",
                "db.user": self.db.user, "db.password": self.db.password,
                "db.database": self.db.database, "db.sslmode": self.db.sslmode,
            })
        return values

    def scratch_database(self, label: str) -> str:
        """The name of a database the suites create for a while and drop (migrations, say)."""
        return f"rg_{label}_{self.run_id}"

    def scratch_databases_like(self) -> str:
        """A LIKE pattern matching every scratch database of this run, and nothing else."""
        return self.scratch_database("%").replace("_", "\\_")  # "_" is LIKE's own wildcard

    @property
    def healthy(self) -> bool:
        return self.startup.healthy_after_s is not None

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Holds the run's generated secrets: owner-only.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(asdict(self), handle, indent=2)

    @classmethod
    def load(cls, path: Path) -> StackInfo:
        data: dict[str, Any] = json.loads(path.read_text())
        db = data.pop("db")
        startup = data.pop("startup")
        return cls(
            db=DatabaseEndpoint(**db) if db else None, startup=StartupRecord(**startup), **data
        )
