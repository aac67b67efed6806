"""The probes' view of an OpenAPI document: operations, examples, and precise refusals."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from releasegate.measure.security.openapi import (
    Operation,
    Resolver,
    SchemaProblem,
    accepts_string,
    example,
    matches,
    operations,
    parse_text,
    string_fields,
)

DOC: dict[str, Any] = {
    "openapi": "3.1.0",
    "paths": {
        "/items/{item_id}": {
            "parameters": [{"name": "item_id", "in": "path", "required": True,
                            "schema": {"type": "integer"}}],
            "get": {"security": [{"bearer": []}], "responses": {"200": {}}},
            "patch": {"requestBody": {"content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Item"}}}},
                "responses": {"200": {}}},
        },
        "/page": {"get": {"responses": {"200": {"content": {"text/html": {}}}}}},
    },
    "components": {"schemas": {"Item": {
        "type": "object", "required": ["name", "kind"],
        "properties": {"name": {"type": "string", "maxLength": 5},
                       "kind": {"enum": ["a", "b"]},
                       "note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                       "price": {"type": "string", "pattern": r"^\d+\.\d\d$"}}}}},
}


def test_operations_carry_parameters_bodies_security_and_html() -> None:
    ops = {op.label: op for op in operations(DOC)}
    assert set(ops) == {"GET /items/{item_id}", "PATCH /items/{item_id}", "GET /page"}
    assert ops["GET /items/{item_id}"].secured and not ops["PATCH /items/{item_id}"].secured
    assert ops["GET /page"].html
    body = Resolver(DOC).resolve(ops["PATCH /items/{item_id}"].body)
    assert example(body) == {"name": "1", "kind": "a"}
    assert string_fields(body) == ["name", "note", "price"]
    assert ops["GET /items/{item_id}"].url({"item_id": "a/b"}) == "/items/a%2Fb"


@pytest.mark.parametrize(("text", "message"), [
    ("{not json", "does not parse as JSON or YAML"),
    ("[1, 2]", "is a list, not an object"),
    ('{"swagger": "2.0", "paths": {"/a": {}}}', "not an OpenAPI 3 document"),
    ('{"openapi": "3.0.0", "paths": {}}', "has no paths"),
])
def test_a_bad_document_is_one_precise_line(text: str, message: str) -> None:
    with pytest.raises(SchemaProblem, match=re.escape(message)) as info:
        parse_text(text, where="GET /openapi.json")
    assert "\n" not in str(info.value) and str(info.value).startswith("GET /openapi.json")


def test_a_reference_that_does_not_resolve_is_a_problem_not_a_crash() -> None:
    doc = json.loads(json.dumps(DOC))
    doc["paths"]["/items/{item_id}"]["patch"]["requestBody"]["content"][
        "application/json"]["schema"] = {"$ref": "#/components/schemas/Missing"}
    with pytest.raises(SchemaProblem, match="does not resolve"):
        Resolver(doc).resolve(operations(doc)[1].body)


def test_patterns_are_method_and_path_globs() -> None:
    op = Operation("DELETE", "/api/users/{user_id}")
    assert matches(op, ["DELETE /api/*"]) and matches(op, ["* /api/users/*"])
    assert not matches(op, ["GET /api/*", "DELETE /health/*"])


# Parametrized, not @given: the example builder draws from hypothesis itself.
@pytest.mark.parametrize("pattern", [r"^\d{4}$", r"^[a-z]+-[0-9]{2}$", r"^[A-Z]{3}\d$",
                                     r"^(0|[1-9]\d{0,9})(\.\d{1,2})?$", r"^[A-Za-z0-9_.@-]+$"])
@pytest.mark.parametrize("min_length", [0, 3])
def test_string_examples_satisfy_their_schema(pattern: str, min_length: int) -> None:
    schema = {"type": "string", "pattern": pattern, "minLength": min_length}
    assert accepts_string(schema, example(schema))


def test_numbers_respect_their_bounds() -> None:
    assert example({"type": "integer", "minimum": 5, "maximum": 9}) == 5
    assert example({"type": "integer", "exclusiveMinimum": 0}) == 1
    assert example({"type": "number", "maximum": 0}) == 0
