"""Errors the harness raises about itself, its input or its environment.

Every one carries a single-line message and a hint saying how to fix it, because the CLI prints
exactly that and exits 1: a user must never dig through a traceback to learn that a port is taken.
"""

from __future__ import annotations


class HarnessError(Exception):
    """Something stopped the harness from producing evidence at all (exit code 1)."""

    category = "harness error"

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        return f"{self.message} — {self.hint}" if self.hint else self.message


class ConfigError(HarnessError):
    """The profile or the command line is wrong: file, key, what is wrong, what would be right."""

    category = "configuration error"


class EnvironmentProblem(HarnessError):
    """The machine cannot run the stack: no engine, no disk, a port in use, a build that failed."""

    category = "environment problem"
