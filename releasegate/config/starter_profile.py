"""`releasegate init`: the commented starter profile a user's repository needs, and nothing else.

Every guess is written with a ``# check:`` comment saying what it rests on. Keys the harness
offers for applications unlike the reference one are written commented out, as suggestions. The
text is validated by the profile reader before it is written, so `init` never leaves a profile
that `releasegate run` would reject.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import date
from pathlib import Path

from releasegate.config import starter
from releasegate.config.profile import parse_profile
from releasegate.criteria import catalog
from releasegate.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 by tox
    import tomli as tomllib

POSTGRES_VERSION = 15
# The commented exclusion shown as an example: one an API without a web front end may drop.
EXAMPLE_EXCLUSION = ("COMPAT-BROWSER", "the service has no browser front end")
_COLUMN = 44  # where the "# check:" comments start, when the value leaves room
_WIDTH = 100  # a longer line gets its "# check:" comment on the line above instead


def _q(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(text, ensure_ascii=False)


def _note(assignment: str, comment: str) -> str:
    """A value with a plain comment beside it: a default to know about, not a guess to check."""
    return f"{assignment.ljust(_COLUMN - 1)} # {comment}"


def _line(assignment: str, why: str | None = None) -> str:
    if why is None:
        return assignment
    beside = f"{assignment.ljust(_COLUMN - 1)} # check: {why}"
    if len(beside) <= _WIDTH:
        return beside
    return f"# check: {why}\n{assignment}"


def _guessed(key: str, guess: starter.Guess) -> str:
    value = _q(guess.value) if isinstance(guess.value, str) else str(guess.value)
    return _line(f"{key} = {value}", guess.why)


def _header(source: str, dockerfile: Path, output: Path, title: str) -> list[str]:
    example, reason = EXAMPLE_EXCLUSION
    return [
        f"# releasegate profile for {title or 'the application'}, written by `releasegate init`",
        f"# from {source} and {dockerfile}.",
        "# Every value marked \"# check:\" is a guess: confirm or fix it, then drop the comment.",
        f"# Run the gate with:  releasegate run --profile {output.name}",
        "#",
        f"# The release must meet the whole documented catalogue: all {len(catalog.CRITERIA)} "
        "criteria of",
        "# acceptance-criteria.md are required without any entry here. A criterion is dropped only",
        "# explicitly, with a reason that every report prints beside it:",
        "#",
        f"#   [exclude.\"{example}\"]",
        f"#   reason = {_q(reason)}",
        "#   expires = 2030-01-31            # optional: required again from this date",
        "#   approved_by = \"release board\"   # optional",
        "#",
        "# [thresholds.\"ID\"] tightens a limit or sets a suite option; a looser limit needs a",
        "# waiver = { reason = \"...\", expires = YYYY-MM-DD }. Every key: README, \"Profile "
        "reference\".",
    ]


def render(source: str, dockerfile_path: Path, output: Path) -> str:
    document = starter.read_openapi(source)
    dockerfile = starter.read_dockerfile(dockerfile_path)
    name = starter.guess_name(document)
    title = str((document.get("info") or {}).get("title") or "")
    db_name = str(name.value).replace("-", "_")
    health, liveness = starter.guess_health(document)
    login = starter.guess_login(document)
    context = os.path.relpath(dockerfile_path.resolve().parent, output.resolve().parent)

    lines = _header(source, dockerfile_path, output, title)
    lines += ["", "[profile]", _guessed("name", name),
              f"description = {_q(title or str(name.value))}",
              "", "[stack]", 'provider = "containers"', "health_timeout_s = 90",
              "", "# Made at random for every run. A secret must never appear in a log or a "
              "report", "# (reports redact them).", "[secrets]",
              "db_password = { generate = 24 }", "app_secret = { generate = 48 }",
              "admin_password = { generate = 20 }",
              "", "[services.db]", 'kind = "postgres"',
              _line(f"version = {POSTGRES_VERSION}",
                    "the PostgreSQL major production runs (13, 15, 17 or 18)"),
              f"user = {_q(db_name)}", f"database = {_q(db_name)}",
              'password = "{secret.db_password}"', "tls = true",
              "", "[services.app]", 'kind = "app"',
              _guessed("port", starter.guess_port(dockerfile)),
              _guessed("health_path", health)]
    if liveness is not None:
        lines.append(_guessed("liveness_path", liveness))
    lines += [_guessed("openapi_path", starter.guess_openapi_path(source, document)),
              _line('# log_file = "/app/logs/app.log"', "only if the app logs to a file"),
              _line('# request_id_header = "X-Request-ID"',
                    "the header the app takes and echoes request ids in"),
              _line("# [services.app.logs]", "where and how the app logs, if not JSON on stdout"),
              _line('# source = "stdout"', '"stdout" or "file" (log_file)'),
              _line('# format = "json"', '"json" lines, or "text" with a pattern'),
              _line("# pattern = '^(?P<level>[A-Z]+) (?P<message>.*)$'",
                    "text logs: a regex with a level group"),
              "", "[services.app.build]", _line(f"context = {_q(context)}",
                                                "the Dockerfile's folder, relative to this file"),
              f"dockerfile = {_q(dockerfile_path.name)}"]
    if dockerfile.takes_base_image:
        lines.append(_line('# python = "3.11"', "the Dockerfile takes ARG BASE_IMAGE: the "
                           "harness can provision a Python image for it"))
    lines += _env_and_login(login)
    lines += _suggestions()
    return "\n".join(lines) + "\n"


def _env_and_login(login: starter.LoginGuess | None) -> list[str]:
    lines = ["", "# The application's settings; placeholders are filled for every run.",
             "# check: the variable names the application reads.", "[services.app.env]",
             'DATABASE_URL = "postgresql://{db.user}:{db.password}@{db.host}:{db.port}/'
             '{db.database}?sslmode={db.sslmode}"',
             'SECRET_KEY = "{secret.app_secret}"',
             'ADMIN_USERNAME = "admin"', 'ADMIN_PASSWORD = "{secret.admin_password}"',
             _line('# ALERT_WEBHOOK_URL = "{alerts.url}/alerts"',
                   "where the app posts its error alerts"), ""]
    if login is None:
        return [*lines, "# check: no login operation was found in the OpenAPI document; how the",
                "# harness gets a session for the checks that need one:",
                "# [login]", '# path = "/login"',
                '# body = { username = "admin", password = "{secret.admin_password}" }']
    fields = {login.user_field: "{login.username}", login.password_field: "{login.password}"}
    if login.form:
        fields["grant_type"] = "password"  # RFC 6749 requires it in the password grant
    body = "{ " + ", ".join(f"{key} = {_q(value)}" for key, value in fields.items()) + " }"
    lines += ["# How the harness gets a session (an account the app creates from its "
              "environment).", "[login]", 'method = "POST"',
              _line(f"path = {_q(login.path)}", login.why)]
    if login.form:
        lines.append(_note('body_format = "form"', "form-encoded, as OAuth2's password flow "
                                                   "wants it"))
    lines += [_line(f"body = {body}", "the fields the login operation takes"),
              _line('username = "admin"', "an account the app has at start"),
              'password = "{secret.admin_password}"']
    if login.token_field:
        lines.append(_note(f"token_path = {_q(login.token_field)}",
                           f"the answer's {login.token_field!r} field"))
    else:
        lines.append(_line('token_path = "access_token"',
                           "where the answer carries the token (dotted path: data.token)"))
    lines += [_note('# header = "Authorization"', "where later requests carry it"),
              _note('# scheme = "Bearer"', 'written before the token ("" for none)')]
    return lines


def _suggestions() -> list[str]:
    return [
        "", "# [alerts]",
        _line('# request_id_path = "request_id"', "where an alert body carries the request id"),
        "", "# Commands run inside the application container (schema migrations, SQLite import).",
        "# [commands]", '# migrate = ["your-app", "db", "upgrade", "--database-url", '
        '"{scratch.url}"]', '# migration_head = ["your-app", "db", "head"]',
        '# migration_current = ["your-app", "db", "current", "--database-url", '
        '"{scratch.url}"]',
        "", "# An authenticated request that makes the app fail with a 5xx (alert pipeline check).",
        "# [probes.server_error]", '# method = "POST"', '# path = "/api/diagnostics/error"',
        "", "# The business flow FUNC-E2E-FLOWS drives, as steps (README: declarative flows);",
        "# without one it is insufficient.",
        "# [[e2e.steps]]", '# name = "create an order"', '# method = "POST"',
        '# path = "/orders"', '# json = { item = "widget {run.tag}", quantity = 2 }',
        "# expect_status = 201", '# capture = { order_id = "id" }',
        "# expect = { quantity = 2 }",
    ]


def _exists(output: Path) -> ConfigError:
    return ConfigError(f"{output} already exists; releasegate init never overwrites a file",
                       hint="pass --output with a new name, or move the file away")


def write_starter(source: str, dockerfile: Path, output: Path) -> Path:
    if output.exists():
        raise _exists(output)
    text = render(source, dockerfile, output)
    # The reader that `releasegate run` uses must accept what was written.
    parse_profile(tomllib.loads(text), file=output.resolve(), today=date.today())
    try:
        with open(output, "x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError:
        raise _exists(output) from None
    except OSError as exc:
        raise ConfigError(f"{output}: cannot write the profile ({exc.strerror})",
                          hint="pass --output in a writable folder") from None
    return output
