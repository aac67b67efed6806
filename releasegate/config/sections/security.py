"""``[security]``: where the application's source is, and which findings are accepted.

The sub-tables ``deps``, ``secrets``, ``pii``, ``hardening``, ``backup`` and ``db_tls`` belong
to the static, image and container checks (see ``security_checks``).

Waivers come inline (``[[security.waivers]]``) and from ``waivers_file`` (a TOML file of
``[[waiver]]`` entries, relative to the profile). Each names the rule it accepts, optionally a
location glob and a criterion, and needs a reason and an expiry date: an expired waiver counts
its finding again.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from releasegate.config.reader import Table
from releasegate.config.sections import security_checks as checks
from releasegate.errors import ConfigError
from releasegate.evidence.findings import FindingWaiver

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


@dataclass(frozen=True)
class SecuritySettings:
    source: Path | None = None
    """The application's source folder (for static analysis), resolved; None: unknown."""
    waivers: tuple[FindingWaiver, ...] = field(default_factory=tuple)
    source_exclude: tuple[str, ...] = ()
    """Paths under ``source`` that static analysis skips (bandit's ``--exclude``)."""
    deps: checks.DepsSettings = field(default_factory=checks.DepsSettings)
    secrets: checks.SecretsSettings = field(default_factory=checks.SecretsSettings)
    pii: checks.PiiSettings = field(default_factory=checks.PiiSettings)
    hardening: checks.HardeningSettings = field(default_factory=checks.HardeningSettings)
    backup: checks.BackupSettings = field(default_factory=checks.BackupSettings)
    db_tls: checks.DbTlsSettings = field(default_factory=checks.DbTlsSettings)


def parse(t: Table) -> SecuritySettings:
    base = t.file.parent
    source = t.text("source", None)
    waivers_file = t.text("waivers_file", None)
    inline = t.typed("waivers", list, [])
    source_exclude = tuple(t.str_list("source_exclude", []))
    deps = checks.parse_deps(t.table("deps"))
    secrets = checks.parse_secrets(t.table("secrets"))
    pii = checks.parse_pii(t.table("pii"))
    hardening = checks.parse_hardening(t.table("hardening"))
    backup = checks.parse_backup(t.table("backup"))
    db_tls = checks.parse_db_tls(t.table("db_tls"))
    t.finish()
    waivers = [_waiver(Table(item, file=t.file, where=f"security.waivers[{i}]"))
               for i, item in enumerate(inline) if _is_table(item, t, i)]
    if waivers_file:
        waivers += _from_file((base / waivers_file).resolve(), t)
    return SecuritySettings(source=(base / source).resolve() if source else None,
                            waivers=tuple(waivers), source_exclude=source_exclude, deps=deps,
                            secrets=secrets, pii=pii, hardening=hardening, backup=backup,
                            db_tls=db_tls)


def _is_table(item: Any, t: Table, index: int) -> bool:
    if not isinstance(item, dict):
        raise t.error(f"waivers[{index}]", "expected a table with rule, reason and expires")
    return True


def _waiver(t: Table) -> FindingWaiver:
    rule = t.text("rule")
    reason = t.text("reason")
    expires = t.typed("expires", date)
    waiver = FindingWaiver(rule=rule, reason=reason, expires=expires,
                           location=t.text("location", "*"), criterion=t.text("criterion", ""),
                           approved_by=t.text("approved_by", ""))
    t.finish()
    if len(reason.strip()) < 10:
        raise t.error("reason", "a waiver needs a real reason (at least 10 characters)")
    return waiver


def _from_file(path: Path, t: Table) -> list[FindingWaiver]:
    if not path.is_file():
        raise t.error("waivers_file", f"{path} does not exist", "point it at a TOML file")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}", hint="fix the syntax") from None
    root = Table(data, file=path)
    entries = root.typed("waiver", list, [])
    root.finish()
    return [_waiver(Table(item, file=path, where=f"waiver[{i}]"))
            for i, item in enumerate(entries) if _is_table(item, root, i)]
