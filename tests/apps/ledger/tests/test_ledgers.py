"""The bookkeeping flow, amounts to the cent, and per-user ownership."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

ENTRIES = (("1200.50", "salary", "2026-11-01"), ("-300.25", "rent", "2026-11-03"),
           ("-99.99", "groceries", "2026-11-02"))


def _ledger(client: FlaskClient, auth: dict[str, str], name: str = "household") -> int:
    created = client.post("/api/v1/ledgers/", json={"name": name}, headers=auth)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["currency"] == "EUR"
    return int(created.get_json()["id"])


def _book(client: FlaskClient, auth: dict[str, str], ledger: int, amount: Any,
          description: str = "x", on: str = "2026-11-01") -> Any:
    return client.post(f"/api/v1/ledgers/{ledger}/entries", headers=auth,
                       json={"amount": amount, "description": description, "booked_on": on})


def test_entries_add_up_to_the_balance(client: FlaskClient, new_user: Any) -> None:
    _, user = new_user()
    ledger = _ledger(client, user)
    for amount, description, on in ENTRIES:
        booked = _book(client, user, ledger, amount, description, on)
        assert booked.status_code == 201 and booked.get_json()["amount"] == amount
    balance = client.get(f"/api/v1/ledgers/{ledger}/balance", headers=user).get_json()
    assert balance == {"ledger_id": ledger, "currency": "EUR", "balance": "800.26",
                       "credits": "1200.50", "debits": "-400.24", "entries": 3}
    listed = client.get(f"/api/v1/ledgers/{ledger}/entries?limit=2", headers=user).get_json()
    assert listed["count"] == 3
    assert [e["description"] for e in listed["data"]] == ["salary", "groceries"]
    first = listed["data"][0]["id"]
    assert client.delete(f"/api/v1/ledgers/{ledger}/entries/{first}",
                         headers=user).status_code == 204
    after = client.get(f"/api/v1/ledgers/{ledger}/balance", headers=user).get_json()
    assert after["balance"] == "-400.24" and after["entries"] == 2


def test_an_empty_ledger_balances_to_zero(client: FlaskClient, new_user: Any) -> None:
    _, user = new_user()
    ledger = _ledger(client, user)
    balance = client.get(f"/api/v1/ledgers/{ledger}/balance", headers=user).get_json()
    assert balance["balance"] == "0.00" and balance["entries"] == 0


def test_other_peoples_ledgers_do_not_exist(client: FlaskClient, new_user: Any,
                                            admin: dict[str, str]) -> None:
    _, owner = new_user()
    _, stranger = new_user()
    ledger = _ledger(client, owner)
    entry = _book(client, owner, ledger, "5.00").get_json()["id"]
    for auth in (stranger, admin):
        for method, path in (("GET", f"/api/v1/ledgers/{ledger}"),
                             ("GET", f"/api/v1/ledgers/{ledger}/balance"),
                             ("GET", f"/api/v1/ledgers/{ledger}/entries"),
                             ("PATCH", f"/api/v1/ledgers/{ledger}"),
                             ("DELETE", f"/api/v1/ledgers/{ledger}/entries/{entry}"),
                             ("DELETE", f"/api/v1/ledgers/{ledger}")):
            kwargs = {"json": {"name": "mine now"}} if method == "PATCH" else {}
            answer = client.open(path, method=method, headers=auth, **kwargs)
            assert answer.status_code == 404, (method, path)
            assert answer.get_json()["error"] == "not_found"
        assert _book(client, auth, ledger, "1.00").status_code == 404
        assert client.get("/api/v1/ledgers/", headers=auth).get_json()["data"] == [] or all(
            item["id"] != ledger for item in
            client.get("/api/v1/ledgers/", headers=auth).get_json()["data"])
    assert client.get(f"/api/v1/ledgers/{ledger}/balance", headers=owner).get_json()[
        "balance"] == "5.00"


@pytest.mark.parametrize("amount", [0, "0.00", "1.005", "abc", "NaN", "Infinity",
                                    "1000000000000.00", None])
def test_invalid_amounts_are_422(client: FlaskClient, new_user: Any, amount: Any) -> None:
    _, user = new_user()
    answer = _book(client, user, _ledger(client, user), amount)
    assert answer.status_code == 422
    assert "amount" in answer.get_json()["fields"]


def test_numbers_and_strings_are_both_amounts(client: FlaskClient, new_user: Any) -> None:
    _, user = new_user()
    ledger = _ledger(client, user)
    assert _book(client, user, ledger, 12.5).get_json()["amount"] == "12.50"
    assert _book(client, user, ledger, "-0.01").get_json()["amount"] == "-0.01"


def test_input_mistakes(client: FlaskClient, new_user: Any) -> None:
    _, user = new_user()
    ledger = _ledger(client, user, "twice")
    assert client.post("/api/v1/ledgers/", json={"name": "twice"},
                       headers=user).status_code == 409
    unknown = client.post("/api/v1/ledgers/", json={"name": "n", "owner_id": 1}, headers=user)
    assert unknown.status_code == 422 and "owner_id" in unknown.get_json()["fields"]
    assert client.post("/api/v1/ledgers/", json={"name": "n", "currency": "euro"},
                       headers=user).status_code == 422
    assert client.get("/api/v1/ledgers/?limit=abc", headers=user).status_code == 422
    assert client.get("/api/v1/ledgers/?limit=0", headers=user).status_code == 422
    broken = client.post(f"/api/v1/ledgers/{ledger}/entries", data=b'{"amount": ',
                         content_type="application/json", headers=user)
    assert broken.status_code == 400 and broken.get_json()["error"] == "bad_request"
