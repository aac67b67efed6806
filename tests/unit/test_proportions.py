"""A success rate seen in too few requests can prove a breach, never a pass."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from releasegate.criteria.catalog import BY_ID
from releasegate.criteria.engine import judge
from releasegate.criteria.proportions import breach_shown, tail_probability
from releasegate.criteria.thresholds import Threshold
from releasegate.criteria.verdict import Verdict
from releasegate.evidence.measurement import Measurement


def test_nine_errors_in_a_ci_run_prove_the_breach_one_does_not() -> None:
    assert breach_shown(9, 1800, 99.99)
    assert breach_shown(2, 1800, 99.99)          # 1.4 % likely at a true 99.99 %
    assert not breach_shown(1, 1800, 99.99)      # 16 % likely: could be bad luck
    assert not breach_shown(0, 1800, 99.99)
    assert not breach_shown(3, 30000, 99.99)     # exactly what a 99.99 % service gives


def test_tail_probability_matches_the_closed_forms() -> None:
    assert abs(tail_probability(1, 1800, 1e-4) - (1 - (1 - 1e-4) ** 1800)) < 1e-12
    assert tail_probability(0, 10, 0.3) == 1.0
    assert tail_probability(11, 10, 0.3) == 0.0
    assert abs(tail_probability(10, 10, 0.5) - 0.5 ** 10) < 1e-15


@given(trials=st.integers(1, 5000), share=st.floats(0.0, 1.0),
       limit=st.sampled_from([99.99, 99.9, 99.0, 95.0]))
def test_a_failure_share_within_the_limit_never_shows_a_breach(trials: int, share: float,
                                                                limit: float) -> None:
    allowed = 1 - limit / 100
    failures = min(trials, int(share * trials * allowed))  # at most the allowed share
    assert not breach_shown(failures, trials, limit)


@given(trials=st.integers(1, 3000), failures=st.integers(0, 3000))
def test_more_failures_never_make_a_breach_less_certain(trials: int, failures: int) -> None:
    failures = min(failures, trials - 1) if trials > 1 else 0
    assert tail_probability(failures + 1, trials, 1e-3) <= tail_probability(failures, trials,
                                                                            1e-3) + 1e-12


def test_a_shown_violation_fails_even_below_the_sample_minimum() -> None:
    threshold = Threshold.documented(BY_ID["REL-SUCCESS-RATE"])
    few = Measurement("REL-SUCCESS-RATE", value=99.5, samples=1800, source="t",
                      violations=["9 failed of 1800 requests"])
    assert judge(threshold, [few], date(2026, 11, 29)).verdict is Verdict.FAIL
    quiet = Measurement("REL-SUCCESS-RATE", value=100.0, samples=1800, source="t")
    assert judge(threshold, [quiet], date(2026, 11, 29)).verdict is Verdict.INSUFFICIENT
