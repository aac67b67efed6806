"""``[fuzzing]``: the schemathesis budget, by ``--durations`` (``ci`` / ``release``).

``ci = { max_examples = N, max_seconds = S }`` and the same for ``release``: test cases per
operation and the time box of the whole run (its phases share it). ``seed`` fixes the seed (a
fresh one is drawn and recorded otherwise). ``exclude`` names operations not to fuzz, each with
its reason (``{ "POST /api/x" = "why" }``); the profile's ``[probes.server_error]`` is never
fuzzed, as it fails on purpose. Excluded operations are listed in the evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from releasegate.config.reader import Table


@dataclass(frozen=True)
class FuzzBudget:
    max_examples: int
    max_seconds: int


DEFAULT_BUDGETS = {"ci": FuzzBudget(10, 150), "release": FuzzBudget(100, 1500)}


@dataclass(frozen=True)
class FuzzingSettings:
    budgets: dict[str, FuzzBudget] = field(default_factory=lambda: dict(DEFAULT_BUDGETS))
    seed: int | None = None
    exclude: dict[str, str] = field(default_factory=dict)
    """``"METHOD /path"`` → why it is not fuzzed."""

    def budget(self, durations: str) -> FuzzBudget:
        return self.budgets[durations]


def parse(t: Table) -> FuzzingSettings:
    budgets = {}
    for name, default in DEFAULT_BUDGETS.items():
        table = t.table(name)
        if table is None:
            budgets[name] = default
            continue
        budget = FuzzBudget(table.integer("max_examples", default.max_examples),
                            table.integer("max_seconds", default.max_seconds))
        table.finish()
        if budget.max_examples < 1 or budget.max_seconds < 1:
            raise t.error(name, "max_examples and max_seconds must be at least 1")
        budgets[name] = budget
    seed = t.integer("seed", None)
    exclude = t.str_map("exclude")
    t.finish()
    for pattern, reason in exclude.items():
        if " /" not in pattern:
            raise t.error(f"exclude.{pattern}", "the key is \"METHOD /path\"")
        if len(reason.strip()) < 10:
            raise t.error(f"exclude.{pattern}", "say why it is not fuzzed (10+ characters)")
    return FuzzingSettings(budgets=budgets, seed=seed, exclude=exclude)
