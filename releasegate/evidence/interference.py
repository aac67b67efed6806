"""Container restarts that nobody asked for, held against the measurements taken meanwhile.

A number measured while the application or its database was restarting is not evidence of the
steady state it claims to describe. Disruptive tests stop and kill containers on purpose; any
other interruption (the engine's restart policy after a crash, the harness's own
unhealthy-restarter) turns every criterion measured while it happened into an ``error``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from releasegate.evidence.measurement import Measurement, Outcome


@dataclass(frozen=True)
class Interruption:
    """A container was down from ``down_at`` to ``up_at`` (epoch seconds)."""

    role: str
    down_at: float
    up_at: float
    cause: str
    """What the engine or the harness says happened (events, restart counter, autoheal)."""


@dataclass(frozen=True)
class TestWindow:
    """When one test ran (every phase), the criteria it declares, and whether it disrupts."""

    __test__ = False  # a record about tests, not a test class

    test: str
    start: float
    stop: float
    criteria: tuple[str, ...]
    disruptive: bool

    def overlaps(self, start: float, stop: float) -> bool:
        return self.start <= stop and start <= self.stop


def _clock(moment: float) -> str:
    return dt.datetime.fromtimestamp(moment, dt.timezone.utc).strftime("%H:%M:%S.%f")[:-3]


def caused_by_disruption(event: Interruption, windows: Iterable[TestWindow]) -> bool:
    """A disruptive test was running when the container went down: it did this on purpose."""
    return any(w.disruptive and w.start <= event.down_at <= w.stop for w in windows)


def interference(
    interruptions: Iterable[Interruption], windows: Iterable[TestWindow]
) -> list[Measurement]:
    """An ``error`` part for every criterion measured during an unexplained interruption."""
    window_list = list(windows)
    parts: list[Measurement] = []
    for event in interruptions:
        if caused_by_disruption(event, window_list):
            continue
        for window in window_list:
            if not window.overlaps(event.down_at, event.up_at):
                continue
            reason = (f"the {event.role} container was interrupted from "
                      f"{_clock(event.down_at)} to {_clock(event.up_at)} UTC while "
                      f"{window.test} measured ({event.cause}); no disruptive test caused it, "
                      "so this measurement does not describe a steady system")
            parts += [Measurement(criterion=cid, value=None, samples=0,
                                  source="container engine events and the harness's restart "
                                         "journal", outcome=Outcome.ERROR, reason=reason,
                                  test=window.test, scope=f"{event.role} restart")
                      for cid in window.criteria]
    return parts
