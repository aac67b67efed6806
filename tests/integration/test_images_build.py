"""Provision the bookworm images for real and check the contract they promise.

Needs a container engine (started if missing, as root on Debian) and either a registry or a
Debian mirror; the first run builds both images (a few minutes), later runs reuse them.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator
from typing import Any

import docker
import psycopg
import pytest

from releasegate.stack import engine, images

pytestmark = pytest.mark.integration

TEST_LABEL = {"releasegate.test": "1"}
READY = b"database system is ready to accept connections"


def say(message: str) -> None:
    print(f"[images] {message}", flush=True)


@pytest.fixture(scope="module")
def client() -> Iterator[docker.DockerClient]:
    engine.configure_testcontainers_env()
    cli = engine.connect_engine(auto_install=True, progress=say)
    yield cli
    cli.close()


@pytest.fixture(scope="module")
def python_image(client: docker.DockerClient) -> images.ProvisionedImage:
    return images.ensure_image(client, images.recipe_for_python("3.11"), progress=say)


@pytest.fixture(scope="module")
def postgres_image(client: docker.DockerClient) -> images.ProvisionedImage:
    return images.ensure_image(client, images.recipe_for_postgres(15), progress=say)


@pytest.fixture(scope="module")
def network(client: docker.DockerClient) -> Iterator[Any]:
    net = client.networks.create(f"rg-imgtest-{uuid.uuid4().hex[:8]}", driver="bridge",
                                 labels=TEST_LABEL)
    try:
        yield net
    finally:
        net.remove()


class Postgres:
    def __init__(self, container: Any, port: int) -> None:
        self.container = container
        self.port = port

    def connect(self, *, user: str, password: str, dbname: str,
                sslmode: str = "require") -> psycopg.Connection[Any]:
        return psycopg.connect(host="127.0.0.1", port=self.port, user=user, password=password,
                               dbname=dbname, sslmode=sslmode, connect_timeout=5)


def start_postgres(
    client: docker.DockerClient, tag: str, network: Any, env: dict[str, str],
    command: list[str] | None = None, timeout_s: float = 90,
) -> Postgres:
    container = client.containers.run(
        tag, command=command, detach=True, environment=env, labels=TEST_LABEL,
        network=network.name, ports={"5432/tcp": ("127.0.0.1", None)},
        name=f"rg-imgtest-pg-{uuid.uuid4().hex[:8]}",
    )
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        container.reload()
        if container.status == "exited":
            raise AssertionError(f"postgres exited: {container.logs().decode()[-2000:]}")
        if container.logs().count(READY) >= 2:  # temporary init server, then the real one
            port = int(container.ports["5432/tcp"][0]["HostPort"])
            return Postgres(container, port)
        time.sleep(0.5)
    logs = container.logs().decode()[-2000:]
    container.remove(force=True, v=True)
    raise AssertionError(f"postgres not ready in {timeout_s} s: {logs}")


def remove(container: Any) -> None:
    with contextlib.suppress(docker.errors.NotFound):
        container.remove(force=True, v=True)


def test_python_image_runs_python_and_pg_dump(
    client: docker.DockerClient, python_image: images.ProvisionedImage
) -> None:
    assert python_image.tag == "releasegate/python:3.11-bookworm"
    assert python_image.how in ("local", "pulled", "built-offline")
    out = client.containers.run(
        python_image.tag, ["sh", "-c", "python3 -V && pg_dump --version && python3 -m venv /v"
                           " && /v/bin/python -m pip --version"],
        remove=True, labels=TEST_LABEL,
    ).decode()
    assert "Python 3.11." in out
    assert "pg_dump (PostgreSQL) 15." in out
    assert "pip " in out
    assert python_image.facts.get("python_version", "").startswith("3.11")


def test_python_image_is_cached(
    client: docker.DockerClient, python_image: images.ProvisionedImage
) -> None:
    again = images.ensure_image(client, images.recipe_for_python("3.11"), progress=say)
    assert again.how == "local"
    assert again.image_id == python_image.image_id
    assert again.seconds < 5


def test_postgres_contract_with_tls(
    client: docker.DockerClient, postgres_image: images.ProvisionedImage, network: Any
) -> None:
    assert postgres_image.tag == "releasegate/postgres:15-bookworm"
    pg = start_postgres(
        client, postgres_image.tag, network,
        {"POSTGRES_USER": "rgapp", "POSTGRES_PASSWORD": "s3cret-for-test", "POSTGRES_DB": "rgdb"},
        command=["-c", "log_connections=on"],
    )
    try:
        with pg.connect(user="rgapp", password="s3cret-for-test", dbname="rgdb") as conn:
            row = conn.execute("SELECT current_user, current_database()").fetchone()
            assert row == ("rgapp", "rgdb")
            assert conn.execute("SHOW ssl").fetchone() == ("on",)
            ssl_row = conn.execute(
                "SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
            ).fetchone()
            assert ssl_row is not None and ssl_row[0] is True
            assert conn.execute("SHOW server_encoding").fetchone() == ("UTF8",)
            assert conn.execute("SHOW lc_collate").fetchone() == ("C.UTF-8",)
            preload = conn.execute("SHOW shared_preload_libraries").fetchone()
            assert preload is not None and "pg_stat_statements" in preload[0]
            assert conn.execute("SHOW pg_stat_statements.track").fetchone() == ("all",)
            # extra arguments after the image name reach postgres
            assert conn.execute("SHOW log_connections").fetchone() == ("on",)
            count = conn.execute("SELECT count(*) FROM pg_stat_statements").fetchone()
            assert count is not None and count[0] >= 0
            with pytest.raises(psycopg.errors.UndefinedTable):
                conn.execute("SELECT * FROM releasegate_no_such_table")
        # database errors reach `docker logs`
        time.sleep(0.3)
        assert b"releasegate_no_such_table" in pg.container.logs()
        # wrong password refused (scram over TLS)
        with pytest.raises(psycopg.OperationalError):
            pg.connect(user="rgapp", password="wrong", dbname="rgdb").close()
        # reachable from another container on the user-defined network, by name
        out = client.containers.run(
            postgres_image.tag, ["sh", "-c", f"PGPASSWORD=s3cret-for-test psql -h "
                                 f"{pg.container.name} -U rgapp -d rgdb -Atc 'SELECT 42'"],
            entrypoint=[], network=network.name, remove=True, labels=TEST_LABEL,
        ).decode()
        assert out.strip() == "42"
        # key file private, server runs as postgres, SIGINT/SIGTERM shut down cleanly
        mode = pg.container.exec_run(["stat", "-c", "%a %U", "/var/lib/postgresql/data/server.key"])
        assert mode.output.decode().strip() == "600 postgres"
        pg.container.stop(timeout=20)
        pg.container.reload()
        assert pg.container.attrs["State"]["ExitCode"] == 0
        assert b"database system is shut down" in pg.container.logs()
    finally:
        remove(pg.container)


def test_postgres_without_tls_refuses_sslmode_require(
    client: docker.DockerClient, postgres_image: images.ProvisionedImage, network: Any
) -> None:
    pg = start_postgres(
        client, postgres_image.tag, network,
        {"POSTGRES_PASSWORD": "plain-for-test", "POSTGRES_SSL": "off"},
    )
    try:
        with pytest.raises(psycopg.OperationalError) as info:
            pg.connect(user="postgres", password="plain-for-test", dbname="postgres").close()
        assert "ssl" in str(info.value).lower()
        with pg.connect(user="postgres", password="plain-for-test", dbname="postgres",
                        sslmode="disable") as conn:
            assert conn.execute("SHOW ssl").fetchone() == ("off",)
            assert conn.execute("SELECT current_database()").fetchone() == ("postgres",)
    finally:
        remove(pg.container)


def test_postgres_ssl_only_refuses_plain_connections(
    client: docker.DockerClient, postgres_image: images.ProvisionedImage, network: Any
) -> None:
    pg = start_postgres(
        client, postgres_image.tag, network,
        {"POSTGRES_PASSWORD": "tls-only-test", "POSTGRES_SSL_ONLY": "on"},
    )
    try:
        with pytest.raises(psycopg.OperationalError):
            pg.connect(user="postgres", password="tls-only-test", dbname="postgres",
                       sslmode="disable").close()
        with pg.connect(user="postgres", password="tls-only-test", dbname="postgres") as conn:
            assert conn.execute("SHOW ssl").fetchone() == ("on",)
    finally:
        remove(pg.container)


def test_postgres_requires_a_password(
    client: docker.DockerClient, postgres_image: images.ProvisionedImage
) -> None:
    container = client.containers.run(postgres_image.tag, detach=True, labels=TEST_LABEL)
    try:
        result = container.wait(timeout=60)
        assert result["StatusCode"] != 0
        assert b"POSTGRES_PASSWORD" in container.logs()
    finally:
        remove(container)
