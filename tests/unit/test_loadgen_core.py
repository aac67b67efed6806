"""The load generator's arithmetic: lossless histogram merges, the open-model timetable, the
workers' windows, the scenario engine and the generator's judgement of itself."""

from __future__ import annotations

import itertools
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from releasegate.errors import ConfigError
from releasegate.loadgen import hdr, results, selfwatch
from releasegate.loadgen.book import Book
from releasegate.loadgen.plan import Plan, Stage
from releasegate.loadgen.scenario import (
    Endpoint,
    PoolSource,
    Scenario,
    check_against_openapi,
    endpoint_from,
    json_path,
)
from releasegate.loadgen.schedule import Schedule
from releasegate.loadgen.timing import server_duration_ms


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.integers(1, 60_000_000), min_size=0, max_size=200),
                min_size=1, max_size=4))
def test_merging_encoded_histograms_equals_one_histogram_of_every_sample(
        per_worker: list[list[int]]) -> None:
    everything = hdr.new()
    encoded = []
    for samples in per_worker:
        h = hdr.new()
        for us in samples:
            h.record_value(us)
            everything.record_value(us)
        encoded.append(hdr.encode(h))
    merged = hdr.merge(encoded)
    assert merged.get_total_count() == everything.get_total_count()
    for p in (50.0, 95.0, 99.0, 100.0):
        assert merged.get_value_at_percentile(p) == everything.get_value_at_percentile(p)


def test_three_significant_digits_keep_996_ms_below_one_second() -> None:
    # Locust rounds 996 ms to 1000 ms; a limit of "< 1000 ms" must see the truth.
    h = hdr.new()
    for _ in range(100):
        hdr.record_seconds(h, 0.996)
    assert hdr.percentile_ms(h, 95.0) is not None
    assert 995.0 <= hdr.percentile_ms(h, 95.0) < 1000.0  # type: ignore[operator]


def test_values_outside_the_range_are_clamped_not_lost() -> None:
    h = hdr.new()
    hdr.record_seconds(h, 0.0)
    hdr.record_seconds(h, 120.0)
    assert h.get_total_count() == 2
    assert hdr.summary(h)["max_ms"] == pytest.approx(60_000, rel=1e-3)


def _all(schedule: Schedule) -> list[float]:
    out = []
    while (t := schedule.take()) is not None:
        out.append(t)
    return out


def test_a_worker_sends_its_share_evenly_and_workers_interleave() -> None:
    stages = [Stage(seconds=10, rate=20)]
    a = _all(Schedule(stages, start=100.0, share=0.5, phase=0.0))
    b = _all(Schedule(stages, start=100.0, share=0.5, phase=0.5))
    assert len(a) == len(b) == 100
    merged = sorted(a + b)
    gaps = {round(y - x, 6) for x, y in itertools.pairwise(merged)}
    assert gaps == {0.05}
    assert merged[0] == 100.0 and merged[-1] < 110.0


def test_stepped_stages_change_the_rate_at_their_boundary() -> None:
    times = _all(Schedule([Stage(seconds=2, rate=5), Stage(seconds=2, rate=50)], start=0.0))
    assert sum(1 for t in times if t < 2) == 10
    assert sum(1 for t in times if t >= 2) == 100


def test_an_abort_ends_the_timetable_and_the_rest_is_counted_as_dropped() -> None:
    schedule = Schedule([Stage(seconds=10, rate=10)], start=0.0)
    taken = [schedule.take() for _ in range(5)]
    assert taken[-1] == pytest.approx(0.4)
    schedule.stop_at(3.0)
    assert schedule.take() is None  # not even the sends already due
    assert schedule.drain() == 25  # 0.5 … 2.9 were intended and never sent


def test_a_window_holds_corrected_raw_and_server_times_and_the_send_counts() -> None:
    book = Book(start=10.0, window_s=1.0, worker=3)
    book.intended(10.2, backlog_s=0.0, lag_s=0.001)
    book.record("list", done=10.5, corrected_s=0.3, raw_s=0.1, status=200, server_ms=90.0)
    book.intended(10.9, backlog_s=0.4, lag_s=None)
    book.record("list", done=11.4, corrected_s=0.5, raw_s=0.1, status=503, server_ms=None)
    first = book.flush(11.0)
    assert [w["w"] for w in first] == [0]
    assert first[0]["intended"] == 2 and first[0]["backlog"] == 1
    assert first[0]["endpoints"]["list"]["statuses"] == {"200": 1}
    rest = book.flush(None)
    assert rest[0]["endpoints"]["list"]["statuses"] == {"503": 1}
    assert hdr.decode(rest[0]["endpoints"]["list"]["corrected"]).get_max_value() >= 499_000


def _message(worker: int, w: int, statuses: dict[str, int], latency_s: float,
             cpu: float = 10.0, lag_s: float = 0.001) -> dict[str, object]:
    book = Book(start=0.0, window_s=1.0, worker=worker)
    for status, n in statuses.items():
        for _ in range(n):
            book.intended(w + 0.1, backlog_s=0.0, lag_s=lag_s)
            book.record("e", done=w + 0.5, corrected_s=latency_s, raw_s=latency_s / 10,
                        status=int(status), server_ms=None)
    return {"worker": worker, "t": float(w), "cpu": cpu, "windows": book.flush(None)}


def _plan(**kw: object) -> Plan:
    base = {"base_url": "http://127.0.0.1:1", "scenario": "generic", "model": "open",
            "stages": (Stage(seconds=10, rate=10),), "workers": 2, "warmup_s": 2.0}
    return Plan(**{**base, **kw})  # type: ignore[arg-type]


def test_results_merge_workers_and_leave_the_warmup_out(tmp_path: Path) -> None:
    lines = [_message(k, w, {"200": 9, "500": 1} if w else {"200": 50}, 0.2)
             for k in range(2) for w in range(5)]
    (tmp_path / "windows.jsonl").write_text("\n".join(json.dumps(m) for m in lines) + "\n")
    (tmp_path / "done.jsonl").write_text('{"worker": 0}\n{"worker": 1}\n')
    run = results.read(tmp_path, _plan())
    assert run.missing_workers() == []
    overall = run.overall()
    assert overall.count == 60 and overall.server_errors == 6  # windows 2, 3, 4 of 2 workers
    assert hdr.percentile_ms(overall.corrected, 95) == pytest.approx(200, rel=1e-3)
    assert [start for start, _ in run.windows(2)] == [2.0]


def test_a_worker_that_never_said_done_is_missing(tmp_path: Path) -> None:
    (tmp_path / "done.jsonl").write_text('{"worker": 1}\n')
    assert results.read(tmp_path, _plan()).missing_workers() == [0]


def test_a_saturated_or_late_generator_is_named_with_the_reason(tmp_path: Path) -> None:
    lines = [_message(0, w, {"200": 10}, 0.1, cpu=99.0) for w in range(2, 8)]
    lines += [_message(1, w, {"200": 10}, 0.1, cpu=20.0, lag_s=0.2) for w in range(2, 8)]
    (tmp_path / "windows.jsonl").write_text("\n".join(json.dumps(m) for m in lines) + "\n")
    found = selfwatch.problems(results.read(tmp_path, _plan()))
    assert any("worker 0 was saturated" in p for p in found)
    assert any("worker 1 was late" in p for p in found)
    calm = [_message(k, w, {"200": 10}, 0.1) for k in range(2) for w in range(2, 8)]
    (tmp_path / "windows.jsonl").write_text("\n".join(json.dumps(m) for m in calm) + "\n")
    assert selfwatch.problems(results.read(tmp_path, _plan())) == []


def test_server_timing_is_read_by_metric_name() -> None:
    assert server_duration_ms("app;dur=12.5, db-wait;dur=0.3", "app") == 12.5
    assert server_duration_ms("db-wait;dur=0.3, app;dur=7", "app") == 7.0
    assert server_duration_ms("total;dur=3", "app") is None
    assert server_duration_ms(None, "app") is None


def test_json_paths() -> None:
    body = {"items": [{"id": 1}, {"id": 2}, {"x": 3}], "id": 9}
    assert json_path(body, "items[*].id") == [1, 2]
    assert json_path(body, "items[1].id") == [2]
    assert json_path(body, "id") == [9]
    assert json_path(body, "nope.id") == []


def test_templates_draw_from_pools_and_consumed_values_are_used_once() -> None:
    endpoints = [Endpoint("contract", "POST", "/c", body={"room": "{room}", "n": "x{unique}"},
                          capture={"made": "id"})]
    scenario = Scenario(endpoints, {"room": PoolSource("/rooms", "items[*].id", consume=True)},
                        worker=1, workers=2)
    scenario.setup(lambda path: {"items": [{"id": i} for i in range(6)]})
    assert scenario.pools["room"] == [1, 3, 5]  # the other worker has the even ones
    rooms = []
    while (req := scenario.next()) is not None:
        rooms.append(req.body["room"])
        assert isinstance(req.body["room"], int) and req.body["n"].startswith("xw1-")
        scenario.answered(req, 201, lambda: {"id": 77})
    assert sorted(rooms) == [1, 3, 5]
    assert scenario.pools["made"] == [77, 77, 77]


def test_an_endpoint_waits_until_its_pool_has_values_and_weights_are_followed() -> None:
    endpoints = [Endpoint("make", "POST", "/r", weight=1, capture={"r": "id"}),
                 Endpoint("use", "GET", "/r/{r}", weight=3)]
    scenario = Scenario(endpoints, {})
    scenario.rng = random.Random(4)
    first = scenario.next()
    assert first is not None and first.endpoint.name == "make"
    scenario.answered(first, 201, lambda: {"id": 5})
    names = [scenario.next().endpoint.name for _ in range(400)]  # type: ignore[union-attr]
    assert 250 < names.count("use") < 350


def test_an_unknown_pool_or_an_empty_list_is_refused_in_one_line() -> None:
    with pytest.raises(ConfigError, match=r"\{room\}"):
        Scenario([Endpoint("x", "GET", "/r/{room}")], {})
    scenario = Scenario([Endpoint("x", "GET", "/r/{room}")], {"room": PoolSource("/r", "id")})
    with pytest.raises(ConfigError, match="gave nothing"):
        scenario.setup(lambda path: {"items": []})


def test_endpoints_are_checked_against_the_openapi_document() -> None:
    doc = {"paths": {"/api/rooms": {"get": {}, "post": {}}, "/api/rooms/{room_id}": {"get": {}}}}
    check_against_openapi([endpoint_from({"path": "/api/rooms?page={int:1:5}"}, "e"),
                           endpoint_from({"path": "/api/rooms/{room}"}, "e")], doc)
    with pytest.raises(ConfigError, match=r"DELETE /api/rooms/\{room\}.*not an operation"):
        check_against_openapi([endpoint_from({"path": "/api/rooms/{room}",
                                              "method": "DELETE"}, "e")], doc)
    with pytest.raises(ConfigError, match="unknown key 'wieght'"):
        endpoint_from({"path": "/x", "wieght": 2}, "load.endpoints[0]")


@pytest.mark.parametrize(("change", "words"), [
    ({"stages": (Stage(seconds=10, rate=0),)}, "arrival rate of 0"),
    ({"stages": ()}, "no stage"),
    ({"warmup_s": 10.0}, "warm-up"),
    ({"model": "closed", "stages": (Stage(seconds=5),)}, "0 users"),
])
def test_a_plan_that_cannot_measure_is_refused(change: dict[str, object], words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        _plan(**change).validate()


def test_the_plan_travels_as_json() -> None:
    plan = _plan(headers={"Authorization": "Bearer t"}, scenario_config={"a": [1]})
    assert Plan.from_json(plan.to_json()) == plan


def test_the_orchestrating_side_never_imports_gevent() -> None:
    code = ("import sys, releasegate.loadgen.orchestrate, releasegate.loadgen.results, "
            "releasegate.loadgen.selfwatch, releasegate.loadgen.scenarios, "
            "releasegate.loadtests.rento, releasegate.loadtests.generic; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('gevent', 'locust')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"


def test_a_pool_can_be_filled_from_several_pages() -> None:
    asked: list[str] = []

    def get(path: str) -> dict[str, object]:
        asked.append(path)
        page = int(path.rsplit("page=", 1)[1])
        return {"items": [{"id": page * 10 + i} for i in range(2)]}

    scenario = Scenario([Endpoint("x", "GET", "/r/{room}")],
                        {"room": PoolSource("/rooms?status=vacant", "items[*].id", pages=3)})
    scenario.setup(get)
    assert asked == [f"/rooms?status=vacant&page={n}" for n in (1, 2, 3)]
    assert scenario.pools["room"] == [10, 11, 20, 21, 30, 31]


def test_clients_held_is_the_minimum_inside_the_hold_not_while_they_stop(tmp_path: Path) -> None:
    run = results.RunResult(_plan(), {}, {0: results.WorkerHealth(), 1: results.WorkerHealth()},
                            tmp_path)
    for worker, counts in ((0, [600, 1000, 1000, 1000, 993]), (1, [700, 1000, 998, 1000, 989])):
        run.workers[worker].users = [(t + 0.03, n, 40 + t) for t, n in enumerate(counts)]
    # the ramp (second 0) and the stop (second 4) are outside the hold [1, 4)
    assert run.clients_held(1.0, 4.0) == (1998, 86)
    assert run.clients_held(1.0, 5.0)[0] == 1982
    assert run.clients_held(9.0, 12.0) == (0, None)  # nothing seen: nothing held
