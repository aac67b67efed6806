"""The Locust side of a load run: loaded by the master and every worker, never by pytest.

The master reads the plan from ``--rg-plan-file`` and hands it to the workers with its other
options, so a worker started elsewhere (``python -m releasegate.loadgen.worker --master-host H``)
needs nothing else. Each worker sends its windows (encoded HDR histograms, counts, its CPU and
lag) to the master every ``window_s``; the master appends them to ``windows.jsonl`` in
``--rg-results`` and quits once every worker has reported ``done``. A ``stop`` file in that folder
ends the run early (an abort): the master tells the workers, which stop sending at once.
"""

from __future__ import annotations

import json
import random
import resource
import time
import traceback
from pathlib import Path
from typing import Any

import gevent
import psutil
from gevent.event import Event
from locust import FastHttpUser, constant, events, task
from locust.contrib.fasthttp import FastHttpSession
from locust.exception import StopUser
from locust.runners import MasterRunner, WorkerRunner

from releasegate.loadgen.book import TRANSPORT_ERROR, Book
from releasegate.loadgen.plan import OPEN, Plan
from releasegate.loadgen.scenario import Scenario
from releasegate.loadgen.scenarios import build_scenario
from releasegate.loadgen.timing import server_duration_ms

clock = time.monotonic


def _raise_file_limit() -> None:
    """Every client holds a socket: allow as many as the system lets this process have."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


_raise_file_limit()


@events.init_command_line_parser.add_listener  # type: ignore[untyped-decorator]
def _arguments(parser: Any) -> None:
    parser.add_argument("--rg-plan-file", default="", help="releasegate: the plan (master)")
    parser.add_argument("--rg-results", default="", help="releasegate: results folder (master)")
    parser.add_argument("--rg-plan", default="", help="releasegate: set by the master")


class _Control:
    """One worker's state: the plan, its timetable, its tally and the scenario."""

    def __init__(self) -> None:
        self.ready = Event()
        self.plan: Plan | None = None
        self.scenario: Scenario | None = None
        self.book: Book | None = None
        self.schedule: Any = None
        self.start = 0.0
        self.end = 0.0
        self.inflight = 0
        self.worker = 0
        self.failed = ""

    def stop_now(self) -> None:
        self.end = min(self.end, clock())
        if self.schedule is not None:
            self.schedule.stop_at(clock())


CONTROL = _Control()


def _begin(environment: Any) -> None:
    """Worker: set up the scenario, then send on the timetable and report every window."""
    from releasegate.loadgen.schedule import Schedule

    runner = environment.runner
    ctl = CONTROL
    plan = Plan.from_json(environment.parsed_options.rg_plan)
    ctl.plan, ctl.worker = plan, max(runner.worker_index, 0)
    LoadUser.network_timeout = LoadUser.connection_timeout = plan.timeout_s
    try:
        ctl.scenario = build_scenario(plan.scenario, plan.scenario_config, worker=ctl.worker,
                                      workers=plan.workers, seed=plan.seed)
        session = FastHttpSession(plan.base_url, environment.events.request, None,
                                  network_timeout=plan.timeout_s,
                                  connection_timeout=plan.timeout_s)

        def get(path: str) -> Any:
            for attempt in range(5):  # a service still recovering from the last run: retry
                response = session.get(path, headers=plan.headers, name="(set-up)")
                if response.status_code == 200:
                    return response.json()
                if response.status_code and response.status_code < 500:
                    break
                gevent.sleep(1.0 + attempt)
            raise RuntimeError(f"set-up GET {path} answered {response.status_code}")

        ctl.scenario.setup(get)
    except Exception as exc:  # reported to the master; the run is then not measured
        ctl.failed = f"worker {ctl.worker}: {type(exc).__name__}: {exc}"
        runner.send_message("rg_done", {"worker": ctl.worker, "error": ctl.failed,
                                        "trace": traceback.format_exc()[-2000:]})
        ctl.ready.set()
        return
    ctl.start = clock() + plan.lead_s
    ctl.end = ctl.start + plan.duration_s
    ctl.book = Book(start=ctl.start, window_s=plan.window_s, worker=ctl.worker)
    if plan.model == OPEN:
        ctl.schedule = Schedule(plan.stages, start=ctl.start, share=1.0 / plan.workers,
                                phase=ctl.worker / plan.workers)
    ctl.ready.set()
    gevent.spawn(_report, runner, ctl, plan)


def _report(runner: Any, ctl: _Control, plan: Plan) -> None:
    process = psutil.Process()
    process.cpu_percent(None)
    assert ctl.book is not None
    while True:
        gevent.sleep(plan.window_s)
        now = clock()
        over = now >= ctl.end and (ctl.inflight == 0 or now >= ctl.end + plan.timeout_s + 1)
        dropped = ctl.schedule.drain() if over and ctl.schedule is not None else 0
        if dropped:
            ctl.book.dropped(ctl.end, dropped)
        windows = ctl.book.flush(None if over else now)
        runner.send_message("rg_windows", {
            "worker": ctl.worker, "t": now - ctl.start, "cpu": process.cpu_percent(None),
            "users": runner.user_count, "connections": _established(process),
            "windows": windows})
        if over:
            runner.send_message("rg_done", {"worker": ctl.worker, "dropped": dropped,
                                            "issued": getattr(ctl.schedule, "issued", None)})
            return


def _established(process: psutil.Process) -> int | None:
    """TCP connections this worker holds open (the concurrency test's clients)."""
    try:
        return sum(1 for c in process.net_connections(kind="tcp")
                   if c.status == psutil.CONN_ESTABLISHED)
    except psutil.Error:
        return None


@events.init.add_listener  # type: ignore[untyped-decorator]
def _init(environment: Any, **_: Any) -> None:
    runner = environment.runner
    if isinstance(runner, MasterRunner):
        _init_master(environment, runner)
    elif isinstance(runner, WorkerRunner):
        # Locust calls listeners with keywords (environment=, msg=).
        runner.register_message("rg_stop", lambda **_: CONTROL.stop_now())


def _init_master(environment: Any, runner: Any) -> None:
    options = environment.parsed_options
    options.rg_plan = Path(options.rg_plan_file).read_text(encoding="utf-8")
    results = Path(options.rg_results)
    windows = (results / "windows.jsonl").open("a", encoding="utf-8")
    done_file = (results / "done.jsonl").open("a", encoding="utf-8")
    finished: set[int] = set()

    def on_windows(msg: Any, **_: Any) -> None:
        windows.write(json.dumps(msg.data) + "\n")
        windows.flush()

    def on_done(msg: Any, **_: Any) -> None:
        done_file.write(json.dumps(msg.data) + "\n")
        done_file.flush()
        finished.add(int(msg.data["worker"]))
        if len(finished) >= options.expect_workers:
            gevent.spawn_later(0.5, runner.quit)

    def watch_stop() -> None:
        while True:
            gevent.sleep(0.25)
            if (results / "stop").exists():
                runner.send_message("rg_stop", {})
                return

    runner.register_message("rg_windows", on_windows)
    runner.register_message("rg_done", on_done)
    gevent.spawn(watch_stop)


@events.test_start.add_listener  # type: ignore[untyped-decorator]
def _test_start(environment: Any, **_: Any) -> None:
    if isinstance(environment.runner, WorkerRunner) and not CONTROL.ready.is_set() \
            and CONTROL.plan is None:
        CONTROL.plan = Plan.from_json(environment.parsed_options.rg_plan)  # claims the start
        gevent.spawn(_begin, environment)


class LoadUser(FastHttpUser):
    """One client: in the open model a sender on the worker's timetable, in the closed model a
    user that sends its next request when the last one was answered (after ``think_s``)."""

    host = "http://127.0.0.1"
    wait_time = constant(0)
    _started = False

    @task
    def send(self) -> None:
        ctl = CONTROL
        ctl.ready.wait()
        if ctl.failed or ctl.plan is None or ctl.scenario is None or ctl.book is None:
            raise StopUser()
        if ctl.plan.model == OPEN:
            self._open(ctl)
        else:
            self._closed(ctl)

    def _open(self, ctl: _Control) -> None:
        intended = ctl.schedule.take()
        if intended is None:
            raise StopUser()
        now = clock()
        lag: float | None = None
        if intended > now:
            gevent.sleep(intended - now)
            lag = clock() - intended
        if intended >= ctl.end:
            raise StopUser()
        self._one(ctl, intended, backlog=max(now - intended, 0.0), lag=lag)

    def _closed(self, ctl: _Control) -> None:
        assert ctl.plan is not None
        now = clock()
        if not self._started:
            # Clients begin at random moments within one think time, so that N of them
            # spread their requests instead of arriving in one burst.
            self._started = True
            gevent.sleep(max(ctl.start - now, 0.0)
                          + random.uniform(0.0, ctl.plan.think_s))  # noqa: S311
        elif now < ctl.start:
            gevent.sleep(ctl.start - now)
        if clock() >= ctl.end:
            raise StopUser()
        self._one(ctl, clock(), backlog=0.0, lag=None)
        if ctl.plan is not None and ctl.plan.think_s > 0:
            gevent.sleep(ctl.plan.think_s)

    def _one(self, ctl: _Control, intended: float, *, backlog: float, lag: float | None) -> None:
        assert ctl.scenario is not None and ctl.book is not None and ctl.plan is not None
        request = ctl.scenario.next()
        if request is None:  # no endpoint has the data it needs yet
            ctl.book.dropped(intended, 1)
            return
        ctl.book.intended(intended, backlog_s=backlog, lag_s=lag)
        endpoint = request.endpoint
        ctl.inflight += 1
        sent = clock()
        try:
            response = self.client.request(
                endpoint.method, request.path, json=request.body, name=endpoint.name,
                headers=ctl.plan.headers if endpoint.auth else {})
        finally:
            ctl.inflight -= 1
        done = clock()
        status = int(response.status_code or TRANSPORT_ERROR)
        timing = ctl.plan.server_timing
        header = str(response.headers.get(timing.header) or "") if response.headers else None
        ctl.book.record(endpoint.name, done=done, corrected_s=done - intended,
                        raw_s=done - sent, status=status,
                        server_ms=server_duration_ms(header, timing.metric))
        ctl.scenario.answered(request, status, response.json)
