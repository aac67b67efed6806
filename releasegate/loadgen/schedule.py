"""The open model's timetable: when each request of one worker *should* be sent.

A worker sends its share of the arrival rate on a fixed timetable, whether or not earlier
requests have been answered, and every latency is measured from the intended send time. A
client that waits for each answer (a closed loop) stops measuring exactly when the server stalls
— coordinated omission; this timetable is what makes the stall visible.
"""

from __future__ import annotations

from collections.abc import Sequence

from releasegate.loadgen.plan import Stage


class Schedule:
    """Intended send times (on the worker's monotonic clock) of one worker's share.

    ``share`` is the worker's fraction of every stage's rate (1/N for N workers); ``phase`` in
    [0, 1) staggers the workers so that N of them together send evenly, not in bursts.
    """

    def __init__(self, stages: Sequence[Stage], *, start: float, share: float = 1.0,
                 phase: float = 0.0) -> None:
        if not 0.0 < share <= 1.0 or not 0.0 <= phase < 1.0:
            raise ValueError(f"share {share} must be in (0, 1] and phase {phase} in [0, 1)")
        self._bounds: list[tuple[float, float, float]] = []  # (start, end, interval)
        t = start
        for stage in stages:
            rate = stage.rate * share
            if rate <= 0:
                raise ValueError("an open-model stage needs a positive rate")
            self._bounds.append((t, t + stage.seconds, 1.0 / rate))
            t += stage.seconds
        self.start = start
        self.end = t
        self._stage = 0
        self._aborted = False
        self._k = 0
        self._phase = phase
        self.issued = 0

    def stop_at(self, when: float) -> None:
        """End the timetable early (an abort): nothing more is sent, not even the sends that
        are already due and wait for a free client; they are counted as dropped."""
        self.end = min(self.end, when)
        self._aborted = True

    def stage_at(self, when: float) -> int:
        for i, (begin, end, _) in enumerate(self._bounds):
            if begin <= when < end:
                return i
        return len(self._bounds) - 1

    def take(self) -> float | None:
        """The next intended send time, or None once the timetable is over."""
        return None if self._aborted else self._advance()

    def _advance(self) -> float | None:
        while self._stage < len(self._bounds):
            begin, end, interval = self._bounds[self._stage]
            # From the stage's start by index, not by adding intervals: no drift over an hour.
            when = begin + (self._phase + self._k) * interval
            if when >= end - 1e-9:
                self._stage += 1
                self._k = 0
                continue
            if when >= self.end:
                self._stage = len(self._bounds)
                return None
            self._k += 1
            self.issued += 1
            return when
        return None

    def drain(self) -> int:
        """Count (and consume) the intended sends no client took before the end: dropped."""
        count = 0
        while self._advance() is not None:
            count += 1
        return count
