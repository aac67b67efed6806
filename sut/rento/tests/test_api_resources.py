"""CRUD, pagination, filters and search on every resource; business rules of the workflow."""

from __future__ import annotations

from typing import Any, Dict

from helpers import Api, assert_error, unique


def _building(api: Api, **kw: Any) -> Dict[str, Any]:
    return api.create("/api/buildings", {"name": unique("B"), **kw})


def _room(api: Api, building_id: int, number: str, **kw: Any) -> Dict[str, Any]:
    return api.create(
        "/api/rooms", {"building_id": building_id, "number": number, "rent": "1000", **kw}
    )


def test_building_crud(admin: Api) -> None:
    b = _building(admin, address="1 Main St", floors=6, description="brick")
    assert b["floors"] == 6 and b["account_id"]
    assert admin.get(f"/api/buildings/{b['id']}").json() == b
    patched = admin.patch(
        f"/api/buildings/{b['id']}", json={"name": "Renamed", "address": None}
    ).json()
    assert patched["name"] == "Renamed" and patched["address"] is None and patched["floors"] == 6
    assert patched["updated_at"] >= b["updated_at"]
    assert_error(admin.patch(f"/api/buildings/{b['id']}", json={"name": None}), 422)
    assert_error(admin.patch(f"/api/buildings/{b['id']}", json={"bogus": 1}), 422)
    _room(admin, b["id"], "101")
    assert_error(admin.delete(f"/api/buildings/{b['id']}"), 409, "building_has_rooms")
    empty = _building(admin)
    assert admin.delete(f"/api/buildings/{empty['id']}").status_code == 204
    assert_error(admin.get(f"/api/buildings/{empty['id']}"), 404, "building_not_found")


def test_pagination_is_stable_and_bounded(admin: Api) -> None:
    ids = [admin.create("/api/renters", {"name": f"Page {i:02d}"})["id"] for i in range(25)]
    seen = []
    for page in (1, 2, 3):
        body = admin.get(f"/api/renters?page={page}&page_size=10").json()
        assert body["total"] == 25 and body["page"] == page and body["page_size"] == 10
        seen += [r["id"] for r in body["items"]]
    assert seen == sorted(ids)
    assert admin.get("/api/renters?page=4&page_size=10").json()["items"] == []
    default = admin.get("/api/renters").json()
    assert default["page"] == 1 and default["page_size"] == 20 and len(default["items"]) == 20
    assert_error(admin.get("/api/renters?page_size=101"), 422)
    assert_error(admin.get("/api/renters?page=0"), 422)


def test_room_filters_and_search(admin: Api) -> None:
    b1, b2 = _building(admin), _building(admin)
    r1 = _room(admin, b1["id"], "A-101", floor=1)
    _room(admin, b1["id"], "A-201", floor=2, status="maintenance")
    _room(admin, b2["id"], "B-101", floor=1)
    assert_error(
        admin.post("/api/rooms", json={"building_id": b1["id"], "number": "A-101", "rent": 1}), 409
    )

    def ids(query: str) -> list:
        return [r["number"] for r in admin.get(f"/api/rooms?{query}").json()["items"]]

    assert ids(f"building_id={b1['id']}") == ["A-101", "A-201"]
    assert ids("status=maintenance") == ["A-201"]
    assert ids("floor=1") == ["A-101", "B-101"]
    assert ids("q=101") == ["A-101", "B-101"]
    assert ids(f"q=a-1&building_id={b1['id']}") == ["A-101"]
    assert_error(admin.get("/api/rooms?status=haunted"), 422)
    assert (
        admin.patch(f"/api/rooms/{r1['id']}", json={"rent": "1234.5"}).json()["rent"] == "1234.50"
    )
    assert_error(admin.patch(f"/api/rooms/{r1['id']}", json={"status": "occupied"}), 422)


def test_renter_search_escapes_wildcards_and_injection(admin: Api) -> None:
    admin.create(
        "/api/renters", {"name": "Zhang San", "phone": "13800001111", "email": "zs@example.com"}
    )
    admin.create("/api/renters", {"name": "100% Li", "phone": "13900002222"})
    admin.create("/api/renters", {"name": "Wang_Wu", "email": "ww@example.org"})

    def names(q: str) -> list:
        r = admin.get("/api/renters", params={"q": q})
        assert r.status_code == 200
        return [x["name"] for x in r.json()["items"]]

    assert names("zhang") == ["Zhang San"]
    assert names("0002222") == ["100% Li"]
    assert names("example.org") == ["Wang_Wu"]
    assert names("%") == ["100% Li"]
    assert names("_") == ["Wang_Wu"]
    assert names("' OR '1'='1") == []
    assert names("x'; DROP TABLE renters; --") == []
    assert_error(admin.get("/api/renters", params={"q": "a\x00b"}), 422)
    assert_error(admin.post("/api/renters", json={"name": "nul\x00byte"}), 422)


def test_contract_lifecycle_and_room_occupancy(admin: Api) -> None:
    b = _building(admin)
    room = _room(admin, b["id"], "301", deposit="2000")
    renter = admin.create("/api/renters", {"name": "Tenant"})
    body = {
        "room_id": room["id"],
        "renter_id": renter["id"],
        "start_date": "2026-03-01",
        "end_date": "2027-02-28",
    }
    assert_error(admin.post("/api/contracts", json={**body, "end_date": "2026-01-01"}), 422)
    contract = admin.create("/api/contracts", {**body, "contract_number": unique("CN-")})
    assert contract["monthly_rent"] == "1000.00" and contract["deposit"] == "2000.00"
    assert contract["payment_day"] == 1 and contract["status"] == "active"
    assert admin.get(f"/api/rooms/{room['id']}").json()["status"] == "occupied"
    assert_error(admin.post("/api/contracts", json=body), 409, "room_occupied")
    assert_error(admin.patch(f"/api/rooms/{room['id']}", json={"status": "vacant"}), 409)
    r = admin.post(
        "/api/contracts",
        json={
            **body,
            "room_id": _room(admin, b["id"], "302")["id"],
            "contract_number": contract["contract_number"],
        },
    )
    assert_error(r, 409, "contract_number_taken")

    assert admin.get(f"/api/contracts?q={contract['contract_number'][-6:]}").json()["total"] == 1
    assert admin.get(f"/api/contracts?room_id={room['id']}&status=active").json()["total"] == 1
    assert admin.get(f"/api/contracts?renter_id={renter['id']}&status=expired").json()["total"] == 0

    assert_error(admin.patch(f"/api/contracts/{contract['id']}", json={"status": "pending"}), 409)
    ended = admin.patch(f"/api/contracts/{contract['id']}", json={"status": "terminated"}).json()
    assert ended["status"] == "terminated"
    assert admin.get(f"/api/rooms/{room['id']}").json()["status"] == "vacant"
    assert_error(
        admin.patch(f"/api/contracts/{contract['id']}", json={"payment_day": 3}),
        409,
        "contract_closed",
    )
    again = admin.create("/api/contracts", body)
    assert again["contract_number"].startswith("C20260301-")
    assert admin.delete(f"/api/contracts/{again['id']}").status_code == 204
    assert admin.get(f"/api/rooms/{room['id']}").json()["status"] == "vacant"


def test_bills_generation_filters_and_rules(admin: Api) -> None:
    b = _building(admin)
    room = _room(admin, b["id"], "401", rent="2500")
    renter = admin.create("/api/renters", {"name": "Biller"})
    contract = admin.create(
        "/api/contracts",
        {
            "room_id": room["id"],
            "renter_id": renter["id"],
            "start_date": "2026-01-15",
            "end_date": "2026-06-14",
            "payment_day": 20,
        },
    )
    first = admin.post(f"/api/contracts/{contract['id']}/bills/generate", json={"months": 3})
    assert first.status_code == 201
    items = first.json()["items"]
    assert [(i["period_start"], i["period_end"], i["due_date"]) for i in items] == [
        ("2026-01-15", "2026-02-14", "2026-01-20"),
        ("2026-02-15", "2026-03-14", "2026-02-20"),
        ("2026-03-15", "2026-04-14", "2026-03-20"),
    ]
    assert all(
        i["amount"] == "2500.00" and i["status"] == "pending" and i["type"] == "rent" for i in items
    )
    more = admin.post(f"/api/contracts/{contract['id']}/bills/generate", json={"months": 2}).json()
    assert [i["period_start"] for i in more["items"]] == ["2026-04-15", "2026-05-15"]
    r = admin.post(f"/api/contracts/{contract['id']}/bills/generate", json={"months": 1})
    assert_error(r, 409, "contract_term_exceeded")
    assert_error(
        admin.post(f"/api/contracts/{contract['id']}/bills/generate", json={"months": 0}), 422
    )

    utility = admin.create(
        "/api/bills",
        {
            "contract_id": contract["id"],
            "type": "utility",
            "amount": "80.5",
            "due_date": "2026-02-01",
        },
    )
    assert utility["bill_number"].startswith("B") and utility["amount"] == "80.50"
    q = f"contract_id={contract['id']}"
    assert admin.get(f"/api/bills?{q}").json()["total"] == 6
    assert admin.get(f"/api/bills?{q}&type=utility").json()["total"] == 1
    assert admin.get(f"/api/bills?{q}&due_before=2026-02-20").json()["total"] == 3
    assert (
        admin.get(f"/api/bills?{q}&due_after=2026-03-20&due_before=2026-04-20").json()["total"] == 2
    )
    assert admin.get(f"/api/bills?q={items[0]['bill_number']}").json()["total"] == 1

    cancelled = admin.patch(f"/api/bills/{utility['id']}", json={"status": "cancelled"}).json()
    assert cancelled["status"] == "cancelled"
    assert_error(
        admin.post("/api/payments", json={"bill_id": utility["id"], "amount": 1, "method": "cash"}),
        409,
        "bill_cancelled",
    )
    assert admin.get(f"/api/bills?{q}&status=cancelled").json()["total"] == 1
    assert_error(admin.patch(f"/api/bills/{utility['id']}", json={"status": "paid"}), 422)
    assert admin.delete(f"/api/bills/{utility['id']}").status_code == 204

    bill = items[0]
    pay = admin.create(
        "/api/payments",
        {"bill_id": bill["id"], "amount": "1000", "method": "wechat", "reference": "wx-1"},
    )
    assert admin.get(f"/api/bills/{bill['id']}").json()["status"] == "partial"
    assert_error(
        admin.patch(f"/api/bills/{bill['id']}", json={"amount": "999"}),
        409,
        "amount_below_received",
    )
    assert_error(
        admin.patch(f"/api/bills/{bill['id']}", json={"status": "overdue"}),
        409,
        "bill_has_payments",
    )
    assert_error(admin.delete(f"/api/bills/{bill['id']}"), 409, "bill_has_payments")
    assert_error(admin.delete(f"/api/contracts/{contract['id']}"), 409, "contract_has_bills")
    assert_error(
        admin.post(
            "/api/payments", json={"bill_id": bill["id"], "amount": "1500.01", "method": "cash"}
        ),
        409,
        "overpayment",
    )
    assert (
        admin.patch(f"/api/payments/{pay['id']}", json={"reference": "wx-1b"}).json()["reference"]
        == "wx-1b"
    )
    assert admin.get(f"/api/payments?bill_id={bill['id']}").json()["total"] == 1
    assert admin.delete(f"/api/payments/{pay['id']}").status_code == 204
    reverted = admin.get(f"/api/bills/{bill['id']}").json()
    assert reverted["status"] == "pending" and reverted["received_amount"] == "0.00"
