"""The part of Rento's end-to-end flow that steps cannot say: the dashboard's arithmetic.

The flow itself is declared in ``profiles/rento.toml`` (``[[e2e.steps]]``); its
``check = "releasegate.suites.e2e.flows.rento:dashboard_agrees"`` step calls this with what the
steps captured. In a fresh tenant every figure is known from that data, to the cent.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from releasegate.measure.steps import FlowContext

# What the profile's steps create before this check: 1 building, 3 rooms, 2 renters, 2 active
# contracts (so 2 let rooms), 3 bills per contract, one bill paid in full, one in part.
BUILDINGS, ROOMS, RENTERS, CONTRACTS = 1, 3, 2, 2


def _money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def expected_figures(v: dict[str, Any]) -> dict[str, Any]:
    """The dashboard as the captured data says it must be."""
    bills = [*v["bills_1"], *v["bills_2"]]
    full = next(b for b in bills if b["id"] == v["bill_full"])
    # The dashboard documents pending as bills in status "pending": the partly paid one is not.
    pending = [b for b in bills if b["id"] not in (v["bill_full"], v["bill_part"])]
    return {
        "buildings": BUILDINGS, "rooms": ROOMS, "occupied_rooms": CONTRACTS,
        "vacant_rooms": ROOMS - CONTRACTS, "renters": RENTERS, "active_contracts": CONTRACTS,
        "occupancy_rate": round(CONTRACTS / ROOMS, 4),
        "bills.paid_count": 1, "bills.paid_amount": _money(full["amount"]),
        "received_total": _money(v["paid_full"]) + _money(v["paid_part"]),
        "bills.pending_count": len(pending),
        "bills.pending_amount": sum((_money(b["amount"]) for b in pending), Decimal("0.00")),
    }


def _reported(stats: dict[str, Any], name: str, want: Any) -> Any:
    node: Any = stats
    for key in name.split("."):
        node = node.get(key) if isinstance(node, dict) else None
    if node is None:
        return None
    if isinstance(want, Decimal):
        return _money(node)
    if isinstance(want, float):
        return round(float(node), 4)
    return node


def dashboard_agrees(ctx: FlowContext) -> dict[str, Any]:
    stats: dict[str, Any] = ctx.session("tenant").get("/api/dashboard/stats").json()
    expected = expected_figures(ctx.vars)
    for name, want in expected.items():
        got = _reported(stats, name, want)
        ctx.checks.add(f"dashboard {name} agrees with the data", got == want,
                       f"dashboard says {got}, data says {want}")
    return {"dashboard": stats, "expected": {k: str(v) for k, v in expected.items()}}
