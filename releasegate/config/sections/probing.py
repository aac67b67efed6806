"""``[probing]``: whom the fuzzer, the injection and the XSS probes act as.

They write thousands of odd values through every operation, the profile's own user's password
and the other users of its account included. ``[probing.setup]`` (steps in the ``[e2e]`` format)
opens a session of its own for them, typically the administrator of a fresh account, named by
``session``; without it they act as the profile's own user.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from releasegate.config.flows import E2ESpec, parse_e2e
from releasegate.config.reader import Table


@dataclass(frozen=True)
class ProbingSettings:
    setup: E2ESpec = field(default_factory=E2ESpec)
    session: str = ""
    """A session a login step of setup opens; empty: the profile's own login."""


def parse(t: Table) -> ProbingSettings:
    setup = parse_e2e(t.table("setup"), has_login=True)
    session = t.text("session", "")
    t.finish()
    opened = {s.session for s in setup.steps if s.kind == "login"}
    if session and session not in opened:
        raise t.error("session", f"no login step in [probing.setup] opens a session {session!r}",
                      f"sessions opened: {', '.join(sorted(opened)) or 'none'}")
    return ProbingSettings(setup=setup, session=session)
