"""A fresh PostgreSQL server beside the run's stack, and the application's environment aimed at it.

A restore only proves something on a server that has never seen the data: the same image as the
run's database (so the same major version and settings), started empty on the run's network
with the run's labels, removed afterwards whatever happened (and by ``releasegate clean`` if the
harness dies first). Each restore gets a new empty database on it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import psycopg

from releasegate.config.profile import Profile
from releasegate.config.templating import render
from releasegate.errors import EnvironmentProblem
from releasegate.stack import labels
from releasegate.stack.model import DatabaseEndpoint, StackInfo

PG_PORT = 5432


@dataclass
class FreshServer:
    container: Any
    alias: str
    """The server's name on the run network (what the application connects to)."""
    endpoint: DatabaseEndpoint
    """The server as the harness reaches it (127.0.0.1, published port), admin credentials."""
    ready_after_s: float

    def create_database(self, name: str) -> DatabaseEndpoint:
        """A new, empty database on this server."""
        with psycopg.connect(self.endpoint.dsn(), autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return replace(self.endpoint, database=name)

    def app_values(self, database: str) -> dict[str, str]:
        """Placeholder values that point the application at ``database`` on this server."""
        return {"db.host": self.alias, "db.port": str(PG_PORT), "db.database": database}


@contextmanager
def fresh_postgres(client: Any, stack: StackInfo, like: Any, *, role: str,
                   wait_s: float = 60.0) -> Iterator[FreshServer]:
    """Start an empty server from the image and environment of ``like`` (the run's database
    container), wait until it accepts the harness's connections, and always remove it."""
    if stack.db is None or not stack.network:
        raise EnvironmentProblem("a fresh database server needs the run's own database and "
                                 "network", hint="use the containers provider")
    like.reload()
    alias = f"rg-{role}-{int(time.monotonic() * 1000) % 100000}"
    container = client.containers.run(
        like.image.id, detach=True, environment=list(like.attrs["Config"].get("Env") or []),
        command=like.attrs["Config"].get("Cmd"), network=stack.network,
        networking_config={stack.network: client.api.create_endpoint_config(aliases=[alias])},
        labels=labels.run_labels(stack.run_id, role),
        ports={f"{PG_PORT}/tcp": ("127.0.0.1", None)},
        name=f"releasegate-{stack.run_id}-{alias}",
    )
    try:
        container.reload()
        port = int(container.attrs["NetworkSettings"]["Ports"][f"{PG_PORT}/tcp"][0]["HostPort"])
        endpoint = replace(stack.db, host="127.0.0.1", port=port)
        started = time.monotonic()
        _wait_ready(endpoint, container, wait_s)
        yield FreshServer(container, alias, endpoint, time.monotonic() - started)
    finally:
        container.remove(force=True, v=True)


def _wait_ready(endpoint: DatabaseEndpoint, container: Any, wait_s: float) -> None:
    deadline = time.monotonic() + wait_s
    error = ""
    while time.monotonic() < deadline:
        try:
            with psycopg.connect(endpoint.dsn(), connect_timeout=3) as conn:
                conn.execute("SELECT 1")
                return
        except psycopg.Error as exc:
            error = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
        container.reload()
        if container.status in ("exited", "dead"):
            break
        time.sleep(0.5)
    tail = bytes(container.logs()).decode("utf-8", "replace")[-1500:]
    raise EnvironmentProblem(f"the fresh PostgreSQL server did not accept connections within "
                             f"{wait_s:.0f} s: {error}", hint=f"its log tail:\n{tail}")


def database_env(profile: Profile, stack: StackInfo,
                 changes: Mapping[str, str]) -> dict[str, str]:
    """The application's variables that mention the database (``{db.*}``), rendered with
    ``changes`` over the run's values: the environment that points the application elsewhere
    (another server, a wrong password, an unreachable host). Empty when no variable uses them."""
    values = {**stack.template_values(), **changes}
    where = f"services.{profile.app.name}.env"
    return {key: render(template, values, where=f"{where}.{key}")
            for key, template in profile.app.env.items() if "{db." in template}


def network_gateway(client: Any, network: str) -> str:
    """The run network's gateway: the host as the containers on that network reach it."""
    for config in client.networks.get(network).attrs.get("IPAM", {}).get("Config") or []:
        if config.get("Gateway"):
            return str(config["Gateway"])
    raise EnvironmentProblem(f"network {network} has no gateway address",
                             hint="the engine's bridge driver is needed")
