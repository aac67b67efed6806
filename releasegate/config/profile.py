"""The profile: one TOML file describing the stack under test and the thresholds it must meet.

Loading validates everything up front — file, key, what is wrong, what would be right — so a
broken profile costs a second, not a half-started stack.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from releasegate.config.overrides import apply_overrides
from releasegate.config.reader import Table
from releasegate.criteria import catalog
from releasegate.criteria.thresholds import SEVERITIES, Threshold, Waiver
from releasegate.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 by tox
    import tomli as tomllib

PROVIDERS = ("containers", "external")
RESTART_ON_UNHEALTHY = ("restart", "none")


@dataclass(frozen=True)
class BuildSpec:
    context: Path
    dockerfile: str
    args: dict[str, str]
    python: str | None
    """Python version whose base image is provisioned and passed as the BASE_IMAGE build arg."""
    ca_bundle: str | None
    """Where, inside a copy of the context, the host's CA bundle is placed for the build stage."""


@dataclass(frozen=True)
class AppService:
    name: str
    build: BuildSpec | None
    image: str | None
    port: int
    health_path: str
    liveness_path: str
    openapi_path: str
    env: dict[str, str]
    restart_policy: str
    on_unhealthy: str
    log_file: str | None


@dataclass(frozen=True)
class PostgresService:
    name: str
    version: int
    user: str
    database: str
    password: str
    tls: bool
    image: str | None


@dataclass(frozen=True)
class SecretSpec:
    name: str
    generate: int | None
    env: str | None


@dataclass(frozen=True)
class LoginRecipe:
    method: str
    path: str
    body: dict[str, Any]
    token_field: str


@dataclass(frozen=True)
class ExternalTarget:
    base_url: str
    dsn: str | None = None
    app_container: str | None = None
    db_container: str | None = None
    app_db_host: str | None = None
    """host:port of the database as the application reaches it (for commands run in the app)."""


@dataclass(frozen=True)
class Profile:
    path: Path
    name: str
    description: str
    provider: str
    health_timeout_s: float
    app: AppService
    db: PostgresService | None
    secrets: dict[str, SecretSpec]
    login: LoginRecipe | None
    commands: dict[str, list[str]]
    probes: dict[str, dict[str, Any]]
    e2e: dict[str, Any]
    thresholds: dict[str, Threshold]
    external: ExternalTarget | None
    raw: dict[str, Any] = field(repr=False, default_factory=dict)


def load_profile(
    path: str | Path, *, overrides: list[str] = (), today: date | None = None  # type: ignore[assignment]
) -> Profile:
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"{file}: profile not found", hint="pass --profile with an existing file")
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}", hint="fix the syntax") from None
    data = apply_overrides(data, list(overrides), file=file)
    return parse_profile(data, file=file, today=today or date.today())


def parse_profile(data: dict[str, Any], *, file: Path, today: date) -> Profile:
    root = Table(data, file=file)
    meta = root.table("profile", required=True)
    assert meta is not None
    name = meta.text("name")
    description = meta.text("description", "")
    meta.finish()

    stack = root.table("stack") or Table({}, file=file, where="stack")
    provider = stack.choice("provider", PROVIDERS, "containers")
    health_timeout = stack.number("health_timeout_s", 90.0)
    if health_timeout <= 0:
        raise stack.error("health_timeout_s", "must be positive")
    stack.finish()

    secrets = _secrets(root.tables("secrets"))
    services = root.tables("services")
    app, db = _services(services, file=file, base=file.parent)
    login = _login(root.table("login"))
    commands = _commands(root.table("commands"))
    probes = {k: dict(t.data) for k, t in root.tables("probes").items()}
    for t in root.tables("probes").values():
        t._taken.update(t.data)
    e2e_table = root.table("e2e")
    e2e = dict(e2e_table.data) if e2e_table else {}
    external = _external(root.table("external"))
    thresholds = _thresholds(root.tables("thresholds"), file=file, today=today)
    root.finish()

    if provider == "external" and external is None:
        raise ConfigError(
            f"{file}: stack.provider is 'external' but there is no [external] table",
            hint="add [external] base_url = ... or pass --external URL",
        )
    return Profile(
        path=file, name=name, description=description, provider=provider,
        health_timeout_s=health_timeout, app=app, db=db, secrets=secrets, login=login,
        commands=commands, probes=probes, e2e=e2e, thresholds=thresholds, external=external,
        raw=data,
    )


def _secrets(tables: dict[str, Table]) -> dict[str, SecretSpec]:
    out: dict[str, SecretSpec] = {}
    for name, t in tables.items():
        generate = t.integer("generate", None)
        env = t.text("env", None)
        t.finish()
        if (generate is None) == (env is None):
            raise t.error("generate", "give exactly one of generate = <length> or env = <VAR>")
        if generate is not None and generate < 16:
            raise t.error("generate", f"{generate} is too short", "use at least 16 characters")
        out[name] = SecretSpec(name, generate, env)
    return out


def _services(
    tables: dict[str, Table], *, file: Path, base: Path
) -> tuple[AppService, PostgresService | None]:
    apps: list[AppService] = []
    dbs: list[PostgresService] = []
    for name, t in tables.items():
        kind = t.choice("kind", ("app", "postgres"))
        if kind == "app":
            apps.append(_app(name, t, base))
        else:
            dbs.append(_postgres(name, t))
        t.finish()
    if len(apps) != 1:
        raise ConfigError(
            f"{file}: services: found {len(apps)} services of kind 'app'",
            hint="describe exactly one application service",
        )
    if len(dbs) > 1:
        raise ConfigError(f"{file}: services: more than one postgres service",
                          hint="one database per profile")
    return apps[0], (dbs[0] if dbs else None)


def _app(name: str, t: Table, base: Path) -> AppService:
    build_table = t.table("build")
    image = t.text("image", None)
    if (build_table is None) == (image is None):
        raise t.error("build", "give exactly one of [build] or image = ...")
    build = None
    if build_table is not None:
        context = (base / build_table.text("context")).resolve()
        dockerfile = build_table.text("dockerfile", "Dockerfile")
        build = BuildSpec(
            context=context, dockerfile=dockerfile, args=build_table.str_map("args"),
            python=build_table.text("python", None), ca_bundle=build_table.text("ca_bundle", None),
        )
        build_table.finish()
        if not (context / dockerfile).is_file():
            raise build_table.error(
                "dockerfile", f"{context / dockerfile} does not exist",
                "point build.context at the folder holding the Dockerfile",
            )
    port = t.integer("port")
    if not 0 < port < 65536:
        raise t.error("port", f"{port} is not a TCP port")
    restart = t.table("restart") or Table({}, file=t.file, where=t.key_path("restart"))
    policy = restart.choice("policy", ("no", "on-failure", "always", "unless-stopped"),
                            "unless-stopped")
    on_unhealthy = restart.choice("on_unhealthy", RESTART_ON_UNHEALTHY, "restart")
    restart.finish()
    paths = {k: t.text(k, d) for k, d in (
        ("health_path", "/health"), ("liveness_path", None), ("openapi_path", "/openapi.json"))}
    for key, value in paths.items():
        if value is not None and not value.startswith("/"):
            raise t.error(key, f"{value!r} must start with '/'")
    return AppService(
        name=name, build=build, image=image, port=port, health_path=paths["health_path"],
        liveness_path=paths["liveness_path"] or paths["health_path"],
        openapi_path=paths["openapi_path"], env=t.str_map("env"), restart_policy=policy,
        on_unhealthy=on_unhealthy, log_file=t.text("log_file", None),
    )


def _postgres(name: str, t: Table) -> PostgresService:
    return PostgresService(
        name=name, version=t.integer("version"), user=t.text("user", "postgres"),
        database=t.text("database", "postgres"), password=t.text("password"),
        tls=t.flag("tls", True), image=t.text("image", None),
    )


def _login(t: Table | None) -> LoginRecipe | None:
    if t is None:
        return None
    recipe = LoginRecipe(
        method=t.choice("method", ("POST", "GET"), "POST"), path=t.text("path"),
        body=dict(t.typed("body", dict, {})), token_field=t.text("token_field", "access_token"),
    )
    t.finish()
    return recipe


def _commands(t: Table | None) -> dict[str, list[str]]:
    if t is None:
        return {}
    out = {key: t.str_list(key) for key in list(t.data)}
    for key, argv in out.items():
        if not argv:
            raise t.error(key, "empty command")
    return out


def _external(t: Table | None) -> ExternalTarget | None:
    if t is None:
        return None
    target = ExternalTarget(
        base_url=t.text("base_url").rstrip("/"), dsn=t.text("dsn", None),
        app_container=t.text("app_container", None), db_container=t.text("db_container", None),
        app_db_host=t.text("app_db_host", None),
    )
    t.finish()
    if not target.base_url.startswith(("http://", "https://")):
        raise t.error("base_url", f"{target.base_url!r} is not an http(s) URL")
    return target


def _thresholds(tables: dict[str, Table], *, file: Path, today: date) -> dict[str, Threshold]:
    out: dict[str, Threshold] = {}
    for cid, t in tables.items():
        if cid not in catalog.BY_ID:
            guess = catalog.closest(cid)
            raise t.error("", f"unknown criterion ID {cid!r}",
                          f"did you mean {guess!r}?" if guess else
                          "use an ID from shared/acceptance-criteria.md")
        criterion = catalog.BY_ID[cid]
        limit = t.number("limit", float(criterion.limit))
        severity = t.choice("severity", SEVERITIES, criterion.severity)
        min_samples = t.integer("min_samples", criterion.min_samples)
        options = dict(t.typed("options", dict, {}))
        waiver = _waiver(t.table("waiver"))
        t.finish()
        threshold = Threshold(criterion, limit, severity, min_samples, waiver, options)
        if threshold.loosened and waiver is None:
            raise t.error(
                "limit", f"looser than documented ({_describe(threshold)})",
                "tighten it, or add waiver = { reason = \"...\", expires = YYYY-MM-DD }",
            )
        out[cid] = threshold
    if not out:
        raise ConfigError(f"{file}: no [thresholds]",
                          hint="list the criteria this release must meet")
    return out


def _describe(t: Threshold) -> str:
    c = t.criterion
    parts = []
    if c.comparator.is_looser(t.limit, c.limit):
        parts.append(f"limit {t.limit:g} vs documented {c.comparator.value} {c.limit:g} {c.unit}")
    if t.min_samples < c.min_samples:
        parts.append(f"min_samples {t.min_samples} vs documented {c.min_samples}")
    if not t.blocking and c.severity in ("blocker", "critical"):
        parts.append(f"severity {t.severity} would stop it blocking the release")
    return "; ".join(parts)


def _waiver(t: Table | None) -> Waiver | None:
    if t is None:
        return None
    reason = t.text("reason")
    expires = t.typed("expires", date)
    approved_by = t.text("approved_by", "")
    t.finish()
    if len(reason.strip()) < 10:
        raise t.error("reason", "a waiver needs a real reason (at least 10 characters)")
    return Waiver(reason, expires, approved_by)
