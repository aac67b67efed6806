"""``[authz]``: what the authorization probes need to know about the application.

- ``public``: operations that need no credentials, as ``"METHOD /path"`` globs
  (``"GET /health/*"``). Every other operation must answer 401 without a token, with a
  malformed one and with an expired one; an operation that answers without credentials and
  is not listed is a finding.
- ``admin_only``: operations a low-privilege session must be refused (403).
- ``[authz.setup]``: steps in the ``[e2e]`` format (``vars``, ``[[authz.setup.steps]]``) that open
  the other sessions — a low-privilege user of the profile's own account, the administrator of a
  second account — and create objects of the profile's account. Captured variables named like a
  path parameter (``building_id``) are the objects whose read, update and delete the second
  account replays (BOLA). Setup requests may plant the run's PII (``{pii.email}``,
  ``{pii.phone}``, ``{pii.id_number}``, ``{pii.name}``).
- ``low_privilege`` and ``other_account``: the names of the sessions setup opens for each role.
- ``max_seconds`` (ci / release): the time box of the whole probe.

An expired token comes from ``[commands] expired_token`` (run in the application container, it
prints a correctly signed token whose lifetime is over); without it, that check is reported as
not covered.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from releasegate.config.flows import E2ESpec, parse_e2e
from releasegate.config.reader import Table

EXPIRED_TOKEN_COMMAND = "expired_token"  # noqa: S105 - a command name, not a secret


@dataclass(frozen=True)
class AuthzSettings:
    public: tuple[str, ...] = ()
    admin_only: tuple[str, ...] = ()
    setup: E2ESpec = field(default_factory=E2ESpec)
    low_privilege: str = ""
    other_account: str = ""
    max_seconds: dict[str, float] = field(
        default_factory=lambda: {"ci": 90.0, "release": 600.0})

    def seconds(self, durations: str) -> float:
        return self.max_seconds[durations]


def parse(t: Table) -> AuthzSettings:
    public = tuple(t.str_list("public", []))
    admin_only = tuple(t.str_list("admin_only", []))
    setup = parse_e2e(t.table("setup"), has_login=True)
    low = t.text("low_privilege", "")
    other = t.text("other_account", "")
    budget = t.table("max_seconds")
    seconds = {"ci": 90.0, "release": 600.0}
    if budget is not None:
        seconds = {k: budget.number(k, v) for k, v in seconds.items()}
        budget.finish()
    t.finish()
    for key, patterns in (("public", public), ("admin_only", admin_only)):
        for pattern in patterns:
            method, _, path = pattern.partition(" ")
            if not method or not path.startswith("/"):
                raise t.error(key, f"{pattern!r} is not \"METHOD /path\"",
                              "e.g. \"GET /health/*\" or \"* /api/admin/*\"")
    opened = {s.session for s in setup.steps if s.kind == "login"}
    for key, name in (("low_privilege", low), ("other_account", other)):
        if name and name not in opened:
            raise t.error(key, f"no login step in [authz.setup] opens a session {name!r}",
                          f"sessions opened: {', '.join(sorted(opened)) or 'none'}")
    if any(v <= 0 for v in seconds.values()):
        raise t.error("max_seconds", "must be positive")
    return AuthzSettings(public=public, admin_only=admin_only, setup=setup, low_privilege=low,
                         other_account=other, max_seconds=seconds)
