"""A profile's demands on one criterion: its limit, severity and an optional waiver."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from releasegate.criteria.catalog import Comparator, Criterion

SEVERITIES = ("blocker", "critical", "normal", "minor", "trivial")
BLOCKING_SEVERITIES = frozenset({"blocker", "critical"})


@dataclass(frozen=True)
class Waiver:
    reason: str
    expires: date
    approved_by: str = ""

    def is_valid(self, today: date) -> bool:
        return today <= self.expires


@dataclass(frozen=True)
class Threshold:
    criterion: Criterion
    limit: float
    severity: str
    min_samples: int
    waiver: Waiver | None = None
    options: dict[str, object] = field(default_factory=dict)
    """Suite-specific knobs for this criterion (e.g. the PostgreSQL major it expects)."""

    @property
    def comparator(self) -> Comparator:
        return self.criterion.comparator

    @property
    def blocking(self) -> bool:
        return self.severity in BLOCKING_SEVERITIES

    @property
    def loosened(self) -> bool:
        """True when this threshold admits something the documented criterion would not."""
        c = self.criterion
        return (
            c.comparator.is_looser(self.limit, c.limit)
            or self.min_samples < c.min_samples
            or (c.severity in BLOCKING_SEVERITIES and not self.blocking)
        )

    @classmethod
    def documented(cls, criterion: Criterion) -> Threshold:
        return cls(criterion, criterion.limit, criterion.severity, criterion.min_samples)
