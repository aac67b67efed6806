"""Masking the run's secrets wherever evidence is written.

Every generated secret doubles as a canary: it must never reach a report, an attachment or a
raw measurement file, even when a suite records something it should not have.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

Redactor = Callable[[str], str]
MIN_SECRET_LENGTH = 6  # shorter values would mask ordinary words


def identity(text: str) -> str:
    return text


def secret_redactor(secrets: Mapping[str, str]) -> Redactor:
    pairs = sorted(((v, k) for k, v in secrets.items() if len(v) >= MIN_SECRET_LENGTH),
                   key=lambda pair: -len(pair[0]))
    if not pairs:
        return identity

    def redact(text: str) -> str:
        for value, name in pairs:
            text = text.replace(value, f"«secret:{name}»")
        return text

    return redact
