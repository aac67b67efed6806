"""PERF-CONTAINER-START is timed from the engine's StartedAt to the arrival of the first 200,
with the engine's and the harness's clocks put on one footing."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from releasegate.evidence.container_start import (
    Arrival,
    ClockOffset,
    first_200,
    measure_offset,
    observe_start,
    parse_engine_time,
    reconcile,
)

EPOCH = datetime(2026, 11, 21, 10, 0, 1, tzinfo=timezone.utc).timestamp()


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-11-21T10:00:01.123456789Z", EPOCH + 0.123456789),
    ("2026-11-21T10:00:01.5Z", EPOCH + 0.5),  # RFC3339Nano drops trailing zeros
    ("2026-11-21T10:00:01Z", EPOCH),
    ("2026-11-21T12:00:01.25+02:00", EPOCH + 0.25),
    ("2026-11-21T09:30:01.000000001-00:30", EPOCH + 1e-9),
])
def test_engine_timestamps_parse_to_the_nanosecond(text: str, expected: float) -> None:
    assert parse_engine_time(text) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("text", ["0001-01-01T00:00:00Z", "", "yesterday", "2026-11-21 10:00"])
def test_zero_time_and_garbage_are_not_start_times(text: str) -> None:
    with pytest.raises(ValueError):
        parse_engine_time(text)


def _arrival(arrived: float | None, ended: float | None = None) -> Arrival:
    return Arrival(arrived, ended if ended is not None else (arrived or 0.0), 3, 200, "")


def test_start_time_runs_from_started_at_to_the_arrival() -> None:
    obs = reconcile("http://x/h", "2026-11-21T10:00:01.5Z", _arrival(EPOCH + 7.25), ClockOffset())
    assert obs.healthy and obs.problem == ""
    assert obs.seconds == pytest.approx(6.75)


def test_an_engine_clock_running_ahead_is_corrected() -> None:
    # The engine is 40 s ahead: its StartedAt, read naively, would come after our arrival.
    ahead = ClockOffset(40.0, 0.005, True)
    obs = reconcile("u", "2026-11-21T10:00:41Z", _arrival(EPOCH + 6.0), ahead)
    assert obs.corrected and obs.seconds == pytest.approx(6.0)
    # Uncorrected, the same readings would be an impossible start: never a silent 0.
    wrong = reconcile("u", "2026-11-21T10:00:41Z", _arrival(EPOCH + 6.0), ClockOffset())
    assert wrong.seconds is None and "clocks disagree" in wrong.problem


def test_an_offset_within_its_own_uncertainty_is_not_applied() -> None:
    obs = reconcile("u", "2026-11-21T10:00:01Z", _arrival(EPOCH + 3.0),
                    ClockOffset(0.004, 0.01, True))
    assert not obs.corrected and obs.seconds == pytest.approx(3.0)


def test_never_healthy_gives_the_wait_as_a_lower_bound() -> None:
    obs = reconcile("u", "2026-11-21T10:00:01Z", _arrival(None, EPOCH + 25.0), ClockOffset())
    assert not obs.healthy and obs.seconds is None and obs.waited_s == pytest.approx(25.0)


def test_no_started_at_is_a_problem_not_a_time() -> None:
    obs = reconcile("u", "0001-01-01T00:00:00Z", _arrival(EPOCH), ClockOffset())
    assert obs.seconds is None and "never started" in obs.problem


def test_offset_is_read_between_two_readings_of_our_clock() -> None:
    ticks = iter([100.0, 100.2])
    offset = measure_offset(lambda: "1970-01-01T00:01:50.1Z", clock=lambda: next(ticks))
    assert offset.known and offset.seconds == pytest.approx(10.0)
    assert offset.uncertainty_s == pytest.approx(0.1)
    broken = measure_offset(lambda: "not a time")
    assert not broken.known and "assumed equal" in broken.note


class _SlowHealth(BaseHTTPRequestHandler):
    """Answers 503 twice, then a 200 whose body takes 0.3 s to finish arriving."""

    calls = 0
    ok_received = 0.0

    def do_GET(self) -> None:
        type(self).calls += 1
        if type(self).calls < 3:
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        type(self).ok_received = time.time()
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.flush()
        time.sleep(0.3)
        self.wfile.write(b"ok")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def slow_server() -> Iterator[str]:
    _SlowHealth.calls = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SlowHealth)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/health"
    server.shutdown()


def test_the_first_200_counts_when_it_has_arrived_not_when_it_was_sent(slow_server: str) -> None:
    arrival = first_200(slow_server, timeout=10, interval=0.05)
    assert arrival.polls == 3 and arrival.last_status == 200 and not arrival.first_poll
    assert arrival.arrived_at is not None
    # The 200 was under way from when the server got the request; it had arrived only once its
    # body had, 0.3 s later.
    assert arrival.arrived_at >= _SlowHealth.ok_received + 0.29


class _Container:
    """What observe_start reads from docker-py: State.StartedAt and the engine's clock."""

    def __init__(self, started_at: str, system_time: str) -> None:
        self.attrs = {"State": {"StartedAt": started_at}}
        outer = self

        class _Client:
            def info(self) -> dict[str, str]:
                return {"SystemTime": outer.system_time}

        self.system_time = system_time
        self.client = _Client()

    def reload(self) -> None:
        pass


def test_observe_start_reads_started_at_and_the_engine_clock(slow_server: str) -> None:
    now = time.time()
    started = datetime.fromtimestamp(now - 2.0, timezone.utc).isoformat().replace("+00:00", "Z")
    engine_now = datetime.fromtimestamp(now, timezone.utc).isoformat().replace("+00:00", "Z")
    obs = observe_start(_Container(started, engine_now), slow_server, timeout=10, interval=0.05)
    assert obs.healthy and obs.started_at == started
    assert obs.seconds is not None and 2.3 <= obs.seconds < 5
    assert abs(obs.offset_s) < 1.0
