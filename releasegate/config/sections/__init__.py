"""Profile sections owned by one suite each (``[load]``, ``[security]``, ``[backup]``, …).

A suite that needs settings adds a module here with a ``parse(table: Table) -> Settings``
function (a frozen dataclass with documented defaults, strict about unknown keys through the
reader), and one line to ``PARSERS``. The profile parses every registered section — present or
not, so defaults are always a parsed value — and ``Profile.section(name)`` hands it to the suite.
A top-level table of the profile that is neither a core key nor a registered section is an
unknown key, as everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from releasegate.config.reader import Table
from releasegate.config.sections import (
    authz,
    backup,
    compat,
    fuzzing,
    injection,
    load,
    probing,
    reliability,
    security,
)

Parser = Callable[[Table], Any]

PARSERS: dict[str, Parser] = {
    "authz": authz.parse,
    "backup": backup.parse,
    "compat": compat.parse,
    "fuzzing": fuzzing.parse,
    "injection": injection.parse,
    "load": load.parse,
    "probing": probing.parse,
    "reliability": reliability.parse,
    "security": security.parse,
}
"""Section name → parser. Keep one line per suite, alphabetical."""
