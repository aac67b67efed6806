"""Running the profile's commands (migrations, backups, …) inside the application container."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from releasegate.config.profile import Profile
from releasegate.config.templating import render_argv


@dataclass
class CommandResult:
    argv: list[str]
    exit_code: int
    output: str
    seconds: float

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    def describe(self) -> str:
        tail = self.output.strip().splitlines()[-3:]
        return f"`{' '.join(self.argv)}` exited {self.exit_code}: {' | '.join(tail)}"[:600]


class MissingCommand(LookupError):
    pass


def run_profile_command(
    container: Any, profile: Profile, name: str, values: Mapping[str, str],
    *, user: str | None = None, env: Mapping[str, str] | None = None,
) -> CommandResult:
    """Run ``[commands].<name>`` with placeholders filled; raises MissingCommand if absent.
    ``env`` adds to (or overrides) the container's environment for this command only."""
    template = profile.commands.get(name)
    if template is None:
        raise MissingCommand(f"the profile has no [commands].{name}")
    argv = render_argv(template, values, where=f"commands.{name}")
    return run_in_container(container, argv, user=user, env=env)


def run_in_container(container: Any, argv: list[str], *, user: str | None = None,
                     env: Mapping[str, str] | None = None) -> CommandResult:
    started = time.monotonic()
    kwargs: dict[str, Any] = {"demux": False}
    if user is not None:
        kwargs["user"] = user
    if env:
        kwargs["environment"] = dict(env)
    exit_code, output = container.exec_run(argv, **kwargs)
    text = (output or b"").decode("utf-8", "replace")
    return CommandResult(argv, int(exit_code if exit_code is not None else -1), text,
                         time.monotonic() - started)
