"""HDR histograms of latencies: 1 µs to 60 s at 3 significant digits, stored in microseconds.

Histograms travel between processes in HdrHistogram's own compressed encoding and are merged by
adding counts, so a merged histogram is exactly the one every sample would have given: no
percentile is ever computed from other percentiles or from a rounded statistic.
"""

from __future__ import annotations

from collections.abc import Iterable

from hdrh.histogram import HdrHistogram

LOWEST_US = 1
HIGHEST_US = 60_000_000
SIGNIFICANT_DIGITS = 3
PERCENTILES = (50.0, 90.0, 95.0, 99.0, 99.9)


def new() -> HdrHistogram:
    return HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_DIGITS)


def record_seconds(histogram: HdrHistogram, seconds: float) -> None:
    """Record a duration; values outside the range are clamped to it (never dropped)."""
    us = round(seconds * 1_000_000)
    histogram.record_value(min(max(us, LOWEST_US), HIGHEST_US))


def encode(histogram: HdrHistogram) -> str:
    return str(histogram.encode().decode("ascii"))


def decode(text: str) -> HdrHistogram:
    return HdrHistogram.decode(text.encode("ascii"))


def merge(encoded: Iterable[str]) -> HdrHistogram:
    total = new()
    for text in encoded:
        if text:
            total.decode_and_add(text.encode("ascii"))
    return total


def percentile_ms(histogram: HdrHistogram, percentile: float) -> float | None:
    """The value at ``percentile`` in milliseconds; None for an empty histogram."""
    if histogram.get_total_count() == 0:
        return None
    return float(histogram.get_value_at_percentile(percentile)) / 1000.0


def summary(histogram: HdrHistogram) -> dict[str, float | int | None]:
    """count, mean, p50…p99.9 and max in milliseconds (None where nothing was recorded)."""
    count = int(histogram.get_total_count())
    out: dict[str, float | int | None] = {"count": count}
    out["mean_ms"] = float(histogram.get_mean_value()) / 1000.0 if count else None
    for p in PERCENTILES:
        out[f"p{p:g}_ms"] = percentile_ms(histogram, p)
    out["max_ms"] = float(histogram.get_max_value()) / 1000.0 if count else None
    return out
