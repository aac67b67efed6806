"""The compatibility matrix as a table: Python × PostgreSQL → each cell's result and its time.

The cells come from the parts of COMPAT-PYTHON and COMPAT-POSTGRES (each part's evidence
describes its cell), so a report rebuilt from summary.json — or merged from several jobs' — shows
the same table. A cell some run measured outranks a "not run" placeholder for it from another.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

MATRIX_CRITERIA = ("COMPAT-PYTHON", "COMPAT-POSTGRES")
_WORDS = {"passed": "✅ passed", "failed": "❌ FAILED", "error": "⚠️ error",
          "insufficient": "⚠️ insufficient", "not run": "· not run"}


def _py_key(version: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in version.split("."))
    except ValueError:
        return (999,)


def cells_from_records(records: Iterable[Mapping[str, Any]],
                       ) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """(cells, excluded Pythons → reason) from verdict records' parts."""
    cells: dict[str, dict[str, Any]] = {}
    excluded: dict[str, str] = {}
    for record in records:
        if record.get("id") not in MATRIX_CRITERIA:
            continue
        for part in record.get("parts") or []:
            evidence = part.get("evidence") or {}
            if not isinstance(evidence, dict) or "cell" not in evidence:
                continue
            if evidence.get("status") == "excluded":
                excluded[str(evidence.get("python"))] = str(evidence.get("detail", ""))
                continue
            key = str(evidence["cell"])
            known = cells.get(key)
            if known is None or known.get("status") == "not run":
                cells[key] = dict(evidence)
    return list(cells.values()), excluded


def matrix_markdown(cells: Iterable[Mapping[str, Any]], excluded: Mapping[str, str]) -> str:
    """A markdown table, Pythons down, PostgreSQLs across; "" when there is no cell."""
    by_pair = {(str(c["python"]), int(c["postgres"])): c for c in cells}
    if not by_pair and not excluded:
        return ""
    pythons = sorted({p for p, _ in by_pair} | set(excluded), key=_py_key)
    postgres = sorted({g for _, g in by_pair})
    lines = ["| Python \\ PostgreSQL | " + " | ".join(str(g) for g in postgres) + " |",
             "|---|" + "---|" * len(postgres)]
    for python in pythons:
        row = []
        for pg in postgres:
            if python in excluded:
                row.append("excluded")
                continue
            cell = by_pair.get((python, pg))
            row.append(_cell_text(cell) if cell else "—")
        lines.append(f"| {python} | " + " | ".join(row) + " |")
    notes = [f"- Python {p} excluded: {why}" for p, why in sorted(excluded.items())]
    notes += [f"- {c['cell']}: {c.get('phase')} — {_ends(str(c.get('detail', '')))}"
              for c in sorted(by_pair.values(), key=lambda c: str(c["cell"]))
              if c.get("status") not in ("passed", "not run")]
    total = sum(float(c.get("seconds") or 0) for c in by_pair.values())
    lines.append("")
    lines.append(f"— = not in the plan; time per cell is wall clock (build, start, migrations, "
                 f"smoke, backup/restore); {total:.0f} s of cell time in all.")
    return "\n".join(lines + (["", *notes] if notes else []))


def _ends(text: str, limit: int = 240) -> str:
    """Both ends of a long detail: what was run, and the cause, which tools print last."""
    return text if len(text) <= limit else f"{text[:limit // 3]} … {text[-2 * limit // 3:]}"


def _cell_text(cell: Mapping[str, Any]) -> str:
    status = str(cell.get("status", "not run"))
    text = _WORDS.get(status, status)
    if status not in ("passed", "not run") and cell.get("phase"):
        text += f" ({cell['phase']})"
    if status != "not run":
        text += f", {float(cell.get('seconds') or 0):.0f} s"
    return text


def matrix_section(records: Iterable[Mapping[str, Any]]) -> list[str]:
    """summary.md lines for the matrix (none when the run had no matrix)."""
    cells, excluded = cells_from_records(records)
    table = matrix_markdown(cells, excluded)
    return ["## Compatibility matrix", "", table, ""] if table else []
