"""The scenario of any application, from its profile alone: ``[[load.endpoints]]`` with weights,
``[load.params.NAME]`` pools filled from list endpoints, captures from create answers.

    [[load.endpoints]]
    name = "list rooms"
    path = "/api/rooms?page={int:1:50}&page_size=20"
    weight = 5
    [[load.endpoints]]
    name = "one room"
    path = "/api/rooms/{room}"
    [load.params.room]
    from = "/api/rooms?page_size=100"
    pick = "items[*].id"
"""

from __future__ import annotations

from typing import Any

from releasegate.loadgen.scenario import Endpoint, PoolSource, Scenario, endpoint_from


def endpoints(config: dict[str, Any]) -> list[Endpoint]:
    return [endpoint_from(item, f"load.endpoints[{i}]")
            for i, item in enumerate(config.get("endpoints") or [])]


def sources(config: dict[str, Any]) -> dict[str, PoolSource]:
    return {name: PoolSource(path=str(p["from"]), pick=str(p.get("pick", "items[*].id")),
                             consume=bool(p.get("consume", False)), pages=int(p.get("pages", 1)))
            for name, p in (config.get("params") or {}).items()}


def build(config: dict[str, Any], *, worker: int, workers: int, seed: int) -> Scenario:
    return Scenario(endpoints(config), sources(config), worker=worker, workers=workers,
                    seed=seed)
