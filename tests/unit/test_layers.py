"""The package's layers import downwards only: data flows stack → suites → measurements →
verdicts → reports, and no module of a lower layer may reach up into a higher one.

A cycle (criteria ↔ measure, stack ↔ measure) makes every layer depend on every other and lets
a change to one ripple everywhere; this test keeps the folder names honest."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "releasegate"

# What each sub-package may import from the rest of releasegate (besides itself).
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "evidence": {"errors"},
    "criteria": {"evidence", "errors"},
    "loadgen": {"errors"},
    "config": {"criteria", "evidence", "errors", "loadgen"},
    "stack": {"config", "evidence", "errors"},
    "measure": {"config", "criteria", "evidence", "errors"},
    "report": {"criteria", "evidence", "errors"},
}


def _layer(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "releasegate" and len(parts) > 1:
                found.add(parts[1])
    return found


def test_layers_import_downwards_only() -> None:
    broken: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        layer = _layer(path)
        if layer not in ALLOWED:
            continue
        for target in _imports(path) - {layer} - {"__init__"}:
            if target in ALLOWED and target not in ALLOWED[layer]:
                broken.append(f"{path.relative_to(PACKAGE)} imports releasegate.{target}")
    assert not broken, "\n".join(broken)
