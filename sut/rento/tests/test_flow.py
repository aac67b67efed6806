"""End to end: building -> rooms -> renters -> contracts -> bills -> payments -> dashboard."""

from __future__ import annotations

from decimal import Decimal

from helpers import Api


def test_dashboard_figures_match_created_data(admin: Api) -> None:
    empty = admin.get("/api/dashboard/stats").json()
    assert empty == {
        "buildings": 0,
        "rooms": 0,
        "occupied_rooms": 0,
        "vacant_rooms": 0,
        "occupancy_rate": 0.0,
        "renters": 0,
        "active_contracts": 0,
        "bills": {
            "pending_count": 0,
            "pending_amount": "0.00",
            "paid_count": 0,
            "paid_amount": "0.00",
            "overdue_count": 0,
        },
        "received_total": "0.00",
    }

    b1 = admin.create("/api/buildings", {"name": "North", "floors": 3})
    b2 = admin.create("/api/buildings", {"name": "South"})
    rents = ["1800.00", "2200.50", "1500.00"]
    rooms = [
        admin.create("/api/rooms", {"building_id": b1["id"], "number": f"10{i}", "rent": rent})
        for i, rent in enumerate(rents)
    ]
    rooms.append(
        admin.create(
            "/api/rooms",
            {"building_id": b2["id"], "number": "M1", "rent": 900, "status": "maintenance"},
        )
    )
    renters = [admin.create("/api/renters", {"name": f"Renter {i}"}) for i in range(3)]

    contracts = [
        admin.create(
            "/api/contracts",
            {
                "room_id": rooms[i]["id"],
                "renter_id": renters[i]["id"],
                "start_date": "2026-09-01",
                "end_date": "2027-08-31",
            },
        )
        for i in range(2)
    ]
    bills = []
    for c in contracts:
        r = admin.post(f"/api/contracts/{c['id']}/bills/generate", json={"months": 3})
        assert r.status_code == 201 and r.json()["total"] == 3
        bills += r.json()["items"]
    extra = admin.create(
        "/api/bills",
        {
            "contract_id": contracts[0]["id"],
            "type": "utility",
            "amount": "45.30",
            "due_date": "2026-09-10",
        },
    )

    # Pay bill 0 in full (two payments), bill 3 partly; mark bill 5 overdue.
    admin.create("/api/payments", {"bill_id": bills[0]["id"], "amount": "800", "method": "cash"})
    admin.create(
        "/api/payments", {"bill_id": bills[0]["id"], "amount": "1000.00", "method": "alipay"}
    )
    admin.create(
        "/api/payments", {"bill_id": bills[3]["id"], "amount": "200.25", "method": "transfer"}
    )
    admin.patch(f"/api/bills/{bills[5]['id']}", json={"status": "overdue"})

    stats = admin.get("/api/dashboard/stats").json()
    pending = [bills[1], bills[2], bills[4], extra]
    assert stats["buildings"] == 2
    assert stats["rooms"] == 4 and stats["occupied_rooms"] == 2 and stats["vacant_rooms"] == 1
    assert stats["occupancy_rate"] == 0.5
    assert stats["renters"] == 3 and stats["active_contracts"] == 2
    assert stats["bills"] == {
        "pending_count": 4,
        "pending_amount": f"{sum(Decimal(b['amount']) for b in pending):.2f}",
        "paid_count": 1,
        "paid_amount": "1800.00",
        "overdue_count": 1,
    }
    assert stats["bills"]["pending_amount"] == "5845.80"  # 1800 + 1800 + 2200.50 + 45.30
    assert stats["received_total"] == "2000.25"

    # Ending a contract frees its room; the figures follow.
    admin.patch(f"/api/contracts/{contracts[1]['id']}", json={"status": "terminated"})
    after = admin.get("/api/dashboard/stats").json()
    assert (after["occupied_rooms"], after["vacant_rooms"], after["active_contracts"]) == (1, 2, 1)
    assert after["occupancy_rate"] == 0.25


def test_dashboard_page_escapes_stored_markup(admin: Api) -> None:
    admin.create(
        "/api/renters",
        {"name": "<script>alert(1)</script>", "occupation": "<img src=x onerror=alert(2)>"},
    )
    r = admin.get("/dashboard")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "<script>alert(1)</script>" not in r.text and "<img src=x" not in r.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
    csp = r.headers["content-security-policy"]
    # Scripts only from the application itself: the stored markup above can never run.
    assert "default-src 'none'" in csp and "script-src 'self';" in csp
    assert "unsafe-inline" not in csp
    assert '<script src="/static/dashboard.js"></script>' in r.text
    assert (
        r.headers["x-content-type-options"] == "nosniff" and r.headers["x-frame-options"] == "DENY"
    )
    # Cookie authentication for browsers.
    token = admin.headers["Authorization"].split()[1]
    admin.client.cookies.set("rento_token", token)
    try:
        assert admin.client.get("/dashboard").status_code == 200
    finally:
        admin.client.cookies.clear()
    assert admin.client.get("/dashboard").status_code == 401


def test_dashboard_script_is_served_as_javascript(admin: Api) -> None:
    r = admin.client.get("/static/dashboard.js")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert 'getElementById("stats")' in r.text
    page = admin.get("/dashboard").text
    assert '<script type="application/json" id="stats">{' in page
