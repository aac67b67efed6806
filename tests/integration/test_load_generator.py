"""The load generator end to end against a tiny local server: a worker started elsewhere joins
through --master-host, a stalled server shows in the corrected figures and not in the raw ones,
and bad input ends in one line with no Locust process left behind."""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from releasegate.loadgen import hdr, orchestrate
from releasegate.loadgen.plan import Plan, Stage


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    stalled = threading.Event()

    def do_GET(self) -> None:
        while self.stalled.is_set():
            time.sleep(0.01)
        body = json.dumps({"items": [{"id": 1}, {"id": 2}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Server-Timing", "app;dur=0.5")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    _Handler.stalled.clear()


def _plan(base: str, **kw: object) -> Plan:
    values: dict[str, object] = {
        "base_url": base, "scenario": "generic", "model": "open",
        "stages": (Stage(seconds=5, rate=40),), "workers": 1, "pool_per_worker": 10,
        "scenario_config": {"endpoints": [{"path": "/items"}, {"path": "/items/{item}"}],
                            "params": {"item": {"from": "/items", "pick": "items[*].id"}}}}
    values.update(kw)
    return Plan(**values)  # type: ignore[arg-type]


def _all_ended(pids: list[int]) -> bool:
    return bool(pids) and not any(psutil.pid_exists(p) and psutil.Process(p).status()
                                  != psutil.STATUS_ZOMBIE for p in pids)


def test_a_worker_started_elsewhere_joins_through_master_host(server: str, tmp_path: Path) -> None:
    port = orchestrate.free_port("127.0.0.1")
    remote = subprocess.Popen([sys.executable, "-m", "releasegate.loadgen.worker",
                               "--master-host", "127.0.0.1", "--master-port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        result = orchestrate.run(_plan(server, workers=2), tmp_path,
                                 orchestrate.Options(local_workers=1, remote_workers=1,
                                                     port=port))
    finally:
        remote.terminate()
        remote.wait(timeout=10)
    assert sorted(result.workers) == [0, 1] and result.missing_workers() == []
    counts = [sum(s.intended for s in result.seconds.values())]
    assert 180 <= counts[0] <= 210  # 5 s at 40/s over both workers
    assert all(w.intended > 60 for w in result.workers.values())  # each sent its share


def test_a_stall_shows_in_the_corrected_latency_and_hides_from_the_raw(
        server: str, tmp_path: Path) -> None:
    def stall() -> None:
        _Handler.stalled.set()
        time.sleep(1.0)
        _Handler.stalled.clear()

    def tick(live: orchestrate.Live) -> None:
        if len(live.seconds) == 2 and not started:  # well inside the run
            started.append(threading.Thread(target=stall, daemon=True))
            started[0].start()

    started: list[threading.Thread] = []
    result = orchestrate.run(_plan(server, pool_per_worker=2, stages=(Stage(8, 40),)),
                             tmp_path, orchestrate.Options(), on_tick=tick)
    assert started
    overall = result.overall()
    corrected = hdr.percentile_ms(overall.corrected, 99.0)
    raw = hdr.percentile_ms(overall.raw, 99.0)
    assert corrected is not None and raw is not None
    assert corrected >= 700, (corrected, raw)
    assert raw < corrected / 2, (corrected, raw)
    assert result.send_counts()["late_backlog"] > 10


def test_a_port_in_use_is_one_line_and_starts_nothing(server: str, tmp_path: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        live = orchestrate.Live(_plan(server))
        with pytest.raises(orchestrate.LoadRunFailed, match=f"cannot listen on 127.0.0.1:{port}"):
            orchestrate.run(_plan(server), tmp_path, orchestrate.Options(port=port), live=live)
    assert live.pids == []


def test_a_worker_that_never_joins_fails_the_run_and_leaves_nothing(
        server: str, tmp_path: Path) -> None:
    live = orchestrate.Live(_plan(server, workers=2))
    started = time.monotonic()
    with pytest.raises(orchestrate.LoadRunFailed, match=r"never reported"):
        orchestrate.run(_plan(server, workers=2), tmp_path,
                        orchestrate.Options(local_workers=1, remote_workers=1,
                                            join_timeout_s=3), live=live)
    assert time.monotonic() - started < 60
    assert _all_ended(live.pids)


def test_a_scenario_that_cannot_set_up_says_why(server: str, tmp_path: Path) -> None:
    plan = _plan(server, scenario_config={"endpoints": [{"path": "/items/{item}"}], "params": {
        "item": {"from": "/items", "pick": "nothing[*].id"}}})
    live = orchestrate.Live(plan)
    with pytest.raises(orchestrate.LoadRunFailed, match=r"pool item: GET /items gave nothing"):
        orchestrate.run(plan, tmp_path, orchestrate.Options(), live=live)
    assert _all_ended(live.pids)


def test_an_abort_stops_every_send_at_once(server: str, tmp_path: Path) -> None:
    asked: list[float] = []

    def tick(live: orchestrate.Live) -> str | None:
        if len(live.seconds) >= 2:
            asked.append(time.monotonic())
            return "enough"
        return None

    started = time.monotonic()
    result = orchestrate.run(_plan(server, stages=(Stage(30, 40),)), tmp_path,
                             orchestrate.Options(), on_tick=tick)
    assert asked and time.monotonic() - asked[0] < 10  # not the 30 s of the plan
    sent = sum(s.intended for s in result.seconds.values())
    assert sent < 40 * 8  # the rest of the timetable was cancelled, not sent late
    assert time.monotonic() - started < 30
