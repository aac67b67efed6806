"""A weighted mix of requests, written as data: the scenario every load test runs.

An endpoint is a method, a path template, a weight and optionally a body and captures.
Templates draw their values from *pools*: lists of ids fetched at set-up (``from`` a list
endpoint, ``pick`` a JSON path such as ``items[*].id``) or captured from answers (a create
returns an ``id`` that a later request uses). A pool marked ``consume`` hands each value out once
(a vacant room gets one contract). Placeholders:

- ``{pool}``: a value from that pool (an integer stays an integer where it is the whole value);
- ``{int:A:B}``: a random integer in [A, B]; ``{unique}``: a token unique in the run;
- ``{date:+N}``: today plus N days (``YYYY-MM-DD``).

Runs inside the Locust workers but imports neither gevent nor locust: the pytest process
validates the same objects against the OpenAPI document before any load is sent.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from releasegate.errors import ConfigError

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*|int:-?\d+:-?\d+|unique|date:[+-]\d+)\}")
_PATH_PARAM = re.compile(r"\{[^}]*\}")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str
    weight: float = 1.0
    body: Any = None
    capture: dict[str, str] = field(default_factory=dict)
    """pool name → JSON path in a successful answer's body."""
    auth: bool = True
    """False: sent without the login's headers (an error storm's 401s)."""

    @property
    def template(self) -> str:
        """The path as the OpenAPI document writes it (query string removed)."""
        return self.path.split("?", 1)[0]

    def pools(self) -> set[str]:
        names = set(_PLACEHOLDER.findall(self.path)) | set(_PLACEHOLDER.findall(repr(self.body)))
        return {n for n in names if ":" not in n and n != "unique"}


@dataclass(frozen=True)
class PoolSource:
    """Where a pool is filled from at set-up: GET ``path``, values at JSON path ``pick``."""

    path: str
    pick: str
    consume: bool = False
    pages: int = 1
    """Pages 1…N of ``path`` (``page=N`` added to its query): more values than one page has."""

    def paths(self) -> list[str]:
        if self.pages <= 1:
            return [self.path]
        joiner = "&" if "?" in self.path else "?"
        return [f"{self.path}{joiner}page={n}" for n in range(1, self.pages + 1)]


@dataclass
class Request:
    endpoint: Endpoint
    path: str
    body: Any


def json_path(data: Any, path: str) -> list[Any]:
    """Values at a dotted path with ``[n]`` and ``[*]`` steps (``items[*].id``); [] if none."""
    current = [data]
    for step in re.findall(r"[^.\[\]]+|\[\*\]|\[\d+\]", path):
        nxt: list[Any] = []
        for item in current:
            if step == "[*]" and isinstance(item, list):
                nxt.extend(item)
            elif step.startswith("[") and isinstance(item, list):
                index = int(step[1:-1])
                if index < len(item):
                    nxt.append(item[index])
            elif isinstance(item, dict) and step in item:
                nxt.append(item[step])
        current = nxt
    return [v for v in current if v is not None]


class Scenario:
    """Picks the next request by weight among the endpoints whose pools have values."""

    def __init__(self, endpoints: list[Endpoint], sources: Mapping[str, PoolSource],
                 *, worker: int = 0, workers: int = 1, seed: int = 1) -> None:
        if not endpoints:
            raise ConfigError("the load scenario has no endpoint", hint="list [[load.endpoints]]")
        self.endpoints = endpoints
        self.sources = dict(sources)
        self.pools: dict[str, list[Any]] = {name: [] for name in self.sources}
        for e in endpoints:
            self.pools.update({name: [] for name in e.capture if name not in self.pools})
        self.consume = {name for name, s in self.sources.items() if s.consume}
        # Which request comes next, not a secret: a seeded generator makes runs repeatable.
        self.rng = random.Random(seed * 1000 + worker)  # noqa: S311
        self.worker = worker
        self.workers = max(workers, 1)
        self._counter = 0
        self._needs = {e.name: e.pools() for e in endpoints}
        self._static: list[float] | None = None
        if not any(self._needs.values()):
            self._static = list(itertools.accumulate(e.weight for e in endpoints))
        missing = sorted({p for e in endpoints for p in e.pools()} - set(self.pools))
        if missing:
            raise ConfigError(f"load endpoints use {{{missing[0]}}} but no pool of that name is "
                              "listed or captured", hint="add [load.params] or a capture")

    def setup(self, get: Callable[[str], Any]) -> None:
        """Fill the listed pools; ``get(path)`` returns the decoded JSON body or raises."""
        for name, source in self.sources.items():
            values = [v for path in source.paths() for v in json_path(get(path), source.pick)]
            if source.consume:  # each worker its own share, so no value is used twice
                values = values[self.worker % self.workers::self.workers]
            if not values:
                raise ConfigError(f"pool {name}: GET {source.path} gave nothing at "
                                  f"{source.pick!r}", hint="seed data or fix the path")
            self.pools[name] = values

    def _ready(self, endpoint: Endpoint) -> bool:
        return all(self.pools.get(p) for p in self._needs[endpoint.name])

    def next(self) -> Request | None:
        if self._static is not None:  # no endpoint waits for data: the common, cheap case
            endpoint = self.rng.choices(self.endpoints, cum_weights=self._static)[0]
        else:
            ready = [e for e in self.endpoints if self._ready(e)]
            if not ready:
                return None
            endpoint = self.rng.choices(ready, weights=[e.weight for e in ready])[0]
        taken: dict[str, Any] = {}
        path = self._fill(endpoint.path, taken)
        body = self._fill(endpoint.body, taken)
        return Request(endpoint, path, body)

    def answered(self, request: Request, status: int, body: Callable[[], Any]) -> None:
        if not request.endpoint.capture or not 200 <= status < 300:
            return
        try:
            data = body()
        except ValueError:
            return
        for pool, path in request.endpoint.capture.items():
            self.pools[pool].extend(json_path(data, path)[:1])

    def _value(self, token: str, taken: dict[str, Any]) -> Any:
        if token == "unique":  # noqa: S105 (a placeholder name)
            self._counter += 1
            return f"w{self.worker}-{self._counter}-{self.rng.randrange(10**6)}"
        if token.startswith("int:"):
            low, high = (int(x) for x in token[4:].split(":"))
            return self.rng.randint(low, high)
        if token.startswith("date:"):
            return (dt.date.today() + dt.timedelta(days=int(token[5:]))).isoformat()
        if token not in taken:
            pool = self.pools[token]
            index = self.rng.randrange(len(pool))
            taken[token] = pool.pop(index) if token in self.consume else pool[index]
        return taken[token]

    def _fill(self, template: Any, taken: dict[str, Any]) -> Any:
        if isinstance(template, str):
            if "{" not in template:
                return template
            whole = _PLACEHOLDER.fullmatch(template)
            if whole:
                return self._value(whole.group(1), taken)
            return _PLACEHOLDER.sub(lambda m: str(self._value(m.group(1), taken)), template)
        if isinstance(template, dict):
            return {k: self._fill(v, taken) for k, v in template.items()}
        if isinstance(template, list):
            return [self._fill(v, taken) for v in template]
        return template


def endpoint_from(data: Mapping[str, Any], where: str) -> Endpoint:
    """An endpoint from a plain table, refusing what would silently send nothing useful."""
    known = {"name", "method", "path", "weight", "body", "capture", "auth"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r}", hint=f"use {sorted(known)}")
    method = str(data.get("method", "GET")).upper()
    path = data.get("path")
    if method not in METHODS or not isinstance(path, str) or not path.startswith("/"):
        raise ConfigError(f"{where}: needs a method ({'/'.join(METHODS)}) and a path "
                          f"starting with '/', got {method} {path!r}")
    weight = data.get("weight", 1)
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight <= 0:
        raise ConfigError(f"{where}: weight {weight!r} must be a positive number")
    return Endpoint(name=str(data.get("name") or f"{method} {path.split('?')[0]}"),
                    method=method, path=path, weight=float(weight), body=data.get("body"),
                    capture=dict(data.get("capture") or {}), auth=bool(data.get("auth", True)))


def check_against_openapi(endpoints: list[Endpoint], document: Mapping[str, Any]) -> None:
    """Every endpoint must be an operation the application documents: a typo must not turn
    into a load of 404s that measures nothing."""
    paths = document.get("paths") or {}
    index = {(_PATH_PARAM.sub("{}", p), m.upper()) for p, ops in paths.items()
             if isinstance(ops, dict) for m in ops}
    for e in endpoints:
        if (_PATH_PARAM.sub("{}", e.template), e.method) not in index:
            raise ConfigError(f"load endpoint {e.name!r} ({e.method} {e.template}) is not an "
                              "operation of the application's OpenAPI document",
                              hint="fix the path or method in the scenario")
