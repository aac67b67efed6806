"""Verdict records: the judged outcome of one criterion, as every report shows it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any


class Verdict(str, Enum):
    PASS = "pass"  # noqa: S105 - a verdict, not a password
    FAIL = "fail"
    INSUFFICIENT = "insufficient"
    ERROR = "error"
    WAIVED = "waived"
    NOT_RUN = "not_run"

    @property
    def acceptable(self) -> bool:
        """Only positive evidence, or a valid waiver, lets a blocking criterion through."""
        return self in (Verdict.PASS, Verdict.WAIVED)


# When several measurements of one criterion disagree, the worst one speaks for it.
# A failure is positive evidence of a breach and outranks an error elsewhere.
_PRECEDENCE = (Verdict.FAIL, Verdict.ERROR, Verdict.INSUFFICIENT, Verdict.NOT_RUN, Verdict.PASS)


def worst(verdicts: list[Verdict]) -> Verdict:
    for candidate in _PRECEDENCE:
        if candidate in verdicts:
            return candidate
    return Verdict.NOT_RUN


@dataclass
class VerdictRecord:
    id: str
    title: str
    area: str
    measured: float | None
    unit: str
    limit: float
    comparator: str
    verdict: Verdict
    evidence: dict[str, Any]
    source: str
    severity: str = "blocker"
    blocking: bool = True
    documented_limit: float | None = None
    samples: int = 0
    min_samples: int = 0
    reasons: list[str] = field(default_factory=list)
    attachments: list[str] = field(default_factory=list)
    waiver: dict[str, str] | None = None
    parts: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["verdict"] = self.verdict.value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> VerdictRecord:
        data = dict(data)
        data["verdict"] = Verdict(data["verdict"])
        return cls(**data)
