"""What a suite hands over: one measurement of one criterion, written to the run directory.

Suites never decide verdicts. They record what they saw — a value, how many observations it
rests on, which checks were violated, and where the number came from — and the criteria engine
judges it later against the profile. Files, not memory, so that pytest-xdist workers and the
controller see the same evidence.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import uuid
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from releasegate.evidence.redact import Redactor, identity


class Outcome(str, Enum):
    MEASURED = "measured"
    """The suite produced a value (and possibly violations) to be judged."""
    INSUFFICIENT = "insufficient"
    """The suite could not gather enough evidence (e.g. the environment does not expose it)."""
    ERROR = "error"
    """The suite or a tool it drives broke before it could measure."""
    NOT_RUN = "not_run"
    """A part this run left to another run on purpose (a matrix cell another CI job runs); a
    merged report takes that run's measurement of the same scope instead."""


@dataclass
class Measurement:
    criterion: str
    value: float | None
    samples: int
    source: str
    outcome: Outcome = Outcome.MEASURED
    violations: list[str] = field(default_factory=list)
    checks: list[dict[str, Any]] = field(default_factory=list)
    evidence: dict[str, Any] = field(default_factory=dict)
    attachments: list[str] = field(default_factory=list)
    reason: str = ""
    test: str = ""
    scope: str = ""
    """What part of the criterion this is (an endpoint, a case); several merge into one verdict."""

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["outcome"] = self.outcome.value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Measurement:
        data = dict(data)
        data["outcome"] = Outcome(data.get("outcome", "measured"))
        return cls(**data)


class MeasurementStore:
    """A directory of measurement files; safe for concurrent writers (atomic rename)."""

    def __init__(self, directory: Path, redact: Redactor = identity) -> None:
        self.directory = directory
        self.attachments = directory / "attachments"
        self.redact = redact

    def write(self, measurement: Measurement) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{measurement.criterion}-{uuid.uuid4().hex[:12]}.json"
        text = self.redact(json.dumps(measurement.to_json(), indent=2, ensure_ascii=False))
        return _atomic_write(self.directory / name, text)

    def attach(self, name: str, content: str | bytes) -> str:
        """Store evidence (logs, raw samples) and return the path relative to the store."""
        self.attachments.mkdir(parents=True, exist_ok=True)
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
        path = self.attachments / f"{uuid.uuid4().hex[:8]}-{safe}"
        if isinstance(content, bytes):
            # Binary evidence (a screenshot) is stored as it is; text is redacted.
            with contextlib.suppress(UnicodeDecodeError):
                content = content.decode("utf-8")
        _atomic_write(path, self.redact(content) if isinstance(content, str) else content)
        return str(path.relative_to(self.directory))

    def harness_error(self, test: str, message: str) -> Path:
        """A failure that belongs to no criterion (a failing test that declares none)."""
        folder = self.directory / "harness-errors"
        folder.mkdir(parents=True, exist_ok=True)
        text = self.redact(json.dumps({"test": test, "message": message}, ensure_ascii=False))
        return _atomic_write(folder / f"{uuid.uuid4().hex[:12]}.json", text)

    def harness_errors(self) -> list[str]:
        folder = self.directory / "harness-errors"
        if not folder.is_dir():
            return []
        entries = [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]
        return [f"{e['test']}: {e['message']}" for e in entries]

    def read_all(self) -> list[Measurement]:
        if not self.directory.is_dir():
            return []
        return [
            Measurement.from_json(json.loads(p.read_text()))
            for p in sorted(self.directory.glob("*.json"))
        ]


def _atomic_write(path: Path, content: str | bytes) -> Path:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "wb") as handle:
        handle.write(content.encode() if isinstance(content, str) else content)
    os.replace(tmp, path)
    return path
