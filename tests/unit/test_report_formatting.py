"""Number formatting: readable, and never rounded across a limit."""

from __future__ import annotations

import pytest

from releasegate.report.formatting import (
    format_delta,
    format_duration,
    format_limit,
    format_timestamp,
    format_value,
    one_line,
)


@pytest.mark.parametrize(("value", "unit", "expected"), [
    (812.345, "ms", "812.3 ms"),
    (0, "violations", "0 violations"),
    (1, "violations", "1 violation"),
    (2.0, "violations", "2 violations"),
    (10000, "clients", "10000 clients"),
    (99.995, "%", "99.995 %"),
    (99.9, "%", "99.9 %"),
    (412.0, "MB", "412.0 MB"),
    (None, "ms", "not measured"),
])
def test_format_value(value: float | None, unit: str, expected: str) -> None:
    assert format_value(value, unit) == expected


def test_never_rounded_across_the_limit() -> None:
    assert format_value(999.96, "ms") == "1000.0 ms"
    assert format_value(999.96, "ms", comparator="<", limit=1000) == "999.96 ms"
    assert format_value(99.99001, "%", comparator=">", limit=99.99) == "99.99001 %"


def test_limits_read_like_people_wrote_them() -> None:
    assert format_limit({"limit": 1000, "unit": "ms", "comparator": "<"}) == "< 1000 ms"
    assert format_limit({"limit": 0, "unit": "violations", "comparator": "<="}) == (
        "≤ 0 violations")
    assert format_limit({"documented_limit": None}, documented=True) == "—"


def test_delta_duration_time_and_one_line() -> None:
    assert format_delta(22.24, "ms") == "+22.2 ms"
    assert format_delta(-1, "violations") == "−1 violation"
    assert format_duration(4.25) == "4.2 s"
    assert format_duration(723.4) == "12 min 03 s"
    assert format_duration(7322) == "2 h 02 min"
    assert format_timestamp("2026-11-21T11:15:03+01:00") == "2026-11-21 10:15:03 UTC"
    assert format_timestamp("2026-11-21T10:15:03Z") == "2026-11-21 10:15:03 UTC"
    assert one_line(["a\nb", "", "c"]) == "a b; c"
    assert one_line("x" * 300, 10) == "x" * 9 + "…"
