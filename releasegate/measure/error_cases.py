"""Errors worth provoking on every documented operation, each with the status class it must get.

Like schemathesis's negative checks, the cases come from the OpenAPI document, operation by
operation: no or a bad credential where the operation is protected (401), an object that does not
exist where the path names one (404), a malformed and a wrong-typed body where there is a body,
a wrong-typed query parameter where one is typed (400/422), a method the path does not allow
(405); plus an unknown route (404) and the profile's server-error probe (500). An answer outside
its expected class is a violation as much as a badly shaped body.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
MALFORMED = (400, 422)
MISSING_INTEGER = 987654321
MISSING_UUID = "00000000-0000-4000-8000-00000000dead"
BAD_CREDENTIAL = "releasegate-not-a-credential"


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    spec: Mapping[str, Any]
    protected: bool
    security: tuple[Mapping[str, Any], ...]
    """The security schemes of the operation's first requirement (for a bad credential)."""

    @property
    def name(self) -> str:
        return f"{self.method} {self.template}"

    def parameters(self, where: str) -> list[Mapping[str, Any]]:
        return [p for p in self.spec.get("parameters") or [] if p.get("in") == where]


@dataclass(frozen=True)
class Case:
    kind: str
    operation: str
    method: str
    path: str
    expected: tuple[int, ...]
    auth: str = "valid"
    """``valid`` (the logged-in client), ``none`` or ``bad`` (a credential that is not one)."""
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None

    @property
    def what(self) -> str:
        return f"{self.kind} on {self.operation} → {'/'.join(map(str, self.expected))}"

    def status_problem(self, status: int) -> str:
        """"" when ``status`` is of the expected class, else what is wrong."""
        if status in self.expected:
            return ""
        return f"answered {status}, expected {' or '.join(map(str, self.expected))}"


class Document:
    """An OpenAPI 3 document with its local ``$ref``s resolved on demand."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data

    def resolve(self, node: Any, depth: int = 0) -> Any:
        while isinstance(node, Mapping) and "$ref" in node and depth < 20:
            ref = str(node["$ref"])
            if not ref.startswith("#/"):
                return {}
            target: Any = self.data
            for part in ref[2:].split("/"):
                target = target.get(part.replace("~1", "/").replace("~0", "~"), {}) \
                    if isinstance(target, Mapping) else {}
            node, depth = target, depth + 1
        return node

    @property
    def declares_security(self) -> bool:
        """Whether the document says anything about authentication at all."""
        paths = self.data.get("paths") or {}
        return bool(self.data.get("security") or (self.data.get("components") or {}).get(
            "securitySchemes") or any(isinstance(spec, Mapping) and "security" in spec
                                      for item in paths.values() if isinstance(item, Mapping)
                                      for spec in item.values()))

    def operations(self, *, presume_protected: bool = False,
                   public: Collection[str] = ()) -> list[Operation]:
        """Every documented operation. A document silent on security, for an application with
        a login (``presume_protected``), is taken to protect all but the ``public`` paths."""
        schemes = self.data.get("components", {}).get("securitySchemes") or {}
        default = self.data.get("security")
        presumed = presume_protected and not self.declares_security
        found: list[Operation] = []
        for template, item in (self.data.get("paths") or {}).items():
            item = self.resolve(item)
            shared = item.get("parameters") or []
            for method, spec in item.items():
                if method.upper() not in METHODS or not isinstance(spec, Mapping):
                    continue
                spec = dict(spec)
                own = {(p.get("in"), p.get("name")) for p in map(self.resolve, spec.get(
                    "parameters") or [])}
                spec["parameters"] = [self.resolve(p) for p in spec.get("parameters") or []] + [
                    p for p in map(self.resolve, shared) if (p.get("in"), p.get("name")) not in own]
                requirements = spec.get("security", default) or []
                # An empty requirement ({}) means the operation may also be called anonymously.
                declared = bool(requirements) and all(requirements)
                protected = declared or (presumed and str(template) not in public)
                first = requirements[0] if declared else {}
                found.append(Operation(method.upper(), str(template), spec, protected,
                                       tuple(schemes.get(n) or {} for n in first)))
        return found

    def schema(self, node: Any) -> Mapping[str, Any]:
        """A parameter's or property's schema with ``$ref`` and nullable unions unwrapped."""
        node = self.resolve(node) or {}
        for key in ("anyOf", "oneOf"):
            options = [self.resolve(o) for o in node.get(key) or []]
            concrete = [o for o in options if o.get("type") != "null"]
            if concrete:
                return concrete[0]  # type: ignore[no-any-return]
        return node  # type: ignore[no-any-return]


def _missing_value(schema: Mapping[str, Any], marker: str) -> str:
    """A path value that names no object yet passes the parameter's own validation."""
    if schema.get("enum"):
        return str(schema["enum"][0])
    if schema.get("type") in ("integer", "number"):
        maximum = schema.get("maximum")
        return str(min(MISSING_INTEGER, int(maximum)) if maximum is not None
                   else MISSING_INTEGER)
    if schema.get("format") == "uuid":
        return MISSING_UUID
    return f"releasegate-missing-{marker}"


def concrete_path(doc: Document, op: Operation, marker: str) -> str:
    path = op.template
    for param in op.parameters("path"):
        value = _missing_value(doc.schema(param.get("schema")), marker)
        path = path.replace("{" + str(param.get("name")) + "}", value)
    return path


def _template_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    return re.compile("^" + "".join("[^/]+" if p.startswith("{") else re.escape(p)
                                    for p in parts) + "$")


def _wrong_value(schema: Mapping[str, Any]) -> Any:
    """A value of the wrong JSON type for ``schema`` (an object for scalars, a list for
    objects)."""
    return ["releasegate"] if schema.get("type") == "object" else {"releasegate": [1]}


def _wrong_query_value(schema: Mapping[str, Any]) -> str | None:
    kind = schema.get("type")
    if schema.get("enum"):
        return "releasegate-not-in-enum"
    if kind in ("integer", "number", "boolean"):
        return f"releasegate-not-a-{kind}"
    if kind == "string" and schema.get("format") in ("date", "date-time", "uuid"):
        return f"releasegate-not-a-{schema['format']}"
    return None


def _bad_credential(op: Operation, session: tuple[str, str]) -> tuple[dict[str, str],
                                                                      dict[str, str]]:
    """(headers, query params) carrying a credential that is not one, in the place the
    operation's scheme names — or, where the document names none, where the profile's login
    ``session`` (header, scheme) puts the token."""
    for scheme in op.security:
        kind = str(scheme.get("type", "")).lower()
        if kind == "apikey":
            name, where = str(scheme.get("name", "")), scheme.get("in")
            if where == "query":
                return {}, {name: BAD_CREDENTIAL}
            if where == "cookie":
                return {"Cookie": f"{name}={BAD_CREDENTIAL}"}, {}
            return {name: BAD_CREDENTIAL}, {}
        if kind == "http" and str(scheme.get("scheme", "")).lower() == "basic":
            token = base64.b64encode(f"releasegate:{BAD_CREDENTIAL}".encode()).decode()
            return {"Authorization": f"Basic {token}"}, {}
        if kind in ("http", "oauth2", "openidconnect"):
            return {"Authorization": f"Bearer {BAD_CREDENTIAL}"}, {}
    header, prefix = session
    return {header: f"{prefix} {BAD_CREDENTIAL}".strip()}, {}


def _body_cases(doc: Document, op: Operation, path: str, expected: tuple[int, ...]) -> list[Case]:
    body = doc.resolve(op.spec.get("requestBody"))
    if not isinstance(body, Mapping) or not body.get("content"):
        return []
    content: Mapping[str, Any] = body["content"]
    json_type = next((t for t in content if t == "application/json" or t.endswith("+json")), None)
    def case(kind: str, content_type: str, content: bytes) -> Case:
        return Case(kind, op.name, op.method, path, expected,
                    headers={"Content-Type": content_type}, content=content)

    if json_type:
        cases = [case("malformed JSON body", json_type, b'{"releasegate": ')]
        schema = doc.resolve(content[json_type].get("schema")) or {}
        properties = schema.get("properties") or {}
        wrong: Any = None
        if properties:
            wrong = {name: _wrong_value(doc.schema(s)) for name, s in properties.items()}
        elif schema.get("type") in ("object", "array"):
            wrong = [] if schema.get("type") == "object" else {}
        if wrong is not None:
            cases.append(case("wrong-typed JSON body", json_type, json.dumps(wrong).encode()))
        return cases
    form = next((t for t in content if t in ("application/x-www-form-urlencoded",
                                             "multipart/form-data")), None)
    schema = doc.resolve(content[form].get("schema")) if form else {}
    if form == "application/x-www-form-urlencoded" and schema.get("required"):
        return [case("form body without its required fields", form, b"")]
    return []


def plan(data: Mapping[str, Any], *, marker: str, probe: Mapping[str, Any] | None = None,
         session: tuple[str, str] | None = None, public: Collection[str] = ()) -> list[Case]:
    """Every case for every documented operation, in document order, then the unknown route and
    the profile's server-error probe. ``session`` is the (header, scheme) of the profile's
    login, if it has one; ``public`` are the paths it knows need none (health, login, …)."""
    doc = Document(data)
    ops = doc.operations(presume_protected=session is not None, public=public)
    fallback = session or ("Authorization", "Bearer")
    cases: list[Case] = []
    for op in ops:
        path = concrete_path(doc, op, marker)
        has_object = bool(op.parameters("path"))
        # Where the path names an object the harness does not have, "it does not exist" is as
        # right an answer to bad input as "the input is bad".
        malformed = (*MALFORMED, 404) if has_object else MALFORMED
        if op.protected:
            headers, params = _bad_credential(op, fallback)
            cases.append(Case("no credentials", op.name, op.method, path, (401,), auth="none"))
            cases.append(Case("bad credentials", op.name, op.method, path, (401,), auth="bad",
                              headers=headers, params=params))
        body_required = bool((doc.resolve(op.spec.get("requestBody")) or {}).get("required"))
        if has_object and not body_required:
            cases.append(Case("missing object", op.name, op.method, path, (404,)))
        cases.extend(_body_cases(doc, op, path, malformed))
        for param in op.parameters("query"):
            value = _wrong_query_value(doc.schema(param.get("schema")))
            if value is not None:
                cases.append(Case(f"wrong-typed query parameter {param.get('name')}", op.name,
                                  op.method, path, malformed, params={str(param["name"]): value}))
                break
    cases.extend(_not_allowed(doc, ops, marker))
    cases.append(Case("unknown route", "GET (undocumented)", "GET",
                      f"/releasegate-missing-{marker}", (404,)))
    if probe:
        method, path = str(probe.get("method", "POST")).upper(), str(probe["path"])
        cases.append(Case("provoked server error", f"{method} {path}", method, path, (500,)))
    return cases


def _not_allowed(doc: Document, ops: list[Operation], marker: str) -> list[Case]:
    """One method per documented path that no route matching that path allows."""
    patterns = [(_template_regex(op.template), op.method) for op in ops]
    cases: list[Case] = []
    seen: set[str] = set()
    for op in ops:
        if op.template in seen:
            continue
        seen.add(op.template)
        path = concrete_path(doc, op, marker)
        allowed = {method for pattern, method in patterns if pattern.match(path)}
        method = next((m for m in ("PUT", "PATCH", "DELETE", "POST", "GET") if m not in allowed),
                      None)
        if method is not None:
            cases.append(Case("method not allowed", f"{method} {op.template}", method, path,
                              (405,)))
    return cases
