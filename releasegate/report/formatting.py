"""How numbers, limits, verdicts and times read in every report format.

One module so that summary.md, JUnit and Allure never disagree about what a value looks like.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from releasegate.criteria.catalog import VIOLATIONS, Comparator

VERDICT_LABEL = {
    "pass": "PASS", "fail": "FAIL", "error": "ERROR", "insufficient": "INSUFFICIENT",
    "waived": "WAIVED", "not_run": "NOT RUN",
}
VERDICT_ICON = {
    "pass": "✅", "fail": "❌", "error": "💥", "insufficient": "⚠️", "waived": "🟡",
    "not_run": "⏭️",
}
_SYMBOL = {"<": "<", "<=": "≤", ">": ">", ">=": "≥"}

# Decimal places per unit. Latencies to a tenth of a millisecond, ratios to a thousandth of a
# percent (the success-rate limit is 99.99 %); counts are whole numbers.
_FIXED_DECIMALS = {"ms": 1, "MB": 1, "s": 1, "req/s": 1}
_TRIMMED_DECIMALS = {"%": 3}
_COUNT_UNITS = frozenset({VIOLATIONS, "clients", "requests", "operations", "writes"})
_MAX_DECIMALS = 6


def verdict_label(verdict: str) -> str:
    return VERDICT_LABEL.get(verdict, verdict.upper())


def verdict_badge(verdict: str) -> str:
    icon = VERDICT_ICON.get(verdict, "")
    return f"{icon} {verdict_label(verdict)}".strip()


def comparator_symbol(comparator: str) -> str:
    return _SYMBOL.get(comparator, comparator)


def _number(value: float, unit: str, decimals: int) -> str:
    if unit in _TRIMMED_DECIMALS:
        text = f"{value:.{decimals}f}".rstrip("0").rstrip(".")
        return text or "0"
    return f"{value:.{decimals}f}"


def _default_decimals(value: float, unit: str) -> int:
    if unit in _FIXED_DECIMALS:
        return _FIXED_DECIMALS[unit]
    if unit in _TRIMMED_DECIMALS:
        return _TRIMMED_DECIMALS[unit]
    if float(value).is_integer():
        return 0
    return 1 if unit in _COUNT_UNITS else 2


def format_value(
    value: float | None,
    unit: str,
    *,
    comparator: str | None = None,
    limit: float | None = None,
    trim: bool = False,
) -> str:
    """A value with its unit; with a comparator and limit, never rounded across the limit.

    Rounding 999.96 ms to "1000.0 ms" next to a "< 1000 ms" limit would make a pass look like a
    failure (Locust's rounded percentiles do exactly this), so precision grows until the shown
    value is on the same side of the limit as the measured one.
    """
    if value is None:
        return "not measured"
    if isinstance(value, float) and not math.isfinite(value):
        return f"{value} {unit}".strip()
    if unit == VIOLATIONS and float(value).is_integer():
        count = int(value)
        return f"{count} violation" if count == 1 else f"{count} violations"
    decimals = 0 if trim and float(value).is_integer() else _default_decimals(value, unit)
    cmp = _comparator(comparator)
    if cmp is not None and limit is not None:
        truth = cmp.holds(value, limit)
        while decimals < _MAX_DECIMALS and cmp.holds(round(value, decimals), limit) != truth:
            decimals += 1
    text = _number(value, unit, decimals)
    if not unit:
        return text
    return f"{text} %" if unit == "%" else f"{text} {unit}"


def _comparator(text: str | None) -> Comparator | None:
    try:
        return Comparator(text) if text else None
    except ValueError:
        return None


def format_measured(record: Mapping[str, Any]) -> str:
    return format_value(
        record.get("measured"), str(record.get("unit", "")),
        comparator=record.get("comparator"), limit=record.get("limit"),
    )


def format_limit(record: Mapping[str, Any], *, documented: bool = False) -> str:
    limit = record.get("documented_limit") if documented else record.get("limit")
    if limit is None:
        return "—"
    unit = str(record.get("unit", ""))
    symbol = comparator_symbol(str(record.get("comparator", "")))
    # Limits are set by people: "< 1000 ms", not "< 1000.0 ms".
    shown = format_value(limit, unit, trim=True)
    return f"{symbol} {shown}".strip()


def format_samples(record: Mapping[str, Any]) -> str:
    return f"{int(record.get('samples') or 0)} (min {int(record.get('min_samples') or 0)})"


def format_delta(delta: float, unit: str) -> str:
    sign = "+" if delta > 0 else "−" if delta < 0 else "±"
    return f"{sign}{format_value(abs(delta), unit)}"


def one_line(reasons: list[str] | str, limit: int = 240) -> str:
    """Reasons as one line: a release manager reads a sentence, not a log."""
    text = reasons if isinstance(reasons, str) else "; ".join(r for r in reasons if r)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def parse_timestamp(text: object) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    # Python 3.10's fromisoformat does not accept a trailing "Z".
    candidate = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    try:
        moment = datetime.fromisoformat(candidate)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def format_timestamp(text: object) -> str:
    moment = parse_timestamp(text)
    if moment is None:
        return str(text) if text else "unknown time"
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def format_duration(seconds: object) -> str:
    if not isinstance(seconds, (int, float)) or seconds < 0:
        return "unknown"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
