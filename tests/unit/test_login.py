"""The profile's login recipe against a real HTTP server: JSON and form-encoded bodies, a token
found by a dotted path, the header and scheme it goes in, other credentials, and a refusal said
in one line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from releasegate.config.profile import parse_profile
from releasegate.config.recipes import LoginRecipe
from releasegate.measure.api import LoginFailed, login
from tests.unit.fake_app import AUTH_HEADER, USERS, FakeApp, running

VALUES = {"secret.admin_password": USERS["admin"], "run.id": "r1"}


@pytest.fixture
def app() -> Iterator[FakeApp]:
    with running() as server:
        yield server


def recipe(**overrides: object) -> LoginRecipe:
    """A recipe read through the profile reader, so the keys are the documented ones."""
    keys = {"path": "/login", "username": "admin", "password": "{secret.admin_password}",
            "token_path": "data.token", "header": AUTH_HEADER, "scheme": "", **overrides}
    data = {"profile": {"name": "t"}, "login": keys,
            "services": {"app": {"kind": "app", "image": "x:1", "port": 80}}}
    profile = parse_profile(data, file=Path("t.toml"), today=date(2026, 1, 1))
    assert profile.login is not None
    return profile.login


def test_json_login_finds_a_nested_token_and_sends_it_in_the_profiles_header(
        app: FakeApp) -> None:
    api = login(app.url, recipe(), VALUES)
    assert api.get("/me").json() == {"user": "admin"}
    method, path, body = app.requests[0]
    assert (method, path, json.loads(body)) == ("POST", "/login", {"username": "admin",
                                                                    "password": "s3cret-admin"})


def test_form_login_for_an_oauth2_password_flow(app: FakeApp) -> None:
    form = recipe(path="/oauth/token", body_format="form", token_path="access_token")
    api = login(app.url, form, VALUES)
    assert api.get("/me").json() == {"user": "admin"}
    assert app.requests[0][2] == "username=admin&password=s3cret-admin"
    # The same endpoint refuses JSON, as FastAPI's OAuth2PasswordRequestForm does.
    with pytest.raises(LoginFailed, match="got 422"):
        login(app.url, recipe(path="/oauth/token", token_path="access_token"), VALUES)


def test_scheme_prefixes_the_token(app: FakeApp) -> None:
    api = login(app.url, recipe(scheme="Bearer"), VALUES)
    assert api.http.headers[AUTH_HEADER] == "Bearer tok-admin"


def test_login_with_other_credentials(app: FakeApp) -> None:
    api = login(app.url, recipe(), VALUES, username="alice", password=USERS["alice"])
    assert api.get("/me").json() == {"user": "alice"}


def test_a_refused_login_says_so_in_one_line(app: FakeApp) -> None:
    app.login_status = 422
    with pytest.raises(LoginFailed) as info:
        login(app.url, recipe(), VALUES)
    message = str(info.value)
    assert message == ("the profile's login recipe got 422 from POST /login: "
                       '{"code": "login_switched_off", "message": "login switched off", '
                       '"request_id": null}')
    assert "\n" not in message


def test_a_token_missing_at_the_path_is_named(app: FakeApp) -> None:
    with pytest.raises(LoginFailed, match=r"no token at 'data\.jwt' in the 200 answer"):
        login(app.url, recipe(token_path="data.jwt"), VALUES)


def test_the_password_sent_never_appears_in_the_reason(app: FakeApp) -> None:
    with pytest.raises(LoginFailed) as info:
        login(app.url, recipe(token_path="nowhere"), VALUES, username="alice",
              password=USERS["alice"])
    assert "(as 'alice')" in str(info.value)
    assert USERS["alice"] not in str(info.value)


def test_no_answer_is_one_line_too() -> None:
    with pytest.raises(LoginFailed, match=r"^the profile's login recipe got no answer from "
                                          r"POST /login: ConnectError"):
        login("http://127.0.0.1:9", recipe(), VALUES, timeout=2)
