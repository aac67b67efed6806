"""FUNC-ERROR-HANDLING provokes errors on every documented operation, each with the status class
it calls for — not only on the first GET."""

from __future__ import annotations

import json
from typing import Any

import pytest

from releasegate.measure.error_cases import Case, Document, plan

PROBE = {"method": "POST", "path": "/api/diagnostics/error"}
ID_PARAM = {"name": "item_id", "in": "path", "required": True, "schema": {"type": "integer"}}
DOC: dict[str, Any] = {
    "openapi": "3.1.0",
    "components": {
        "securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
                            "bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {"Item": {"type": "object", "required": ["name"], "properties": {
            "name": {"type": "string"}, "count": {"anyOf": [{"type": "integer"},
                                                            {"type": "null"}]},
            "tags": {"type": "object"}}}},
    },
    "security": [{"bearer": []}],
    "paths": {
        "/health": {"get": {"security": []}},
        "/login": {"post": {"security": [], "requestBody": {"required": True, "content": {
            "application/x-www-form-urlencoded": {"schema": {
                "type": "object", "required": ["username", "password"]}}}}}},
        "/items": {
            "get": {"parameters": [
                {"name": "q", "in": "query", "schema": {"type": "string"}},
                {"name": "page", "in": "query", "schema": {"anyOf": [{"type": "integer"},
                                                                     {"type": "null"}]}}]},
            "post": {"requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Item"}}}}},
        },
        "/items/{item_id}": {
            "parameters": [ID_PARAM],
            "get": {},
            "delete": {"security": [{"key": []}]},
            "patch": {"requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Item"}}}}},
        },
        "/items/mine": {"get": {}},
        "/public/{slug}": {"get": {"security": [{}, {"bearer": []}], "parameters": [
            {"name": "slug", "in": "path", "schema": {"type": "string", "maxLength": 40}}]}},
    },
}


def by_kind(cases: list[Case], kind: str) -> dict[str, Case]:
    return {c.operation: c for c in cases if c.kind == kind}


@pytest.fixture
def cases() -> list[Case]:
    return plan(DOC, marker="m1", probe=PROBE)


def test_every_protected_operation_gets_no_and_bad_credentials(cases: list[Case]) -> None:
    none = by_kind(cases, "no credentials")
    assert set(none) == {"GET /items", "POST /items", "GET /items/{item_id}",
                         "DELETE /items/{item_id}", "PATCH /items/{item_id}", "GET /items/mine"}
    assert all(c.expected == (401,) and c.auth == "none" for c in none.values())
    bad = by_kind(cases, "bad credentials")
    assert bad["GET /items"].headers == {"Authorization": "Bearer releasegate-not-a-credential"}
    # The credential goes where the operation's own scheme puts it.
    assert bad["DELETE /items/{item_id}"].headers == {
        "X-Api-Key": "releasegate-not-a-credential"}


def test_public_operations_and_optional_auth_are_not_asked_for_401(cases: list[Case]) -> None:
    operations = {c.operation for c in cases if c.expected == (401,)}
    assert not operations & {"GET /health", "POST /login", "GET /public/{slug}"}


def test_missing_objects_on_operations_with_a_path_parameter(cases: list[Case]) -> None:
    missing = by_kind(cases, "missing object")
    # PATCH needs a body first; the path-level parameter is inherited by each operation.
    assert set(missing) == {"GET /items/{item_id}", "DELETE /items/{item_id}",
                            "GET /public/{slug}"}
    assert missing["GET /items/{item_id}"].path == "/items/987654321"
    assert missing["GET /public/{slug}"].path == "/public/releasegate-missing-m1"
    assert all(c.expected == (404,) for c in missing.values())


def test_bodies_are_malformed_and_wrong_typed(cases: list[Case]) -> None:
    malformed = by_kind(cases, "malformed JSON body")
    assert set(malformed) == {"POST /items", "PATCH /items/{item_id}"}
    assert malformed["POST /items"].expected == (400, 422)
    # The object does not exist either: 404 is as right as 422 there.
    assert malformed["PATCH /items/{item_id}"].expected == (400, 422, 404)
    wrong = by_kind(cases, "wrong-typed JSON body")["POST /items"]
    body = json.loads(wrong.content or b"")
    assert body == {"name": {"releasegate": [1]}, "count": {"releasegate": [1]},
                    "tags": ["releasegate"]}
    form = by_kind(cases, "form body without its required fields")["POST /login"]
    assert form.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert form.expected == (400, 422)


def test_a_typed_query_parameter_gets_the_wrong_type(cases: list[Case]) -> None:
    typed = [c for c in cases if c.kind.startswith("wrong-typed query")]
    assert [(c.operation, c.params) for c in typed] == [
        ("GET /items", {"page": "releasegate-not-a-integer"})]


def test_each_path_gets_a_method_no_matching_route_allows(cases: list[Case]) -> None:
    not_allowed = {c.path: c.method for c in cases if c.kind == "method not allowed"}
    assert not_allowed["/health"] == "PUT"
    assert not_allowed["/items"] == "PUT"
    # /items/mine also matches /items/{item_id}: PATCH and DELETE are routed there.
    assert not_allowed["/items/mine"] == "PUT"
    assert {c.expected for c in cases if c.kind == "method not allowed"} == {(405,)}


def test_unknown_route_and_server_error_probe(cases: list[Case]) -> None:
    last = cases[-2:]
    assert (last[0].path, last[0].expected) == ("/releasegate-missing-m1", (404,))
    assert (last[1].method, last[1].path, last[1].expected) == ("POST", PROBE["path"], (500,))


@pytest.mark.parametrize(("status", "ok"), [(401, True), (403, False), (404, False),
                                            (200, False), (500, False)])
def test_the_status_class_is_checked(status: int, ok: bool) -> None:
    case = Case("no credentials", "GET /x", "GET", "/x", (401,), auth="none")
    assert (case.status_problem(status) == "") is ok
    if not ok:
        assert f"answered {status}, expected 401" == case.status_problem(status)


def test_a_document_without_operations_plans_nothing_per_operation() -> None:
    assert Document({"paths": {}}).operations() == []
    assert [c.kind for c in plan({"paths": {}}, marker="m")] == ["unknown route"]


SILENT = {"paths": {"/health": {"get": {}}, "/login": {"post": {}},
                    "/items": {"get": {}, "post": {}}, "/items/{id}": {"get": {}}}}


def test_a_document_silent_on_security_is_presumed_protected_where_the_app_has_a_login() -> None:
    cases = plan(SILENT, marker="m", session=("X-Auth", ""), public={"/health", "/login"})
    none = by_kind(cases, "no credentials")
    assert set(none) == {"GET /items", "POST /items", "GET /items/{id}"}
    # The bad credential goes where the profile's login puts the token.
    assert by_kind(cases, "bad credentials")["GET /items"].headers == {
        "X-Auth": "releasegate-not-a-credential"}
    # Without a login nothing is presumed; a document that speaks about security is believed.
    assert not by_kind(plan(SILENT, marker="m"), "no credentials")
    assert set(by_kind(plan(DOC, marker="m", session=("X-Auth", "")), "no credentials")) == set(
        by_kind(plan(DOC, marker="m"), "no credentials"))
