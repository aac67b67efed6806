"""The containers provider: the whole stack on a local engine, one network per run.

Everything it creates carries the run's labels; everything it creates is removed by ``stop()``,
which the caller runs on every path (including Ctrl-C and SIGTERM). Ports are published on
127.0.0.1 only. The application's start is timed from the engine's StartedAt to the arrival of
its first healthy answer; an app that never gets healthy is evidence for the deployment suite, not
a crash.
"""

from __future__ import annotations

import os
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import psycopg
from testcontainers.core.container import DockerContainer
from testcontainers.core.network import Network

from releasegate.config.profile import Profile
from releasegate.config.templating import render_all
from releasegate.errors import ConfigError, EnvironmentProblem
from releasegate.evidence.container_start import observe_start
from releasegate.evidence.interference import Interruption
from releasegate.stack import build, engine, images, labels
from releasegate.stack.autoheal import UnhealthyRestarter, restarts
from releasegate.stack.interruptions import read_interruptions
from releasegate.stack.model import (
    AlertSink,
    AlertSinkFactory,
    DatabaseEndpoint,
    StackInfo,
    StartupRecord,
)

Progress = Callable[[str], None]
DB_READY_TIMEOUT_S = 60.0
AUTOHEAL_JOURNAL = "autoheal.jsonl"


class _LoopbackContainer(DockerContainer):
    """A container whose ports are published on 127.0.0.1 only, never on every interface."""

    def with_loopback_port(self, port: int) -> _LoopbackContainer:
        # A fixed host port, chosen now, survives the stop/start cycles of the fault suites;
        # an engine-chosen one would move and strand every client holding the old address.
        self.ports[f"{port}/tcp"] = ("127.0.0.1", free_loopback_port())  # type: ignore[assignment]
        return self


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def resolve_secrets(profile: Profile) -> dict[str, str]:
    values: dict[str, str] = {}
    for name, spec in profile.secrets.items():
        if spec.env is not None:
            value = os.environ.get(spec.env)
            if not value:
                raise ConfigError(
                    f"{profile.path}: secrets.{name}: environment variable {spec.env} is not set",
                    hint=f"export {spec.env}=... before the run",
                )
            values[name] = value
        else:
            values[name] = secrets.token_urlsafe(spec.generate or 24)[: spec.generate]
    return values


class ContainersStack:
    def __init__(self, profile: Profile, *, run_id: str, run_dir: Path, progress: Progress,
                 alert_sink: AlertSinkFactory, parent_run: str | None = None):
        self.profile = profile
        # A stack started beside a run's own (a compatibility cell) carries that run's id too.
        self.parent_run = parent_run
        self.alert_sink = alert_sink
        self.run_id = run_id
        self.run_dir = run_dir
        self.progress = progress
        self.client: Any = None
        self.network: Network | None = None
        self.db: _LoopbackContainer | None = None
        self.app: _LoopbackContainer | None = None
        self.receiver: AlertSink | None = None
        self.autoheal: UnhealthyRestarter | None = None
        self.secrets: dict[str, str] = {}
        """This stack's generated secrets, known from the start on (to mask them)."""

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> StackInfo:
        profile, progress = self.profile, self.progress
        self.client = engine.connect_engine(auto_install=True, progress=progress)
        engine.configure_testcontainers_env()
        facts = {f"docker_{k}": v for k, v in engine.engine_facts(self.client).items()}
        secret_values = self.secrets = resolve_secrets(profile)

        db_image = self._provision_db_image(facts)
        app_image, startup = self._build_app(facts)

        self.network = Network(docker_network_kw={"labels": self._labels("net")})
        self.network.name = f"releasegate-{self.run_id}"
        self.network.create()
        gateway = self._gateway()
        self.receiver = self.alert_sink(gateway)
        progress(f"alert receiver listening on {self.receiver.url}")

        values: dict[str, str] = {f"secret.{k}": v for k, v in secret_values.items()}
        values.update({"alerts.url": self.receiver.url, "run.id": self.run_id})
        db_endpoint = None
        if profile.db is not None and db_image is not None:
            db_endpoint = self._start_db(db_image, values)
            facts["postgres"] = db_endpoint.version
        info = StackInfo(
            run_id=self.run_id, provider="containers", base_url="", network=self.network.name,
            db=db_endpoint, db_internal_host=profile.db.name if profile.db else None,
            alerts_url=self.receiver.url, alerts_read_url=self.receiver.url,
            secrets=secret_values, startup=startup, facts=facts,
        )
        if self.db is not None:
            info.db_container = self.db.get_wrapped_container().id
        self._start_app(app_image, values, info)
        return info

    def stop(self) -> None:
        """Remove everything this run created; safe to call twice and after a failed start."""
        if self.autoheal is not None:
            self.autoheal.stop()
            self.autoheal = None
        for container in (self.app, self.db):
            if container is not None:
                try:
                    container.stop()
                except Exception as exc:  # keep going: the network must still go
                    self.progress(f"warning: could not remove a container: {exc}")
        self.app = self.db = None
        if self.receiver is not None:
            self.receiver.stop()
            self.receiver = None
        if self.network is not None:
            try:
                self.network.remove()
            except Exception as exc:
                self.progress(f"warning: could not remove network {self.network.name}: {exc}")
            self.network = None
        if self.client is not None:
            labels.clean(self.client, run_id=self.run_id, progress=lambda _: None)

    def _labels(self, role: str) -> dict[str, str]:
        return labels.run_labels(self.run_id, role, self.parent_run)

    def run_facts(self) -> dict[str, str]:
        """What happened to the containers during the run: a restart must never go unseen."""
        facts: dict[str, str] = {}
        for role, container in (("app", self.app), ("db", self.db)):
            if container is None:
                continue
            try:
                wrapped = container.get_wrapped_container()
                wrapped.reload()
                facts[f"{role}_restarts_by_policy"] = str(wrapped.attrs.get("RestartCount", 0))
                facts[f"{role}_state"] = str(wrapped.attrs["State"].get("Status"))
            except Exception as exc:
                facts[f"{role}_state"] = f"unknown ({type(exc).__name__})"
        facts["app_restarts_by_autoheal"] = str(len(restarts(self.run_dir / AUTOHEAL_JOURNAL)))
        return facts

    def interruptions(self, since: float) -> list[Interruption]:
        roles = {c.get_wrapped_container().id: role
                 for role, c in (("app", self.app), ("db", self.db)) if c is not None}
        if self.client is None:
            return []
        return read_interruptions(self.client, roles, since,
                                  restarts(self.run_dir / AUTOHEAL_JOURNAL))

    def capture_logs(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for role, container in (("app", self.app), ("db", self.db)):
            if container is not None:
                try:
                    wrapped = container.get_wrapped_container()
                    out[role] = wrapped.logs(timestamps=True).decode("utf-8", "replace")
                except Exception as exc:
                    out[role] = f"(logs unavailable: {exc})"
        return out

    # -- pieces --------------------------------------------------------------------------
    def _provision_db_image(self, facts: dict[str, str]) -> str | None:
        db = self.profile.db
        if db is None:
            return None
        if db.image:
            return db.image
        provisioned = images.ensure_image(
            self.client, images.recipe_for_postgres(db.version), progress=self.progress
        )
        facts["postgres_image"] = f"{provisioned.tag} ({provisioned.source})"
        return str(provisioned.tag)

    def _build_app(self, facts: dict[str, str]) -> tuple[str, StartupRecord]:
        app = self.profile.app
        startup = StartupRecord()
        if app.build is None:
            assert app.image is not None
            startup.image = app.image
            startup.image_id = str(self.client.images.get(app.image).id)
            return app.image, startup
        build_args = dict(app.build.args)
        if app.build.python:
            base = images.ensure_image(
                self.client, images.recipe_for_python(app.build.python), progress=self.progress
            )
            build_args.setdefault("BASE_IMAGE", str(base.tag))
            startup.base_image, startup.base_image_source = str(base.tag), str(base.source)
            facts["app_base_image"] = f"{base.tag} ({base.source})"
        tag = build.image_tag(self.profile.name, app.build, build_args)
        built = build.build_image(
            self.client, app.build, tag=tag, build_args=build_args,
            labels={labels.ROLE: "app-image", labels.RUN: self.run_id}, progress=self.progress,
        )
        startup.image, startup.image_id = built.tag, built.image_id
        startup.built_in_run, startup.build_seconds = True, built.seconds
        startup.build_log_tail = built.log_tail
        facts["app_image"] = f"{built.tag} ({built.image_id[:19]})"
        return built.tag, startup

    def _gateway(self) -> str:
        assert self.network is not None
        attrs = self.client.networks.get(self.network.id).attrs
        configs = attrs.get("IPAM", {}).get("Config") or []
        for config in configs:
            if config.get("Gateway"):
                return str(config["Gateway"])
        raise EnvironmentProblem(
            f"network {self.network.name} has no gateway address",
            hint="the engine's bridge driver is needed for the alert receiver",
        )

    def _start_db(self, image: str, values: dict[str, str]) -> DatabaseEndpoint:
        db = self.profile.db
        assert db is not None and self.network is not None
        password = render_all({"p": db.password}, values, where="services.db.password")["p"]
        env = {
            "POSTGRES_USER": db.user, "POSTGRES_PASSWORD": password, "POSTGRES_DB": db.database,
            "POSTGRES_SSL": "on" if db.tls else "off",
        }
        self.progress(f"starting PostgreSQL {db.version} ({image})")
        container = _LoopbackContainer(image, env=env, network=self.network,
                                       network_aliases=[db.name])
        container.with_loopback_port(5432).with_name(f"releasegate-{self.run_id}-db")
        container.with_kwargs(labels=self._labels("db"))
        self.db = container
        container.start()
        port = int(container.get_exposed_port(5432))
        endpoint = DatabaseEndpoint(
            host="127.0.0.1", port=port, user=db.user, password=password, database=db.database,
            sslmode="require" if db.tls else "disable",
        )
        endpoint.version = self._wait_db(endpoint)
        values.update({
            "db.host": db.name, "db.port": "5432", "db.user": db.user, "db.password": password,
            "db.database": db.database, "db.sslmode": endpoint.sslmode,
        })
        return endpoint

    def _wait_db(self, endpoint: DatabaseEndpoint) -> str:
        deadline = time.monotonic() + DB_READY_TIMEOUT_S
        error = ""
        while time.monotonic() < deadline:
            try:
                with psycopg.connect(endpoint.dsn(), connect_timeout=3) as conn:
                    row = conn.execute("SHOW server_version").fetchone()
                    version = str(row[0]) if row else ""
                    self.progress(f"PostgreSQL ready on 127.0.0.1:{endpoint.port} ({version})")
                    return version
            except psycopg.Error as exc:
                error = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
            time.sleep(0.5)
        logs = self.capture_logs().get("db", "")[-2000:]
        raise EnvironmentProblem(
            f"PostgreSQL did not accept connections within {DB_READY_TIMEOUT_S:.0f} s: {error}",
            hint=f"database container log tail:\n{logs}",
        )

    def _start_app(self, image: str, values: dict[str, str], info: StackInfo) -> None:
        app = self.profile.app
        assert self.network is not None
        env = render_all(app.env, values, where=f"services.{app.name}.env")
        container = _LoopbackContainer(image, env=env, network=self.network,
                                       network_aliases=[app.name])
        container.with_loopback_port(app.port).with_name(f"releasegate-{self.run_id}-app")
        container.with_kwargs(
            labels=self._labels("app"),
            restart_policy={"Name": app.restart_policy} if app.restart_policy != "no" else None,
        )
        self.app = container
        self.progress(f"starting the application ({image})")
        container.start()
        info.startup.container_started = True
        wrapped = container.get_wrapped_container()
        info.app_container = wrapped.id
        info.base_url = f"http://127.0.0.1:{container.get_exposed_port(app.port)}"
        if app.on_unhealthy == "restart":
            self.autoheal = UnhealthyRestarter(wrapped, self.run_dir / AUTOHEAL_JOURNAL,
                                               self.progress).start()

        def running() -> bool:
            wrapped.reload()
            return bool(wrapped.status == "running" or app.restart_policy != "no")

        # Timed from the engine's StartedAt to the arrival of the first 200: the first sample
        # of PERF-CONTAINER-START (restarts add more, through measure/start_timing.py).
        start = observe_start(wrapped, info.base_url + app.health_path,
                              timeout=self.profile.health_timeout_s, still_running=running)
        info.startup.start = asdict(start)
        if start.healthy:  # answered; a start time the clocks cannot give is the suite's matter
            info.startup.healthy_after_s = start.seconds if start.seconds is not None else 0.0
        info.startup.health_wait_s = start.waited_s
        info.startup.last_health_status = start.last_status
        info.startup.last_health_error = start.last_error or start.problem
        if not start.healthy:
            self.progress(
                f"the application did not answer 200 on {app.health_path} within "
                f"{start.waited_s:.0f} s (last: {start.last_status or start.last_error}); "
                "its logs are attached to the report"
            )
        else:
            self.progress(f"application healthy {start.seconds or 0.0:.1f} s after the engine "
                          f"started it, at {info.base_url}")
