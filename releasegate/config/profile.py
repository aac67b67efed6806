"""The profile: one TOML file describing the stack under test and the thresholds it must meet.

Loading validates everything up front — file, key, what is wrong, what would be right — so a
broken profile costs a second, not a half-started stack.
"""

from __future__ import annotations

import difflib
import sys
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from releasegate.config.flows import E2ESpec, parse_e2e
from releasegate.config.overrides import apply_overrides
from releasegate.config.reader import Table
from releasegate.config.recipes import (
    DEFAULT_REQUEST_ID_HEADER,
    AlertSettings,
    CommandSpec,
    LoginRecipe,
    LogSettings,
    parse_alerts,
    parse_commands,
    parse_login,
    parse_logs,
)
from releasegate.config.sections import PARSERS as SECTION_PARSERS
from releasegate.criteria import catalog
from releasegate.criteria.options import defaults as option_defaults
from releasegate.criteria.options import specs as option_specs
from releasegate.criteria.thresholds import SEVERITIES, Exclusion, Threshold, Waiver
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
    request_id_header: str = DEFAULT_REQUEST_ID_HEADER
    logs: LogSettings = field(default_factory=LogSettings)


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
class ExternalTarget:
    base_url: str
    dsn: str | None = None
    app_container: str | None = None
    db_container: str | None = None
    app_db_host: str | None = None
    """host:port of the database as the application reaches it (for commands run in the app)."""
    allow_disruption: bool = False
    """Whether the suites may stop or restart this environment's containers (never by default:
    someone else's environment is not the harness's to break)."""


@dataclass(frozen=True)
class Profile:
    path: Path
    name: str
    description: str
    provider: str
    health_timeout_s: float
    prepare: tuple[str, ...]
    """[commands] run in the app container once it is healthy, before any suite: the
    environment's reference data, say, so that no suite's order decides what data exists."""
    app: AppService
    db: PostgresService | None
    secrets: dict[str, SecretSpec]
    login: LoginRecipe | None
    commands: dict[str, CommandSpec]
    probes: dict[str, dict[str, Any]]
    e2e: E2ESpec
    thresholds: dict[str, Threshold]
    """Every required criterion: the documented catalogue minus valid exclusions."""
    external: ExternalTarget | None
    exclusions: dict[str, Exclusion] = field(default_factory=dict)
    """``[exclude."ID"]`` entries, valid or expired (an expired one is required again)."""
    sections: dict[str, Any] = field(default_factory=dict)
    """Suite-owned sections, parsed (releasegate/config/sections)."""
    raw: dict[str, Any] = field(repr=False, default_factory=dict)
    alerts: AlertSettings = field(default_factory=AlertSettings)

    def section(self, name: str) -> Any:
        """A suite's settings: the profile's table, or the documented defaults."""
        return self.sections[name]

    def option(self, criterion_id: str, name: str) -> Any:
        """A criterion's option in force (the documented default when not required)."""
        threshold = self.thresholds.get(criterion_id) or Threshold.documented(
            catalog.get(criterion_id))
        return threshold.option(name)

    def disruption_refusal(self) -> str:
        """Why no suite may stop or restart a container of this environment ("" if one may)."""
        if self.provider != "external" or (self.external and self.external.allow_disruption):
            return ""
        return ("the environment is external and its profile does not allow disruptive tests "
                "there ([external] allow_disruption = true would)")


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
    data, typed = apply_overrides(data, list(overrides), file=file)
    return parse_profile(data, file=file, today=today or date.today(), overridden=typed)


def parse_profile(data: dict[str, Any], *, file: Path, today: date,
                  overridden: dict[str, str] | None = None) -> Profile:
    root = Table(data, file=file, overridden=overridden)
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
    prepare = tuple(stack.str_list("prepare", []))
    stack.finish()

    secrets = _secrets(root.tables("secrets"))
    services = root.tables("services")
    app, db = _services(services, file=file, base=file.parent)
    login = parse_login(root.table("login"))
    commands = parse_commands(root.table("commands"))
    if unknown := [name for name in prepare if name not in commands]:
        raise ConfigError(f"{file}: stack.prepare: {unknown} are not in [commands]",
                          hint="name commands of the [commands] table")
    probes = _probes(root.tables("probes"))
    e2e = parse_e2e(root.table("e2e"), has_login=login is not None)
    alerts = parse_alerts(root.table("alerts"))
    external = _external(root.table("external"))
    sections = {name: parse(root.table(name) or Table({}, file=file, where=name))
                for name, parse in SECTION_PARSERS.items()}
    exclusions = _exclusions(root.tables("exclude"))
    thresholds = _thresholds(root.tables("thresholds"), exclusions, today=today)
    root.finish()

    if provider == "external" and external is None:
        raise ConfigError(
            f"{file}: stack.provider is 'external' but there is no [external] table",
            hint="add [external] base_url = ... or pass --external URL",
        )
    return Profile(
        path=file, name=name, description=description, provider=provider,
        health_timeout_s=health_timeout, prepare=prepare, app=app, db=db, secrets=secrets,
        login=login,
        commands=commands, probes=probes, e2e=e2e, thresholds=thresholds, external=external,
        exclusions=exclusions, sections=sections, raw=data, alerts=alerts,
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
    log_file = t.text("log_file", None)
    header = t.text("request_id_header", DEFAULT_REQUEST_ID_HEADER)
    if not header.strip():
        raise t.error("request_id_header", "must not be empty")
    return AppService(
        name=name, build=build, image=image, port=port, health_path=paths["health_path"],
        liveness_path=paths["liveness_path"] or paths["health_path"],
        openapi_path=paths["openapi_path"], env=t.str_map("env"), restart_policy=policy,
        on_unhealthy=on_unhealthy, log_file=log_file, request_id_header=header,
        logs=parse_logs(t.table("logs"), log_file=log_file, where=t),
    )


def _postgres(name: str, t: Table) -> PostgresService:
    return PostgresService(
        name=name, version=t.integer("version"), user=t.text("user", "postgres"),
        database=t.text("database", "postgres"), password=t.text("password"),
        tls=t.flag("tls", True), image=t.text("image", None),
    )


PROBES = {
    "server_error": "an authenticated request that makes the application fail with a 5xx",
}


def _probes(tables: dict[str, Table]) -> dict[str, dict[str, Any]]:
    """Ways to provoke behaviour on purpose; a misspelt probe must not silently drop a check."""
    out: dict[str, dict[str, Any]] = {}
    for name, t in tables.items():
        if name not in PROBES:
            guess = difflib.get_close_matches(name, sorted(PROBES), n=1)
            raise t.error("", f"unknown probe {name!r}",
                          (f"did you mean {guess[0]!r}? " if guess else "")
                          + f"known probes: {', '.join(sorted(PROBES))}")
        path = t.text("path")
        if not path.startswith("/"):
            raise t.error("path", f"{path!r} must start with '/'")
        out[name] = {"method": t.choice("method", ("GET", "POST", "PUT", "PATCH", "DELETE"),
                                        "POST"), "path": path}
        t.finish()
    return out


def _external(t: Table | None) -> ExternalTarget | None:
    if t is None:
        return None
    target = ExternalTarget(
        base_url=t.text("base_url").rstrip("/"), dsn=t.text("dsn", None),
        app_container=t.text("app_container", None), db_container=t.text("db_container", None),
        app_db_host=t.text("app_db_host", None),
        allow_disruption=t.flag("allow_disruption", False),
    )
    t.finish()
    if not target.base_url.startswith(("http://", "https://")):
        raise t.error("base_url", f"{target.base_url!r} is not an http(s) URL")
    return target


def _thresholds(
    tables: dict[str, Table], excluded: dict[str, Exclusion], *, today: date
) -> dict[str, Threshold]:
    """Every documented criterion, tuned by ``[thresholds."ID"]``, minus the valid exclusions."""
    for cid, t in tables.items():
        _known_id(cid, t)
        if cid in excluded:
            raise t.error("", f"{cid} is both tuned here and excluded in [exclude.{cid!r}]",
                          "keep one: a criterion is either required or excluded")
    out: dict[str, Threshold] = {}
    for criterion in catalog.CRITERIA:
        exclusion = excluded.get(criterion.id)
        if exclusion is not None and exclusion.is_valid(today):
            continue
        tuned = tables.get(criterion.id)
        out[criterion.id] = (_threshold(criterion, tuned, today) if tuned is not None
                             else Threshold.documented(criterion))
    return out


def _known_id(cid: str, t: Table) -> None:
    if cid not in catalog.BY_ID:
        guess = catalog.closest(cid)
        raise t.error("", f"unknown criterion ID {cid!r}",
                      f"did you mean {guess!r}?" if guess else
                      "use an ID from shared/acceptance-criteria.md")


def _threshold(criterion: catalog.Criterion, t: Table, today: date) -> Threshold:
    limit = t.number("limit", float(criterion.limit))
    severity = t.choice("severity", SEVERITIES, criterion.severity)
    min_samples = t.integer("min_samples", criterion.min_samples)
    given = t.table("options") or Table({}, file=t.file, where=t.key_path("options"))
    options = _options(criterion.id, given)
    waiver = _waiver(t.table("waiver"))
    t.finish()
    threshold = Threshold(criterion, limit, severity, min_samples, waiver, options)
    loosenings = threshold.loosenings
    if loosenings and waiver is None:
        raise t.error(
            "limit" if "limit" in t.data else "",
            f"looser than documented ({'; '.join(loosenings)})",
            "tighten it, or add waiver = { reason = \"...\", expires = YYYY-MM-DD }",
        )
    if waiver is not None and not loosenings:
        raise t.error(
            "waiver", "a waiver with nothing to loosen: the limit, min_samples, severity and "
            "options are all as documented or stricter",
            "a waiver covers only the limit it loosens: loosen that limit, or remove the waiver",
        )
    if waiver is not None and not waiver.is_valid(today):
        # The waiver no longer holds: the suites measure under the documented options again.
        documented = option_defaults(criterion.id)
        known = option_specs(criterion.id)
        reverted = {k: (documented[k] if known[k].loosens(v) else v) for k, v in options.items()}
        threshold = Threshold(criterion, limit, severity, min_samples, waiver, reverted)
    return threshold


def _options(cid: str, t: Table) -> dict[str, Any]:
    known = option_specs(cid)
    values = option_defaults(cid)
    for key in list(t.data):
        if key not in known:
            guess = difflib.get_close_matches(key, sorted(known), n=1)
            raise t.error(key, f"{cid} has no option {key!r}",
                          (f"did you mean {guess[0]!r}? " if guess else "")
                          + (f"its options: {', '.join(sorted(known))}" if known
                             else "this criterion takes no options"))
        value, problem = known[key].check(t.data[key])
        if problem:
            raise t.error(key, problem, known[key].help)
        values[key] = value
    t._taken.update(t.data)
    return values


def _exclusions(tables: dict[str, Table]) -> dict[str, Exclusion]:
    out: dict[str, Exclusion] = {}
    for cid, t in tables.items():
        _known_id(cid, t)
        reason = t.text("reason")
        expires = t.typed("expires", date, None)
        approved_by = t.text("approved_by", "")
        t.finish()
        if len(reason.strip()) < 10:
            raise t.error("reason", "an exclusion needs a real reason (at least 10 characters)",
                          "say why this release need not meet the criterion")
        out[cid] = Exclusion(cid, reason.strip(), expires, approved_by)
    return out


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
