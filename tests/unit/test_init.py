"""`releasegate init` writes a starter profile that loads, marks every guess, and never
overwrites a file."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from releasegate import cli
from releasegate.config.profile import load_profile
from releasegate.config.starter_profile import EXAMPLE_EXCLUSION
from releasegate.criteria import catalog

JSON_LOGIN_APP: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Acme Orders API", "version": "2.3.0"},
    "paths": {
        "/health/live": {"get": {"responses": {"200": {"description": "ok"}}}},
        "/health/ready": {"get": {"responses": {"200": {"description": "ok"}}}},
        "/orders/{order_id}": {"get": {"responses": {"200": {"description": "ok"}}}},
        "/auth/login": {"post": {
            "requestBody": {"content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Credentials"}}}},
            "responses": {"200": {"description": "ok", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Session"}}}}},
        }},
    },
    "components": {"schemas": {
        "Credentials": {"type": "object", "properties": {
            "email": {"type": "string"}, "password": {"type": "string"}}},
        "Session": {"type": "object", "properties": {"token": {"type": "string"}}},
    }},
}

OAUTH2_FORM_APP: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Ledger"},
    "servers": [{"url": "/api/v1"}],
    "paths": {
        "/healthz": {"get": {"responses": {"200": {"description": "ok"}}}},
        "/token": {"post": {
            "requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": {
                "type": "object", "properties": {
                    "username": {"type": "string"}, "password": {"type": "string"},
                    "grant_type": {"type": "string"}}}}}},
            "responses": {"200": {"description": "ok"}},
        }},
        "/entries": {"get": {"responses": {"200": {"description": "ok"}}}},
    },
    "components": {"securitySchemes": {"OAuth2PasswordBearer": {
        "type": "oauth2", "flows": {"password": {"tokenUrl": "token", "scopes": {}}}}}},
}


def _app(tmp_path: Path, document: dict[str, Any], dockerfile: str) -> tuple[Path, Path]:
    app = tmp_path / "service"
    app.mkdir()
    (app / "Dockerfile").write_text(dockerfile)
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps(document))
    return spec, app / "Dockerfile"


def _init(*args: str) -> int:
    return cli.main(["init", *args])


def _value_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith(("#", "["))]


def test_json_login_app(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec, dockerfile = _app(tmp_path, JSON_LOGIN_APP,
                            "FROM python:3.12-slim\nEXPOSE 8080/tcp\nCMD [\"serve\"]\n")
    output = tmp_path / "releasegate.toml"
    assert _init("--openapi", str(spec), "--dockerfile", str(dockerfile),
                 "--output", str(output)) == 0
    assert "wrote" in capsys.readouterr().out

    profile = load_profile(output)
    assert profile.name == "acme-orders-api"
    assert profile.app.port == 8080
    assert profile.app.health_path == "/health/ready"
    assert profile.app.liveness_path == "/health/live"
    assert profile.app.openapi_path == "/openapi.json"
    assert profile.app.build is not None
    assert profile.app.build.context == dockerfile.parent.resolve()
    assert profile.db is not None and profile.db.database == "acme_orders_api"
    assert profile.login is not None and profile.login.path == "/auth/login"
    assert profile.login.body == {"email": "{login.username}", "password": "{login.password}"}
    assert (profile.login.username, profile.login.password) == ("admin",
                                                                "{secret.admin_password}")
    assert profile.login.token_path == "token" and profile.login.body_format == "json"
    assert set(profile.secrets) == {"db_password", "app_secret", "admin_password"}
    assert set(profile.thresholds) == set(catalog.BY_ID)  # the whole catalogue is required

    text = output.read_text()
    for key in ("name", "port", "health_path", "liveness_path", "openapi_path", "path", "body",
                "context", "version"):
        line = next(n for n, v in enumerate(text.splitlines()) if v.startswith(f"{key} = "))
        assert "# check:" in text.splitlines()[line] or \
            text.splitlines()[line - 1].startswith("# check:"), key
    # The login recipe's keys are live; header and scheme stay suggestions at their defaults.
    assert 'token_path = "token"' in text and '# header = "Authorization"' in text
    assert "body_format" not in text
    assert "whole documented catalogue" in text and '[exclude."' in text and "reason =" in text


def test_oauth2_password_flow_app(tmp_path: Path) -> None:
    spec, dockerfile = _app(tmp_path, OAUTH2_FORM_APP,
                            "ARG BASE_IMAGE=python:3.11-slim\nFROM ${BASE_IMAGE}\n"
                            "ARG PORT=5000\nEXPOSE ${PORT}\n")
    output = tmp_path / "profiles" / "ledger.toml"
    output.parent.mkdir()
    assert _init("--openapi", str(spec), "--dockerfile", str(dockerfile), "-o", str(output)) == 0
    profile = load_profile(output)
    assert profile.name == "ledger" and profile.app.port == 5000
    assert profile.app.health_path == "/api/v1/healthz"
    assert profile.login is not None and profile.login.path == "/api/v1/token"
    assert profile.login.body["grant_type"] == "password"
    assert profile.login.body_format == "form"
    text = output.read_text()
    assert 'context = "../service"' in text
    assert "OAuth2" in text
    assert '# python = "3.11"' in text


def test_nothing_to_go_on_still_loads_with_every_default_marked(tmp_path: Path) -> None:
    bare = {"swagger": "2.0", "info": {"title": ""}, "paths": {"/items": {"get": {}}}}
    spec, dockerfile = _app(tmp_path, bare, "FROM scratch\n")
    output = tmp_path / "p.toml"
    assert _init("--openapi", str(spec), "--dockerfile", str(dockerfile), "-o", str(output)) == 0
    profile = load_profile(output)
    assert profile.name == "app" and profile.app.port == 8000 and profile.login is None
    assert profile.app.openapi_path == "/swagger.json"
    text = output.read_text()
    assert "EXPOSEs no port" in text and "no login operation" in text
    assert "no GET operation looks like a health check" in text


def test_the_exclusion_example_is_real(tmp_path: Path) -> None:
    spec, dockerfile = _app(tmp_path, JSON_LOGIN_APP, "FROM scratch\nEXPOSE 8000\n")
    output = tmp_path / "p.toml"
    assert _init("--openapi", str(spec), "--dockerfile", str(dockerfile), "-o", str(output)) == 0
    example, _ = EXAMPLE_EXCLUSION
    lines = output.read_text().splitlines()
    start = lines.index(f'#   [exclude."{example}"]')
    block = [line.removeprefix("#   ").split("  #")[0] for line in lines[start:start + 4]]
    output.write_text("\n".join([*lines, "", *block]) + "\n")
    profile = load_profile(output)
    assert example in profile.exclusions and example not in profile.thresholds


def test_never_overwrites(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec, dockerfile = _app(tmp_path, JSON_LOGIN_APP, "FROM scratch\n")
    output = tmp_path / "mine.toml"
    output.write_text("# my own profile\n")
    assert _init("--openapi", str(spec), "--dockerfile", str(dockerfile), "-o", str(output)) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "already exists" in err[0]
    assert output.read_text() == "# my own profile\n"


def test_not_an_openapi_document(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec, dockerfile = _app(tmp_path, {"hello": "world"}, "FROM scratch\n")
    assert _init("--openapi", str(spec), "--dockerfile", str(dockerfile),
                 "-o", str(tmp_path / "p.toml")) == 1
    assert "is not an OpenAPI document" in capsys.readouterr().err
    assert not (tmp_path / "p.toml").exists()


class _Serve(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"openapi: 3.0.0\ninfo: {title: Served}\npaths:\n  /ready: {get: {}}\n"
        found = self.path == "/docs/openapi.yaml"
        self.send_response(200 if found else 404)
        self.end_headers()
        self.wfile.write(body if found else b"")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def served() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Serve)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_document_from_a_running_app(tmp_path: Path, served: str) -> None:
    _, dockerfile = _app(tmp_path, {}, "FROM scratch\nEXPOSE 9000\n")
    output = tmp_path / "p.toml"
    assert _init("--openapi", f"{served}/docs/openapi.yaml", "--dockerfile", str(dockerfile),
                 "-o", str(output)) == 0
    profile = load_profile(output)
    assert profile.name == "served" and profile.app.health_path == "/ready"
    assert profile.app.openapi_path == "/docs/openapi.yaml"
    assert _init("--openapi", f"{served}/missing.json", "--dockerfile", str(dockerfile),
                 "-o", str(tmp_path / "q.toml")) == 1
