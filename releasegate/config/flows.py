"""``[e2e]``: an end-to-end business flow declared as steps, so an application needs no code.

A step is one of three kinds: an HTTP request (``path``), a login that opens a named session
(``login``), or a Python check for what steps cannot say (``check = "module:function"``).
Placeholders are checked here, before anything runs: a misspelt variable is a profile error, not
a red flow halfway through a release run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from releasegate.config.reader import Table
from releasegate.config.templating import placeholders, strings_in

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
BUILTIN_SESSIONS = ("admin", "anonymous")
GENERATED = ("run.tag", "uuid")
"""``{run.tag}``: one short random tag per flow run; ``{uuid}``: a fresh UUID at each use."""
_VARIABLE = re.compile(r"[a-z_][a-z0-9_]*")
_CALLABLE = re.compile(r"[^:\s]+:[A-Za-z_][A-Za-z0-9_]*")
_REQUEST_KEYS = ("method", "path", "json", "form", "params", "session", "expect_status",
                 "capture", "expect")


@dataclass(frozen=True)
class Step:
    name: str
    kind: str
    """``request``, ``login`` or ``check``."""
    method: str = "GET"
    path: str = ""
    json: Any = None
    form: dict[str, Any] | None = None
    params: dict[str, Any] = field(default_factory=dict)
    session: str = "admin"
    expect_status: tuple[int, ...] = ()
    """Accepted statuses; empty means any 2xx."""
    capture: dict[str, str] = field(default_factory=dict)
    """Variable name → dotted JSON path in the answer."""
    expect: dict[str, Any] = field(default_factory=dict)
    """Dotted JSON path in the answer → expected value (strings may use placeholders)."""
    login: dict[str, str] = field(default_factory=dict)
    check: str = ""


@dataclass(frozen=True)
class E2ESpec:
    flow: str | None = None
    """A Python flow, ``package.module:function`` (or a bundled flow's name), run after steps."""
    vars: dict[str, str] = field(default_factory=dict)
    steps: tuple[Step, ...] = ()

    @property
    def defined(self) -> bool:
        return bool(self.steps) or self.flow is not None

    @property
    def needs_admin(self) -> bool:
        """Whether running it needs the profile's own login (a check may use any session)."""
        return self.flow is not None or any(
            s.kind == "check" or (s.kind == "request" and s.session == "admin")
            for s in self.steps)


def parse_e2e(t: Table | None, *, has_login: bool) -> E2ESpec:
    if t is None:
        return E2ESpec()
    flow = t.text("flow", None)
    variables = t.str_map("vars")
    raw_steps = t.typed("steps", list, [])
    t.finish()
    if flow is not None and not flow.strip():
        raise t.error("flow", "must not be empty")
    known = set(variables)
    for name, value in variables.items():
        if not _VARIABLE.fullmatch(name):
            raise t.error(f"vars.{name}", "a variable name is lower-case letters, digits and _")
        _check_placeholders(t, f"vars.{name}", value, set())
    sessions = set(BUILTIN_SESSIONS)
    steps: list[Step] = []
    for i, item in enumerate(raw_steps):
        if not isinstance(item, dict):
            raise t.error(f"steps[{i}]", "expected a table ([[e2e.steps]])")
        step_table = Table(item, file=t.file, where=f"{t.key_path('steps')}[{i}]")
        step = _step(step_table, known, sessions, has_login)
        steps.append(step)
        known.update(step.capture)
        if step.kind == "login":
            sessions.add(step.session)
    return E2ESpec(flow=flow, vars=variables, steps=tuple(steps))


def _step(t: Table, known: set[str], sessions: set[str], has_login: bool) -> Step:
    name = t.text("name")
    kinds = [k for k in ("path", "login", "check") if k in t.data]
    if len(kinds) != 1:
        raise t.error("", f"step {name!r} needs exactly one of path (a request), login (open a "
                          f"session) or check (Python), found {kinds or 'none'}")
    if kinds == ["check"]:
        check = t.text("check")
        t.finish()
        if not _CALLABLE.fullmatch(check):
            raise t.error("check", f"{check!r} is not module:function")
        return Step(name=name, kind="check", check=check)
    if kinds == ["login"]:
        return _login_step(t, name, known, sessions, has_login)
    return _request_step(t, name, known, sessions)


def _login_step(t: Table, name: str, known: set[str], sessions: set[str],
                has_login: bool) -> Step:
    credentials = t.table("login")
    assert credentials is not None
    login = {"username": credentials.text("username"), "password": credentials.text("password")}
    credentials.finish()
    session = t.text("session")
    t.finish()
    if not has_login:
        raise t.error("login", "a login step uses the profile's [login] recipe, and there is none",
                      "add [login] path = ... (see README)")
    if session in sessions:
        raise t.error("session", f"{session!r} is already a session",
                      "give the session this login opens a new name")
    for key, value in login.items():
        _check_placeholders(t, f"login.{key}", value, known)
    return Step(name=name, kind="login", session=session, login=login)


def _request_step(t: Table, name: str, known: set[str], sessions: set[str]) -> Step:
    path = t.text("path")
    if not path.startswith("/"):
        raise t.error("path", f"{path!r} must start with '/'")
    if "json" in t.data and "form" in t.data:
        raise t.error("form", "give json or form, not both")
    step = Step(
        name=name, kind="request", method=t.choice("method", METHODS, "GET"), path=path,
        json=t.value("json", None), form=t.typed("form", dict, None),
        params=dict(t.typed("params", dict, {})), session=t.text("session", "admin"),
        expect_status=_statuses(t), capture=t.str_map("capture"),
        expect=dict(t.typed("expect", dict, {})),
    )
    t.finish()
    if step.session not in sessions:
        raise t.error("session", f"no session {step.session!r} is open at this step",
                      f"open sessions: {', '.join(sorted(sessions))} (a login step opens one)")
    for key in ("form", "params"):
        nested = [k for k, v in (getattr(step, key) or {}).items() if isinstance(v, (dict, list))]
        if nested:
            raise t.error(f"{key}.{nested[0]}", "form fields and query parameters are plain "
                                                "values", "send nested data as json = {...}")
    for key in ("path", "json", "form", "params", "expect"):
        _check_placeholders(t, key, getattr(step, key), known)
    for var in step.capture:
        if not _VARIABLE.fullmatch(var):
            raise t.error(f"capture.{var}", "a variable name is lower-case letters, digits and _")
    return step


def _statuses(t: Table) -> tuple[int, ...]:
    value: int | list[Any] = t.typed("expect_status", (int, list), [])
    values = value if isinstance(value, list) else [value]
    if not all(isinstance(v, int) and not isinstance(v, bool) and 100 <= v <= 599
               for v in values):
        raise t.error("expect_status", f"{value!r} is not an HTTP status or a list of them")
    return tuple(values)


def _check_placeholders(t: Table, key: str, value: Any, known: set[str]) -> None:
    """Bare names must be defined earlier; dotted names (secret.x, run.id) are the run's own."""
    for text in strings_in(value):
        for name in placeholders(text):
            if "." in name or name in GENERATED or name in known:
                continue
            raise t.error(key, f"{{{name}}} is neither captured by an earlier step nor in "
                               "[e2e] vars",
                          f"defined so far: {', '.join(sorted(known)) or 'nothing'}; generated: "
                          "{run.tag}, {uuid}; use {{ and }} for literal braces")

