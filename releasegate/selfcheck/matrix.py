"""The detection matrix: every variant through the focused gate that should catch it, and the
clean application through the same suites.

Score = variants caught by every criterion they name / variants. False alarms = criteria the
clean application fails (or errors on) in those suites, each run once whole on the clean
application however many variants share it.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from releasegate.selfcheck.catalogue import Variant
from releasegate.selfcheck.child import run_child

Progress = Callable[[str], None]
RED = ("fail",)
ALARM = ("fail", "error")
GATE_TIMEOUT_S = 1800.0


@dataclass
class GateOutcome:
    exit_code: int
    verdicts: dict[str, str]
    reasons: dict[str, str]
    seconds: float
    reports: str

    @property
    def ran(self) -> bool:
        """A run that produced a summary: exit 1 with no verdicts is a harness failure."""
        return bool(self.verdicts)


@dataclass
class VariantResult:
    name: str
    description: str
    expect: list[str]
    gate: list[str]
    outcome: GateOutcome

    @property
    def caught(self) -> bool:
        return all(self.outcome.verdicts.get(c) in RED for c in self.expect)

    @property
    def missed(self) -> list[str]:
        return [c for c in self.expect if self.outcome.verdicts.get(c) not in RED]


@dataclass
class Matrix:
    variants: list[VariantResult] = field(default_factory=list)
    clean: dict[str, GateOutcome] = field(default_factory=dict)
    """Focused gate (its arguments joined) → the clean application's outcome."""
    seconds: float = 0.0

    @property
    def score(self) -> float:
        return (sum(v.caught for v in self.variants) / len(self.variants)) if self.variants \
            else 0.0

    @property
    def false_alarms(self) -> dict[str, str]:
        """Criterion → reason, for every criterion the clean application failed or errored."""
        alarms: dict[str, str] = {}
        for outcome in self.clean.values():
            for cid, verdict in outcome.verdicts.items():
                if verdict in ALARM:
                    alarms[cid] = f"{verdict}: {outcome.reasons.get(cid, '')}"
        return alarms

    @property
    def clean_failures(self) -> list[str]:
        """Focused gates in which the clean application did not even run."""
        return [gate for gate, outcome in self.clean.items() if not outcome.ran]

    @property
    def passed(self) -> bool:
        return (bool(self.variants) and self.score == 1.0 and not self.false_alarms
                and not self.clean_failures)

    def to_json(self) -> dict[str, Any]:
        return {
            "score": self.score, "caught": sum(v.caught for v in self.variants),
            "variants_total": len(self.variants), "false_alarms": self.false_alarms,
            "clean_failures": self.clean_failures, "seconds": round(self.seconds, 1),
            "passed": self.passed,
            "variants": [{**asdict(v), "caught": v.caught, "missed": v.missed}
                         for v in self.variants],
            "clean": {gate: asdict(o) for gate, o in self.clean.items()},
        }


def run_gate(profile: Path, arguments: Sequence[str], reports: Path) -> GateOutcome:
    """One ``releasegate run`` in a subprocess, as a user would run it."""
    started = time.monotonic()
    command = [sys.executable, "-m", "releasegate", "run", "--profile", str(profile),
               "--no-html", "--reports-dir", str(reports), *arguments]
    code, output = run_child(command, timeout_s=GATE_TIMEOUT_S)
    (reports / "selfcheck-output.txt").parent.mkdir(parents=True, exist_ok=True)
    (reports / "selfcheck-output.txt").write_text(output)
    verdicts: dict[str, str] = {}
    reasons: dict[str, str] = {}
    summary = reports / "summary.json"
    if summary.is_file():
        for record in json.loads(summary.read_text()).get("criteria", []):
            verdicts[record["id"]] = record["verdict"]
            reasons[record["id"]] = "; ".join(record.get("reasons") or [])[:300]
    return GateOutcome(code, verdicts, reasons, time.monotonic() - started, str(reports))


def clean_gates(variants: Sequence[Variant]) -> list[tuple[str, ...]]:
    """The clean application runs the focused gates' suites whole (no -k), and every suite once:
    the suites of all gates that share their other options (``--set``, ``--durations``) go into
    one run, so one stack start serves every variant and a false alarm anywhere in them is
    seen."""
    groups: dict[tuple[str, ...], set[str]] = {}
    for variant in variants:
        before = variant.gate[: variant.gate.index("--")] if "--" in variant.gate \
            else variant.gate
        suites, options, i = set(), [], 0
        while i < len(before):
            if before[i] == "--suite" and i + 1 < len(before):
                suites.add(before[i + 1])
                i += 2
                continue
            options.append(before[i])
            i += 1
        groups.setdefault(tuple(options), set()).update(suites)
    return [tuple(a for suite in sorted(suites) for a in ("--suite", suite)) + options
            for options, suites in sorted(groups.items())]


def run_matrix(profile: Path, variants: Sequence[Variant], reports_dir: Path,
               progress: Progress, gate: Callable[[Path, Sequence[str], Path], GateOutcome]
               = run_gate, extra: Callable[[Variant], list[str]] = lambda _: []) -> Matrix:
    """``extra`` gives a variant's further arguments (a patched source copy, say)."""
    matrix = Matrix()
    started = time.monotonic()
    for i, variant in enumerate(variants, 1):
        progress(f"[{i}/{len(variants)}] variant {variant.name}: {' '.join(variant.gate)}")
        arguments = [*extra(variant), *variant.run_arguments()]
        outcome = gate(profile, arguments, reports_dir / "variants" / variant.name)
        result = VariantResult(variant.name, variant.description, list(variant.expect),
                               list(variant.gate), outcome)
        matrix.variants.append(result)
        verdict = ("caught" if result.caught else "MISSED " + ", ".join(result.missed)
                   + ("" if outcome.ran else " — the gate did not run"))
        progress(f"    {verdict}"
                 f" (exit {outcome.exit_code}, {outcome.seconds:.0f} s)")
    for j, suites in enumerate(clean_gates(variants), 1):
        key = " ".join(suites)
        progress(f"clean application, gate {j}: {key}")
        outcome = gate(profile, list(suites), reports_dir / "clean" / f"gate-{j}")
        matrix.clean[key] = outcome
        alarms = [c for c, v in outcome.verdicts.items() if v in ALARM]
        progress(f"    {'false alarms: ' + ', '.join(alarms) if alarms else 'no false alarm'}"
                 f" (exit {outcome.exit_code}, {outcome.seconds:.0f} s)")
    matrix.seconds = time.monotonic() - started
    return matrix
