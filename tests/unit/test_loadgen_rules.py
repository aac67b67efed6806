"""Window rules, the early abort and the stress run's steps, on synthetic runs."""

from __future__ import annotations

from pathlib import Path

from releasegate.loadgen import results
from releasegate.loadgen.book import Book
from releasegate.loadgen.plan import Plan, Stage
from releasegate.loadgen.rules import Abort, WindowRule
from releasegate.loadgen.stepping import capacity, step_rows, table


def _run(latency_of_second: dict[int, float], stages: tuple[Stage, ...], *, per_second: int = 30,
         errors_from: int | None = None, warmup_s: float = 0.0) -> results.RunResult:
    seconds: dict[int, results.Second] = {}
    workers: dict[int, results.WorkerHealth] = {}
    for w, latency in latency_of_second.items():
        book = Book(start=0.0, window_s=1.0, worker=0)
        for _ in range(per_second):
            book.intended(w + 0.1, backlog_s=0.0, lag_s=0.001)
            status = 500 if errors_from is not None and w >= errors_from else 200
            book.record("e", done=w + 0.5, corrected_s=latency, raw_s=0.01, status=status,
                        server_ms=None)
        results.absorb({"worker": 0, "t": float(w), "cpu": 5.0, "windows": book.flush(None)},
                       seconds, workers)
    plan = Plan(base_url="http://127.0.0.1:1", scenario="generic", model="open",
                stages=stages, warmup_s=warmup_s)
    return results.RunResult(plan, seconds, workers, Path("."))


def test_a_window_rule_names_every_window_that_broke_it() -> None:
    lat = {w: (1.5 if 20 <= w < 30 else 0.1) for w in range(40)}
    run = _run(lat, (Stage(seconds=40, rate=30),))
    rule = WindowRule(limit_ms=1000, window_s=10)
    assert [(s, round(v, -1)) for s, v in rule.broken(run)] == [(20.0, 1500.0)]
    assert rule.judged(run) == 4


def test_the_abort_waits_for_its_delay_then_stops_a_clearly_broken_run() -> None:
    rule = WindowRule(limit_ms=1000, window_s=5)
    abort = Abort(rule, after_s=10, factor=3)
    early = _run({w: 5.0 for w in range(6)}, (Stage(seconds=60, rate=30),))
    assert abort.reason(early) is None  # 5 s is not yet the 10 s delay
    late = _run({w: 5.0 for w in range(12)}, (Stage(seconds=60, rate=30),))
    assert "beyond 3 × the 1000 ms limit" in (abort.reason(late) or "")
    merely_slow = _run({w: 1.2 for w in range(12)}, (Stage(seconds=60, rate=30),))
    assert abort.reason(merely_slow) is None  # broken, but not clearly: the run goes on
    failing = _run({w: 0.1 for w in range(12)}, (Stage(seconds=60, rate=30),), errors_from=0)
    assert "failed" in (abort.reason(failing) or "")


def test_capacity_is_the_last_step_that_met_every_limit() -> None:
    stages = tuple(Stage(seconds=10, rate=r) for r in (10, 20, 30, 40))
    lat = {w: (0.1 if w < 20 else 0.4 if w < 30 else 2.0) for w in range(40)}
    run = _run(lat, stages)
    rows = step_rows(run)
    assert [r.offered for r in rows] == [10, 20, 30, 40]
    assert all(r.requests == 8 * 30 for r in rows)  # settling seconds left out
    found, broken = capacity(rows, 1000, 1.0)
    assert found == 30 and broken is not None and broken.offered == 40
    assert "p95 2001 ms ≥ 1000 ms" in table(rows, 1000, 1.0)


def test_a_run_that_never_broke_reports_its_last_complete_step() -> None:
    stages = tuple(Stage(seconds=10, rate=30) for _ in range(3))
    rows = step_rows(_run({w: 0.05 for w in range(30)}, stages))
    found, broken = capacity(rows, 1000, 1.0)
    assert broken is None and found == 30


def test_errors_break_a_step_even_when_it_is_fast() -> None:
    stages = tuple(Stage(seconds=10, rate=30) for _ in range(3))
    rows = step_rows(_run({w: 0.05 for w in range(30)}, stages, errors_from=12))
    found, broken = capacity(rows, 1000, 1.0)
    assert found == 30 and broken is not None and broken.step == 2
