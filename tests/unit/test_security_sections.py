"""The dynamic security probes' profile sections: strict, with documented defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from releasegate.config.reader import Table
from releasegate.config.sections import authz, fuzzing, injection
from releasegate.errors import ConfigError

FILE = Path("/profiles/p.toml")


def table(data: dict[str, Any], where: str) -> Table:
    return Table(data, file=FILE, where=where)


def test_defaults_without_a_table() -> None:
    assert fuzzing.parse(table({}, "fuzzing")).budget("ci").max_examples == 10
    assert injection.parse(table({}, "injection")).budget("release").max_requests == 20000
    settings = authz.parse(table({}, "authz"))
    assert settings.public == () and settings.seconds("ci") == 90.0


def test_budgets_are_read_per_duration() -> None:
    settings = fuzzing.parse(table({"ci": {"max_examples": 3, "max_seconds": 20},
                                    "seed": 7}, "fuzzing"))
    assert settings.budget("ci").max_seconds == 20 and settings.seed == 7
    assert settings.budget("release") == fuzzing.DEFAULT_BUDGETS["release"]


@pytest.mark.parametrize(("module", "data", "message"), [
    (fuzzing, {"ci": {"max_exampels": 3}}, "unknown key"),
    (fuzzing, {"exclude": {"POST /x": "no"}}, "say why"),
    (fuzzing, {"ci": {"max_examples": 0}}, "at least 1"),
    (injection, {"sleep_s": 60}, "outside"),
    (injection, {"html_pages": ["dashboard"]}, "must start with '/'"),
    (authz, {"public": ["health"]}, "is not \"METHOD /path\""),
    (authz, {"low_privilege": "staff"}, "no login step in [authz.setup] opens a session"),
    (authz, {"max_seconds": {"ci": 0}}, "must be positive"),
])
def test_mistakes_are_one_precise_error(module: Any, data: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        module.parse(table(data, module.__name__.rsplit(".", 1)[1]))
    assert message in str(info.value)


def test_authz_sessions_come_from_setup_logins() -> None:
    settings = authz.parse(table({
        "low_privilege": "staff",
        "setup": {"steps": [{"name": "log in", "login": {"username": "u", "password": "p"},
                             "session": "staff"}]},
    }, "authz"))
    assert settings.low_privilege == "staff" and settings.setup.steps[0].session == "staff"
