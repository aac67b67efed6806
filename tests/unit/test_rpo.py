"""The recovery point, write by write: a restored backup holds every canary acknowledged before
its snapshot, none sent after it, and a prefix of those in between."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from releasegate.measure.ledger import FAIL, OK, UNKNOWN, Write
from releasegate.measure.rpo import check_canaries

LOWER, UPPER = 10.0, 12.0


def canaries(n: int = 40, outcome: str = OK) -> list[Write]:
    """One every 0.5 s from t=1, each answered 0.1 s after it was sent."""
    return [Write(f"c-{i:03d}", 1.0 + i * 0.5, 1.1 + i * 0.5, outcome) for i in range(n)]


def present(writes: list[Write], upto: float) -> dict[str, int]:
    return {w.id: 1 for w in writes if w.sent_at < upto}


def test_a_consistent_snapshot_passes() -> None:
    writes = canaries()
    check = check_canaries(writes, present(writes, 11.0), lower=LOWER, upper=UPPER)
    assert check.problems == [] and check.present == 20


def test_an_acknowledged_canary_missing_before_the_snapshot_is_lost() -> None:
    writes = canaries()
    restored = present(writes, 11.0)
    del restored["c-005"]
    problems = check_canaries(writes, restored, lower=LOWER, upper=UPPER).problems
    assert any("acknowledged before the snapshot are missing: c-005" in p for p in problems)


def test_a_canary_sent_after_the_snapshot_must_not_be_there() -> None:
    writes = canaries()
    problems = check_canaries(writes, present(writes, 14.0), lower=LOWER, upper=UPPER).problems
    assert any("sent after the snapshot are in the backup" in p for p in problems)


def test_a_gap_inside_the_window_is_not_a_snapshot() -> None:
    writes = canaries()
    restored = present(writes, 11.9)
    del restored["c-019"]  # sent at 10.5, inside the window, before the last one present
    problems = check_canaries(writes, restored, lower=LOWER, upper=UPPER).problems
    assert any("not a consistent snapshot" in p for p in problems)


def test_failed_and_foreign_and_doubled_ids_are_named() -> None:
    writes = canaries(outcome=FAIL)[:2] + canaries()[2:]
    restored = {**present(writes, 11.0), "c-999": 1, "c-010": 2}
    problems = " | ".join(check_canaries(writes, restored, lower=LOWER, upper=UPPER).problems)
    assert "certainly failed" in problems and "never written" in problems
    assert "more than once" in problems


def test_without_canaries_on_both_sides_the_point_is_unknown() -> None:
    late = [Write("c-1", 20.0, 20.1, OK)]
    problems = check_canaries(late, {}, lower=LOWER, upper=UPPER).problems
    assert any("no canary was acknowledged before" in p for p in problems)


@given(st.floats(min_value=LOWER, max_value=UPPER), st.lists(st.sampled_from([OK, UNKNOWN]),
                                                            min_size=40, max_size=40))
def test_any_cut_inside_the_window_is_accepted(cut: float, outcomes: list[str]) -> None:
    writes = [Write(w.id, w.sent_at, w.done_at, o) for w, o in zip(canaries(), outcomes,
                                                                    strict=True)]
    writes[0] = Write("c-000", 1.0, 1.1, OK)
    writes[-1] = Write("c-039", 20.5, 20.6, OK)
    restored = {w.id: 1 for w in writes if w.done_at <= cut and (w.outcome == OK or
                                                                  hash(w.id) % 2)}
    assert check_canaries(writes, restored, lower=LOWER, upper=UPPER).problems == []
