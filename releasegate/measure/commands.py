"""Running the profile's commands (migrations, backups, …) inside the application container.

stdout and stderr are kept apart: a tool that logs to stderr (Alembic does) must not spoil a
value read from stdout, such as a revision.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from releasegate.config.profile import Profile
from releasegate.config.templating import render_all, render_argv


@dataclass
class CommandResult:
    argv: list[str]
    exit_code: int
    stdout: str
    stderr: str
    seconds: float
    env: list[str] = field(default_factory=list)
    """Names (never values) of the variables the profile set for this command."""

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    def describe(self) -> str:
        tail = (self.stdout.strip().splitlines() + self.stderr.strip().splitlines())[-3:]
        return f"`{' '.join(self.argv)}` exited {self.exit_code}: {' | '.join(tail)}"[:600]

    def transcript(self) -> str:
        """Both streams, labelled, for evidence."""
        return f"--- stdout ---\n{self.stdout}\n--- stderr ---\n{self.stderr}"


class MissingCommand(LookupError):
    pass


def run_profile_command(
    container: Any, profile: Profile, name: str, values: Mapping[str, str],
    *, user: str | None = None, env: Mapping[str, str] | None = None,
) -> CommandResult:
    """Run ``[commands].<name>`` with placeholders filled; raises MissingCommand if absent.
    ``env`` adds to (or overrides) the command's environment for this run only."""
    spec = profile.commands.get(name)
    if spec is None:
        raise MissingCommand(f"the profile has no [commands].{name}")
    argv = render_argv(spec.argv, values, where=f"commands.{name}")
    env = {**render_all(spec.env, values, where=f"commands.{name}.env"), **(env or {})}
    return run_in_container(container, argv, user=user, env=env)


def run_in_container(container: Any, argv: list[str], *, user: str | None = None,
                     env: Mapping[str, str] | None = None) -> CommandResult:
    started = time.monotonic()
    kwargs: dict[str, Any] = {"demux": True}
    if user is not None:
        kwargs["user"] = user
    if env:
        kwargs["environment"] = dict(env)
    exit_code, output = container.exec_run(argv, **kwargs)
    stdout, stderr = output if isinstance(output, tuple) else (output, None)
    return CommandResult(
        argv, int(exit_code if exit_code is not None else -1),
        (stdout or b"").decode("utf-8", "replace"), (stderr or b"").decode("utf-8", "replace"),
        time.monotonic() - started, sorted(env or {}),
    )
