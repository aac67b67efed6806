"""``[injection]``: SQL-injection and XSS probing budgets and inputs.

``ci`` / ``release`` = ``{ max_requests = N, max_seconds = S }``: the request count and time box
of each probe (SQL, XSS). ``payloads``: a folder of payload dictionaries (``sql.txt``,
``xss.txt``; default: ``security/payloads`` of this repository). ``sleep_s``: the delay a time-based
payload asks the database for (default 3 s; a finding needs the answer to exceed the baseline
mean + 7σ and this delay's half). ``html_pages``: HTML pages to load in the browser besides those
the OpenAPI document declares (``text/html`` answers). ``browser``: the Chromium binary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from releasegate.config.reader import Table


@dataclass(frozen=True)
class ProbeBudget:
    max_requests: int
    max_seconds: float


DEFAULT_BUDGETS = {"ci": ProbeBudget(4000, 150.0), "release": ProbeBudget(20000, 900.0)}


@dataclass(frozen=True)
class InjectionSettings:
    budgets: dict[str, ProbeBudget] = field(default_factory=lambda: dict(DEFAULT_BUDGETS))
    payloads: Path | None = None
    sleep_s: float = 3.0
    html_pages: tuple[str, ...] = ()
    browser: str = "/usr/bin/chromium"

    def budget(self, durations: str) -> ProbeBudget:
        return self.budgets[durations]


def parse(t: Table) -> InjectionSettings:
    budgets = {}
    for name, default in DEFAULT_BUDGETS.items():
        table = t.table(name)
        if table is None:
            budgets[name] = default
            continue
        budget = ProbeBudget(table.integer("max_requests", default.max_requests),
                             table.number("max_seconds", default.max_seconds))
        table.finish()
        if budget.max_requests < 1 or budget.max_seconds <= 0:
            raise t.error(name, "max_requests and max_seconds must be positive")
        budgets[name] = budget
    payloads = t.text("payloads", None)
    sleep_s = t.number("sleep_s", 3.0)
    pages = tuple(t.str_list("html_pages", []))
    browser = t.text("browser", "/usr/bin/chromium")
    t.finish()
    if not 0.5 <= sleep_s <= 30:
        raise t.error("sleep_s", f"{sleep_s} is outside 0.5–30 seconds")
    for page in pages:
        if not page.startswith("/"):
            raise t.error("html_pages", f"{page!r} must start with '/'")
    return InjectionSettings(
        budgets=budgets, payloads=(t.file.parent / payloads).resolve() if payloads else None,
        sleep_s=sleep_s, html_pages=pages, browser=browser)
