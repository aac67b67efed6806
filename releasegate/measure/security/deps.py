"""SEC-DEPS: the versions that ship, matched against a vulnerability database.

The versions come from the built image (``importlib.metadata`` inside it: what is installed, not
what a requirements file hopes for) or from a lock file. pip-audit ``--strict`` answers first
when its service does; when it does not, the offline matcher over an OSV advisory database does,
and the report states that database's date. A database older than the limit cannot clear a
dependency: what it finds still counts, but a clean result is ``insufficient``.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import json
import os
import re
import shutil
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import releasegate
from releasegate.config.sections.security_checks import DepsSettings
from releasegate.evidence.findings import Finding
from releasegate.measure.commands import run_in_container
from releasegate.measure.security.advisories import AdvisoryDatabase, AdvisoryDbMissing
from releasegate.measure.security.support import ToolFailed, run_tool

CRITERION = "SEC-DEPS"
# Name, version, and whether it was installed from a local directory (PEP 610 direct_url.json
# with dir_info: the application's own package, which no index knows).
_LIST_DISTRIBUTIONS = (
    "import importlib.metadata as m, json; "
    "print(json.dumps(sorted({(d.metadata['Name'], d.version, "
    "'dir_info' in (d.read_text('direct_url.json') or '')) for d in m.distributions() "
    "if d.metadata['Name']})))"
)
_PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*===?\s*([^\s;#]+)")


ADVISORY_DB_ENV = "RELEASEGATE_ADVISORY_DB"
BUNDLED_SNAPSHOT = "advisory-db-snapshot.tar.gz"


def default_advisory_db() -> Path:
    """Where the offline matcher looks when the profile names no database: the
    ``RELEASEGATE_ADVISORY_DB`` variable, then ``shared/advisory-db`` beside the harness's
    checkout, then the snapshot bundled with the harness (unpacked once into a cache). Its age
    is judged like any other's: an old snapshot can find vulnerabilities but never clear a
    release."""
    if os.environ.get(ADVISORY_DB_ENV):
        return Path(os.environ[ADVISORY_DB_ENV])
    beside = Path(releasegate.__file__).resolve().parents[1].parent / "shared" / "advisory-db"
    if beside.is_dir():
        return beside
    return bundled_advisory_db()


def bundled_advisory_db() -> Path:
    archive = Path(str(importlib.resources.files("releasegate.security_data")
                       / BUNDLED_SNAPSHOT))
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()[:12]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "releasegate"
    target = cache / f"advisory-db-{digest}"
    if not (target / "advisory-db").is_dir():
        cache.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=cache, prefix=".unpacking-"))
        with tarfile.open(archive) as tar:
            tar.extractall(staging, filter="data")
        try:
            staging.rename(target)
        except OSError:  # another process unpacked it first
            shutil.rmtree(staging, ignore_errors=True)
    return target / "advisory-db"


@dataclass
class ShippedVersions:
    versions: dict[str, str]
    """Distribution name (as installed) → version."""
    origin: str
    local: frozenset[str] = frozenset()
    """Distributions installed from a local directory (no index can vouch for them)."""


def versions_in_container(container: Any, python: str) -> ShippedVersions:
    result = run_in_container(container, [python, "-c", _LIST_DISTRIBUTIONS])
    try:
        pairs = json.loads(result.stdout.strip().splitlines()[-1]) if result.ok else None
    except (ValueError, IndexError):
        pairs = None
    if not pairs:
        raise ToolFailed(f"could not list the distributions installed in the image with "
                         f"{python}: {result.describe()}")
    return ShippedVersions({str(n): str(v) for n, v, _ in pairs},
                           f"importlib.metadata of {python} in the app container",
                           frozenset(str(n) for n, _, local in pairs if local))


def versions_from_lock_file(path: Path | None) -> ShippedVersions:
    if path is None or not path.is_file():
        raise ToolFailed(f"the lock file {path} does not exist")
    versions: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _PIN.match(line)
        if match:
            versions[match.group(1)] = match.group(2)
    if not versions:
        raise ToolFailed(f"{path} pins no version (expected name==version lines)")
    return ShippedVersions(versions, f"the pins of {path}")


@dataclass
class AuditResult:
    findings: list[Finding] = field(default_factory=list)
    source: str = ""
    database: str = ""
    database_date: str = ""
    database_age_days: int | None = None
    too_old_reason: str = ""
    notes: list[str] = field(default_factory=list)

    def evidence(self) -> dict[str, Any]:
        return {"database": self.database, "database_date": self.database_date,
                "database_age_days": self.database_age_days, "notes": self.notes}


def audit(shipped: ShippedVersions, settings: DepsSettings, *, max_age_days: int,
          today: date) -> AuditResult:
    notes: list[str] = []
    if settings.pip_audit == "auto":
        answered = _pip_audit(shipped, settings.pip_audit_timeout_s, notes)
        if answered is not None:
            return answered
    return _offline(shipped, settings.advisory_db or default_advisory_db(), max_age_days,
                    today, notes)


def _pip_audit(shipped: ShippedVersions, timeout_s: float, notes: list[str]) -> AuditResult | None:
    """pip-audit over the shipped pins; None (with the reason in notes) when its service did
    not answer for every one of them."""
    indexed = {n: v for n, v in shipped.versions.items() if n not in shipped.local}
    if shipped.local:
        notes.append(f"not sent to pip-audit (installed from a local directory): "
                     f"{', '.join(sorted(shipped.local))}")
    with tempfile.NamedTemporaryFile("w", suffix=".txt", prefix="releasegate-pins-") as pins:
        pins.write("".join(f"{n}=={v}\n" for n, v in sorted(indexed.items())))
        pins.flush()
        try:
            run = run_tool([sys.executable, "-m", "pip_audit", "-r", pins.name, "--no-deps",
                            "--disable-pip", "--strict", "-f", "json", "--progress-spinner",
                            "off", "--timeout", str(int(timeout_s))], timeout_s=timeout_s * 2)
        except ToolFailed as exc:
            notes.append(f"pip-audit could not run ({exc}); the offline database answered")
            return None
    try:
        report = json.loads(run.stdout)
    except ValueError:
        last = (run.stderr.strip().splitlines() or ["no output"])[-1]
        notes.append(f"pip-audit --strict did not get an answer for every dependency "
                     f"({last[:200]}); the offline database answered")
        return None
    result = AuditResult(source="pip-audit --strict (its vulnerability service answered for "
                         "every dependency)", database="pip-audit's live service",
                         database_date=date.today().isoformat(), database_age_days=0,
                         notes=notes)
    for dep in report.get("dependencies") or []:
        for vuln in dep.get("vulns") or []:
            result.findings.append(_finding(
                "pip-audit", str(vuln.get("id")), str(dep.get("name")), str(dep.get("version")),
                str(vuln.get("description") or ""), [str(a) for a in vuln.get("aliases") or []],
                [str(v) for v in vuln.get("fix_versions") or []],
                f"pip-audit --strict -r <(echo {dep.get('name')}=={dep.get('version')})"))
    return result


def _offline(shipped: ShippedVersions, root: Path, max_age_days: int, today: date,
             notes: list[str]) -> AuditResult:
    try:
        db = AdvisoryDatabase.open(root)
    except AdvisoryDbMissing as exc:
        raise ToolFailed(f"{exc}; point [security.deps] advisory_db at a copy of the PyPA "
                         "advisory database") from None
    age = db.age_days(today)
    dated = db.dated.isoformat() if db.dated else "unknown"
    result = AuditResult(
        source=f"offline OSV matcher over {root} ({db.files} advisories, dated {dated}); "
               "versions compared with packaging.version",
        database=f"OSV advisory database {root} dated {dated}", database_date=dated,
        database_age_days=age, notes=notes)
    if age is None:
        result.too_old_reason = (f"the advisory database {root} does not say how old it is "
                                 "(no modified dates, no SNAPSHOT.txt), so a clean result "
                                 "proves nothing")
    elif age > max_age_days:
        result.too_old_reason = (
            f"the advisory database is {age} days old (dated {dated}), older than the "
            f"{max_age_days}-day limit: vulnerabilities published since cannot be seen, so a "
            "clean result proves nothing (refresh the database)")
    for name, version in sorted(shipped.versions.items()):
        for advisory in db.matches(name, version):
            result.findings.append(_finding(
                "advisory-db", advisory.id, name, version, advisory.summary,
                list(advisory.aliases), list(advisory.fixed), f"cat {advisory.file}"))
    return result


def _finding(tool: str, rule: str, name: str, version: str, summary: str,
             aliases: list[str], fixed: list[str], reproduction: str) -> Finding:
    first = summary.split(". ")[0][:200] or "known vulnerability"
    return Finding(
        tool=tool, rule=rule, severity="high", criterion=CRITERION,
        title=f"{name} {version} is affected by {rule}: {first}",
        location=f"{name}=={version}",
        evidence=(f"aliases {', '.join(aliases) or 'none'}; fixed in "
                  f"{', '.join(fixed) or 'no released version'}"),
        reproduction=reproduction)
