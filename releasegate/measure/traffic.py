"""Bounded background traffic for fault experiments: writers that fill a write ledger, readers,
and a readiness probe — every request a timestamped sample for the timeline.

Each thread has its own HTTP client and stops on its own: at ``stop()``, at its time box, or
after its request budget, whichever comes first. Writers send on a fixed schedule (one write per
interval, the next at once when a write took longer), so a stalled application shows up as
late, slow or failed samples rather than as silence.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
from psycopg import sql

from releasegate.config.recipes import LoginRecipe
from releasegate.config.sections.reliability import WriteRecipe
from releasegate.config.templating import render
from releasegate.measure.api import Api, LoginFailed, login
from releasegate.measure.ledger import Write, WriteLedger, classify, ids_at

PROBE_INTERVAL_S = 0.5
MAX_PAGES = 500


@dataclass(frozen=True)
class Sample:
    kind: str
    """``write``, ``read`` or ``probe``."""
    started: float
    """Epoch seconds when the request was sent."""
    seconds: float
    status: int | None
    error: str = ""

    @property
    def failed(self) -> bool:
        return self.status is None or self.status >= 500


def render_json(value: Any, values: Mapping[str, str], where: str) -> Any:
    if isinstance(value, str):
        return render(value, values, where=where)
    if isinstance(value, dict):
        return {k: render_json(v, values, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [render_json(v, values, where) for v in value]
    return value


def dig(data: Any, path: str) -> Any:
    for part in [p for p in path.split(".") if p]:
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


class Writer:
    """Writes of the profile's recipe, each recorded in the ledger with its outcome."""

    def __init__(self, base_url: str, recipe: WriteRecipe, headers: Mapping[str, str],
                 values: Mapping[str, str], timeout: float) -> None:
        self.recipe, self.values = recipe, dict(values)
        self.http = httpx.Client(base_url=base_url, headers=dict(headers), timeout=timeout)

    def write(self, ledger: WriteLedger) -> tuple[Write, Sample]:
        write_id = ledger.next_id()
        values = {**self.values, "write.id": write_id, "write.prefix": ledger.prefix}
        path = render(self.recipe.path, values, where="reliability.writes.path")
        body = render_json(self.recipe.body, values, "reliability.writes.body")
        started, clock = time.time(), time.monotonic()
        status: int | None = None
        error: BaseException | None = None
        try:
            status = self.http.request(self.recipe.method, path, json=body).status_code
        except httpx.HTTPError as exc:
            error = exc
        seconds = time.monotonic() - clock
        detail = f"{type(error).__name__}: {error}"[:200] if error else ""
        write = Write(write_id, started, started + seconds, classify(status, error), status,
                      detail)
        ledger.add(write)
        return write, Sample("write", started, seconds, status, detail)

    def close(self) -> None:
        self.http.close()


def get(http: httpx.Client, path: str, kind: str = "read") -> Sample:
    started, clock = time.time(), time.monotonic()
    try:
        status: int | None = http.get(path).status_code
        error = ""
    except httpx.HTTPError as exc:
        status, error = None, f"{type(exc).__name__}"
    return Sample(kind, started, time.monotonic() - clock, status, error)


class Traffic:
    """``with Traffic(...) as traffic:`` runs writers, readers and a probe until the block ends."""

    def __init__(self, base_url: str, *, headers: Mapping[str, str], recipe: WriteRecipe,
                 ledger: WriteLedger, values: Mapping[str, str], reads: tuple[str, ...] = (),
                 writers: int = 1, readers: int = 0, interval_s: float = 0.1,
                 read_interval_s: float = 0.2, timeout_s: float = 10.0, max_s: float = 300.0,
                 probe_path: str = "") -> None:
        self.base_url, self.headers, self.recipe, self.ledger = base_url, headers, recipe, ledger
        self.values, self.reads = values, reads
        self.interval_s, self.read_interval_s = interval_s, read_interval_s
        self.timeout_s, self.max_s = timeout_s, max_s
        self._stop = threading.Event()
        self._samples: list[Sample] = []
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._write_loop, daemon=True,
                                          name=f"rg-writer-{i}") for i in range(writers)]
        if reads:
            self._threads += [threading.Thread(target=self._read_loop, args=(i,), daemon=True,
                                               name=f"rg-reader-{i}") for i in range(readers)]
        if probe_path:
            self._threads.append(threading.Thread(target=self._probe_loop, args=(probe_path,),
                                                  daemon=True, name="rg-probe"))
        self.started = 0.0
        self.stopped = 0.0

    def __enter__(self) -> Traffic:
        self.started = time.time()
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=self.timeout_s + 5)
        self.stopped = self.stopped or time.time()

    @property
    def samples(self) -> list[Sample]:
        with self._lock:
            return list(self._samples)

    def _keep(self, sample: Sample) -> None:
        with self._lock:
            self._samples.append(sample)

    def _paced(self, interval: float) -> Any:
        """Yields on a fixed schedule until stopped, out of time or out of budget."""
        deadline = time.monotonic() + self.max_s
        budget = int(self.max_s / interval) + 1
        next_at = time.monotonic()
        for _ in range(budget):
            if self._stop.is_set() or time.monotonic() >= deadline:
                return
            yield
            # A request that took longer than the interval is followed at once, never by a
            # burst that catches up.
            next_at = max(next_at + interval, time.monotonic())
            self._stop.wait(max(0.0, next_at - time.monotonic()))

    def _write_loop(self) -> None:
        writer = Writer(self.base_url, self.recipe, self.headers, self.values, self.timeout_s)
        try:
            for _ in self._paced(self.interval_s):
                self._keep(writer.write(self.ledger)[1])
        finally:
            writer.close()

    def _read_loop(self, index: int) -> None:
        with httpx.Client(base_url=self.base_url, headers=dict(self.headers),
                          timeout=self.timeout_s) as http:
            for n, _ in enumerate(self._paced(self.read_interval_s)):
                self._keep(get(http, self.reads[(index + n) % len(self.reads)]))

    def _probe_loop(self, path: str) -> None:
        with httpx.Client(base_url=self.base_url, timeout=self.timeout_s) as http:
            for _ in self._paced(PROBE_INTERVAL_S):
                self._keep(get(http, path, "probe"))


def login_when_ready(base_url: str, recipe: LoginRecipe | None, values: Mapping[str, str], *,
                     wait_s: float = 60.0) -> Api:
    """The profile's login, retried while the application recovers from an earlier test's
    fault (a login refused with a 5xx or not answered); a refusal that persists is raised."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            return login(base_url, recipe, values)
        except LoginFailed:
            if time.monotonic() >= deadline:
                raise
            time.sleep(1.0)


# -- reading the ledger back -------------------------------------------------------------------

def read_back_api(base_url: str, headers: Mapping[str, str], recipe: WriteRecipe,
                  prefix: str, values: Mapping[str, str], timeout: float = 30.0,
                  ) -> dict[str, int] | str:
    """Every id under ``prefix`` the API lists (page by page), or why it could not be read."""
    if not recipe.read_path:
        return "the profile names no [reliability.writes] read_path"
    found: list[Any] = []
    with httpx.Client(base_url=base_url, headers=dict(headers), timeout=timeout) as http:
        for page in range(1, MAX_PAGES + 1):
            path = render(recipe.read_path, {
                **values, "write.prefix": prefix, "page": str(page),
                "offset": str((page - 1) * recipe.page_size), "limit": str(recipe.page_size)},
                where="reliability.writes.read_path")
            try:
                response = http.get(path)
            except httpx.HTTPError as exc:
                return f"GET {path}: {type(exc).__name__}: {exc}"
            if response.status_code != 200:
                return f"GET {path} answered {response.status_code}: {response.text[:200]}"
            items = dig(response.json(), recipe.read_items) if recipe.read_items else \
                response.json()
            if not isinstance(items, list):
                return f"GET {path}: no list at {recipe.read_items or 'the top level'}"
            found += [dig(item, recipe.read_id) for item in items]
            if len(items) < recipe.page_size:
                return ids_at(prefix, found)
    return f"more than {MAX_PAGES} pages under {prefix}"


def read_back_sql(dsn: str, recipe: WriteRecipe, prefix: str) -> dict[str, int] | str:
    """Every id under ``prefix`` in the database table the profile names, with multiplicity."""
    if not recipe.sql_table:
        return "the profile names no [reliability.writes] sql_table"
    query = sql.SQL("SELECT {col}::text, count(*) FROM {table} WHERE left({col}::text, %s) = %s "
                    "GROUP BY 1").format(col=sql.Identifier(recipe.sql_column),
                                         table=sql.Identifier(recipe.sql_table))
    try:
        with psycopg.connect(dsn, connect_timeout=10) as conn:
            rows = conn.execute(query, (len(prefix), prefix)).fetchall()
    except psycopg.Error as exc:
        return f"SQL read of {recipe.sql_table}.{recipe.sql_column}: {exc}".strip()[:300]
    return {str(value): int(count) for value, count in rows}
