"""The write ledger and Jepsen's set check: no acknowledged write may be lost.

Every write carries a unique id and ends with one outcome:

``ok``       the application acknowledged it (2xx);
``fail``     it certainly did not happen: refused with a 4xx, or the connection was never made;
``unknown``  it may or may not have happened: a timeout, a connection lost after sending, a 5xx
             (the application cannot always know whether a commit it lost the answer to landed).

After the faults heal, everything written under the ledger's prefix is read back — through the
API and straight from the database, separately. Per read: *lost* = ok but not read; *unexpected*
= read but never attempted, or read although it certainly failed; a *duplicate* = one id read
more than once. Unknown writes may go either way. A read that could not be made is not a pass.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

OK, FAIL, UNKNOWN = "ok", "fail", "unknown"
OUTCOMES = (OK, FAIL, UNKNOWN)
_SHOW = 10


@dataclass(frozen=True)
class Write:
    id: str
    sent_at: float
    """Epoch seconds when the request was sent."""
    done_at: float
    outcome: str
    status: int | None = None
    detail: str = ""


def classify(status: int | None, error: BaseException | None = None) -> str:
    """Outcome of one write from its HTTP status or transport error."""
    if error is not None:
        # Never connected: the request cannot have reached the application.
        certain = isinstance(error, (httpx.ConnectError, httpx.ConnectTimeout))
        return FAIL if certain else UNKNOWN
    if status is None:
        return UNKNOWN
    if 200 <= status < 300:
        return OK
    if 400 <= status < 500:
        return FAIL
    return UNKNOWN


class WriteLedger:
    """Thread-safe record of every write one experiment made."""

    def __init__(self, label: str) -> None:
        self.prefix = f"rg-{label}-{uuid.uuid4().hex[:6]}-"
        self._writes: list[Write] = []
        self._lock = threading.Lock()
        self._next = 0

    def next_id(self) -> str:
        with self._lock:
            self._next += 1
            return f"{self.prefix}{self._next:06d}"

    def add(self, write: Write) -> None:
        with self._lock:
            self._writes.append(write)

    @property
    def writes(self) -> list[Write]:
        with self._lock:
            return list(self._writes)

    def counts(self) -> dict[str, int]:
        counted = Counter(w.outcome for w in self.writes)
        return {outcome: counted.get(outcome, 0) for outcome in OUTCOMES}


@dataclass
class ReadCheck:
    """The set check of the ledger against one final read."""

    source: str
    read: int
    lost: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    unknown_present: int = 0
    unknown_absent: int = 0

    def violations(self) -> list[str]:
        out = []
        for what, ids in (("lost (acknowledged, not read back)", self.lost),
                          ("unexpected (read back, never acknowledged nor pending)",
                           self.unexpected),
                          ("duplicated", self.duplicates)):
            if ids:
                out.append(f"{self.source}: {len(ids)} {what}: {', '.join(ids[:_SHOW])}")
        return out

    def evidence(self) -> dict[str, Any]:
        return {"read": self.read, "lost": len(self.lost), "unexpected": len(self.unexpected),
                "duplicates": len(self.duplicates), "unknown_present": self.unknown_present,
                "unknown_absent": self.unknown_absent, "lost_ids": self.lost[:_SHOW],
                "unexpected_ids": self.unexpected[:_SHOW],
                "duplicate_ids": self.duplicates[:_SHOW]}


def check_read(writes: Iterable[Write], source: str, found: Mapping[str, int]) -> ReadCheck:
    """``found`` maps every id the read returned to how often it appeared."""
    by_id: dict[str, str] = {}
    for write in writes:
        by_id[write.id] = write.outcome
    check = ReadCheck(source, sum(found.values()))
    check.lost = sorted(i for i, outcome in by_id.items() if outcome == OK and i not in found)
    check.unexpected = sorted(i for i in found if by_id.get(i, FAIL) == FAIL)
    check.duplicates = sorted(i for i, n in found.items() if n > 1)
    unknown = [i for i, outcome in by_id.items() if outcome == UNKNOWN]
    check.unknown_present = sum(1 for i in unknown if i in found)
    check.unknown_absent = len(unknown) - check.unknown_present
    return check


def summarise(ledger: WriteLedger, reads: Mapping[str, Mapping[str, int] | str]) -> tuple[
        list[str], dict[str, Any]]:
    """Violations and evidence for the ledger against every final read; a read given as text
    is the reason it could not be made, and that is a violation: no final read, no pass."""
    violations: list[str] = []
    evidence: dict[str, Any] = {"prefix": ledger.prefix, "writes": ledger.counts(), "reads": {}}
    if ledger.counts()[OK] == 0:
        violations.append("no write was acknowledged, so nothing could be checked")
    for source, found in reads.items():
        if isinstance(found, str):
            violations.append(f"{source}: the final read failed: {found}")
            evidence["reads"][source] = {"error": found}
            continue
        check = check_read(ledger.writes, source, found)
        violations += check.violations()
        evidence["reads"][source] = check.evidence()
    return violations, evidence


def ids_at(prefix: str, values: Iterable[Any]) -> dict[str, int]:
    """Multiset of the ledger's ids among read values (other rows are not the ledger's)."""
    return dict(Counter(str(v) for v in values if isinstance(v, str) and v.startswith(prefix)))

