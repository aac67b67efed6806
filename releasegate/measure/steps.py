"""Runs a declarative end-to-end flow (``[[e2e.steps]]``) against the application.

Each request step is one check (its status), plus one per expectation. A step whose status is
wrong, whose capture finds nothing, or whose login is refused stops the flow — later steps
depend on it — and the stop is a failed check of its own, never a silent end.

Placeholders: the run's own (``{secret.x}``, ``{run.id}``), the flow's (``{run.tag}``,
``{uuid}``), ``[e2e] vars`` and captured variables. A value that is exactly one placeholder takes
the variable's JSON type (``"{building_id}"`` stays a number); anything else is text.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import httpx

from releasegate.config.flows import E2ESpec, Step
from releasegate.config.recipes import LoginRecipe
from releasegate.config.templating import render, sole_placeholder
from releasegate.measure.api import Api, LoginFailed, excerpt, login
from releasegate.measure.jsonpath import MISSING, dig
from releasegate.measure.recorder import CheckList


class FlowStopped(Exception):
    """A step the rest of the flow depends on did not succeed."""


class _Text(Mapping[str, str]):
    """Placeholder values as text; ``{uuid}`` is fresh at every use."""

    def __init__(self, fixed: Mapping[str, str], variables: Mapping[str, Any]) -> None:
        self.fixed, self.variables = fixed, variables

    def __getitem__(self, key: str) -> str:
        if key == "uuid":
            return uuid.uuid4().hex
        if key in self.variables:
            value = self.variables[key]
            return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        return self.fixed[key]

    def __iter__(self) -> Iterator[str]:
        yield from {*self.fixed, *self.variables, "uuid"}

    def __len__(self) -> int:
        return len({*self.fixed, *self.variables, "uuid"})


@dataclass
class FlowContext:
    """What a Python ``check`` step receives: the sessions, the variables, the checklist."""

    base_url: str
    checks: CheckList
    vars: dict[str, Any]
    sessions: dict[str, Api]
    admin: Callable[[], Api]

    def session(self, name: str) -> Api:
        if name == "admin":
            return self.admin()
        if name == "anonymous" and name not in self.sessions:
            self.sessions[name] = Api(self.base_url)
        if name not in self.sessions:
            raise KeyError(f"no session {name!r} is open (open: admin, anonymous"
                           f"{''.join(', ' + s for s in self.sessions if s != 'anonymous')})")
        return self.sessions[name]


@dataclass
class FlowRun:
    """Everything the flow did, for evidence (captured values, never ``[e2e] vars``)."""

    tag: str
    stopped: str = ""
    """Why the flow stopped before its end; empty when every step ran."""
    steps: list[dict[str, Any]] = field(default_factory=list)
    captured: dict[str, Any] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)
    """What Python checks returned, by step name."""

    def evidence(self) -> dict[str, Any]:
        return {"run_tag": self.tag, "steps": self.steps, "captured": self.captured,
                **({"check_results": self.results} if self.results else {})}


def load_callable(spec: str, base: Path) -> Callable[..., Any]:
    """``package.module:function``, or ``file.py:function`` relative to the profile."""
    module_name, _, attr = spec.partition(":")
    if module_name.endswith(".py"):
        path = (base / module_name).resolve()
        loader = importlib.util.spec_from_file_location(f"releasegate_user.{path.stem}", path)
        if loader is None or loader.loader is None:
            raise ImportError(f"cannot load {path}")
        module = importlib.util.module_from_spec(loader)
        loader.loader.exec_module(module)
    else:
        module = importlib.import_module(module_name)
    function: Callable[..., Any] = getattr(module, attr)
    return function


def same(got: Any, want: Any) -> bool:
    """JSON equality, where numbers and numeric strings compare as decimals ("35.50" == 35.5)."""
    if got is MISSING:
        return False
    if isinstance(got, bool) or isinstance(want, bool):
        return type(got) is type(want) and got == want
    if got == want:
        return True
    numeric = (int, float, str)
    if isinstance(got, numeric) and isinstance(want, numeric):
        try:
            return Decimal(str(got)) == Decimal(str(want))
        except InvalidOperation:
            return False
    return False


class FlowRunner:
    def __init__(self, spec: E2ESpec, *, base_url: str, values: Mapping[str, str],
                 recipe: LoginRecipe | None, admin: Callable[[], Api], checks: CheckList,
                 base: Path) -> None:
        self.spec, self.recipe, self.base = spec, recipe, base
        self.run = FlowRun(tag=uuid.uuid4().hex[:8])
        self.values = {**values, "run.tag": self.run.tag}
        self.variables: dict[str, Any] = {}
        self.ctx = FlowContext(base_url, checks, self.variables, {}, admin)
        for name, template in spec.vars.items():
            self.variables[name] = self.resolve(template, f"e2e.vars.{name}")

    def resolve(self, value: Any, where: str) -> Any:
        if isinstance(value, str):
            name = sole_placeholder(value)
            if name is not None and name in self.variables:
                return self.variables[name]
            return render(value, _Text(self.values, self.variables), where=where)
        if isinstance(value, dict):
            return {k: self.resolve(v, f"{where}.{k}") for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v, where) for v in value]
        return value

    def execute(self) -> FlowRun:
        checks = self.ctx.checks
        try:
            for number, step in enumerate(self.spec.steps, 1):
                try:
                    self._step(step, f"e2e.steps[{number - 1}]")
                except FlowStopped as exc:
                    left = len(self.spec.steps) - number
                    self.run.stopped = (f"stopped at step {number} ({step.name!r}): {exc}"
                                        + (f"; {left} later step(s) not run" if left else ""))
                    checks.add("the flow runs to the end", False, self.run.stopped)
                    break
        finally:
            for api in self.ctx.sessions.values():
                api.close()
        return self.run

    def _step(self, step: Step, where: str) -> None:
        started = time.monotonic()
        entry: dict[str, Any] = {"name": step.name, "kind": step.kind}
        self.run.steps.append(entry)
        try:
            if step.kind == "login":
                self._login(step, where)
            elif step.kind == "check":
                self._check(step)
            else:
                entry.update(self._request(step, where))
        finally:
            entry["seconds"] = round(time.monotonic() - started, 3)

    def _login(self, step: Step, where: str) -> None:
        username = str(self.resolve(step.login["username"], f"{where}.login.username"))
        password = str(self.resolve(step.login["password"], f"{where}.login.password"))
        try:
            api = login(self.ctx.base_url, self.recipe, self.values, username=username,
                        password=password)
        except LoginFailed as exc:
            self.ctx.checks.add(step.name, False, str(exc))
            raise FlowStopped("the login was refused") from None
        self.ctx.sessions[step.session] = api
        self.ctx.checks.add(step.name, True)

    def _check(self, step: Step) -> None:
        function = load_callable(step.check, self.base)
        try:
            result = function(self.ctx)
        except (FlowStopped, LoginFailed, httpx.HTTPError) as exc:
            self.ctx.checks.add(step.name, False, f"{type(exc).__name__}: {exc}")
            raise FlowStopped(str(exc)) from None
        if result is not None:
            self.run.results[step.name] = result

    def _request(self, step: Step, where: str) -> dict[str, Any]:
        checks = self.ctx.checks
        try:
            api = self.ctx.session(step.session)
        except LoginFailed as exc:
            checks.add(step.name, False, str(exc))
            raise FlowStopped("no session") from None
        path = str(self.resolve(step.path, f"{where}.path"))
        kwargs: dict[str, Any] = {"params": self.resolve(step.params, f"{where}.params")}
        if step.json is not None:
            kwargs["json"] = self.resolve(step.json, f"{where}.json")
        if step.form is not None:
            form = self.resolve(step.form, f"{where}.form")
            kwargs["data"] = {k: v if isinstance(v, str) else json.dumps(v)
                              for k, v in form.items()}
        try:
            response = api.request(step.method, path, **kwargs)
        except httpx.HTTPError as exc:
            checks.add(step.name, False, f"no answer: {type(exc).__name__}: {exc}")
            raise FlowStopped("no answer") from None
        status = response.status_code
        wanted = step.expect_status
        ok = status in wanted if wanted else 200 <= status < 300
        expected = "/".join(map(str, wanted)) if wanted else "2xx"
        checks.add(step.name, ok, f"{status}" if ok else
                   f"{step.method} {path} answered {status}, expected {expected}: "
                   f"{excerpt(response.text)}")
        entry = {"session": step.session, "method": step.method, "path": path, "status": status}
        if not ok:
            raise FlowStopped(f"answered {status}")
        try:
            body: Any = response.json()
        except ValueError:
            body = MISSING
        for var, path_in_body in step.capture.items():
            value = dig(body, path_in_body)
            if not checks.add(f"{step.name}: capture {var} from {path_in_body!r}",
                              value is not MISSING,
                              "" if value is not MISSING else
                              f"nothing there in {excerpt(response.text)}"):
                raise FlowStopped(f"no {path_in_body!r} in the answer")
            self.variables[var] = self.run.captured[var] = value
        for path_in_body, template in step.expect.items():
            want = self.resolve(template, f"{where}.expect.{path_in_body}")
            got = dig(body, path_in_body)
            checks.add(f"{step.name}: {path_in_body or 'the answer'} is {want!r}", same(got, want),
                       f"got {got!r}")
        return entry
