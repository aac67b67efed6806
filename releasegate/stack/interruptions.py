"""Reading, from the engine, when the run's containers went down and came back.

The engine's event log is the record: ``die`` (any stop, kill, crash or restart) is followed by
``start``; ``pause`` by ``unpause``. Restarts made by the harness's own unhealthy-restarter are
named as such from its journal.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

from releasegate.evidence.interference import Interruption

_DOWN = {"die": "start", "pause": "unpause"}
AUTOHEAL_MATCH_S = 30.0
"""A journal entry this close after a ``die`` explains it."""


def interruptions_from_events(
    events: Iterable[Mapping[str, Any]], roles: Mapping[str, str],
    autoheal: Iterable[Mapping[str, Any]] = (), *, now: float | None = None,
) -> list[Interruption]:
    """Pair each down event with the next up event of the same container.

    ``roles`` maps container id → role ("app", "db"); ``autoheal`` are the journal entries of
    the unhealthy-restarter (``at``, ``container``)."""
    healed = [(float(e.get("at", 0)), str(e.get("container", ""))) for e in autoheal]
    open_: dict[str, tuple[float, str, str]] = {}  # id → (down at, down action, description)
    found: list[Interruption] = []
    ordered = sorted(events, key=lambda e: int(e.get("timeNano") or 0) or float(e.get("time", 0)))
    for event in ordered:
        cid = str(event.get("id") or event.get("Actor", {}).get("ID") or "")
        role = roles.get(cid)
        action = str(event.get("Action") or event.get("status") or "")
        if role is None:
            continue
        moment = _seconds(event)
        if action in _DOWN and cid not in open_:
            exit_code = (event.get("Actor", {}).get("Attributes") or {}).get("exitCode")
            open_[cid] = (moment, action,
                          action + (f" (exit code {exit_code})" if exit_code else ""))
        elif cid in open_ and action == _DOWN[open_[cid][1]]:
            down_at, _, what = open_.pop(cid)
            found.append(Interruption(role, down_at, moment, _cause(what, action, cid, down_at,
                                                                     healed)))
    end = time.time() if now is None else now
    for cid, (down_at, _, what) in open_.items():
        found.append(Interruption(roles[cid], down_at, end,
                                  f"{what}; still down when the suites ended"))
    return sorted(found, key=lambda i: i.down_at)


def _seconds(event: Mapping[str, Any]) -> float:
    nano = event.get("timeNano")
    return int(nano) / 1e9 if nano else float(event.get("time", 0))


def _cause(what: str, up: str, cid: str, down_at: float,
           healed: list[tuple[float, str]]) -> str:
    by_harness = any(c == cid and 0 <= at - down_at <= AUTOHEAL_MATCH_S for at, c in healed)
    who = ("restarted by the harness's unhealthy-restarter" if by_harness
           else "engine events")
    return f"{what} → {up}; {who}"


def read_interruptions(client: Any, roles: Mapping[str, str], since: float,
                       autoheal: Iterable[Mapping[str, Any]] = ()) -> list[Interruption]:
    """Interruptions of the containers in ``roles`` since ``since`` (epoch seconds)."""
    if not roles:
        return []
    until = time.time()
    stream = client.events(since=int(since) - 1, until=int(until) + 1, decode=True,
                           filters={"type": "container", "container": list(roles)})
    events = list(stream)
    return interruptions_from_events(events, roles, autoheal, now=until)
