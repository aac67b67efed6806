"""The application's operations, read from its OpenAPI document, for the probes that walk them.

Only what the probes need: method and path, parameters with their schemas, the JSON request
body's schema, whether the operation declares a security requirement, and whether it answers
HTML. A document that cannot be read is one precise line (:class:`SchemaProblem`), never an
empty list of operations that a caller could mistake for "nothing to test".
"""

from __future__ import annotations

import fnmatch
import json
import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

METHODS = ("get", "put", "post", "delete", "patch")
MAX_DEPTH = 12
"""How deep $refs and nested objects are followed when building an example."""


class SchemaProblem(Exception):
    """The OpenAPI document is unreachable or unusable; the message is one precise line."""


@dataclass(frozen=True)
class Param:
    name: str
    location: str
    """``path``, ``query``, ``header`` or ``cookie``."""
    required: bool
    schema: dict[str, Any]


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    operation_id: str = ""
    params: tuple[Param, ...] = ()
    body: dict[str, Any] | None = None
    """The resolved JSON request-body schema; None when there is none (or it is not JSON)."""
    body_required: bool = False
    secured: bool = False
    """The document names a security requirement for it."""
    html: bool = False
    """A 2xx answer is documented as text/html."""
    statuses: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    def params_in(self, location: str) -> list[Param]:
        return [p for p in self.params if p.location == location]

    def url(self, values: Mapping[str, Any]) -> str:
        """The path with its parameters filled (URL-quoted)."""
        def fill(match: re.Match[str]) -> str:
            return quote(str(values.get(match.group(1), "1")), safe="")
        return re.sub(r"\{([^}/]+)\}", fill, self.path)


def matches(operation: Operation, patterns: Iterable[str]) -> bool:
    """``"METHOD /path/glob"`` patterns; ``*`` as the method matches any."""
    for pattern in patterns:
        method, _, path = pattern.partition(" ")
        if fnmatch.fnmatchcase(operation.method, method.upper()) and fnmatch.fnmatchcase(
                operation.path, path):
            return True
    return False


def fetch(client: httpx.Client, path: str) -> dict[str, Any]:
    """GET the document and parse it; SchemaProblem with one line on any failure."""
    try:
        response = client.get(path)
    except httpx.HTTPError as exc:
        raise SchemaProblem(f"GET {path}: no answer ({type(exc).__name__}: {exc})") from None
    if response.status_code != 200:
        raise SchemaProblem(f"GET {path} answered {response.status_code}, not the OpenAPI "
                            "document")
    return parse_text(response.text, where=f"GET {path}")


def parse_text(text: str, *, where: str) -> dict[str, Any]:
    try:
        document = json.loads(text)
    except ValueError as exc:
        try:
            import yaml

            document = yaml.safe_load(text)
        except Exception:  # any YAML error: the JSON error is the more useful line
            raise SchemaProblem(f"{where}: the OpenAPI document does not parse as JSON or "
                                f"YAML ({exc})") from None
    if not isinstance(document, dict):
        raise SchemaProblem(f"{where}: the OpenAPI document is a {type(document).__name__}, "
                            "not an object")
    version = str(document.get("openapi") or document.get("swagger") or "")
    if not version.startswith("3"):
        raise SchemaProblem(f"{where}: not an OpenAPI 3 document (openapi = "
                            f"{version or 'missing'!r})")
    if not isinstance(document.get("paths"), dict) or not document["paths"]:
        raise SchemaProblem(f"{where}: the OpenAPI document has no paths")
    return document


@dataclass
class Resolver:
    document: dict[str, Any]
    seen: set[str] = field(default_factory=set)

    def resolve(self, node: Any, depth: int = 0) -> Any:
        """``node`` with local $refs replaced, to MAX_DEPTH (deeper references become {})."""
        if depth > MAX_DEPTH:
            return {}
        if isinstance(node, dict):
            if "$ref" in node and isinstance(node["$ref"], str):
                return self.resolve(self.lookup(node["$ref"]), depth + 1)
            return {k: self.resolve(v, depth + 1) for k, v in node.items()}
        if isinstance(node, list):
            return [self.resolve(v, depth + 1) for v in node]
        return node

    def lookup(self, ref: str) -> Any:
        if not ref.startswith("#/"):
            raise SchemaProblem(f"$ref {ref!r} points outside the document (not supported)")
        node: Any = self.document
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or part not in node:
                raise SchemaProblem(f"$ref {ref!r} does not resolve")
            node = node[part]
        return node


def operations(document: dict[str, Any]) -> list[Operation]:
    resolver = Resolver(document)
    default_security = bool(document.get("security"))
    found: list[Operation] = []
    for path, item in document["paths"].items():
        if not isinstance(item, dict):
            raise SchemaProblem(f"paths.{path}: expected an object")
        shared = item.get("parameters") or []
        for method in METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            params = [_param(resolver.resolve(p)) for p in [*shared, *(op.get("parameters") or [])]]
            body, required = _json_body(resolver.resolve(op.get("requestBody") or {}))
            responses = op.get("responses") or {}
            security = op.get("security", None)
            secured = bool(security) if security is not None else default_security
            found.append(Operation(
                method=method.upper(), path=str(path), operation_id=str(op.get("operationId", "")),
                params=tuple(p for p in params if p is not None), body=body,
                body_required=required, secured=secured, html=_answers_html(responses),
                statuses=tuple(str(s) for s in responses),
            ))
    if not found:
        raise SchemaProblem("the OpenAPI document's paths hold no operation")
    return found


def _param(raw: Any) -> Param | None:
    if not isinstance(raw, dict) or "name" not in raw or "in" not in raw:
        return None
    return Param(str(raw["name"]), str(raw["in"]), bool(raw.get("required")),
                 raw.get("schema") or {})


def _json_body(raw: dict[str, Any]) -> tuple[dict[str, Any] | None, bool]:
    content = raw.get("content") or {}
    for media, spec in content.items():
        if "json" in media and isinstance(spec, dict):
            return spec.get("schema") or {}, bool(raw.get("required"))
    return None, False


def _answers_html(responses: dict[str, Any]) -> bool:
    return any(str(status).startswith("2") and "text/html" in ((spec or {}).get("content") or {})
               for status, spec in responses.items() if isinstance(spec, dict))


# -- examples ---------------------------------------------------------------------------------
STRING_GUESSES = ("rg-value", "1", "2026-01-01", "a")


def example(schema: Any, *, depth: int = 0, text: str | None = None) -> Any:
    """A small value the schema accepts: its example, default or first enum value, else one
    built from the type; required object properties only. ``text`` is used for every free
    string (a payload, a marker) where the schema allows it."""
    if not isinstance(schema, dict) or depth > MAX_DEPTH:
        return None
    for key in ("const", "example", "default"):
        if key in schema and schema[key] is not None:
            return schema[key]
    if schema.get("examples") and isinstance(schema["examples"], list):
        return schema["examples"][0]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        options = [o for o in schema.get(key) or [] if _type(o) != "null"]
        if options:
            return example(options[0], depth=depth + 1, text=text)
    if schema.get("allOf"):
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            if isinstance(part, dict):
                merged.setdefault("properties", {}).update(part.get("properties") or {})
                merged.setdefault("required", []).extend(part.get("required") or [])
                merged.setdefault("type", part.get("type"))
        return example(merged, depth=depth + 1, text=text)
    kind = _type(schema)
    if kind == "object" or "properties" in schema:
        props = schema.get("properties") or {}
        return {name: example(props.get(name, {}), depth=depth + 1, text=text)
                for name in schema.get("required") or []}
    if kind == "array":
        count = int(schema.get("minItems") or 0)
        return [example(schema.get("items") or {}, depth=depth + 1, text=text)
                for _ in range(count)]
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum")) or 0
        value = max(1, int(low) + (1 if "exclusiveMinimum" in schema else 0))
        high = schema.get("maximum")
        return min(value, int(high)) if high is not None else value
    if kind == "boolean":
        return True
    if kind == "string" or not kind:
        return string_example(schema, text)
    return None


def string_example(schema: dict[str, Any], text: str | None = None) -> str:
    fmt = schema.get("format")
    formats = {"date": "2026-01-01", "date-time": "2026-01-01T00:00:00Z",
               "email": "rg@example.test", "uuid": "00000000-0000-4000-8000-000000000001",
               "uri": "http://example.test/", "ipv4": "192.0.2.1"}
    candidates = ([text] if text is not None else []) + (
        [formats[fmt]] if fmt in formats else []) + list(STRING_GUESSES)
    for candidate in candidates:
        if accepts_string(schema, candidate):
            return candidate
    pattern = schema.get("pattern")
    if pattern:
        generated = _from_regex(pattern, schema)
        if generated is not None:
            return generated
    low = int(schema.get("minLength") or 1)
    high = schema.get("maxLength")
    return ("x" * low)[: int(high) if high is not None else low]


def accepts_string(schema: dict[str, Any], value: str) -> bool:
    """Whether a string satisfies the schema's own string keywords (length, pattern, enum)."""
    if len(value) < int(schema.get("minLength") or 0):
        return False
    if "maxLength" in schema and len(value) > int(schema["maxLength"]):
        return False
    if schema.get("enum") and value not in schema["enum"]:
        return False
    pattern = schema.get("pattern")
    try:
        return not pattern or re.search(pattern, value) is not None
    except re.error:
        return False


def _from_regex(pattern: str, schema: dict[str, Any]) -> str | None:
    """A string the regex matches that the whole schema accepts, from hypothesis (which
    schemathesis already brings); deterministic, a bounded number of draws."""
    try:
        from hypothesis import HealthCheck, given, settings
        from hypothesis import strategies as st
    except ImportError:  # pragma: no cover - hypothesis is a dependency
        return None
    found: list[str] = []

    @settings(max_examples=50, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(st.from_regex(pattern, fullmatch=False))
    def take(value: str) -> None:
        if not found and accepts_string(schema, value):
            found.append(value)

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            take()
    except Exception:  # an unsupported regex: no example, the caller falls back
        return None
    return found[0] if found else None


def _type(schema: Any) -> str:
    if not isinstance(schema, dict):
        return ""
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "")
    return str(kind or "")


def string_fields(schema: Any, *, depth: int = 0) -> list[str]:
    """Top-level properties of a JSON body that take free text (a string without an enum or
    format), required or not: where stored payloads can go."""
    if not isinstance(schema, dict) or depth > 2:
        return []
    names: list[str] = []
    for name, prop in (schema.get("properties") or {}).items():
        if is_free_text(prop):
            names.append(str(name))
    return names


def is_free_text(schema: Any) -> bool:
    if not isinstance(schema, dict):
        return False
    options = [schema, *(schema.get("anyOf") or []), *(schema.get("oneOf") or [])]
    return any(_type(o) == "string" and not o.get("enum") and not o.get("format")
               and "const" not in o for o in options if isinstance(o, dict))


def text_schema(schema: Any) -> dict[str, Any]:
    """The string branch of a (possibly nullable) free-text schema."""
    if not isinstance(schema, dict):
        return {}
    for option in [schema, *(schema.get("anyOf") or []), *(schema.get("oneOf") or [])]:
        if isinstance(option, dict) and _type(option) == "string":
            return option
    return {}
