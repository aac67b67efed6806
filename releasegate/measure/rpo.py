"""Which canary writes a restored backup must hold: the recovery point, checked to the write.

Canaries are written one after another through the API while the backup runs, so their commit
order is their send order, and a consistent snapshot holds exactly a prefix of them. The dump's
snapshot lies somewhere in ``[lower, upper]``: ``lower`` is a moment known to be before it (the
backup started, or the manifest's snapshot time), ``upper`` one known to be after it (the
command ended, or the dump's own creation time). So:

* every canary acknowledged before ``lower`` must be in the restored database;
* no canary sent after ``upper`` may be;
* what is there is a prefix: no acknowledged canary is missing before the last one present;
* nothing that certainly failed is there, and no canary is there twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from releasegate.measure.ledger import FAIL, OK, Write

_SHOW = 8


@dataclass
class RpoCheck:
    lower: float
    upper: float
    attempted: int = 0
    present: int = 0
    problems: list[str] = field(default_factory=list)
    last_present_sent: float | None = None
    first_absent_done: float | None = None

    def evidence(self) -> dict[str, Any]:
        return {"snapshot_after": self.lower, "snapshot_before": self.upper,
                "window_s": round(self.upper - self.lower, 3), "canaries": self.attempted,
                "canaries_restored": self.present, "problems": self.problems,
                "last_restored_canary_sent_at": self.last_present_sent,
                "first_missing_canary_acknowledged_at": self.first_absent_done}


def check_canaries(writes: Sequence[Write], present: Mapping[str, int], *, lower: float,
                   upper: float) -> RpoCheck:
    ordered = sorted(writes, key=lambda w: (w.sent_at, w.id))
    check = RpoCheck(lower, upper, len(ordered), sum(1 for w in ordered if w.id in present))
    known = {w.id for w in ordered}

    def note(what: str, ids: list[str]) -> None:
        if ids:
            check.problems.append(f"{len(ids)} {what}: {', '.join(ids[:_SHOW])}")

    if not any(w.outcome == OK and w.done_at < lower for w in ordered):
        check.problems.append("no canary was acknowledged before the backup's snapshot, so "
                              "the recovery point could not be checked")
    if not any(w.sent_at > upper for w in ordered):
        check.problems.append("no canary was sent after the backup's snapshot, so the "
                              "recovery point could not be checked")
    note("canaries acknowledged before the snapshot are missing",
         [w.id for w in ordered if w.outcome == OK and w.done_at < lower and w.id not in present])
    note("canaries sent after the snapshot are in the backup",
         [w.id for w in ordered if w.sent_at > upper and w.id in present])
    positions = [i for i, w in enumerate(ordered) if w.id in present]
    if positions:
        last = positions[-1]
        check.last_present_sent = ordered[last].sent_at
        note("acknowledged canaries are missing before the last one restored (not a "
             "consistent snapshot)",
             [w.id for w in ordered[:last] if w.outcome == OK and w.id not in present])
        absent = [w for w in ordered[last + 1:] if w.outcome == OK]
        check.first_absent_done = absent[0].done_at if absent else None
    note("canaries that certainly failed are in the backup",
         [w.id for w in ordered if w.outcome == FAIL and w.id in present])
    note("ids in the backup were never written", sorted(set(present) - known))
    note("canaries are in the backup more than once", sorted(i for i, n in present.items()
                                                              if n > 1))
    return check
