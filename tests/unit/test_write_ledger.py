"""Jepsen's set check over the write ledger: what counts as lost, unexpected, duplicated; that
unknown outcomes may go either way; and that a missing final read is never a pass."""

from __future__ import annotations

import httpx
from hypothesis import given
from hypothesis import strategies as st

from releasegate.measure.ledger import (
    FAIL,
    OK,
    UNKNOWN,
    Write,
    WriteLedger,
    check_read,
    classify,
    ids_at,
    summarise,
)


def ledger_of(outcomes: list[str]) -> WriteLedger:
    ledger = WriteLedger("t")
    for i, outcome in enumerate(outcomes):
        ledger.add(Write(ledger.next_id(), float(i), float(i) + 0.1, outcome))
    return ledger


def test_outcomes_follow_what_the_client_can_know() -> None:
    request = httpx.Request("POST", "http://x")
    assert classify(201) == OK and classify(409) == FAIL and classify(503) == UNKNOWN
    assert classify(None, httpx.ConnectError("refused", request=request)) == FAIL
    assert classify(None, httpx.ReadTimeout("slow", request=request)) == UNKNOWN
    assert classify(None, httpx.RemoteProtocolError("gone", request=request)) == UNKNOWN


def test_lost_unexpected_and_duplicates_are_named() -> None:
    ledger = ledger_of([OK, OK, FAIL, UNKNOWN])
    ids = [w.id for w in ledger.writes]
    found = {ids[0]: 2, ids[2]: 1, f"{ledger.prefix}999999": 1}
    check = check_read(ledger.writes, "SQL", found)
    assert check.lost == [ids[1]]
    assert check.unexpected == sorted([ids[2], f"{ledger.prefix}999999"])
    assert check.duplicates == [ids[0]]
    assert check.unknown_absent == 1 and len(check.violations()) == 3


def test_a_failed_final_read_or_no_acknowledged_write_is_not_a_pass() -> None:
    ledger = ledger_of([OK])
    violations, evidence = summarise(ledger, {"API": "GET /items answered 503", "SQL": {
        ledger.writes[0].id: 1}})
    assert violations == ["API: the final read failed: GET /items answered 503"]
    assert evidence["reads"]["API"] == {"error": "GET /items answered 503"}
    nothing, _ = summarise(ledger_of([FAIL, UNKNOWN]), {"SQL": {}})
    assert any("no write was acknowledged" in v for v in nothing)


def test_other_rows_are_not_the_ledgers() -> None:
    assert ids_at("rg-a-", ["rg-a-1", "rg-a-1", "rg-b-1", None, 7]) == {"rg-a-1": 2}


@given(st.lists(st.sampled_from([OK, FAIL, UNKNOWN]), max_size=60), st.randoms())
def test_a_faithful_store_always_passes(outcomes: list[str], rng: object) -> None:
    """Whatever happened to unknown writes, a store that kept exactly the acknowledged ones
    and any subset of the unknown ones passes the check."""
    ledger = ledger_of(outcomes)
    kept = {w.id: 1 for w in ledger.writes
            if w.outcome == OK or (w.outcome == UNKNOWN and rng.random() < 0.5)}  # type: ignore[attr-defined]
    assert check_read(ledger.writes, "SQL", kept).violations() == []
