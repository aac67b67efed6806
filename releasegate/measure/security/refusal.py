"""Starts that must be refused: the application started without a secret, with a well-known
default one, or against a database without TLS. What was observed becomes a finding, or none.

A refusal is a non-zero exit with a message that names what is wrong. Answering healthy is the
worst outcome; ending with 0, or neither ending nor answering within the time allowed, is not a
refusal either (for a missing secret; a database it must not use may leave it unready).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from releasegate.evidence.findings import OWASP_API_2023, Finding
from releasegate.measure.security.canaries import Canaries

_SECRET_PLACEHOLDER = re.compile(r"\{(secret\.[a-z0-9_.]+|db\.password)\}")


def secret_variables(env_templates: Mapping[str, str]) -> list[str]:
    """The app's variables that carry a secret: their value names a secret placeholder."""
    return sorted(k for k, v in env_templates.items() if _SECRET_PLACEHOLDER.search(v))


@dataclass
class StartAttempt:
    label: str
    """What was changed, without any secret: ``RENTO_SECRET_KEY removed``."""
    variable: str
    healthy_after_s: float | None
    exit_code: int | None
    logs: str
    waited_s: float

    @property
    def outcome(self) -> str:
        if self.healthy_after_s is not None:
            return f"answered healthy after {self.healthy_after_s:.1f} s"
        if self.exit_code is not None:
            return f"exited {self.exit_code}"
        return f"neither exited nor answered healthy within {self.waited_s:.0f} s"


def secret_refusal_finding(attempt: StartAttempt, *, criterion: str, rule: str,
                           reproduction: str, canaries: Canaries) -> Finding | None:
    """None when the start was refused clearly: a non-zero exit whose output names the
    variable."""
    last = _last_lines(attempt.logs, canaries)
    if attempt.exit_code not in (None, 0) and attempt.variable.lower() in attempt.logs.lower():
        return None
    if attempt.healthy_after_s is not None:
        severity, title = "critical", f"the app started and answered healthy with {attempt.label}"
    elif attempt.exit_code not in (None, 0):
        severity, title = "medium", (f"the app refused to start with {attempt.label} but its "
                                     f"message does not name {attempt.variable}")
    else:
        severity, title = "high", f"the app did not refuse to start with {attempt.label}"
    return Finding(tool="releasegate-startup", rule=rule, severity=severity,
                   criterion=criterion, title=title, location=f"startup: {attempt.label}",
                   evidence=f"{attempt.outcome}; last output: {last}",
                   reproduction=reproduction, owasp=OWASP_API_2023["API8"])


def _last_lines(logs: str, canaries: Canaries, count: int = 3) -> str:
    lines = [line.strip() for line in logs.strip().splitlines() if line.strip()]
    return canaries.mask(" | ".join(lines[-count:]))[:400] or "(no output)"
