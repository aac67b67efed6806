"""Authentication, roles and tenant isolation (BOLA) over the public API."""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable, Dict

import pytest
from conftest import SECRET_KEY
from fastapi.testclient import TestClient
from helpers import Api, assert_error, login, unique
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from rento import db, security


def _seed(api: Api) -> Dict[str, Any]:
    building = api.create("/api/buildings", {"name": unique("B")})
    room = api.create("/api/rooms", {"building_id": building["id"], "number": "1", "rent": "100"})
    renter = api.create("/api/renters", {"name": "R"})
    contract = api.create(
        "/api/contracts",
        {
            "room_id": room["id"],
            "renter_id": renter["id"],
            "start_date": "2026-01-01",
            "end_date": "2026-12-31",
        },
    )
    bill = api.post(f"/api/contracts/{contract['id']}/bills/generate", json={"months": 1}).json()[
        "items"
    ][0]
    payment = api.create("/api/payments", {"bill_id": bill["id"], "amount": "10", "method": "cash"})
    return {
        "buildings": building,
        "rooms": room,
        "renters": renter,
        "contracts": contract,
        "bills": bill,
        "payments": payment,
    }


def test_login_ok_and_me(client: TestClient, account: Dict[str, Any]) -> None:
    r = client.post(
        "/api/auth/login",
        json={"username": account["admin_username"], "password": account["password"]},
    )
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer" and body["role"] == "admin" and body["expires_in"] > 0
    me = Api(client, body["access_token"]).get("/api/users/me").json()
    assert me["username"] == account["admin_username"] and me["account_id"] == account["account_id"]
    assert "password_hash" not in me


def test_login_bad_credentials(client: TestClient, account: Dict[str, Any]) -> None:
    r = client.post(
        "/api/auth/login", json={"username": account["admin_username"], "password": "wrong-pass"}
    )
    assert_error(r, 401, "invalid_credentials")
    r = client.post("/api/auth/login", json={"username": "nobody-here", "password": "whatever"})
    assert_error(r, 401, "invalid_credentials")


def test_missing_bad_and_expired_tokens(client: TestClient, account: Dict[str, Any]) -> None:
    for path in ("/api/buildings", "/api/dashboard/stats", "/metrics", "/api/users/me"):
        r = client.get(path)
        assert_error(r, 401, "not_authenticated")
        assert r.headers["www-authenticate"] == "Bearer"
    r = client.get("/api/buildings", headers={"Authorization": "Bearer nonsense"})
    assert_error(r, 401, "invalid_token")
    me = account["api"].get("/api/users/me").json()
    expired = security.issue_token(SECRET_KEY, me["id"], me["account_id"], -1)
    r = client.get("/api/buildings", headers={"Authorization": f"Bearer {expired}"})
    assert_error(r, 401, "invalid_token")
    forged = security.issue_token("another-key-" * 4, me["id"], me["account_id"], 60)
    r = client.get("/api/buildings", headers={"Authorization": f"Bearer {forged}"})
    assert_error(r, 401, "invalid_token")


def test_staff_reads_and_pays_but_cannot_write(client: TestClient, admin: Api) -> None:
    data = _seed(admin)
    name = unique("staff-")
    admin.create("/api/users", {"username": name, "password": "staff-password", "role": "staff"})
    staff = login(client, name, "staff-password")
    for resource, obj in data.items():
        assert staff.get(f"/api/{resource}").status_code == 200
        assert staff.get(f"/api/{resource}/{obj['id']}").status_code == 200
    assert staff.get("/api/dashboard/stats").status_code == 200
    assert staff.get("/dashboard").status_code == 200
    r = staff.post(
        "/api/payments", json={"bill_id": data["bills"]["id"], "amount": "1", "method": "card"}
    )
    assert r.status_code == 201
    writes = [
        ("POST", "/api/buildings", {"name": "x"}),
        ("PATCH", f"/api/buildings/{data['buildings']['id']}", {"name": "x"}),
        ("DELETE", f"/api/buildings/{data['buildings']['id']}", None),
        ("POST", "/api/rooms", {"building_id": data["buildings"]["id"], "number": "9", "rent": 1}),
        ("PATCH", f"/api/rooms/{data['rooms']['id']}", {"floor": 2}),
        ("DELETE", f"/api/rooms/{data['rooms']['id']}", None),
        ("POST", "/api/renters", {"name": "x"}),
        ("PATCH", f"/api/renters/{data['renters']['id']}", {"name": "x"}),
        ("DELETE", f"/api/renters/{data['renters']['id']}", None),
        ("PATCH", f"/api/contracts/{data['contracts']['id']}", {"payment_day": 2}),
        ("DELETE", f"/api/contracts/{data['contracts']['id']}", None),
        ("POST", f"/api/contracts/{data['contracts']['id']}/bills/generate", {"months": 1}),
        ("PATCH", f"/api/bills/{data['bills']['id']}", {"remark": "x"}),
        ("DELETE", f"/api/bills/{data['bills']['id']}", None),
        ("PATCH", f"/api/payments/{data['payments']['id']}", {"reference": "x"}),
        ("DELETE", f"/api/payments/{data['payments']['id']}", None),
        (
            "POST",
            "/api/users",
            {"username": unique("u"), "password": "password-1", "role": "admin"},
        ),
        ("GET", "/api/users", None),
        (
            "POST",
            "/api/accounts",
            {"name": "x", "admin_username": unique("a"), "admin_password": "p" * 12},
        ),
        ("GET", "/metrics", None),
        ("POST", "/api/admin/diagnostics/error", None),
    ]
    for method, path, body in writes:
        r = staff.request(method, path, json=body)
        assert_error(r, 403, "forbidden")


def test_other_account_objects_are_invisible(new_account: Callable[[], Dict[str, Any]]) -> None:
    owner, intruder = new_account(), new_account()
    data = _seed(owner["api"])
    other: Api = intruder["api"]
    for resource, obj in data.items():
        assert_error(other.get(f"/api/{resource}/{obj['id']}"), 404)
        listed = other.get(f"/api/{resource}").json()
        assert listed["total"] == 0 and listed["items"] == []
        assert_error(other.patch(f"/api/{resource}/{obj['id']}", json={}), 404)
        assert_error(other.delete(f"/api/{resource}/{obj['id']}"), 404)
    # References to another tenant's objects in request bodies are 404 as well.
    b = other.create("/api/buildings", {"name": "mine"})
    mine_room = other.create("/api/rooms", {"building_id": b["id"], "number": "1", "rent": 1})
    mine_renter = other.create("/api/renters", {"name": "me"})
    assert_error(
        other.post(
            "/api/rooms", json={"building_id": data["buildings"]["id"], "number": "2", "rent": 1}
        ),
        404,
    )
    contract = {"start_date": "2026-01-01", "end_date": "2026-12-31"}
    r = other.post(
        "/api/contracts",
        json={**contract, "room_id": data["rooms"]["id"], "renter_id": mine_renter["id"]},
    )
    assert_error(r, 404, "room_not_found")
    r = other.post(
        "/api/contracts",
        json={**contract, "room_id": mine_room["id"], "renter_id": data["renters"]["id"]},
    )
    assert_error(r, 404, "renter_not_found")
    r = other.post(
        "/api/bills",
        json={"contract_id": data["contracts"]["id"], "amount": 1, "due_date": "2026-01-01"},
    )
    assert_error(r, 404, "contract_not_found")
    r = other.post(
        "/api/payments", json={"bill_id": data["bills"]["id"], "amount": 1, "method": "cash"}
    )
    assert_error(r, 404, "bill_not_found")
    r = other.post(f"/api/contracts/{data['contracts']['id']}/bills/generate", json={"months": 1})
    assert_error(r, 404)
    assert other.get(f"/api/bills?contract_id={data['contracts']['id']}").json()["total"] == 0
    # The owner's data is intact and the dashboard of the intruder shows none of it.
    assert owner["api"].get(f"/api/renters/{data['renters']['id']}").status_code == 200
    assert other.get("/api/dashboard/stats").json()["received_total"] == "0.00"


def test_database_refuses_a_row_owned_by_another_account_than_its_parent(
    new_account: Callable[[], Dict[str, Any]],
) -> None:
    """The API never builds such a row; the foreign keys make sure nothing else can either."""
    owner, other = new_account(), new_account()
    data = _seed(owner["api"])
    rows = {
        "rooms": {"building_id": data["buildings"]["id"], "number": "x", "rent": 1, "deposit": 0},
        "contracts": {
            "room_id": data["rooms"]["id"],
            "renter_id": data["renters"]["id"],
            "contract_number": unique("x-"),
            "start_date": dt.date(2026, 1, 1),
            "end_date": dt.date(2026, 2, 1),
            "monthly_rent": 1,
            "deposit": 0,
            "payment_day": 1,
        },
        "bills": {
            "contract_id": data["contracts"]["id"],
            "bill_number": unique("x-"),
            "type": "other",
            "amount": 1,
            "due_date": dt.date(2026, 1, 1),
        },
        "payments": {"bill_id": data["bills"]["id"], "amount": 1, "method": "cash"},
    }
    for table, values in rows.items():
        values = {**values, "account_id": other["account_id"]}
        statement = text(
            f"INSERT INTO {table} ({', '.join(values)}) "  # noqa: S608
            f"VALUES ({', '.join(':' + k for k in values)})"
        )
        with pytest.raises(IntegrityError), db.get_engine().begin() as conn:
            conn.execute(statement, values)
        values["account_id"] = owner["account_id"]  # the same row in the right account is fine
        with db.get_engine().connect() as conn:
            conn.execute(statement, values)
            conn.rollback()


def test_users_are_scoped_and_only_platform_admin_creates_accounts(
    new_account: Callable[[], Dict[str, Any]],
) -> None:
    a, b = new_account(), new_account()
    assert_error(a["api"].get(f"/api/users/{b['admin_user_id']}"), 404)
    assert_error(a["api"].patch(f"/api/users/{b['admin_user_id']}", json={"role": "staff"}), 404)
    users = a["api"].get("/api/users").json()
    assert [u["id"] for u in users["items"]] == [a["admin_user_id"]]
    r = a["api"].post(
        "/api/accounts",
        json={"name": "x", "admin_username": unique("z"), "admin_password": "p" * 12},
    )
    assert_error(r, 403, "forbidden")
    assert_error(a["api"].patch(f"/api/users/{a['admin_user_id']}", json={"is_active": False}), 409)


def test_disabled_user_loses_access_immediately(client: TestClient, admin: Api) -> None:
    name = unique("tmp-")
    user = admin.create("/api/users", {"username": name, "password": "staff-password"})
    staff = login(client, name, "staff-password")
    assert staff.get("/api/buildings").status_code == 200
    assert admin.patch(f"/api/users/{user['id']}", json={"is_active": False}).status_code == 200
    assert_error(staff.get("/api/buildings"), 401, "invalid_token")
    r = client.post("/api/auth/login", json={"username": name, "password": "staff-password"})
    assert_error(r, 401)
