"""An HTTP client for the application under test, logged in through the profile's recipe."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx

from releasegate.config.profile import LoginRecipe
from releasegate.config.templating import render
from releasegate.errors import ConfigError


def _render_body(body: Any, values: Mapping[str, str]) -> Any:
    if isinstance(body, str):
        return render(body, values, where="login.body")
    if isinstance(body, dict):
        return {k: _render_body(v, values) for k, v in body.items()}
    if isinstance(body, list):
        return [_render_body(v, values) for v in body]
    return body


class Api:
    """Thin wrapper over httpx that keeps the token and never follows redirects silently."""

    def __init__(self, base_url: str, *, token: str | None = None, timeout: float = 10.0):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.token = token
        self.http = httpx.Client(base_url=base_url, headers=headers, timeout=timeout)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.request(method, path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", path, **kwargs)

    def close(self) -> None:
        self.http.close()


def login(base_url: str, recipe: LoginRecipe | None, secrets: Mapping[str, str]) -> Api:
    if recipe is None:
        raise ConfigError("the profile has no [login] recipe",
                          hint="add [login] path, body and token_field")
    values = {f"secret.{k}": v for k, v in secrets.items()}
    anonymous = Api(base_url)
    response = anonymous.request(recipe.method, recipe.path, json=_render_body(recipe.body, values))
    anonymous.close()
    if response.status_code != 200:
        raise LoginFailed(f"login at {recipe.path} answered {response.status_code}: "
                          f"{response.text[:200]}")
    try:
        token = response.json()[recipe.token_field]
    except (ValueError, KeyError, TypeError):
        raise LoginFailed(
            f"login answer has no {recipe.token_field!r}: {json.dumps(response.text[:200])}"
        ) from None
    return Api(base_url, token=str(token))


class LoginFailed(Exception):
    """The application refused the profile's credentials: evidence, not a harness bug."""
