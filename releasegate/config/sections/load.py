"""``[load]``: the load, stress and soak suites' settings — the scenario, the normal load, the
durations per ``--durations`` mode, and how the generator judges itself.

    [load]
    scenario = "rento"            # generic (the endpoints below), a module of loadtests/, or
                                  # package.module
    seed_command = "seed"         # a [commands] entry that loads the reference data volume
    rate = 20                     # normal load: requests per second (open model)
    duration_s = { ci = 60, release = 900 }
    [[load.endpoints]]            # the generic scenario (see loadtests/generic.py)
    [load.params.NAME]            # pools of ids for path parameters
    [load.stress] [load.soak] [load.errors] [load.concurrency]

Every number has a documented default; unknown keys are errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from releasegate.config.reader import Durations, Table, read_durations
from releasegate.criteria import catalog
from releasegate.errors import ConfigError
from releasegate.loadgen.plan import ServerTiming
from releasegate.loadgen.scenario import endpoint_from
from releasegate.loadgen.scenarios import scenario_endpoints
from releasegate.loadgen.selfwatch import Limits


@dataclass(frozen=True)
class StressSettings:
    start_rate: float = 10.0
    step_rate: float = 10.0
    max_steps: int = 10
    step_s: Durations = Durations(12, 60)
    error_rate_pct: float = 1.0
    """A step whose 5xx-or-no-answer share exceeds this has broken the error limit."""


@dataclass(frozen=True)
class SoakSettings:
    rate: float | None = None
    """Requests/s of the soak; None: the normal load's rate."""
    duration_s: Durations = Durations(120, 3600)
    window_s: Durations = Durations(30, 300)
    """First and last window compared for drift."""
    probe_path: str | None = None
    """Probed every second for REL-AVAILABILITY; None: the app's health_path."""
    probe_timeout_s: float = 2.0
    """A probe not answered 200 within this is a second of unavailability."""


@dataclass(frozen=True)
class ErrorStormSettings:
    rate: float = 40.0
    duration_s: Durations = Durations(30, 300)
    warmup_s: Durations = Durations(8, 60)
    endpoints: tuple[dict[str, Any], ...] = ()
    """Requests that end in a handled error; empty: an unknown route and a refused login."""


@dataclass(frozen=True)
class ConcurrencySettings:
    think_s: float = 20.0
    """Each client's pause between requests: the clients are held, not hammering."""
    hold_s: Durations = Durations(20, 120)
    spawn_rate: float = 500.0
    path: str | None = None
    """What each client requests; None: the app's liveness path (else its health path)."""


@dataclass(frozen=True)
class LoadSettings:
    scenario: str = "generic"
    scenario_config: dict[str, Any] = field(default_factory=dict)
    seed_command: str = ""
    rate: float = 20.0
    pool_per_worker: int = 0
    """Clients per worker; 0: enough for the rate with 5 s answers."""
    timeout_s: float = 10.0
    warmup_s: Durations = Durations(5, 60)
    duration_s: Durations = Durations(60, 900)
    window_s: float = 10.0
    abort_after_s: float = 20.0
    abort_factor: float = 3.0
    server_timing: ServerTiming = field(default_factory=ServerTiming)
    generator: Limits = field(default_factory=Limits)
    master_bind: str = "127.0.0.1"
    master_port: int = 0
    remote_workers: int = 0
    stress: StressSettings = field(default_factory=StressSettings)
    soak: SoakSettings = field(default_factory=SoakSettings)
    errors: ErrorStormSettings = field(default_factory=ErrorStormSettings)
    concurrency: ConcurrencySettings = field(default_factory=ConcurrencySettings)


def _positive(t: Table, key: str, default: float) -> float:
    value = float(t.number(key, default))
    if value <= 0:
        raise t.error(key, f"{value:g} is not above 0", "use a positive number")
    return value


def _sub(t: Table, key: str) -> Table:
    return t.table(key) or Table({}, file=t.file, where=t.key_path(key))


def _stress(t: Table) -> StressSettings:
    d = StressSettings()
    s = StressSettings(start_rate=_positive(t, "start_rate", d.start_rate),
                       step_rate=_positive(t, "step_rate", d.step_rate),
                       max_steps=int(t.integer("max_steps", d.max_steps)),
                       step_s=read_durations(t, "step_s", d.step_s),
                       error_rate_pct=_positive(t, "error_rate_pct", d.error_rate_pct))
    t.finish()
    if s.max_steps < 2:
        raise t.error("max_steps", "a stress run needs at least 2 steps to find a limit")
    return s


def _soak(t: Table) -> SoakSettings:
    d = SoakSettings()
    rate = t.number("rate", None)
    s = SoakSettings(rate=None if rate is None else _positive(t, "rate", rate),
                     duration_s=read_durations(t, "duration_s", d.duration_s),
                     window_s=read_durations(t, "window_s", d.window_s),
                     probe_path=t.text("probe_path", None),
                     probe_timeout_s=_positive(t, "probe_timeout_s", d.probe_timeout_s))
    t.finish()
    for mode in ("ci", "release"):
        if 3 * s.window_s.of(mode) > s.duration_s.of(mode):
            raise t.error("window_s", f"{mode}: the first and last windows "
                          f"({s.window_s.of(mode):g} s) need a soak of at least three of them")
    return s


def _errors(t: Table) -> ErrorStormSettings:
    d = ErrorStormSettings()
    endpoints = t.typed("endpoints", list, [])
    s = ErrorStormSettings(rate=_positive(t, "rate", d.rate),
                           duration_s=read_durations(t, "duration_s", d.duration_s),
                           warmup_s=read_durations(t, "warmup_s", d.warmup_s),
                           endpoints=tuple(_endpoint_tables(t, "endpoints", endpoints)))
    t.finish()
    return s


def _concurrency(t: Table) -> ConcurrencySettings:
    d = ConcurrencySettings()
    s = ConcurrencySettings(think_s=_positive(t, "think_s", d.think_s),
                            hold_s=read_durations(t, "hold_s", d.hold_s),
                            spawn_rate=_positive(t, "spawn_rate", d.spawn_rate),
                            path=t.text("path", None))
    t.finish()
    return s


def _endpoint_tables(t: Table, key: str, items: list[Any]) -> list[dict[str, Any]]:
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise t.error(f"{key}[{i}]", "expected a table with method, path, weight")
        try:
            endpoint_from(item, t.key_path(f"{key}[{i}]"))
        except ConfigError as exc:
            raise ConfigError(f"{t.file}: {exc.message}", hint=exc.hint) from None
        out.append(dict(item))
    return out


def _generator(t: Table) -> Limits:
    d = Limits()
    limits = Limits(cpu_percent=_positive(t, "cpu_percent", d.cpu_percent),
                    lag_p99_ms=_positive(t, "lag_p99_ms", d.lag_p99_ms),
                    others_cpu_share=_positive(t, "others_cpu_share", d.others_cpu_share))
    t.finish()
    if limits.cpu_percent > 100:
        raise t.error("cpu_percent", "a share of one core is at most 100")
    return limits


def parse(t: Table) -> LoadSettings:
    d = LoadSettings()
    endpoints = _endpoint_tables(t, "endpoints", t.typed("endpoints", list, []))
    params = t.typed("params", dict, {})
    for name, param in params.items():
        inner = Table(param if isinstance(param, dict) else {}, file=t.file,
                      where=t.key_path(f"params.{name}"))
        inner.text("from")
        inner.text("pick", "items[*].id")
        inner.flag("consume", False)
        if int(inner.integer("pages", 1)) < 1:
            raise inner.error("pages", "at least 1 page")
        inner.finish()
    timing = _sub(t, "server_timing")
    server_timing = ServerTiming(header=timing.text("header", "Server-Timing"),
                                 metric=timing.text("metric", "app"))
    timing.finish()
    settings = LoadSettings(
        scenario=t.text("scenario", d.scenario),
        scenario_config={"endpoints": endpoints, "params": params},
        seed_command=t.text("seed_command", d.seed_command),
        rate=_positive(t, "rate", d.rate),
        pool_per_worker=int(t.integer("pool_per_worker", d.pool_per_worker)),
        timeout_s=_positive(t, "timeout_s", d.timeout_s),
        warmup_s=read_durations(t, "warmup_s", d.warmup_s),
        duration_s=read_durations(t, "duration_s", d.duration_s),
        window_s=_positive(t, "window_s", d.window_s),
        abort_after_s=_positive(t, "abort_after_s", d.abort_after_s),
        abort_factor=_positive(t, "abort_factor", d.abort_factor),
        server_timing=server_timing, generator=_generator(_sub(t, "generator")),
        master_bind=t.text("master_bind", d.master_bind),
        master_port=int(t.integer("master_port", d.master_port)),
        remote_workers=int(t.integer("remote_workers", d.remote_workers)),
        stress=_stress(_sub(t, "stress")), soak=_soak(_sub(t, "soak")),
        errors=_errors(_sub(t, "errors")), concurrency=_concurrency(_sub(t, "concurrency")),
    )
    t.finish()
    for mode in ("ci", "release"):
        if settings.warmup_s.of(mode) >= settings.duration_s.of(mode):
            raise t.error("warmup_s", f"{mode}: the warm-up is not shorter than the run")
    _enough_samples(t, settings)
    return settings


def _enough_samples(t: Table, s: LoadSettings) -> None:
    """Refuse durations that cannot give an endpoint PERF-API-P95's documented minimum of
    samples: such a run would end insufficient after minutes, for a reason known now."""
    try:
        endpoints = scenario_endpoints(s.scenario, s.scenario_config)
    except ConfigError as exc:
        raise ConfigError(f"{t.file}: load.scenario: {exc.message}", hint=exc.hint) from None
    if not endpoints:
        return
    need = catalog.get("PERF-API-P95").min_samples
    total = sum(e.weight for e in endpoints)
    rarest = min(endpoints, key=lambda e: e.weight)
    for mode in ("ci", "release"):
        seconds = s.duration_s.of(mode) - s.warmup_s.of(mode)
        expected = s.rate * seconds * rarest.weight / total
        if expected < need:
            raise t.error("duration_s", f"{mode}: endpoint {rarest.name!r} would get about "
                          f"{expected:.0f} requests ({rarest.weight:g}/{total:g} of {s.rate:g}/s "
                          f"over {seconds:g} s), fewer than the {need} PERF-API-P95 needs",
                          "raise rate or duration_s, or that endpoint's weight")
