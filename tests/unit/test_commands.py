"""Profile commands: the scratch database in parts, per-command environment, and stdout kept
apart from stderr so a value read from a command is never spoilt by its logging."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from releasegate.config.profile import parse_profile
from releasegate.measure.commands import run_profile_command


class Container:
    """Answers ``exec_run`` like docker-py: ``(exit_code, (stdout, stderr))`` with demux."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[str], dict[str, Any]]] = []

    def exec_run(self, argv: list[str], **kwargs: Any) -> tuple[int, Any]:
        self.calls.append((argv, kwargs))
        if kwargs.get("demux"):
            return 0, (b"0002_accounts (head)\n", b"INFO  [alembic.runtime] Context impl\n")
        return 0, b"INFO  [alembic.runtime] Context impl\n0002_accounts (head)\n"


def profile() -> Any:
    data = {
        "profile": {"name": "t"},
        "services": {"app": {"kind": "app", "image": "x:1", "port": 80}},
        "commands": {
            "migrate": ["tool", "--url", "{scratch.url}"],
            "migration_current": {
                "argv": ["alembic", "current"],
                "env": {"DB_HOST": "{scratch.host}", "DB_PORT": "{scratch.port}",
                        "DB_NAME": "{scratch.database}", "DB_USER": "{scratch.user}",
                        "DB_PASSWORD": "{scratch.password}", "JSON": '{{"a": 1}}'},
            },
        },
    }
    return parse_profile(data, file=Path("t.toml"), today=date(2026, 1, 1))


SCRATCH = {"scratch.url": "postgresql://u:p@db:5432/rg_x", "scratch.host": "db",
           "scratch.port": "5432", "scratch.database": "rg_x", "scratch.user": "u",
           "scratch.password": "p"}


def test_long_form_sets_a_templated_environment() -> None:
    container = Container()
    result = run_profile_command(container, profile(), "migration_current", SCRATCH)
    argv, kwargs = container.calls[0]
    assert argv == ["alembic", "current"]
    assert kwargs["environment"] == {"DB_HOST": "db", "DB_PORT": "5432", "DB_NAME": "rg_x",
                                     "DB_USER": "u", "DB_PASSWORD": "p", "JSON": '{"a": 1}'}
    assert result.env == ["DB_HOST", "DB_NAME", "DB_PASSWORD", "DB_PORT", "DB_USER", "JSON"]


def test_stdout_and_stderr_are_kept_apart() -> None:
    result = run_profile_command(Container(), profile(), "migration_current", SCRATCH)
    assert result.stdout.strip() == "0002_accounts (head)"  # the revision, and only it
    assert "alembic.runtime" in result.stderr
    assert "--- stderr ---" in result.transcript() and "0002_accounts" in result.transcript()


def test_short_form_gets_no_environment() -> None:
    container = Container()
    run_profile_command(container, profile(), "migrate", SCRATCH)
    argv, kwargs = container.calls[0]
    assert argv == ["tool", "--url", "postgresql://u:p@db:5432/rg_x"]
    assert "environment" not in kwargs and kwargs["demux"] is True
