"""The external provider: an environment someone else deployed, given by URL (and maybe a DSN).

Nothing is started or stopped. What a suite needs and cannot get here — container inspection,
log access, commands inside the app — is listed in ``limitations`` so the suite reports
``insufficient`` with the reason, never a pass.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlparse

import psycopg

from releasegate.config.profile import ExternalTarget, Profile
from releasegate.errors import ConfigError, EnvironmentProblem
from releasegate.evidence.interference import Interruption
from releasegate.stack.containers import resolve_secrets
from releasegate.stack.health import wait_healthy
from releasegate.stack.interruptions import read_interruptions
from releasegate.stack.model import DatabaseEndpoint, StackInfo

Progress = Callable[[str], None]


def parse_dsn(dsn: str) -> DatabaseEndpoint:
    url = urlparse(dsn)
    if url.scheme.split("+")[0] not in ("postgresql", "postgres") or not url.hostname:
        raise ConfigError(f"--dsn {url.scheme}://…: not a PostgreSQL URL",
                          hint="use postgresql://user:password@host:port/database")
    query = dict(part.split("=", 1) for part in url.query.split("&") if "=" in part)
    return DatabaseEndpoint(
        host=url.hostname, port=url.port or 5432, user=unquote(url.username or ""),
        password=unquote(url.password or ""), database=url.path.lstrip("/") or "postgres",
        sslmode=query.get("sslmode", "prefer"),
    )


class ExternalStack:
    def __init__(self, profile: Profile, *, run_id: str, progress: Progress) -> None:
        self.profile = profile
        self.run_id = run_id
        self.progress = progress
        self.client: Any = None

    def start(self) -> StackInfo:
        target: ExternalTarget | None = self.profile.external
        assert target is not None
        info = StackInfo(run_id=self.run_id, provider="external", base_url=target.base_url,
                         secrets=resolve_secrets(self.profile))
        limits = info.limitations
        if target.app_db_host:
            info.db_internal_host = target.app_db_host
        if target.dsn:
            info.db = parse_dsn(os.path.expandvars(target.dsn))
            try:
                with psycopg.connect(info.db.dsn(), connect_timeout=5) as conn:
                    row = conn.execute("SHOW server_version").fetchone()
                    info.db.version = str(row[0]) if row else ""
            except psycopg.Error as exc:
                raise EnvironmentProblem(
                    f"the external database did not accept a connection: {exc}".splitlines()[0],
                    hint="check --dsn (host, credentials, sslmode) and network access",
                ) from None
        else:
            limits["database"] = "no DSN was given for the external environment (--dsn)"
        self._attach_containers(target, info)
        limits.setdefault("build", "the external environment was deployed elsewhere: the "
                          "image was not built in this run")
        limits["alerts"] = ("the harness's alert receiver is not reachable from an external "
                            "environment")
        app = self.profile.app
        self.progress(f"checking {target.base_url}{app.health_path}")
        wait = wait_healthy(target.base_url + app.health_path,
                            timeout=min(self.profile.health_timeout_s, 30))
        if wait.healthy_after_s is None and wait.last_status is None:
            # Not one HTTP answer: a wrong URL or a stopped environment, not evidence about it.
            raise EnvironmentProblem(
                f"the external target {target.base_url} does not answer ({wait.last_error})",
                hint="check the --external URL and that the environment is up",
            )
        info.startup.healthy_after_s = 0.0 if wait.healthy_after_s is not None else None
        info.startup.last_health_status = wait.last_status
        info.startup.last_health_error = wait.last_error
        if wait.healthy_after_s is None:
            self.progress(f"warning: {target.base_url} is not healthy "
                          f"({wait.last_status or wait.last_error})")
        return info

    def _attach_containers(self, target: ExternalTarget, info: StackInfo) -> None:
        if not (target.app_container or target.db_container):
            info.limitations["containers"] = "no container names were given (--container)"
            return
        from releasegate.stack import engine

        try:
            self.client = engine.connect_engine(auto_install=False, progress=self.progress)
        except EnvironmentProblem as exc:
            info.limitations["containers"] = f"container engine not reachable: {exc.message}"
            return
        for attr, name in (("app_container", target.app_container),
                           ("db_container", target.db_container)):
            if name:
                setattr(info, attr, str(self.client.containers.get(name).id))

    def stop(self) -> None:
        """Nothing to remove: the harness started nothing."""

    def run_facts(self) -> dict[str, str]:
        return {}

    def interruptions(self, since: float) -> list[Interruption]:
        target = self.profile.external
        if self.client is None or target is None:
            return []
        roles = {str(self.client.containers.get(name).id): role
                 for role, name in (("app", target.app_container), ("db", target.db_container))
                 if name}
        return read_interruptions(self.client, roles, since)

    def capture_logs(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.client is None:
            return out
        for role, name in (("app", self.profile.external and self.profile.external.app_container),
                           ("db", self.profile.external and self.profile.external.db_container)):
            if name:
                out[role] = self.client.containers.get(name).logs(tail=5000).decode(
                    "utf-8", "replace")
        return out
