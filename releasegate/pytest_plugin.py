"""The pytest plugin that turns the suites into a gate run.

The controller owns the stack (started once, in ``pytest_sessionstart``) and hands its endpoints
to pytest-xdist workers through a file. Tests declare the criteria they measure with
``@pytest.mark.criterion(...)``; a test that ends without recording one — skipped, crashed, or
simply silent — leaves ``insufficient`` or ``error`` behind, never a pass.
"""

from __future__ import annotations

import fcntl
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from releasegate.config.profile import Profile
from releasegate.criteria import catalog
from releasegate.errors import HarnessError
from releasegate.evidence.interference import TestWindow
from releasegate.evidence.measurement import Measurement, MeasurementStore, Outcome
from releasegate.evidence.redact import secret_redactor
from releasegate.gate import (
    CLI_ENV,
    DURATIONS,
    SUITE_MARKERS,
    SUITES,
    Collection,
    GateRun,
    RunOptions,
    say,
)
from releasegate.measure.recorder import CriterionBreached, Recorder
from releasegate.stack.model import StackInfo

# The suites' shared fixtures travel with the plugin, wherever the suites are collected from.
pytest_plugins = ("releasegate.fixtures.stack", "releasegate.fixtures.load")

_GATE = pytest.StashKey["GateState"]()
_WINDOW_KEY = "releasegate"
_RECORDED = pytest.StashKey[set[str]]()
_FINALISED = pytest.StashKey[bool]()


class GateState:
    """What every process (controller or worker) knows about the current run."""

    def __init__(self, options: RunOptions, profile: Profile, run: GateRun | None) -> None:
        self.options = options
        self.profile = profile
        self.run = run  # controller only
        self.run_dir = options.reports_dir / "run"
        # The controller's store is the run's own, so the secrets redactor it gets at stack
        # start applies to every measurement written in this process.
        self.store = run.store if run else MeasurementStore(self.run_dir / "measurements")
        self.info: StackInfo | None = None
        self.deselected: set[str] = set()
        self.windows: dict[str, TestWindow] = {}  # controller: when each test ran
        self.aborted = False


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("releasegate")
    group.addoption("--profile", default=os.environ.get("RELEASEGATE_PROFILE"),
                    help="profile TOML describing the stack and thresholds")
    group.addoption("--set", action="append", default=[], dest="rg_set", metavar="KEY=VALUE",
                    help="override a profile value, e.g. stack.health_timeout_s=30")
    group.addoption("--external", default=None, metavar="URL",
                    help="test an already-deployed environment at URL instead of containers")
    group.addoption("--dsn", default=None, help="database DSN of the external environment")
    group.addoption("--container", action="append", default=[], metavar="ROLE=NAME",
                    help="container names of the external environment (app=..., db=...)")
    group.addoption("--reports-dir", default="reports", help="where reports are written")
    group.addoption("--no-html", action="store_true", help="skip the Allure HTML report")
    group.addoption("--rg-durations", choices=DURATIONS, default="ci", dest="rg_durations",
                    help="durations of the time-boxed suites: ci (default) or release")
    group.addoption("--baseline", default=None, metavar="SUMMARY_JSON",
                    help="compare with this summary.json instead of the previous run")
    group.addoption("--regression-share", type=float, default=0.2, dest="regression_share",
                    help="flag values worse than the baseline by more than this share")
    group.addoption("--suites-root", default=None, metavar="DIR",
                    help="the folder whose whole collection is a full run (default: the "
                         "installed suites); narrower paths or node ids make a run partial")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "criterion(*ids): documented criteria this test measures")
    config.addinivalue_line("markers", "disruptive: stops or breaks part of the stack; runs "
                            "alone, never beside other tests")
    for suite, meaning in SUITES.items():
        config.addinivalue_line("markers", f"{suite}: {meaning}")
    profile_path = config.getoption("profile")
    if not profile_path:
        return
    containers = dict(item.split("=", 1) for item in config.getoption("container") if "=" in item)
    options = RunOptions(
        profile_path=Path(profile_path), overrides=config.getoption("rg_set"),
        reports_dir=Path(config.getoption("reports_dir")),
        external_url=config.getoption("external"), dsn=config.getoption("dsn"),
        containers=containers, html=not config.getoption("no_html"),
        durations=config.getoption("rg_durations"),
        baseline=Path(config.getoption("baseline")) if config.getoption("baseline") else None,
        regression_share=config.getoption("regression_share"),
        suites=[m for m in SUITE_MARKERS if m in (config.getoption("markexpr") or "")],
    )
    try:
        profile = options.load_profile()
    except HarnessError as exc:
        raise pytest.UsageError(exc.one_line()) from None
    workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
    state = GateState(options, profile, None if workerinput else GateRun(options, profile))
    if workerinput is not None:
        state.info = StackInfo.load(Path(workerinput["releasegate_stack"]))
        state.store.redact = secret_redactor(state.info.secrets)
    else:
        config.pluginmanager.register(_TestWindows(state), "releasegate-test-windows")
    config.stash[_GATE] = state


def _state(config: pytest.Config) -> GateState | None:
    return config.stash.get(_GATE, None)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    state = _state(session.config)
    if state is None or state.run is None or session.config.option.collectonly:
        return
    run = state.run
    # SIGTERM (a CI job cancelled) must tear the stack down like Ctrl-C does.
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        run.prepare()
        state.info = run.start_stack()
    except KeyboardInterrupt:
        state.aborted = True
        run.stop_stack()
        raise
    except Exception as exc:
        state.aborted = True
        run.stop_stack()
        error = exc if isinstance(exc, HarnessError) else run.unexpected(exc)
        run.fail(error)
        line = f"{error.category}: {error.one_line()}"
        if session.config.pluginmanager.hasplugin("dsession"):
            # xdist workers would each try to run against a stack that is not there.
            pytest.exit(f"releasegate: {line}", returncode=1)
        # Said once, here; the session then runs nothing (see collection) and exits 1.
        say(line)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:  # pytest-xdist hook, controller side
    state = _state(node.config)
    if state is not None and state.run is not None:
        node.workerinput["releasegate_stack"] = str(state.run.stack_file)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    state = _state(config)
    if state is not None and state.aborted:
        items[:] = []  # the stack never started: nothing may run, nothing is evidence
        return
    for item in items:
        for cid in _declared(item):
            if cid not in catalog.BY_ID:
                guess = catalog.closest(cid)
                raise pytest.UsageError(
                    f"{item.nodeid}: unknown criterion ID {cid!r}"
                    + (f" (did you mean {guess!r}?)" if guess else "")
                )
    if state is not None:
        # A test that measures only criteria the profile excludes has nothing to tell this run:
        # it is left out (not deselected: the run stays whole), and the exclusion is reported.
        required = state.profile.thresholds
        items[:] = [item for item in items
                    if not _declared(item) or any(cid in required for cid in _declared(item))]
    # Disruptive tests last: they stop databases and kill containers.
    items.sort(key=lambda item: item.get_closest_marker("disruptive") is not None)


def pytest_deselected(items: list[pytest.Item]) -> None:
    for item in items:
        state = _state(item.config)
        if state is not None:
            state.deselected.add(item.nodeid)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Each collecting process (the only one, or every xdist worker) says what it selected:
    with xdist the controller collects nothing itself, so files are the common ground."""
    state = _state(session.config)
    if state is None or not state.run_dir.is_dir():
        return
    workerinput = getattr(session.config, "workerinput", None)
    name = workerinput["workerid"] if workerinput else "main"
    Collection(
        criteria=sorted({cid for item in session.items for cid in _declared(item)}),
        items=len(session.items), deselected=len(state.deselected),
        narrowed=_narrowed(session.config),
    ).save(state.run_dir / "collection" / f"{name}.json")


def _narrowed(config: pytest.Config) -> list[str]:
    """Command-line paths or node ids narrower than the whole suites folder."""
    root = Path(config.getoption("suites_root") or _default_suites_root()).resolve()
    narrower = []
    for arg in config.args:
        path = Path(arg.split("::")[0]).resolve()
        if "::" in arg or not (path == root or root.is_relative_to(path)):
            narrower.append(arg)
    return narrower


def _default_suites_root() -> Path:
    import releasegate.suites

    return Path(releasegate.suites.__file__).parent


def _declared(item: pytest.Item) -> list[str]:
    return [cid for mark in item.iter_markers("criterion") for cid in mark.args]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    state = _state(item.config)
    if state is None:
        return report
    declared = _declared(item)
    # Travels with the report to the controller (xdist too): when this test ran, and what for.
    report.user_properties.append((_WINDOW_KEY, {
        "criteria": declared, "disruptive": item.get_closest_marker("disruptive") is not None}))
    if report.failed and not _breach_only(call):
        _failed_phase(state, item, report, declared)
    if not item.stash.get(_FINALISED, False) and (
            (report.when == "setup" and not report.passed) or report.when == "call"):
        item.stash[_FINALISED] = True
        _leave_evidence(state, item, report)
    return report


def _breach_only(call: pytest.CallInfo[None]) -> bool:
    """The test failed because ``record`` judged a part red: that is the verdict, not a crash."""
    return call.excinfo is not None and call.excinfo.errisinstance(CriterionBreached)


def _failed_phase(state: GateState, item: pytest.Item, report: pytest.TestReport,
                  declared: list[str]) -> None:
    """Any failed phase — setup, call, teardown — makes every declared criterion an error,
    whatever the test recorded before it broke. A failing test that declares no criterion
    belongs to none, so the run itself is in error."""
    recorded = item.stash.get(_RECORDED, set())
    if not declared:
        state.store.harness_error(item.nodeid, f"{report.when} failed: {_crash(report)}")
        return
    for cid in declared:
        if cid not in recorded and report.when != "teardown":
            continue  # _leave_evidence speaks for criteria the test never reached
        reason = (f"{report.when} failed after the test recorded {cid}: {_crash(report)}"
                  if cid in recorded else f"teardown failed: {_crash(report)}")
        state.store.write(Measurement(criterion=cid, value=None, samples=0, source="",
                                      outcome=Outcome.ERROR, reason=reason, test=item.nodeid,
                                      scope=f"{report.when} failure"))


class _TestWindows:
    """On the controller, every phase of every test (xdist workers' too) is reported here."""

    def __init__(self, state: GateState) -> None:
        self.state = state

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        props = dict(report.user_properties).get(_WINDOW_KEY)
        if not isinstance(props, dict):
            return
        known = self.state.windows.get(report.nodeid)
        start = min(report.start, known.start) if known else report.start
        stop = max(report.stop, known.stop) if known else report.stop
        self.state.windows[report.nodeid] = TestWindow(
            report.nodeid, start, stop, tuple(props.get("criteria") or ()),
            bool(props.get("disruptive")))


def _leave_evidence(state: GateState, item: pytest.Item, report: pytest.TestReport) -> None:
    """A declared criterion the test did not record gets insufficient or error, never silence."""
    recorded = item.stash.get(_RECORDED, set())
    missing = [cid for cid in _declared(item) if cid not in recorded]
    if not missing:
        return
    if report.skipped:
        outcome, reason = Outcome.INSUFFICIENT, _skip_reason(report)
    elif report.failed:
        outcome, reason = Outcome.ERROR, f"the test broke before measuring: {_crash(report)}"
    else:
        outcome, reason = Outcome.ERROR, "the test ended without recording a measurement"
    for cid in missing:
        state.store.write(Measurement(criterion=cid, value=None, samples=0, source="",
                                      outcome=outcome, reason=reason, test=item.nodeid))


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def _crash(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(report.longrepr)
    return text.strip().splitlines()[0][:300] if text.strip() else "unknown error"


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = _state(session.config)
    if state is None or state.run is None or session.config.option.collectonly:
        return
    if state.aborted:
        session.exitstatus = 1  # the reason was said when the stack failed to start
        return
    run = state.run
    broken = {
        pytest.ExitCode.INTERRUPTED: "the run was interrupted before the suites finished",
        pytest.ExitCode.INTERNAL_ERROR: "pytest stopped with an internal error (see its output)",
        pytest.ExitCode.USAGE_ERROR: "pytest rejected its arguments (see its output)",
    }
    if exitstatus in broken:
        run.attach_logs()
        run.stop_stack()
        run.fail(HarnessError(broken[pytest.ExitCode(exitstatus)],
                              hint="nothing from this run counts; fix the cause and run again"))
        session.exitstatus = 1
        return
    run.timings["tests_s"] = round(_time_in_tests(session), 2)
    try:
        run.observe_interruptions(list(state.windows.values()))
        run.attach_logs()
    finally:
        run.stop_stack()
    collection = Collection.merge(state.run_dir / "collection")
    partial_because = collection.partial_because() + (
        [f"--suite {' '.join(run.options.suites)}"] if run.options.suites else [])
    try:
        decision = run.finish(scope=frozenset(collection.criteria), suites=run.options.suites,
                              partial_because=partial_because)
    except Exception as exc:  # judging or reporting broke: exit 1, never pytest's ambiguous 3
        error = exc if isinstance(exc, HarnessError) else run.unexpected(exc)
        run.fail(error)
        say(f"{error.category}: {error.one_line()}")
        session.exitstatus = 1
        return
    if not os.environ.get(CLI_ENV):  # the CLI ends on this line itself, after pytest's own
        say(f"{decision.headline} (exit {int(decision.exit_code)}); see "
            f"{run.reports_dir / 'summary.md'}")
    session.exitstatus = int(decision.exit_code)


def pytest_unconfigure(config: pytest.Config) -> None:
    state = _state(config)
    if state is not None and state.run is not None:
        state.run.stop_stack()


def _time_in_tests(session: pytest.Session) -> float:
    """Seconds spent inside tests, every phase, as the terminal reporter saw them (xdist too)."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    stats: dict[str, list[Any]] = getattr(reporter, "stats", {}) or {}
    return sum(float(getattr(r, "duration", 0.0)) for reports in stats.values() for r in reports
               if getattr(r, "when", None) in ("setup", "call", "teardown"))


# -- fixtures -----------------------------------------------------------------------------

def _require_state(request: pytest.FixtureRequest) -> GateState:
    state = _state(request.config)
    if state is None:
        pytest.fail("no profile: run through `releasegate run` or pass --profile", pytrace=False)
    return state


@pytest.fixture(scope="session")
def gate_profile(request: pytest.FixtureRequest) -> Profile:
    return _require_state(request).profile


@pytest.fixture(scope="session")
def durations(request: pytest.FixtureRequest) -> str:
    """``ci`` or ``release``: which of its profile section's durations a suite uses."""
    return str(_require_state(request).options.durations)


@pytest.fixture(scope="session")
def stack(request: pytest.FixtureRequest) -> StackInfo:
    state = _require_state(request)
    if state.info is None:
        pytest.skip("the stack was not started")
    return state.info


@pytest.fixture(scope="session")
def healthy_stack(stack: StackInfo) -> StackInfo:
    if not stack.healthy:
        pytest.skip("the application never became healthy, so this could not be measured "
                    f"(last health answer: {stack.startup.last_health_status or 'none'})")
    return stack


@pytest.fixture
def record(request: pytest.FixtureRequest) -> Recorder:
    state = _require_state(request)
    item = request.node
    recorded: set[str] = item.stash.setdefault(_RECORDED, set())
    return Recorder(state.store, state.profile.thresholds, test=item.nodeid,
                    declared=frozenset(_declared(item)), on_record=recorded.add)


@pytest.fixture(autouse=True)
def _disruption_lock(request: pytest.FixtureRequest) -> Iterator[None]:
    """Disruptive tests hold the run's lock exclusively; all others share it."""
    state = _state(request.config)
    if state is None or not state.run_dir.is_dir():
        yield
        return
    exclusive = request.node.get_closest_marker("disruptive") is not None
    with open(state.run_dir / "disruption.lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
