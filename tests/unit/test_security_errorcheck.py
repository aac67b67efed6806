"""The one inspection every error response of the dynamic probes goes through."""

from __future__ import annotations

import json
import threading

import httpx
from hypothesis import given
from hypothesis import strategies as st

from releasegate.measure.security.errorcheck import (
    ErrorInspector,
    curl_line,
    planted_pii,
)

FIELDS = {"code": "code", "message": "message", "request_id": "request_id"}
SECRET = "s3cr3t-canary-value-0123"


def inspector(header: str = "X-Request-ID") -> ErrorInspector:
    return ErrorInspector(fields=FIELDS, request_id_header=header,
                          canaries={"secret.app": SECRET, **planted_pii("run1")})


def body(**extra: str) -> str:
    return json.dumps({"code": "not_found", "message": "Not found", "request_id": "r1", **extra})


def test_a_well_formed_error_has_no_problem() -> None:
    check = inspector()
    assert check.inspect(scope="s", method="GET", url="http://x/a", status=404,
                         headers={"X-Request-ID": "r1"}, text=body()) == []
    assert check.tally("s").examined == 1 and check.tally("s").violating == 0


def test_successes_are_not_errors_and_are_not_counted() -> None:
    check = inspector()
    assert check.inspect(scope="s", method="GET", url="http://x/a", status=200, headers={},
                         text="<html>") == []
    assert check.tally("s").examined == 0


def test_the_profiles_request_id_header_is_the_one_read() -> None:
    check = inspector(header="X-Correlation-ID")
    problems = check.inspect(scope="s", method="GET", url="http://x/a", status=404,
                             headers={"X-Request-ID": "r1"}, text=body())
    assert problems == ["no X-Correlation-ID header"]


def test_a_canary_secret_in_a_body_is_disclosing_and_masked_in_evidence() -> None:
    check = inspector()
    problems = check.inspect(scope="s", method="POST", url="http://x/a", status=500,
                             headers={"X-Request-ID": "r1"}, text=body(detail=SECRET),
                             request_headers={"Authorization": "Bearer tok"},
                             request_body=b'{"a": 1}')
    assert problems == ["discloses the canary secret.app"]
    kept = check.tally("s").kept[0]
    assert kept.sensitive == problems and check.tally("s").sensitive == 1
    assert SECRET not in json.dumps(check.evidence("s"))
    assert "Bearer tok" not in kept.reproduction and "<credential>" in kept.reproduction


def test_planted_pii_and_stack_traces_count_as_disclosures() -> None:
    check = inspector()
    pii = planted_pii("run1")["pii.phone"]
    _, sensitive = check.problems(409, {"X-Request-ID": "r1"}, body(message=f"dup {pii}"))
    assert sensitive == ["discloses the canary pii.phone"]
    trace = 'Traceback (most recent call last):\n  File "x.py", line 3'
    problems, sensitive = check.problems(500, {}, trace)
    assert "leaks python traceback" in sensitive and problems[0].startswith("body is not JSON")


def test_planted_pii_is_stable_per_run_and_differs_between_runs() -> None:
    assert planted_pii("a") == planted_pii("a") != planted_pii("b")
    assert all(len(v) >= 6 for v in planted_pii("a").values())


def test_short_canaries_are_ignored_as_they_would_match_ordinary_text() -> None:
    check = ErrorInspector(fields=FIELDS, request_id_header="X-Request-ID",
                           canaries={"secret.x": "abc"})
    assert check.canaries == {}


def test_httpx_responses_are_inspected_with_their_request() -> None:
    request = httpx.Request("PATCH", "http://x/api/a/1", json={"name": "n"})
    response = httpx.Response(422, json={"detail": "bad"}, request=request)
    problems = inspector().inspect_httpx(response, scope="s")
    assert "missing code, message, request_id" in problems


def test_concurrent_inspections_are_all_counted() -> None:
    check = inspector()

    def hit() -> None:
        for _ in range(50):
            check.inspect(scope="s", method="GET", url="http://x", status=500, headers={},
                          text="boom")

    threads = [threading.Thread(target=hit) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert check.tally("s").examined == check.tally("s").violating == 200
    assert len(check.tally("s").kept) == 100


@given(st.text(min_size=1, max_size=40))
def test_curl_lines_quote_any_body(text: str) -> None:
    line = curl_line("post", "http://x/a b", {"Content-Type": "application/json"}, text)
    assert line.startswith("curl -X POST ") and "http://x/a b" in line.replace("'", "")
