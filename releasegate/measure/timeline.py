"""A fault's timeline as a self-contained SVG: latency of every request (dots, red when it
failed), requests and errors per second (bars), the fault window shaded. No plotting library:
the picture is plain text the report can carry and any browser can show.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape

from releasegate.measure.traffic import Sample

WIDTH, HEIGHT = 900, 420
LEFT, RIGHT, TOP, MIDDLE, BOTTOM = 60, 20, 40, 250, 390
COLOURS = {"write": "#1f77b4", "read": "#2ca02c", "probe": "#9467bd"}


@dataclass(frozen=True)
class Window:
    start: float
    stop: float
    label: str


def _x(t: float, t0: float, span: float) -> float:
    return LEFT + (WIDTH - LEFT - RIGHT) * (t - t0) / span


def _latency_y(seconds: float, top_ms: float) -> float:
    """Log scale from 1 ms to ``top_ms``: a stall and a fast request on one picture."""
    value = math.log10(max(seconds * 1000, 1.0)) / math.log10(top_ms)
    return MIDDLE - (MIDDLE - TOP) * min(value, 1.0)


def render_svg(samples: Sequence[Sample], windows: Iterable[Window], *, title: str) -> str:
    if not samples:
        return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="60">'
                f'<text x="10" y="30">{escape(title)}: no requests were made</text></svg>')
    t0 = min(s.started for s in samples)
    t1 = max(s.started + s.seconds for s in samples)
    span = max(t1 - t0, 1.0)
    top_ms = max(1000.0, max(s.seconds for s in samples) * 1000 * 1.2)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
             f'font-family="sans-serif" font-size="11">',
             f'<text x="{LEFT}" y="20" font-size="14">{escape(title)}</text>']
    for window in windows:
        x0, x1 = _x(max(window.start, t0), t0, span), _x(min(window.stop, t1), t0, span)
        parts.append(f'<rect x="{x0:.1f}" y="{TOP}" width="{max(x1 - x0, 1):.1f}" '
                     f'height="{BOTTOM - TOP}" fill="#ff7f0e" fill-opacity="0.18"/>'
                     f'<text x="{x0 + 3:.1f}" y="{TOP + 12}" fill="#b35900">'
                     f'{escape(window.label)}</text>')
    for ms in (1, 10, 100, 1000, 10000, 100000):
        if ms <= top_ms:
            y = _latency_y(ms / 1000, top_ms)
            parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
                         f'stroke="#ddd"/><text x="{LEFT - 5}" y="{y + 4:.1f}" '
                         f'text-anchor="end">{ms:g} ms</text>')
    for s in samples:
        colour = "#d62728" if s.failed else COLOURS.get(s.kind, "#333")
        parts.append(f'<circle cx="{_x(s.started, t0, span):.1f}" '
                     f'cy="{_latency_y(s.seconds, top_ms):.1f}" r="1.8" fill="{colour}"/>')
    parts += _bars(samples, t0, span)
    for second in range(0, int(span) + 1, max(1, int(span) // 10)):
        x = _x(t0 + second, t0, span)
        parts.append(f'<text x="{x:.1f}" y="{BOTTOM + 15}" text-anchor="middle">{second} s'
                     f'</text>')
    parts.append(f'<text x="{LEFT}" y="33" fill="#555">dots: latency (log) — '
                 'blue write, green read, purple probe, red failed; bars: requests/s '
                 '(red: failed)</text></svg>')
    return "\n".join(parts)


def _bars(samples: Sequence[Sample], t0: float, span: float) -> list[str]:
    seconds = int(span) + 1
    total, failed = [0] * seconds, [0] * seconds
    for s in samples:
        bucket = min(int(s.started - t0), seconds - 1)
        total[bucket] += 1
        failed[bucket] += int(s.failed)
    peak = max(max(total), 1)
    width = (WIDTH - LEFT - RIGHT) / seconds
    out = [f'<text x="{LEFT - 5}" y="{MIDDLE + 25}" text-anchor="end">{peak}/s</text>']
    for i, (n, bad) in enumerate(zip(total, failed, strict=True)):
        x = LEFT + i * width
        for count, colour in ((n, "#999"), (bad, "#d62728")):
            if count:
                h = (BOTTOM - MIDDLE - 20) * count / peak
                out.append(f'<rect x="{x:.1f}" y="{BOTTOM - h:.1f}" '
                           f'width="{max(width - 1, 0.5):.1f}" height="{h:.1f}" '
                           f'fill="{colour}"/>')
    return out
