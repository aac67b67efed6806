"""The sub-tables of ``[security]`` that tell the static, image and container checks about the
application: where its dependencies' advisories are, which environment variables are secrets,
where personal data is written through the API, what the image must be hardened against, and
where its backups land. Every key has a documented default; unknown keys are errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from releasegate.config.reader import Table

PII_KINDS = ("phone", "email", "id_number", "password")
"""Canary personal data the harness generates per run, as ``{pii.<kind>}`` placeholders."""
WELL_KNOWN_DEFAULTS = ("changeme", "changethis", "secret")
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
VERSION_SOURCES = ("image", "lock_file")
PIP_AUDIT_MODES = ("auto", "never")


@dataclass(frozen=True)
class DepsSettings:
    advisory_db: Path | None = None
    """An OSV advisory database (the PyPA one, or a mirror); None: ``shared/advisory-db``
    beside the harness's checkout."""
    versions_from: str = "image"
    """``image``: the distributions installed in the built image (what ships); ``lock_file``."""
    lock_file: Path | None = None
    """A requirements file of ``name==version`` pins, for ``versions_from = "lock_file"``."""
    python: str = "python3"
    """The interpreter inside the image whose installed distributions ship."""
    pip_audit: str = "auto"
    """``auto``: pip-audit --strict first, the offline matcher when its service does not
    answer; ``never``: the offline matcher only."""
    pip_audit_timeout_s: float = 20.0


@dataclass(frozen=True)
class SecretsSettings:
    required: tuple[str, ...] | None = None
    """Variables the app must refuse to start without; None: every variable of the app's
    environment whose value names a ``{secret.*}`` or ``{db.password}`` placeholder."""
    weak_defaults: tuple[str, ...] | None = None
    """Variables the app must refuse to start with a well-known default; None: ``required``."""
    default_values: tuple[str, ...] = WELL_KNOWN_DEFAULTS
    production_env: dict[str, str] = field(default_factory=dict)
    """What production mode is, on top of the profile's environment (empty: it already is)."""
    refusal_timeout_s: float = 30.0
    """How long a start may take to end on its own before it counts as not refusing."""


@dataclass(frozen=True)
class PiiRequest:
    method: str
    path: str
    body: Any = None
    auth: bool = True
    """Send it with the profile's login (True) or anonymously."""
    expect: int | None = None
    """The status the request must get for the data to count as written; None: any 2xx."""
    form: bool = False
    """Send the body form-encoded instead of as JSON."""


@dataclass(frozen=True)
class PiiSettings:
    requests: tuple[PiiRequest, ...] = ()


@dataclass(frozen=True)
class HardeningSettings:
    read_only_rootfs: bool = False
    """Require the app container's root filesystem to be read-only."""
    allowed_capabilities: tuple[str, ...] = ()
    """Capabilities the app container may add (CapAdd); anything else is a finding."""
    lint_dockerfile: bool = True
    """Run hadolint on the build's Dockerfile (errors count, warnings are listed)."""


@dataclass(frozen=True)
class BackupSettings:
    command: str = "backup"
    """The name, in ``[commands]``, of the application's own backup command."""
    directory: str | None = None
    """Where that command writes its files inside the app container; None: unknown."""


@dataclass(frozen=True)
class DbTlsSettings:
    refusal_timeout_s: float = 45.0
    """How long the app, pointed at a database without TLS, is watched before it counts as
    having failed readiness (it must never answer healthy)."""


def parse_deps(t: Table | None) -> DepsSettings:
    if t is None:
        return DepsSettings()
    base = t.file.parent
    db = t.text("advisory_db", None)
    lock = t.text("lock_file", None)
    settings = DepsSettings(
        advisory_db=(base / db).resolve() if db else None,
        versions_from=t.choice("versions_from", VERSION_SOURCES, "image"),
        lock_file=(base / lock).resolve() if lock else None,
        python=t.text("python", "python3"),
        pip_audit=t.choice("pip_audit", PIP_AUDIT_MODES, "auto"),
        pip_audit_timeout_s=_positive(t, "pip_audit_timeout_s", 20.0),
    )
    t.finish()
    if settings.versions_from == "lock_file" and settings.lock_file is None:
        raise t.error("lock_file", "versions_from = \"lock_file\" needs a lock_file",
                      "name a requirements file of name==version pins")
    return settings


def parse_secrets(t: Table | None) -> SecretsSettings:
    if t is None:
        return SecretsSettings()
    required = t.str_list("required", None)
    weak = t.str_list("weak_defaults", None)
    settings = SecretsSettings(
        required=tuple(required) if required is not None else None,
        weak_defaults=tuple(weak) if weak is not None else None,
        default_values=tuple(t.str_list("default_values", list(WELL_KNOWN_DEFAULTS))),
        production_env=t.str_map("production_env"),
        refusal_timeout_s=_positive(t, "refusal_timeout_s", 30.0),
    )
    t.finish()
    if not settings.default_values:
        raise t.error("default_values", "an empty list would test no default value",
                      "list well-known defaults such as changeme")
    return settings


def parse_pii(t: Table | None) -> PiiSettings:
    if t is None:
        return PiiSettings()
    items = t.typed("requests", list, [])
    t.finish()
    requests = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise t.error(f"requests[{i}]", "expected a table with method and path")
        r = Table(item, file=t.file, where=t.key_path(f"requests[{i}]"))
        request = PiiRequest(
            method=r.choice("method", HTTP_METHODS), path=r.text("path"),
            body=r.typed("body", (dict, list, str), None), auth=r.flag("auth", True),
            expect=r.integer("expect", None), form=r.flag("form", False))
        r.finish()
        if not request.path.startswith("/"):
            raise r.error("path", f"{request.path!r} is not a path", "start it with /")
        requests.append(request)
    return PiiSettings(requests=tuple(requests))


def parse_hardening(t: Table | None) -> HardeningSettings:
    if t is None:
        return HardeningSettings()
    settings = HardeningSettings(
        read_only_rootfs=t.flag("read_only_rootfs", False),
        allowed_capabilities=tuple(c.upper() for c in t.str_list("allowed_capabilities", [])),
        lint_dockerfile=t.flag("lint_dockerfile", True),
    )
    t.finish()
    return settings


def parse_backup(t: Table | None) -> BackupSettings:
    if t is None:
        return BackupSettings()
    settings = BackupSettings(command=t.text("command", "backup"),
                              directory=t.text("directory", None))
    t.finish()
    if settings.directory is not None and not settings.directory.startswith("/"):
        raise t.error("directory", f"{settings.directory!r} is not an absolute path",
                      "name the directory inside the container, e.g. /app/backups")
    return settings


def parse_db_tls(t: Table | None) -> DbTlsSettings:
    if t is None:
        return DbTlsSettings()
    settings = DbTlsSettings(refusal_timeout_s=_positive(t, "refusal_timeout_s", 45.0))
    t.finish()
    return settings


def _positive(t: Table, key: str, default: float) -> float:
    value = float(t.number(key, default))
    if not 0 < value <= 3600:
        raise t.error(key, f"{value:g} is out of range", "a number of seconds in (0, 3600]")
    return value
