"""The server's own account of a request's duration, from a ``Server-Timing``-style header."""

from __future__ import annotations

import re


def server_duration_ms(header: str | None, metric: str) -> float | None:
    """``dur`` of ``metric`` in a header such as ``app;dur=12.5, db-wait;dur=0.3`` (W3C Server
    Timing); None when the header or the metric is absent or malformed."""
    if not header:
        return None
    for entry in header.split(","):
        parts = [p.strip() for p in entry.split(";")]
        if parts[0] != metric:
            continue
        for param in parts[1:]:
            match = re.fullmatch(r"dur=\"?([0-9]+(?:\.[0-9]+)?)\"?", param)
            if match:
                return float(match.group(1))
    return None
