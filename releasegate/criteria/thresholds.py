"""A profile's demands on one criterion: its limit, severity and an optional waiver."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from releasegate.criteria.catalog import Comparator, Criterion
from releasegate.criteria.options import defaults as option_defaults
from releasegate.criteria.options import loosened as loosened_options
from releasegate.criteria.options import specs as option_specs

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
class Exclusion:
    """A documented criterion this profile does not require, and why; shown in every report."""

    criterion_id: str
    reason: str
    expires: date | None = None
    approved_by: str = ""

    def is_valid(self, today: date) -> bool:
        return self.expires is None or today <= self.expires

    def to_json(self) -> dict[str, str]:
        return {"reason": self.reason, "expires": self.expires.isoformat() if self.expires
                else "", "approved_by": self.approved_by}


@dataclass(frozen=True)
class Threshold:
    criterion: Criterion
    limit: float
    severity: str
    min_samples: int
    waiver: Waiver | None = None
    options: dict[str, Any] = field(default_factory=dict)
    """Suite knobs for this criterion, every documented one present (criteria/options.py)."""

    @property
    def comparator(self) -> Comparator:
        return self.criterion.comparator

    @property
    def blocking(self) -> bool:
        return self.severity in BLOCKING_SEVERITIES

    @property
    def loosened(self) -> bool:
        """True when this threshold admits something the documented criterion would not."""
        return bool(self.loosenings)

    @property
    def loosenings(self) -> list[str]:
        """Each way this threshold is weaker than the documented criterion, described."""
        c = self.criterion
        found = []
        if c.comparator.is_looser(self.limit, c.limit):
            found.append(f"limit {self.limit:g} vs documented {c.comparator.value} {c.limit:g} "
                         f"{c.unit}")
        if self.min_samples < c.min_samples:
            found.append(f"min_samples {self.min_samples} vs documented {c.min_samples}")
        if c.severity in BLOCKING_SEVERITIES and not self.blocking:
            found.append(f"severity {self.severity} would stop it blocking the release")
        found += loosened_options(c.id, self.options)
        return found

    def option(self, name: str) -> Any:
        """An option's value in force: the profile's, else the documented default."""
        if name in self.options:
            return self.options[name]
        known = option_specs(self.criterion.id)
        if name not in known:
            raise KeyError(f"{self.criterion.id} has no option {name!r}")
        return known[name].default

    @classmethod
    def documented(cls, criterion: Criterion) -> Threshold:
        return cls(criterion, criterion.limit, criterion.severity, criterion.min_samples,
                   options=option_defaults(criterion.id))
