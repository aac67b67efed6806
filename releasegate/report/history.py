"""Previous runs: kept so each report can say what changed since the last one.

A release manager's first question after "is it ready?" is "what got worse?". The previous
summary is moved into ``history/`` before the new one is written; the newest ``KEEP`` files
are kept and older ones are deleted, so the directory cannot grow without bound.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from releasegate.criteria.catalog import Comparator
from releasegate.report.formatting import parse_timestamp
from releasegate.report.summary import Summary, records, release_info, run_info

KEEP = 20
REGRESSION_SHARE = 0.2
"""A measured value worse than the baseline by more than this share is flagged."""
HISTORY_DIR = "history"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def _history_name(previous: Mapping[str, Any] | None, fallback: datetime) -> str:
    run = run_info(previous or {})
    moment = parse_timestamp(run.get("started_at")) or fallback
    stamp = moment.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    run_id = _UNSAFE.sub("_", str(run.get("id") or "unknown"))[:64]
    # UTC basic format first, so sorting by name is sorting by time.
    return f"{stamp}-{run_id}"


def rotate_previous(reports_dir: Path, *, keep: int = KEEP) -> Summary | None:
    """Move ``summary.json`` into ``history/`` and return it, or None when there is none.

    An unreadable previous summary is still moved aside (so it cannot be mistaken for this
    run's), but it is not compared against: there is nothing trustworthy to compare.
    """
    current = reports_dir / "summary.json"
    if not current.is_file():
        return None
    try:
        loaded = json.loads(current.read_text(encoding="utf-8"))
        previous: Summary | None = loaded if isinstance(loaded, dict) else None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        previous = None
    history = reports_dir / HISTORY_DIR
    history.mkdir(parents=True, exist_ok=True)
    modified = datetime.fromtimestamp(current.stat().st_mtime, tz=timezone.utc)
    name = _history_name(previous, modified)
    if previous is None:
        name += "-unreadable"
    target = history / f"{name}.json"
    counter = 1
    while target.exists():
        counter += 1
        target = history / f"{name}-{counter}.json"
    current.replace(target)
    prune(history, keep=keep)
    return previous


def history_files(history: Path) -> list[Path]:
    """Kept summaries, oldest first."""
    if not history.is_dir():
        return []
    return sorted(p for p in history.glob("*.json") if p.is_file())


def prune(history: Path, *, keep: int = KEEP) -> list[Path]:
    files = history_files(history)
    removed = files[: max(0, len(files) - keep)]
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


@dataclass(frozen=True)
class CriterionChange:
    id: str
    title: str
    unit: str
    comparator: str
    before: str | None
    """Verdict in the previous run; None when the criterion was not in it."""
    after: str | None
    """Verdict in this run; None when the criterion is no longer judged."""
    measured_before: float | None
    measured_after: float | None

    @property
    def verdict_changed(self) -> bool:
        return self.before != self.after

    @property
    def delta(self) -> float | None:
        if self.measured_before is None or self.measured_after is None:
            return None
        return self.measured_after - self.measured_before

    @property
    def direction(self) -> str:
        """"better", "worse" or "" — judged by the criterion's own comparator."""
        delta = self.delta
        if not delta:
            return ""
        try:
            lower_is_better = Comparator(self.comparator) in (Comparator.LT, Comparator.LE)
        except ValueError:
            return ""
        return "better" if (delta < 0) == lower_is_better else "worse"

    def regression(self, share: float) -> bool:
        """Worse by more than ``share`` of the earlier value — even while under the limit. From
        zero, any worsening is a regression (there is no share of nothing)."""
        if self.direction != "worse" or self.delta is None or self.measured_before is None:
            return False
        if self.measured_before == 0:
            return True
        return abs(self.delta) > share * abs(self.measured_before)


@dataclass(frozen=True)
class RunDiff:
    previous_run_id: str
    previous_started_at: str
    release_before: str
    release_after: str
    changes: dict[str, CriterionChange] = field(default_factory=dict)

    @property
    def verdict_changes(self) -> list[CriterionChange]:
        return [c for c in self.changes.values() if c.verdict_changed]

    @property
    def measured_changes(self) -> list[CriterionChange]:
        return [c for c in self.changes.values() if c.delta]

    def regressions(self, share: float) -> list[CriterionChange]:
        return [c for c in self.changes.values() if c.regression(share)]


def _measured(record: Mapping[str, Any] | None) -> float | None:
    value = record.get("measured") if record else None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def diff(previous: Mapping[str, Any] | None, current: Mapping[str, Any]) -> RunDiff | None:
    """What changed between two summaries, per criterion ID; None without a previous run."""
    if previous is None:
        return None
    before = {r["id"]: r for r in records(previous)}
    after = {r["id"]: r for r in records(current)}
    changes: dict[str, CriterionChange] = {}
    # Current order first (the order of the report), then criteria that disappeared.
    for cid in [*after, *(c for c in before if c not in after)]:
        old, new = before.get(cid), after.get(cid)
        ref = new or old or {}
        changes[cid] = CriterionChange(
            id=cid,
            title=str(ref.get("title") or cid),
            unit=str(ref.get("unit") or ""),
            comparator=str(ref.get("comparator") or ""),
            before=str(old["verdict"]) if old else None,
            after=str(new["verdict"]) if new else None,
            measured_before=_measured(old),
            measured_after=_measured(new),
        )
    prev_run = run_info(previous)
    return RunDiff(
        previous_run_id=str(prev_run.get("id") or "unknown"),
        previous_started_at=str(prev_run.get("started_at") or ""),
        release_before=str(release_info(previous).get("verdict") or "unknown"),
        release_after=str(release_info(current).get("verdict") or "unknown"),
        changes=changes,
    )


def load_baseline(path: Path) -> Summary:
    """A summary to compare with instead of the previous run (a release tag's, say)."""
    from releasegate.errors import ConfigError

    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"--baseline {path}: not a readable summary.json ({exc})",
                          hint="pass the summary.json of the run to compare with") from None
    if not isinstance(loaded, dict) or not isinstance(loaded.get("criteria"), list):
        raise ConfigError(f"--baseline {path}: not a releasegate summary",
                          hint="pass the summary.json of the run to compare with")
    return loaded


def series(history: Path, summary: Mapping[str, Any]) -> dict[str, list[tuple[str, float]]]:
    """Criterion → (run started_at, measured) over the kept history of the same profile and
    this run, oldest first: the numbers behind trend plots and the noise of a measurement."""
    name = run_info(summary).get("profile_name")
    found: dict[str, list[tuple[str, float]]] = {}
    summaries: list[Mapping[str, Any]] = []
    for path in history_files(history):
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(loaded, dict) and run_info(loaded).get("profile_name") == name:
            summaries.append(loaded)
    for item in [*summaries, summary]:
        started = str(run_info(item).get("started_at") or "")
        for record in records(item):
            value = _measured(record)
            if value is not None and record.get("verdict") not in ("error", "not_run"):
                found.setdefault(str(record["id"]), []).append((started, value))
    return found
