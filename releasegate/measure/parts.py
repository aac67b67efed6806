"""Recording several parts in one test: every part is written before any verdict stops the test.

``record(...)`` fails the test at once when its part is red, which would leave the test's other
criteria unrecorded (and so in error). ``Parts`` records them all, then fails once, naming
every breach.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from releasegate.measure.recorder import CheckList, CriterionBreached, Recorder


class Parts:
    def __init__(self, record: Recorder) -> None:
        self.record = record
        self.breaches: list[str] = []

    def __call__(self, criterion: str, **kwargs: Any) -> None:
        try:
            self.record(criterion, **kwargs)
        except CriterionBreached as exc:
            self.breaches.append(str(exc))

    def checks(self, criterion: str, checklist: CheckList, **kwargs: Any) -> None:
        try:
            self.record.checks(criterion, checklist, **kwargs)
        except CriterionBreached as exc:
            self.breaches.append(str(exc))

    def measured(self, criterion: str, value: float, checklist: CheckList, **kwargs: Any
                 ) -> None:
        """A numeric criterion whose number only counts when every check held."""
        self(criterion, value=value, samples=1, violations=checklist.violations,
             checks=checklist.as_dicts(), **kwargs)

    def attempt(self, record_part: Callable[[], Any]) -> None:
        """Run a helper that records through ``record`` itself, keeping its breach for later."""
        try:
            record_part()
        except CriterionBreached as exc:
            self.breaches.append(str(exc))

    def insufficient(self, criterion: str, reason: str, *, scope: str = "") -> None:
        self.record.insufficient(criterion, reason, scope=scope)

    def finish(self) -> None:
        if self.breaches:
            raise CriterionBreached("; ".join(self.breaches), pytrace=False)


def announce(config: Any, message: str) -> None:
    """A line for the people watching the run (time per part, say), past pytest's capture."""
    from releasegate.gate import say

    capture = config.pluginmanager.getplugin("capturemanager")
    if capture is None:
        say(message)
        return
    with capture.global_and_fixture_disabled():
        say(message)
