"""Database statement times from the server's log, memory from the engine's stats, and the
least-squares memory slope with its confidence interval."""

from __future__ import annotations

import random

import pytest

from releasegate.measure.dbtiming import statement_durations_ms
from releasegate.measure.memory import slope, used_mb

LOG = """\
2026-11-29 18:58:48.216 UTC [67] LOG:  duration: 0.095 ms  statement: ;
2026-11-29 18:58:48.217 UTC [67] LOG:  duration: 0.099 ms  statement: BEGIN
2026-11-29 18:58:48.218 UTC [67] LOG:  duration: 0.142 ms  parse <unnamed>: SELECT a FROM t
2026-11-29 18:58:48.218 UTC [68] LOG:  duration: 9.000 ms  statement: SELECT count(*) FROM bills
2026-11-29 18:58:48.218 UTC [67] LOG:  duration: 0.123 ms  bind <unnamed>: SELECT a FROM t
2026-11-29 18:58:48.222 UTC [67] LOG:  duration: 2.000 ms  execute <unnamed>: SELECT a FROM t
2026-11-29 18:58:48.223 UTC [67] LOG:  duration: 0.050 ms  statement: COMMIT
2026-11-29 18:58:48.224 UTC [1] LOG:  parameter "log_min_duration_statement" changed to "0"
"""


def test_a_statement_time_is_parse_bind_and_execute_and_transaction_control_is_no_query() -> None:
    assert statement_durations_ms(LOG) == [9.0, pytest.approx(2.265)]


def test_memory_is_usage_minus_inactive_file_cache() -> None:
    v2 = {"memory_stats": {"usage": 300 * 2**20, "stats": {"inactive_file": 100 * 2**20}}}
    v1 = {"memory_stats": {"usage": 300 * 2**20, "stats": {"total_inactive_file": 50 * 2**20}}}
    assert used_mb(v2) == 200.0 and used_mb(v1) == 250.0
    assert used_mb({"memory_stats": {}}) is None


def test_a_leak_has_a_slope_whose_interval_excludes_zero_and_flat_memory_does_not() -> None:
    rng = random.Random(3)
    leak = [(float(t), 100 + t * 0.05 + rng.gauss(0, 0.5)) for t in range(120)]  # 180 MB/h
    flat = [(float(t), 100 + rng.gauss(0, 0.5)) for t in range(120)]
    s = slope(leak)
    assert s is not None and s.low > 100 and 150 < s.mb_per_hour < 210
    f = slope(flat)
    assert f is not None and f.low < 0 < f.high
    assert slope(flat[:2]) is None


def test_a_short_soak_fails_only_a_leak_that_would_use_up_the_headroom() -> None:
    from releasegate.measure.memory import Slope, memory_check

    flat, warming, leak = Slope(2, -5, 9, 120), Slope(140, 107, 173, 120), Slope(10_000,
                                                                                 9_000, 11_000, 120)
    assert memory_check(flat, 50, short=True, headroom_mb=420, horizon_h=1)[0] is True
    passed, detail = memory_check(warming, 50, short=True, headroom_mb=420, horizon_h=1)
    assert passed is None and "release soak" in detail
    assert memory_check(leak, 50, short=True, headroom_mb=420, horizon_h=1)[0] is False
    # A full-length soak holds the documented slope.
    assert memory_check(warming, 50, short=False, headroom_mb=420, horizon_h=1)[0] is False
    assert memory_check(Slope(60, 40, 80, 900), 50, short=False, headroom_mb=420,
                        horizon_h=1)[0] is None
    assert memory_check(None, 50, short=True, headroom_mb=420, horizon_h=1)[0] is None


def test_cpu_used_by_others_is_the_machines_busy_time_less_the_runs_own() -> None:
    import time

    from releasegate.measure.contention import Contention

    watch = Contention([]).start()
    deadline = time.process_time() + 0.3
    while time.process_time() < deadline:  # this process: the run's own
        pass
    others, ours = watch.share()
    assert ours > 0.0
    assert 0.0 <= others <= 1.0


def test_a_leak_past_the_memory_limit_says_so() -> None:
    from releasegate.measure.memory import Slope, memory_check

    passed, detail = memory_check(Slope(11_000, 10_950, 11_030, 119), 50, short=True,
                                  headroom_mb=-55, horizon_h=1)
    assert passed is False and "already exceeded" in detail
