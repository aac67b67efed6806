"""Rento's weighted mix at the reference data volume (``rento seed``): what its landlords do all
day. Reads dominate — lists of rooms, contracts and bills with filters and pagination, the
dashboard, searches — and a share of the traffic writes: a renter is created, gets a contract on
a vacant room, the contract a bill, the bill a payment.

The mix is plain data for the generic engine; ``config`` (the profile's ``[load]``) may add
endpoints of its own to it.
"""

from __future__ import annotations

from typing import Any

from releasegate.loadgen.scenario import Endpoint, PoolSource, Scenario, endpoint_from

MIX: list[dict[str, Any]] = [
    {"name": "list rooms", "weight": 6,
     "path": "/api/rooms?status=vacant&page={int:1:20}&page_size=20"},
    {"name": "list rooms by floor", "weight": 3, "path": "/api/rooms?floor={int:1:20}"},
    {"name": "list contracts", "weight": 5,
     "path": "/api/contracts?status=active&page={int:1:50}&page_size=20"},
    {"name": "list bills", "weight": 5,
     "path": "/api/bills?status=pending&due_before={date:+30}&page={int:1:50}&page_size=20"},
    {"name": "dashboard", "weight": 3, "path": "/api/dashboard/stats"},
    {"name": "search renters", "weight": 3, "path": "/api/renters?q={int:10:99}"},
    {"name": "create renter", "weight": 3, "method": "POST", "path": "/api/renters",
     "body": {"name": "load {unique}", "phone": "13800{int:100000:999999}"},
     "capture": {"renter": "id"}},
    {"name": "create contract", "weight": 3, "method": "POST", "path": "/api/contracts",
     "body": {"room_id": "{vacant_room}", "renter_id": "{renter}", "start_date": "{date:+0}",
              "end_date": "{date:+365}"},
     "capture": {"contract": "id"}},
    {"name": "create bill", "weight": 3, "method": "POST", "path": "/api/bills",
     "body": {"contract_id": "{contract}", "type": "utility", "amount": "120.00",
              "due_date": "{date:+20}"},
     "capture": {"bill": "id"}},
    {"name": "pay bill", "weight": 3, "method": "POST", "path": "/api/payments",
     "body": {"bill_id": "{bill}", "amount": "120.00", "method": "transfer"}},
]
# Each vacant room takes one contract: enough of them for a run of 20 minutes at 30/s.
POOLS = {"vacant_room": PoolSource("/api/rooms?status=vacant&page_size=100", "items[*].id",
                                   consume=True, pages=10)}
CONSUMED_CAPTURES = ("bill",)
"""A bill is paid once in full: handing it out twice would be an overpayment (422)."""


def endpoints(config: dict[str, Any]) -> list[Endpoint]:
    extra = config.get("endpoints") or []
    return [endpoint_from(item, f"rento mix[{i}]") for i, item in enumerate([*MIX, *extra])]


def build(config: dict[str, Any], *, worker: int, workers: int, seed: int) -> Scenario:
    scenario = Scenario(endpoints(config), POOLS, worker=worker, workers=workers, seed=seed)
    scenario.consume.update(CONSUMED_CAPTURES)
    return scenario
