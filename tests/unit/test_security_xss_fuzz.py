"""The XSS probe's writes and page list, and what the fuzzer is handed, without a browser or a
server (the browser itself is proven by the gate's stored-XSS variant)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from releasegate.measure.security import fuzz, xss
from releasegate.measure.security.errorcheck import ErrorInspector
from releasegate.measure.security.openapi import Operation, Resolver, operations

PAYLOADS = xss.load_payloads(Path(__file__).resolve().parents[2] / "security" / "payloads")
DOC: dict[str, Any] = {"openapi": "3.0.0", "paths": {
    "/renters": {"post": {"requestBody": {"content": {"application/json": {"schema": {
        "type": "object", "required": ["name"],
        "properties": {"name": {"type": "string", "maxLength": 100},
                       "code": {"type": "string", "maxLength": 4},
                       "kind": {"enum": ["a"]}}}}}}, "responses": {"201": {}}}},
    "/page": {"get": {"parameters": [{"name": "tab", "in": "query",
                                      "schema": {"type": "string"}}],
                      "responses": {"200": {"content": {"text/html": {}}}}}},
}}


def test_every_free_text_field_gets_a_payload_that_fits_it() -> None:
    sent: list[dict[str, Any]] = []

    def handle(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(201, json={})

    client = httpx.Client(base_url="http://app.test", transport=httpx.MockTransport(handle))
    probe = xss.XssProbe(client, Resolver(DOC), ErrorInspector(
        fields={}, request_id_header="X", canaries={}), PAYLOADS, captured={},
        max_requests=50, max_seconds=30)
    assert probe.store(operations(DOC)) == []
    assert len(sent) == 1 and "rgXss('rgx1')" in sent[0]["name"]
    assert [p.where for p in probe.result.planted.values()] == ["POST /renters body:name"]
    assert probe.result.planted["rgx1"].reproduction.startswith("curl -X POST")


def test_pages_and_reflected_urls() -> None:
    pages = xss.html_pages(operations(DOC), ("/extra",))
    assert [p.label for p in pages] == ["GET /page", "GET /extra"]
    probe = xss.XssProbe(httpx.Client(), Resolver(DOC), ErrorInspector(
        fields={}, request_id_header="X", canaries={}), PAYLOADS, captured={},
        max_requests=50, max_seconds=30)
    urls = probe.reflected_urls(pages[0])
    assert len(urls) == len(PAYLOADS)
    url, marker = urls[0]
    assert url.startswith("/page?tab=") and "&q=" in url and marker in httpx.URL(url).query.decode()


def test_an_executed_marker_becomes_a_finding_naming_the_write() -> None:
    probe = xss.XssProbe(httpx.Client(), Resolver(DOC), ErrorInspector(
        fields={}, request_id_header="X", canaries={}), PAYLOADS, captured={},
        max_requests=5, max_seconds=30)
    marker = probe.marker("POST /renters body:name", "curl -X POST ...")
    xss._executed(probe, {"how": "rgXss", "marker": marker, "url": "http://a/page"})
    finding = probe.result.findings[0]
    assert (finding.rule, finding.location) == ("xss-stored", "GET /page")
    assert "POST /renters body:name" in finding.evidence


def test_excluded_operations_leave_the_document_handed_to_the_fuzzer() -> None:
    trimmed = fuzz.without(DOC, {"POST /renters"})
    assert "/renters" not in trimmed["paths"] and "/renters" in DOC["paths"]
    assert [op.label for op in operations(trimmed)] == ["GET /page"]
    assert Operation("GET", "/page").label == "GET /page"
