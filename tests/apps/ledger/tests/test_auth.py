"""OAuth2 password flow (form body), bearer tokens, roles."""

from __future__ import annotations

import datetime as dt
from typing import Any

import jwt
from flask.testing import FlaskClient

from conftest import ADMIN, ADMIN_PASSWORD, bearer

LOGIN = "/api/v1/login/access-token"


def test_form_login_answers_a_token_under_data(client: FlaskClient) -> None:
    answer = client.post(LOGIN, data={"username": ADMIN, "password": ADMIN_PASSWORD,
                                      "grant_type": "password"})
    assert answer.status_code == 200
    data = answer.get_json()["data"]
    assert data["token_type"] == "bearer" and data["expires_in"] == 30 * 60
    assert client.get("/api/v1/users/me", headers=bearer(data["token"])).get_json()[
        "email"] == ADMIN


def test_json_login_is_refused_with_422(client: FlaskClient) -> None:
    answer = client.post(LOGIN, json={"username": ADMIN, "password": ADMIN_PASSWORD})
    body = answer.get_json()
    assert answer.status_code == 422
    assert body["error"] == "validation_error" and set(body["fields"]) == {"username", "password"}
    assert body["correlation_id"] == answer.headers["X-Correlation-ID"]


def test_wrong_credentials_are_one_answer(client: FlaskClient) -> None:
    wrong = client.post(LOGIN, data={"username": ADMIN, "password": "nope"})
    unknown = client.post(LOGIN, data={"username": "nobody@ledger.test", "password": "nope"})
    for answer in (wrong, unknown):
        assert answer.status_code == 400
        assert answer.get_json()["error"] == "invalid_grant"
    assert wrong.get_json()["detail"] == unknown.get_json()["detail"]


def _token(app_key: str, **claims: Any) -> str:
    now = dt.datetime.now(dt.timezone.utc)
    return jwt.encode({"sub": "1", "typ": "access", "exp": now + dt.timedelta(minutes=5),
                       **claims}, app_key, algorithm="HS256")


def test_missing_bad_foreign_and_expired_tokens_get_401(client: FlaskClient,
                                                        settings: Any) -> None:
    past = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)
    cases = {
        "none": {},
        "garbage": bearer("not-a-real-token"),
        "other key": bearer(_token("x" * 48)),
        "expired": bearer(_token(settings.secret_key, exp=past)),
        "wrong scheme": {"Authorization": f"Basic {_token(settings.secret_key)}"},
    }
    for name, headers in cases.items():
        answer = client.get("/api/v1/ledgers/", headers=headers)
        assert answer.status_code == 401, name
        assert answer.headers["WWW-Authenticate"] == "Bearer"
        assert answer.get_json()["error"] == "not_authenticated"


def test_only_admins_manage_users(client: FlaskClient, admin: dict[str, str],
                                  new_user: Any) -> None:
    user_id, user = new_user()
    assert client.get("/api/v1/users/", headers=user).status_code == 403
    refused = client.post("/api/v1/users/", json={"email": "x@ledger.test",
                                                  "password": "password-123"}, headers=user)
    assert refused.status_code == 403 and refused.get_json()["error"] == "forbidden"
    assert client.get("/api/v1/users/1", headers=user).status_code in (403, 404)
    assert client.get(f"/api/v1/users/{user_id}", headers=user).status_code == 200
    listing = client.get("/api/v1/users/?limit=1", headers=admin).get_json()
    assert len(listing["data"]) == 1 and listing["count"] >= 2


def test_duplicate_users_conflict_and_deactivated_users_lose_access(
        client: FlaskClient, admin: dict[str, str], new_user: Any) -> None:
    user_id, user = new_user()
    email = client.get("/api/v1/users/me", headers=user).get_json()["email"]
    again = client.post("/api/v1/users/", json={"email": email.upper(),
                                                "password": "password-123"}, headers=admin)
    assert again.status_code == 409
    off = client.patch(f"/api/v1/users/{user_id}", json={"is_active": False}, headers=admin)
    assert off.status_code == 200 and off.get_json()["is_active"] is False
    assert client.get("/api/v1/users/me", headers=user).status_code == 401
