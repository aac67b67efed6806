"""The SQL-injection probe's oracles against a fake search endpoint (httpx.MockTransport) that
pastes its parameter into SQL, and against one that does not."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx

from releasegate.measure.security import sqli
from releasegate.measure.security.errorcheck import ErrorInspector
from releasegate.measure.security.openapi import Resolver, operations

DOC: dict[str, Any] = {"openapi": "3.0.0", "paths": {
    "/items": {"get": {"parameters": [{"name": "q", "in": "query",
                                       "schema": {"type": "string"}}],
                       "responses": {"200": {}}}},
    "/items/{item_id}": {"delete": {"parameters": [{"name": "item_id", "in": "path",
                                                    "required": True,
                                                    "schema": {"type": "integer"}}],
                                    "responses": {"204": {}}}},
}}
ITEMS = ["alpha", "beta"]
REPO_PAYLOADS = Path(__file__).resolve().parents[2] / "security" / "payloads"


def fake(*, errors: bool = False, boolean: bool = False, sleeps: bool = False,
         leak_in_body: bool = False) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        q = request.url.params.get("q", "")
        rid = {"X-Request-ID": "r"}
        if errors and q.count("'") % 2 == 1:
            text = "syntax error at or near \"'\"" if leak_in_body else "internal"
            return httpx.Response(500, json={"code": "e", "message": text, "request_id": "r"},
                                  headers=rid)
        if sleeps and "pg_sleep" in q:
            time.sleep(0.6)
        if boolean and "OR '1'='1'" in q:
            return httpx.Response(200, json={"items": ITEMS})
        return httpx.Response(200, json={"items": [i for i in ITEMS if q and q in i]})

    return httpx.MockTransport(handle)


def run(transport: httpx.MockTransport) -> sqli.SqliResult:
    resolver = Resolver(DOC)
    targets, skipped = sqli.targets(operations(DOC), resolver)
    assert [t.label for t in targets] == ["GET /items query:q"]
    assert "DELETE /items/{item_id}" in skipped
    client = httpx.Client(base_url="http://app.test", transport=transport)
    inspector = ErrorInspector(fields={"code": "code", "message": "message",
                                       "request_id": "request_id"},
                               request_id_header="X-Request-ID", canaries={})
    probe = sqli.SqliProbe(client, resolver, inspector, sqli.Payloads.load(REPO_PAYLOADS),
                           captured={}, sleep_s=1.0, budget=sqli.Budget(500, 60))
    return probe.run(targets)


def test_a_safe_parameter_has_no_finding() -> None:
    result = run(fake())
    assert result.findings == [] and result.probed == ["GET /items query:q"]


def test_database_error_text_in_the_answer_is_a_finding() -> None:
    rules = {f.rule for f in run(fake(errors=True, leak_in_body=True)).findings}
    assert rules == {"sqli-error-in-response"}


def test_a_boolean_pair_that_changes_the_answer_is_a_finding() -> None:
    found = run(fake(boolean=True)).findings
    assert {f.rule for f in found} == {"sqli-boolean"}
    assert found[0].reproduction.startswith("curl -X GET")


def test_a_delay_beyond_seven_sigma_is_a_finding() -> None:
    assert {f.rule for f in run(fake(sleeps=True)).findings} == {"sqli-time"}


def test_an_error_in_the_database_log_inside_a_request_window_is_a_finding() -> None:
    result = run(fake(errors=True))
    assert result.findings == []
    started, ended, *_ = next(w for w in result.windows if "'" in w[3])
    inside = (started + ended) / 2
    lines = [(inside, 'ERROR:  unterminated quoted string at or near "\'"'),
             (started - 60, "ERROR:  syntax error at or near \"x\""),
             (inside, "ERROR:  duplicate key value violates unique constraint")]
    found = sqli.log_findings(result, lines)
    assert len(found) == 1 and found[0].rule == "sqli-database-log"


def test_the_budget_leaves_targets_not_probed_with_the_reason() -> None:
    resolver = Resolver(DOC)
    targets, _ = sqli.targets(operations(DOC), resolver)
    probe = sqli.SqliProbe(httpx.Client(base_url="http://app.test", transport=fake()),
                           resolver, ErrorInspector(fields={}, request_id_header="X",
                                                    canaries={}),
                           sqli.Payloads.load(REPO_PAYLOADS), captured={}, sleep_s=1.0,
                           budget=sqli.Budget(3, 60))
    result = probe.run(targets)
    assert result.requests == 0 and "budget" in result.not_probed["GET /items query:q"]


def test_docker_log_timestamps_are_read() -> None:
    lines = sqli.parse_docker_log(b"2026-11-29T18:48:07.500000000Z ERROR:  boom\nnot a line\n")
    assert len(lines) == 1 and lines[0][1] == "ERROR:  boom"
    assert abs(lines[0][0] - 1795978087.5) < 1e-3
