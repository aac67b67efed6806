"""Rento's core business flow, through the public API only, in a tenant of its own.

building → rooms → renters → contracts → bills → payments → dashboard. A fresh account means
every dashboard figure is known exactly in advance: agreement is checked to the cent.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from releasegate.measure.api import Api
from releasegate.measure.recorder import CheckList

RENT = (Decimal("2500.00"), Decimal("3100.50"), Decimal("1800.00"))


class FlowBroken(Exception):
    """A step whose result the rest of the flow depends on did not succeed."""


def _created(checks: CheckList, what: str, response: Any) -> dict[str, Any]:
    ok = response.status_code in (200, 201)
    checks.add(f"create {what}", ok, f"{response.status_code} {response.text[:160]}")
    if not ok:
        raise FlowBroken(what)
    body: dict[str, Any] = response.json()
    return body


def _money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def run(admin: Api, base_url: str, checks: CheckList) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    password = f"Flow-{uuid.uuid4().hex}"
    account = _created(checks, "tenant account", admin.post("/api/accounts", json={
        "name": f"e2e-{tag}", "admin_username": f"e2e-admin-{tag}", "admin_password": password}))
    login = Api(base_url).post("/api/auth/login", json={"username": f"e2e-admin-{tag}",
                                                         "password": password})
    checks.add("log in as the new tenant's admin", login.status_code == 200,
               f"{login.status_code}")
    if login.status_code != 200:
        raise FlowBroken("login")
    api = Api(base_url, token=login.json()["access_token"])

    building = _created(checks, "building", api.post("/api/buildings", json={
        "name": f"阳光公寓 {tag}", "address": "1 Test Road", "floors": 6}))
    rooms = [_created(checks, f"room {i}", api.post("/api/rooms", json={
        "building_id": building["id"], "number": f"{i + 1}01", "floor": i + 1, "area": "35.5",
        "rent": str(rent), "deposit": str(rent)})) for i, rent in enumerate(RENT)]
    renters = [_created(checks, f"renter {i}", api.post("/api/renters", json={
        "name": name, "phone": f"1380013800{i}", "id_card": f"11010519900101123{i}",
        "email": f"r{i}-{tag}@example.test"})) for i, name in enumerate(("张三", "李四"))]
    contracts = [_created(checks, f"contract {i}", api.post("/api/contracts", json={
        "room_id": rooms[i]["id"], "renter_id": renters[i]["id"],
        "contract_number": f"C-{tag}-{i}", "start_date": "2026-01-01", "end_date": "2026-12-31",
        "monthly_rent": str(RENT[i]), "deposit": str(RENT[i]), "payment_day": 5}))
        for i in range(2)]

    bills: list[dict[str, Any]] = []
    for i, contract in enumerate(contracts):
        response = api.post(f"/api/contracts/{contract['id']}/bills/generate", json={"months": 3})
        generated = _created(checks, f"bills for contract {i}", response)
        items = generated if isinstance(generated, list) else generated.get("items", [])
        checks.add(f"contract {i} got 3 monthly bills of its rent", len(items) == 3 and all(
            _money(b["amount"]) == RENT[i] for b in items), f"{len(items)} bills")
        bills.extend(items)

    full, part = bills[0], bills[3]
    _created(checks, "full payment", api.post("/api/payments", json={
        "bill_id": full["id"], "amount": str(_money(full["amount"])), "method": "transfer"}))
    _created(checks, "partial payment", api.post("/api/payments", json={
        "bill_id": part["id"], "amount": "1000.00", "method": "cash"}))
    over = api.post("/api/payments", json={"bill_id": full["id"], "amount": "1.00",
                                           "method": "cash"})
    checks.add("overpaying a settled bill is refused", over.status_code in (409, 422),
               f"{over.status_code}")
    paid = api.get(f"/api/bills/{full['id']}").json()
    partial = api.get(f"/api/bills/{part['id']}").json()
    checks.add("a fully paid bill is 'paid'", paid.get("status") == "paid", str(paid.get("status")))
    checks.add("a partly paid bill is 'partial'", partial.get("status") == "partial",
               str(partial.get("status")))

    occupied = api.get("/api/rooms", params={"building_id": building["id"],
                                             "status": "occupied"}).json()
    checks.add("occupied rooms filter finds the 2 let rooms", occupied.get("total") == 2,
               f"total {occupied.get('total')}")
    found = api.get("/api/renters", params={"q": "张三"}).json()
    checks.add("free-text search finds the renter", found.get("total") == 1,
               f"total {found.get('total')}")
    taken = api.post("/api/contracts", json={
        "room_id": rooms[0]["id"], "renter_id": renters[1]["id"],
        "contract_number": f"C-{tag}-dup", "start_date": "2026-01-01",
        "end_date": "2026-12-31", "monthly_rent": "1.00", "deposit": "1.00", "payment_day": 5})
    checks.add("a second contract on an occupied room is refused", taken.status_code == 409,
               f"{taken.status_code}")

    expected_paid = RENT[0]
    expected_received = RENT[0] + Decimal("1000.00")
    # The dashboard documents pending as bills in status "pending": the partial one is not.
    expected_pending = RENT[0] * 2 + RENT[1] * 2
    stats = api.get("/api/dashboard/stats").json()
    figures = {
        "buildings": (stats.get("buildings"), 1), "rooms": (stats.get("rooms"), 3),
        "occupied_rooms": (stats.get("occupied_rooms"), 2),
        "vacant_rooms": (stats.get("vacant_rooms"), 1),
        "renters": (stats.get("renters"), 2),
        "active_contracts": (stats.get("active_contracts"), 2),
        "occupancy_rate": (round(float(stats.get("occupancy_rate", -1)), 4), round(2 / 3, 4)),
        "bills.paid_count": (stats.get("bills", {}).get("paid_count"), 1),
        "bills.paid_amount": (_money(stats.get("bills", {}).get("paid_amount", -1)),
                              expected_paid),
        "received_total": (_money(stats.get("received_total", -1)), expected_received),
        "bills.pending_count": (stats.get("bills", {}).get("pending_count"), 4),
        "bills.pending_amount": (_money(stats.get("bills", {}).get("pending_amount", -1)),
                                 expected_pending),
    }
    for name, (got, want) in figures.items():
        checks.add(f"dashboard {name} agrees with the data", got == want,
                   f"dashboard says {got}, data says {want}")

    ended = api.patch(f"/api/contracts/{contracts[1]['id']}", json={"status": "terminated"})
    checks.add("terminate a contract", ended.status_code == 200, f"{ended.status_code}")
    after = api.get("/api/dashboard/stats").json()
    checks.add("terminating frees the room on the dashboard",
               after.get("occupied_rooms") == 1 and after.get("active_contracts") == 1,
               f"occupied {after.get('occupied_rooms')}, active {after.get('active_contracts')}")
    api.close()
    return {"account": account.get("account_id"), "dashboard": stats,
            "expected": {k: str(v[1]) for k, v in figures.items()}}
