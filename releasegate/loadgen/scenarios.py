"""Finding a scenario by name: ``generic`` and the bundled ones live in ``releasegate.loadtests``
(the repository's top-level ``loadtests/``); any other name is an importable module. A scenario
module has ``build(config, *, worker, workers, seed) -> Scenario`` and ``endpoints(config)``."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from releasegate.errors import ConfigError
from releasegate.loadgen.scenario import Endpoint, Scenario


def scenario_module(name: str) -> ModuleType:
    candidates = [name] if "." in name else [f"releasegate.loadtests.{name}"]
    for module in candidates:
        try:
            found = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name and module.startswith(exc.name):
                continue
            raise
        if not hasattr(found, "build") or not hasattr(found, "endpoints"):
            raise ConfigError(f"load scenario {name!r} ({module}) has no build() and "
                              "endpoints()", hint="see loadtests/generic.py")
        return found
    raise ConfigError(f"load scenario {name!r} was not found",
                      hint="use generic, a module of loadtests/, or package.module")


def build_scenario(name: str, config: dict[str, Any], *, worker: int, workers: int,
                   seed: int) -> Scenario:
    scenario: Scenario = scenario_module(name).build(config, worker=worker, workers=workers,
                                                     seed=seed)
    return scenario


def scenario_endpoints(name: str, config: dict[str, Any]) -> list[Endpoint]:
    endpoints: list[Endpoint] = scenario_module(name).endpoints(config)
    return endpoints
