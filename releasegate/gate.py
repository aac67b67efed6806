"""One gate run on the controller: stand the stack up, and at the end judge and report.

The order is the data flow: stack → suites → measurements → verdicts → reports. Suites run in
between (pytest, possibly on xdist workers); they only ever add measurement files.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import platform
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from releasegate import __version__
from releasegate.config.profile import ExternalTarget, Profile, load_profile
from releasegate.criteria import catalog
from releasegate.criteria.engine import judge_all, stray_measurements
from releasegate.criteria.release import ReleaseDecision, decide
from releasegate.errors import EnvironmentProblem, HarnessError
from releasegate.evidence.interference import Interruption, TestWindow, interference
from releasegate.evidence.measurement import MeasurementStore
from releasegate.evidence.redact import Redactor, secret_redactor
from releasegate.stack.model import StackInfo

SCHEMA = "releasegate.summary/1"
DURATIONS = ("ci", "release")
"""How long the time-boxed suites run; what each means is in each suite's profile section."""
CLI_ENV = "RELEASEGATE_CLI"
"""Set by the ``releasegate`` command, which prints the verdict as the run's last line."""
# Each suite is a pytest marker; the plugin registers them, so strict markers hold wherever the
# suites run from (an installed wheel, a profile outside this repository), not only here.
SUITES: dict[str, str] = {
    "deploy": "deployment suite (image, container, database, migrations, health)",
    "e2e": "end-to-end suite (business flows, error handling, alerts)",
    "compat": "compatibility matrix (Python × PostgreSQL × framework × browser)",
    "security": "security suite (SAST, dependencies, authz, injection, fuzzing, hardening)",
    "load": "load suite at normal load",
    "stress": "stress suite stepping load to the system's limit",
    "soak": "long-running stability suite",
    "backup": "backup and restore suite",
    "reliability": "fault-injection and recovery suite",
}
SUITE_MARKERS = tuple(SUITES)


def say(message: str) -> None:
    """Progress for people watching: straight to the terminal, past pytest's capture."""
    stream = sys.__stderr__ or sys.stderr
    stream.write(f"[releasegate] {message}\n")
    stream.flush()


class StackHandle(Protocol):
    def start(self) -> StackInfo: ...
    def stop(self) -> None: ...
    def capture_logs(self) -> dict[str, str]: ...
    def run_facts(self) -> dict[str, str]: ...
    def interruptions(self, since: float) -> list[Interruption]: ...


@dataclass
class Collection:
    """What the suites' collection selected, merged over every collecting process."""

    criteria: list[str] = field(default_factory=list)
    items: int = 0
    deselected: int = 0
    narrowed: list[str] = field(default_factory=list)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(dataclasses.asdict(self)))

    @classmethod
    def merge(cls, folder: Path) -> Collection:
        parts = [cls(**json.loads(p.read_text())) for p in sorted(folder.glob("*.json"))]
        if not parts:
            return cls()
        # xdist workers each collect the same tests and deselect the same ones.
        return cls(criteria=sorted({c for p in parts for c in p.criteria}),
                   items=max(p.items for p in parts),
                   deselected=max(p.deselected for p in parts),
                   narrowed=sorted({n for p in parts for n in p.narrowed}))

    def partial_because(self) -> list[str]:
        why = []
        if self.deselected:
            why.append(f"{self.deselected} test(s) deselected (-k, -m, --deselect or --lf)")
        if self.narrowed:
            why.append(f"collection narrowed to {', '.join(self.narrowed)}")
        return why


@dataclass
class RunOptions:
    profile_path: Path
    overrides: list[str] = field(default_factory=list)
    reports_dir: Path = Path("reports")
    external_url: str | None = None
    dsn: str | None = None
    containers: dict[str, str] = field(default_factory=dict)
    html: bool = True
    suites: list[str] = field(default_factory=list)
    durations: str = "ci"
    baseline: Path | None = None
    """A summary.json to compare with instead of the previous run."""
    regression_share: float = 0.2

    def load_profile(self) -> Profile:
        profile = load_profile(self.profile_path, overrides=self.overrides)
        if self.external_url:
            profile = _with_external(profile, self)
        return profile


def _with_external(profile: Profile, options: RunOptions) -> Profile:
    base = profile.external or ExternalTarget(base_url="")
    target = ExternalTarget(
        base_url=(options.external_url or base.base_url).rstrip("/"),
        dsn=options.dsn or base.dsn,
        app_container=options.containers.get("app", base.app_container),
        db_container=options.containers.get("db", base.db_container),
        app_db_host=base.app_db_host, allow_disruption=base.allow_disruption,
    )
    return dataclasses.replace(profile, provider="external", external=target)


def git_revision(cwd: Path) -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=cwd, check=True,
                             capture_output=True, text=True, timeout=5)
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def application_revision(profile: Profile, info: StackInfo | None) -> str:
    """The revision of what was tested: the build context's git commit (``-dirty`` with local
    changes), or the image the profile names — never the harness's own checkout."""
    app = profile.app
    if profile.provider == "external":
        return "unknown (an external environment)"
    if app.build is not None:
        revision = git_revision(app.build.context)
        try:
            dirty = subprocess.run(
                ["git", "status", "--porcelain", "--untracked-files=no", "--", "."],
                cwd=app.build.context, check=True, capture_output=True, text=True, timeout=5,
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            dirty = ""
        return f"{revision}-dirty" if dirty and revision != "unknown" else revision
    image_id = info.startup.image_id if info is not None else ""
    return f"image {app.image} ({image_id[:19]})" if image_id else f"image {app.image}"


def check_allure_gate(reports_dir: Path, decision: ReleaseDecision) -> None:
    """Allure's own quality gate over the same results must agree with the release decision."""
    from releasegate.report.html import run_quality_gate

    ok, output = run_quality_gate(reports_dir, progress=say)
    agrees = ok == (decision.exit_code == 0)
    say(f"Allure quality gate: {'passed' if ok else 'failed'}"
        + ("" if agrees else " — disagrees with the release decision; the decision stands")
        + (f" ({output.strip().splitlines()[-1][:160]})" if output.strip() and not ok else ""))


class GateRun:
    def __init__(self, options: RunOptions, profile: Profile) -> None:
        self.options = options
        self.profile = profile
        self.run_id = uuid.uuid4().hex[:8]
        self.reports_dir = options.reports_dir
        self.run_dir = self.reports_dir / "run"
        self.store = MeasurementStore(self.run_dir / "measurements")
        self.stack_file = self.run_dir / "stack.json"
        self.started_at = dt.datetime.now(dt.timezone.utc)
        self._t0 = time.monotonic()
        self.handle: StackHandle | None = None
        self.info: StackInfo | None = None
        self.previous: dict[str, Any] | None = None
        self.timings: dict[str, float] = {}

    # -- before the suites ---------------------------------------------------------------
    def prepare(self) -> None:
        from releasegate.report.history import load_baseline, rotate_previous

        self.reports_dir.mkdir(parents=True, exist_ok=True)
        self.previous = rotate_previous(self.reports_dir)
        if self.options.baseline is not None:
            self.previous = load_baseline(self.options.baseline)
        # Nothing of an earlier run may be read as this run's evidence.
        for stale in ("summary.json", "summary.md", "junit.xml"):
            (self.reports_dir / stale).unlink(missing_ok=True)
        shutil.rmtree(self.reports_dir / "allure-results", ignore_errors=True)
        shutil.rmtree(self.run_dir, ignore_errors=True)
        self.run_dir.mkdir(parents=True)

    def start_stack(self) -> StackInfo:
        if self.profile.provider == "external":
            from releasegate.stack.external import ExternalStack

            self.handle = ExternalStack(self.profile, run_id=self.run_id, progress=say)
        else:
            from releasegate.measure.alerts import start_receiver
            from releasegate.stack.containers import ContainersStack

            self.handle = ContainersStack(self.profile, run_id=self.run_id, run_dir=self.run_dir,
                                          progress=say,
                                          alert_sink=start_receiver)
        t = time.monotonic()
        say(f"run {self.run_id}: profile {self.profile.name} ({self.profile.path}), "
            f"provider {self.profile.provider}")
        self.info = self.handle.start()
        self.timings["stack_up_s"] = round(time.monotonic() - t, 2)
        self.store.redact = self.redactor()
        self._prepare_environment(self.info)
        self.info.save(self.stack_file)
        return self.info

    def _prepare_environment(self, info: StackInfo) -> None:
        """The profile's ``[stack] prepare`` commands, once the app is healthy."""
        if not self.profile.prepare or not info.healthy:
            return
        if not info.app_container:
            say(f"not preparing the environment ({', '.join(self.profile.prepare)}): the "
                "application container is not known here")
            return
        from releasegate.measure.commands import run_profile_command
        from releasegate.stack.engine import connect_engine

        container = connect_engine(auto_install=False, progress=say).containers.get(
            info.app_container)
        for name in self.profile.prepare:
            t = time.monotonic()
            result = run_profile_command(container, self.profile, name, info.template_values())
            if not result.ok:
                raise EnvironmentProblem(f"[stack] prepare: {result.describe()}",
                                         hint="the environment could not be prepared; fix the "
                                              "command or remove it from [stack] prepare")
            self.timings[f"prepare_{name}_s"] = round(time.monotonic() - t, 2)
            say(f"prepared the environment: [commands].{name} took {time.monotonic() - t:.1f} s")

    def stop_stack(self) -> None:
        if self.handle is not None:
            say("tearing the stack down")
            t = time.monotonic()
            self.handle.stop()
            self.handle = None
            self.timings["teardown_s"] = round(time.monotonic() - t, 2)
        # It holds the run's secrets and is useless once the stack is gone.
        self.stack_file.unlink(missing_ok=True)

    # -- after the suites ----------------------------------------------------------------
    def attach_logs(self) -> None:
        if self.handle is None:
            return
        facts = self.handle.run_facts()
        if self.info is not None:
            self.info.facts.update(facts)
        restarted = {k: v for k, v in facts.items() if "restarts" in k and v not in ("", "0")}
        if restarted:
            say(f"warning: containers restarted during the run: {restarted} — measurements "
                "taken across a restart are suspect; see the attached logs")
        for role, text in self.handle.capture_logs().items():
            path = self.store.attach(f"{role}-container.log", text)
            say(f"captured {role} container log ({len(text.splitlines())} lines) → {path}")

    def observe_interruptions(self, windows: list[TestWindow]) -> None:
        """Container restarts no disruptive test caused spoil what was measured meanwhile."""
        if self.handle is None:
            return
        try:
            events = self.handle.interruptions(self.started_at.timestamp())
        except Exception as exc:  # the engine is the only witness: without it, say so
            say(f"warning: could not read container events: {type(exc).__name__}: {exc}")
            return
        spoiled = interference(events, windows)
        for part in spoiled:
            self.store.write(part)
        if spoiled:
            say(f"warning: {len({p.criterion for p in spoiled})} criterion(s) were measured "
                "while a container restarted unasked; they are errors in this run")

    def finish(
        self, *, scope: frozenset[str], suites: list[str], partial_because: list[str]
    ) -> ReleaseDecision:
        """Judge and report. A full run judges every required criterion (no suite → not_run);
        a partial one only those its selected tests declare."""
        from releasegate.report.write import write_reports

        partial = bool(partial_because)
        required = self.profile.thresholds
        out_of_scope = frozenset(required) - scope if partial else frozenset()
        measurements = self.store.read_all()
        records = judge_all(required, measurements, dt.date.today(), out_of_scope=out_of_scope)
        today = dt.date.today()
        excluded = [e for e in self.profile.exclusions.values() if e.is_valid(today)]
        decision = decide(records, partial=partial, required=len(required),
                          excluded=len(excluded), harness_errors=self.store.harness_errors())
        summary = self._summary(records, decision, out_of_scope=out_of_scope, suites=suites,
                                partial=partial, partial_because=partial_because,
                                stray=stray_measurements(required, measurements))
        written = write_reports(summary, self.reports_dir, previous=self.previous,
                                html=self.options.html, progress=say, redact=self.redactor())
        if "html" in written:
            check_allure_gate(self.reports_dir, decision)
        return decision

    def fail(self, error: HarnessError) -> None:
        from releasegate.report.write import write_error_summary

        write_error_summary(
            self.reports_dir, error, run=self._run_meta(suites=self.options.suites, partial=False),
            criteria=list(self.profile.thresholds), previous=self.previous, html=False,
            progress=say, redact=self.redactor(),
        )

    def unexpected(self, exc: Exception) -> HarnessError:
        """A bug in the harness: one line for the user, the traceback kept for the report."""
        import traceback

        path = self.run_dir / "harness-error.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(traceback.format_exception(exc)))
        return HarnessError(f"unexpected {type(exc).__name__}: {exc}",
                            hint=f"a releasegate bug; traceback in {path}")

    def redactor(self) -> Redactor:
        return secret_redactor(self.info.secrets if self.info else {})

    def _run_meta(self, *, suites: list[str], partial: bool) -> dict[str, Any]:
        finished = dt.datetime.now(dt.timezone.utc)
        env = {
            "releasegate": __version__, "python": platform.python_version(),
            "machine": f"{platform.node()} {platform.system()} {platform.machine()}",
            "git_revision": application_revision(self.profile, self.info),
            "profile": self.profile.name,
        }
        if self.info is not None:
            env.update(self.info.facts)
        return {
            "id": self.run_id, "started_at": self.started_at.isoformat(),
            "finished_at": finished.isoformat(),
            "duration_s": round(time.monotonic() - self._t0, 2),
            "profile": str(self.profile.path), "profile_name": self.profile.name,
            "provider": self.profile.provider, "suites": suites, "partial": partial,
            "durations": self.options.durations,
            "regression_share": self.options.regression_share,
            "baseline": str(self.options.baseline) if self.options.baseline else "previous run",
            "target": self.info.base_url if self.info else "", "environment": env,
            "timings": self.timings,
        }

    def _summary(self, records: list[Any], decision: ReleaseDecision, *,
                 out_of_scope: frozenset[str], suites: list[str], partial: bool,
                 partial_because: list[str], stray: list[str]) -> dict[str, Any]:
        order = {c.id: i for i, c in enumerate(catalog.CRITERIA)}
        records = sorted(records, key=lambda r: order.get(r.id, len(order)))
        today = dt.date.today()
        run = self._run_meta(suites=suites, partial=partial)
        run["partial_because"] = partial_because
        return {
            "schema": SCHEMA,
            "run": run,
            "release": decision.to_json(),
            "coverage": decision.coverage.to_json() if decision.coverage else None,
            "criteria": [r.to_json() for r in records],
            "excluded": [
                {"id": cid, "title": catalog.get(cid).title, **e.to_json()}
                for cid, e in sorted(self.profile.exclusions.items(),
                                     key=lambda kv: order.get(kv[0], 0))
                if e.is_valid(today)],
            "out_of_scope": sorted(out_of_scope, key=lambda cid: order.get(cid, 0)),
            "stray": stray,
            "harness_errors": self.store.harness_errors(),
            "error": None,
        }
