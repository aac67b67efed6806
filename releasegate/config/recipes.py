"""How the harness talks to an application it has never seen: its login, its commands, its logs
and its alerts. Every key has today's reference behaviour as its default, so a profile states only
where an application differs."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from releasegate.config.reader import Table
from releasegate.config.templating import placeholders, strings_in

DEFAULT_REQUEST_ID_HEADER = "X-Request-ID"
LOG_SOURCES = ("stdout", "file")
LOG_FORMATS = ("json", "text")
BODY_FORMATS = ("json", "form")
DEFAULT_TOKEN_PATH = "access_token"  # noqa: S105 - where the token sits, not a token


@dataclass(frozen=True)
class LoginRecipe:
    method: str
    path: str
    body: dict[str, Any]
    """Templated: ``{login.username}`` and ``{login.password}`` besides the run's placeholders."""
    body_format: str = "json"
    """``json``, or ``form`` (form-encoded, as OAuth2's password flow wants it)."""
    username: str | None = None
    password: str | None = None
    token_path: str = DEFAULT_TOKEN_PATH
    """Dotted JSON path of the token in the answer (``data.token``)."""
    header: str = "Authorization"
    scheme: str = "Bearer"
    """Written before the token in ``header``; empty for the bare token."""


@dataclass(frozen=True)
class CommandSpec:
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    """Templated like argv; set for this command only."""


@dataclass(frozen=True)
class LogSettings:
    source: str = "stdout"
    """``stdout`` (the engine's log of stdout and stderr) or ``file`` (the app's ``log_file``)."""
    format: str = "json"
    """``json`` (one object per line) or ``text`` (lines matched by ``pattern``)."""
    pattern: str | None = None
    """For text logs: a regex with a ``level`` group and, optionally, ``request_id``."""


@dataclass(frozen=True)
class AlertSettings:
    request_id_path: str = "request_id"
    """Dotted JSON path of the request id in an alert's body."""


def parse_login(t: Table | None) -> LoginRecipe | None:
    if t is None:
        return None
    path = t.text("path")
    if not path.startswith("/"):
        raise t.error("path", f"{path!r} must start with '/'")
    body_format = t.choice("body_format", BODY_FORMATS, "json")
    body = dict(t.typed("body", dict, {"username": "{login.username}",
                                       "password": "{login.password}"}))
    recipe = LoginRecipe(
        method=t.choice("method", ("POST", "PUT", "GET"), "POST"), path=path, body=body,
        body_format=body_format, username=t.text("username", None),
        password=t.text("password", None), token_path=t.text("token_path", DEFAULT_TOKEN_PATH),
        header=t.text("header", "Authorization"), scheme=t.text("scheme", "Bearer"),
    )
    if "token_field" in t.data:
        raise t.error("token_field", "renamed: token_path (a dotted JSON path, \"data.token\")",
                      f"token_path = \"{t.data['token_field']}\"")
    t.finish()
    if body_format == "form":
        nested = [k for k, v in body.items() if isinstance(v, (dict, list))]
        if nested:
            raise t.error(f"body.{nested[0]}", "a form-encoded body holds plain values only",
                          "use body_format = \"json\" for nested bodies")
    given = {"login.username": recipe.username, "login.password": recipe.password}
    for name in sorted({p for text in strings_in(body) for p in placeholders(text)}):
        if name in given and given[name] is None:
            key = name.split(".")[1]
            raise t.error(key, f"the body uses {{{name}}} but {key} is not set",
                          f"add {key} = \"...\" (it may use {{secret.NAME}})")
    if not recipe.token_path.strip() or not recipe.header.strip():
        raise t.error("token_path" if not recipe.token_path.strip() else "header",
                      "must not be empty")
    return recipe


def parse_commands(t: Table | None) -> dict[str, CommandSpec]:
    """``name = [argv...]`` or ``[commands.name] argv = [...], env = {...}``."""
    if t is None:
        return {}
    out: dict[str, CommandSpec] = {}
    for key in list(t.data):
        if isinstance(t.data[key], dict):
            long = t.table(key)
            assert long is not None
            spec = CommandSpec(long.str_list("argv"), long.str_map("env"))
            long.finish()
        else:
            spec = CommandSpec(t.str_list(key))
        if not spec.argv:
            raise t.error(key, "empty command")
        out[key] = spec
    return out


def parse_logs(t: Table | None, *, log_file: str | None, where: Table) -> LogSettings:
    if t is None:
        return LogSettings()
    settings = LogSettings(source=t.choice("source", LOG_SOURCES, "stdout"),
                           format=t.choice("format", LOG_FORMATS, "json"),
                           pattern=t.text("pattern", None))
    t.finish()
    if settings.source == "file" and not log_file:
        raise where.error("log_file", "logs.source is \"file\" but no log_file is given",
                          "add log_file = \"/path/in/the/container.log\"")
    if settings.format == "json":
        if settings.pattern is not None:
            raise t.error("pattern", "a pattern applies to format = \"text\" only")
        return settings
    if settings.pattern is None:
        raise t.error("pattern", "text logs need a pattern",
                      "a regex with named groups: (?P<level>...) and, if the line carries it, "
                      "(?P<request_id>...)")
    try:
        groups = re.compile(settings.pattern).groupindex
    except re.error as exc:
        raise t.error("pattern", f"not a valid regex: {exc}") from None
    if "level" not in groups:
        raise t.error("pattern", "the regex has no (?P<level>...) group",
                      "name the group that holds the log level")
    return settings


def parse_alerts(t: Table | None) -> AlertSettings:
    if t is None:
        return AlertSettings()
    settings = AlertSettings(request_id_path=t.text("request_id_path", "request_id"))
    t.finish()
    if not settings.request_id_path.strip():
        raise t.error("request_id_path", "must not be empty")
    return settings
