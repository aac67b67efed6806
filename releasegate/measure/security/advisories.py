"""An offline matcher over an OSV advisory database in YAML (the PyPA Advisory Database layout:
``vulns/<package>/<ID>.yaml``), for when no vulnerability service answers.

A version is affected when an ECOSYSTEM range's events put it at or after an ``introduced`` and
before the next ``fixed`` (or at most a ``last_affected``), or when the advisory lists it
explicitly. Versions are compared with ``packaging.version``; withdrawn advisories are skipped.
The database's date is its newest ``modified`` time: the data says how old it is, not the
files' mtimes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

# libyaml's loader when PyYAML has it: the same safe subset, several times faster.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_MODIFIED = re.compile(r"^modified:\s*['\"]?(\d{4}-\d{2}-\d{2})", re.MULTILINE)
_SNAPSHOT_DATE = re.compile(r"dated (\d{4}-\d{2}-\d{2})")


class AdvisoryDbMissing(LookupError):
    pass


@dataclass(frozen=True)
class Advisory:
    id: str
    package: str
    """Canonical package name."""
    summary: str
    aliases: tuple[str, ...]
    ranges: tuple[tuple[tuple[str, str], ...], ...]
    """ECOSYSTEM ranges, each a tuple of (event kind, version) in file order."""
    versions: frozenset[str]
    fixed: tuple[str, ...]
    file: Path

    def affects(self, version: str) -> bool:
        try:
            current = Version(version)
        except InvalidVersion:
            return version in self.versions
        if any(_same(current, listed) for listed in self.versions):
            return True
        return any(_in_range(current, events) for events in self.ranges)


def _same(current: Version, listed: str) -> bool:
    try:
        return current == Version(listed)
    except InvalidVersion:
        return False


def _in_range(current: Version, events: tuple[tuple[str, str], ...]) -> bool:
    parsed: list[tuple[Version, int, str]] = []
    for order, (kind, raw) in enumerate(events):
        if kind == "limit":
            continue
        try:
            parsed.append((Version("0") if raw == "0" else Version(raw), order, kind))
        except InvalidVersion:
            continue
    affected = False
    for at, _, kind in sorted(parsed):
        if kind == "introduced" and current >= at:
            affected = True
        elif (kind == "fixed" and current >= at) or (kind == "last_affected" and current > at):
            affected = False
    return affected


@dataclass
class AdvisoryDatabase:
    root: Path
    dated: date | None
    """The newest modification recorded in the data; None when it says nothing."""
    files: int
    snapshot_note: str = ""
    _by_package: dict[str, list[Path]] = field(default_factory=dict)
    _parsed: dict[str, list[Advisory]] = field(default_factory=dict)

    @classmethod
    def open(cls, root: Path) -> AdvisoryDatabase:
        if not root.is_dir():
            raise AdvisoryDbMissing(f"the advisory database {root} does not exist")
        vulns = root / "vulns" if (root / "vulns").is_dir() else root
        by_package: dict[str, list[Path]] = {}
        newest: date | None = None
        count = 0
        for path in sorted(vulns.rglob("*.y*ml")):
            count += 1
            by_package.setdefault(canonicalize_name(path.parent.name), []).append(path)
            for found in _MODIFIED.findall(path.read_text(encoding="utf-8", errors="replace")):
                day = date.fromisoformat(found)
                newest = day if newest is None or day > newest else newest
        if count == 0:
            raise AdvisoryDbMissing(f"{root} holds no advisory (no vulns/<package>/*.yaml)")
        note = ""
        snapshot = root / "SNAPSHOT.txt"
        if snapshot.is_file():
            text = snapshot.read_text(encoding="utf-8", errors="replace")
            note = " ".join(text.split())[:300]
            if newest is None and (m := _SNAPSHOT_DATE.search(text)):
                newest = date.fromisoformat(m.group(1))
        return cls(root=root, dated=newest, files=count, snapshot_note=note,
                   _by_package=by_package)

    def age_days(self, today: date) -> int | None:
        return None if self.dated is None else (today - self.dated).days

    def advisories(self, package: str) -> list[Advisory]:
        name = canonicalize_name(package)
        if name not in self._parsed:
            self._parsed[name] = [a for path in self._by_package.get(name, [])
                                  for a in _parse(path) if a.package == name]
        return self._parsed[name]

    def matches(self, package: str, version: str) -> list[Advisory]:
        return [a for a in self.advisories(package) if a.affects(version)]


def _parse(path: Path) -> list[Advisory]:
    data: Any = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506 - a safe loader
    if not isinstance(data, dict) or data.get("withdrawn"):
        return []
    summary = str(data.get("summary") or data.get("details") or "").strip()
    first = " ".join(summary.split())
    found: list[Advisory] = []
    for affected in data.get("affected") or []:
        package = (affected.get("package") or {})
        if str(package.get("ecosystem", "PyPI")) != "PyPI" or not package.get("name"):
            continue
        ranges = tuple(
            tuple((kind, str(value)) for event in r.get("events") or []
                  for kind, value in event.items())
            for r in affected.get("ranges") or [] if r.get("type") == "ECOSYSTEM")
        found.append(Advisory(
            id=str(data.get("id", path.stem)), package=canonicalize_name(str(package["name"])),
            summary=first[:300], aliases=tuple(str(a) for a in data.get("aliases") or []),
            ranges=ranges, versions=frozenset(str(v) for v in affected.get("versions") or []),
            fixed=tuple(v for r in ranges for kind, v in r if kind == "fixed"), file=path))
    return found

