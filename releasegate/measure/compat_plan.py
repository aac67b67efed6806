"""Which cells of the Python × PostgreSQL matrix a run tries, and what each cell's outcome says
about each version.

Pure logic: no containers here (the suite runs the cells). A pairwise plan pairs the i-th
supported Python with the i-th PostgreSQL, wrapping the shorter list, so every version is in at
least one cell; the full plan is every pair. A Python the application's ``requires-python``
excludes is never built: it is reported ``excluded`` with that reason, not as a failure, and
its PostgreSQL partner is paired with a supported Python instead.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

# How far a cell got: each phase needs the one before it.
PHASES = ("build", "database", "start", "migrations", "smoke", "backup-restore")
# Phases that involve only one side of the pair: their failure says nothing about the other.
PYTHON_ONLY = frozenset({"build"})
POSTGRES_ONLY = frozenset({"database"})

PASSED, FAILED, ERROR, EXCLUDED, NOT_RUN = "passed", "failed", "error", "excluded", "not run"


@dataclass(frozen=True, order=True)
class Cell:
    python: str
    postgres: int

    @property
    def key(self) -> str:
        return f"py{self.python}-pg{self.postgres}"

    @classmethod
    def parse(cls, key: str) -> Cell:
        body = key.removeprefix("py")
        python, sep, pg = body.partition("-pg")
        if not sep or not python or not pg.isdigit():
            raise ValueError(f"{key!r} is not a cell (write py3.11-pg15)")
        return cls(python, int(pg))


@dataclass(frozen=True)
class Plan:
    cells: tuple[Cell, ...]
    """The cells this run tries."""
    planned: tuple[Cell, ...]
    """Every cell of the matrix as configured (pairwise or full); a run of chosen cells
    (--cell) tries only some of them, the others are "not run" here."""
    excluded: dict[str, str] = field(default_factory=dict)
    """Python → why the application excludes it."""


def python_version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


def requires_python(pyproject: Path) -> str:
    """``[project] requires-python`` of a pyproject.toml ("" when absent or unreadable)."""
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return ""
    value = data.get("project", {}).get("requires-python", "")
    return str(value) if isinstance(value, str) else ""


def exclusion(python: str, spec: str) -> str:
    """Why ``spec`` excludes ``python`` ("" when it allows it, or says nothing)."""
    if not spec.strip():
        return ""
    try:
        allowed = SpecifierSet(spec)
    except InvalidSpecifier:
        return ""
    # A minor version is supported when its first release is; "3.9" means 3.9.0.
    if allowed.contains(Version(f"{python}.0"), prereleases=True):
        return ""
    return f"the application declares requires-python {spec!r}, which excludes Python {python}"


def pairwise(pythons: Sequence[str], postgres: Sequence[int]) -> list[Cell]:
    """Every version in at least one cell, in max(len) cells: the i-th with the i-th."""
    if not pythons or not postgres:
        return []
    count = max(len(pythons), len(postgres))
    return [Cell(pythons[i % len(pythons)], postgres[i % len(postgres)]) for i in range(count)]


def full(pythons: Sequence[str], postgres: Sequence[int]) -> list[Cell]:
    return [Cell(py, pg) for py in pythons for pg in postgres]


def make_plan(pythons: Sequence[str], postgres: Sequence[int], *, matrix: str,
              requires: str = "", chosen: Iterable[str] = ()) -> Plan:
    excluded = {py: why for py in pythons if (why := exclusion(py, requires))}
    allowed = [py for py in pythons if py not in excluded]
    planned = (full if matrix == "full" else pairwise)(allowed, postgres)
    wanted = [Cell.parse(key) for key in chosen]
    if wanted:
        cells = [c for c in wanted if c.python not in excluded]
        # Chosen cells outside the plan still count; the plan is what the jobs together owe.
        planned = sorted({*planned, *cells}, key=lambda c: planned.index(c)
                         if c in planned else len(planned))
    else:
        cells = list(planned)
    return Plan(tuple(cells), tuple(planned), excluded)


@dataclass
class CellResult:
    cell: Cell
    status: str = NOT_RUN
    """passed / failed / error (the harness broke) / not run."""
    phase: str = ""
    """The first phase that did not succeed ("" when every phase did)."""
    detail: str = ""
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)
    """Seconds per phase that ran."""
    checks: list[dict[str, Any]] = field(default_factory=list)
    evidence: dict[str, Any] = field(default_factory=dict)
    attachments: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"cell": self.cell.key, "python": self.cell.python,
                "postgres": self.cell.postgres, "status": self.status, "phase": self.phase,
                "detail": self.detail, "seconds": round(self.seconds, 1),
                "phases": {k: round(v, 1) for k, v in self.phases.items()}}


def concerns(result: CellResult, side: str) -> str:
    """What a cell's outcome says about its ``side`` ("python" or "postgres"):
    passed, failed, error, or "unmeasured" (it stopped on the other side's phase)."""
    if result.status != FAILED:
        return result.status
    other_only = POSTGRES_ONLY if side == "python" else PYTHON_ONLY
    return "unmeasured" if result.phase in other_only else FAILED


def shared_failure(result: CellResult) -> bool:
    """A failure in a phase both sides take part in: the cell alone cannot say whose it is."""
    return result.status == FAILED and result.phase not in PYTHON_ONLY | POSTGRES_ONLY


def witnesses(cell: Cell, python_ref: str, postgres_ref: int) -> list[Cell]:
    """The cells that tell a shared failure apart: the same Python with the reference
    PostgreSQL, and the reference Python with the same PostgreSQL (none that is the cell)."""
    found = [Cell(cell.python, postgres_ref), Cell(python_ref, cell.postgres)]
    return [c for c in found if c != cell]


def _got_past(result: CellResult, phase: str) -> bool:
    if result.status == PASSED:
        return True
    order = {name: i for i, name in enumerate(PHASES)}
    return result.status == FAILED and order.get(result.phase, -1) > order.get(phase, len(order))


def _cleared(result: CellResult, side: str, results: Iterable[CellResult]) -> bool:
    """``side``'s version got past the failed phase beside another version of the other side,
    and the other side's version failed in that same phase beside another version of this."""
    cell = result.cell

    def mine(c: Cell) -> bool:
        return c.python == cell.python if side == "python" else c.postgres == cell.postgres

    def theirs(c: Cell) -> bool:
        return c.postgres == cell.postgres if side == "python" else c.python == cell.python

    others = [r for r in results if r.cell != cell]
    fine_elsewhere = any(mine(r.cell) and _got_past(r, result.phase) for r in others)
    other_failed = any(theirs(r.cell) and r.status == FAILED and r.phase == result.phase
                       for r in others)
    return fine_elsewhere and other_failed


def blame(result: CellResult, side: str, results: Iterable[CellResult]) -> str:
    """What ``result`` says about ``side``, the other cells considered: a shared failure that
    follows the other side (this side's version got past that phase elsewhere, the other's
    failed in it elsewhere too) leaves this side ``exonerated``. When both sides would be, the
    pair itself is broken and both count it: a failure is never blamed on nobody."""
    what = concerns(result, side)
    if not shared_failure(result):
        return what
    others = list(results)
    other = "postgres" if side == "python" else "python"
    if _cleared(result, side, others) and not _cleared(result, other, others):
        return "exonerated"
    return what
