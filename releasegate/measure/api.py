"""An HTTP client for the application under test, logged in through the profile's recipe."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from releasegate.config.recipes import LoginRecipe
from releasegate.config.templating import render, render_tree
from releasegate.errors import ConfigError
from releasegate.measure.jsonpath import MISSING, dig

EXCERPT = 200


class Api:
    """Thin wrapper over httpx that keeps the token and never follows redirects silently."""

    def __init__(self, base_url: str, *, token: str | None = None, timeout: float = 10.0,
                 header: str = "Authorization", scheme: str = "Bearer"):
        credential = f"{scheme} {token}" if scheme else token
        headers = {header: credential} if token and credential else {}
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


class LoginFailed(Exception):
    """The application refused the profile's login recipe: the message is one line that says
    what was sent where and what came back."""


@dataclass
class LoginAttempt:
    """The outcome of the profile's own login, kept once per run: either a client or the reason
    there is none, for every verdict that needed it."""

    api: Api | None
    failure: str = ""


def excerpt(text: str, limit: int = EXCERPT, *, hide: str = "") -> str:
    """One line of an answer for a verdict's reason; ``hide`` (a password sent) is masked, as
    validation errors often echo their input."""
    one_line = " ".join(text.split())
    if len(hide) >= 4:  # a shorter one would mask ordinary words
        one_line = one_line.replace(hide, "***")
    return one_line[:limit] + ("…" if len(one_line) > limit else "")


def login(
    base_url: str, recipe: LoginRecipe | None, values: Mapping[str, str], *,
    username: str | None = None, password: str | None = None, timeout: float = 10.0,
) -> Api:
    """Log in with the profile's recipe, as its own user or as ``username``/``password``.

    ``values`` are the run's placeholders (``secret.*``, ``run.id``, …); the credentials given
    here, or the recipe's, fill ``{login.username}`` and ``{login.password}`` in the body."""
    if recipe is None:
        raise ConfigError("the profile has no [login] recipe",
                          hint="add [login] path = ..., username = ..., password = ...")
    user = username if username is not None else render(
        recipe.username or "", values, where="login.username")
    secret = password if password is not None else render(
        recipe.password or "", values, where="login.password")
    body = render_tree(recipe.body, {**values, "login.username": user, "login.password": secret},
                       where="login.body")
    what = (f"the profile's login recipe{f' (as {user!r})' if username is not None else ''}")
    where = f"{recipe.method} {recipe.path}"
    sent: dict[str, Any] = ({"json": body} if recipe.body_format == "json" else
                            {"data": {k: v if isinstance(v, str) else json.dumps(v)
                                      for k, v in body.items()}})
    with httpx.Client(base_url=base_url, timeout=timeout) as client:
        try:
            response = client.request(recipe.method, recipe.path, **sent)
        except httpx.HTTPError as exc:
            raise LoginFailed(f"{what} got no answer from {where}: {type(exc).__name__}: "
                              f"{excerpt(str(exc))}") from None
    if not 200 <= response.status_code < 300:
        raise LoginFailed(f"{what} got {response.status_code} from {where}: "
                          f"{excerpt(response.text, hide=secret)}")
    try:
        token = dig(response.json(), recipe.token_path)
    except ValueError:
        token = MISSING
    if token is MISSING or not isinstance(token, (str, int)) or isinstance(token, bool) or (
            str(token) == ""):
        raise LoginFailed(f"{what} got no token at {recipe.token_path!r} in the "
                          f"{response.status_code} answer from {where}: "
                          f"{excerpt(response.text, hide=secret)}")
    return Api(base_url, token=str(token), timeout=timeout, header=recipe.header,
               scheme=recipe.scheme)
