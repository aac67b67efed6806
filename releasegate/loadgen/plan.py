"""What one load run does, as plain data that travels to every Locust process as JSON.

The master reads the plan from a file (never from its command line, where a token would show in
``ps``) and Locust hands it to every worker with the run's other options, so a worker on another
machine needs nothing but the master's address.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from releasegate.errors import ConfigError

OPEN, CLOSED = "open", "closed"


@dataclass(frozen=True)
class Stage:
    """``seconds`` at ``rate`` requests/s (open model) or with ``users`` clients (closed)."""

    seconds: float
    rate: float = 0.0
    users: int = 0


@dataclass(frozen=True)
class ServerTiming:
    """Where the server says how long it took: ``<header>: <metric>;dur=<ms>``."""

    header: str = "Server-Timing"
    metric: str = "app"


@dataclass(frozen=True)
class Plan:
    base_url: str
    scenario: str
    """``generic``, a module of releasegate.loadtests (``rento``) or ``package.module``."""
    model: str
    stages: tuple[Stage, ...]
    scenario_config: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    """Sent with every request (the login's Authorization header)."""
    workers: int = 1
    pool_per_worker: int = 50
    """Clients per worker: the open model's senders, or the closed model's users."""
    warmup_s: float = 0.0
    timeout_s: float = 10.0
    think_s: float = 0.0
    """Closed model: pause between a client's answer and its next request."""
    window_s: float = 1.0
    lead_s: float = 2.0
    """Time between a worker's set-up and its first intended send, for clients to spawn."""
    spawn_rate: float = 0.0
    """Clients started per second over all workers; 0: all at once."""
    server_timing: ServerTiming = field(default_factory=ServerTiming)
    seed: int = 1

    @property
    def duration_s(self) -> float:
        return sum(s.seconds for s in self.stages)

    @property
    def total_clients(self) -> int:
        return self.pool_per_worker * self.workers

    def validate(self) -> None:
        """Refuse a plan that cannot measure anything, with the reason in one line."""
        if self.model not in (OPEN, CLOSED):
            raise ConfigError(f"load model {self.model!r} is not {OPEN!r} or {CLOSED!r}")
        if not self.stages:
            raise ConfigError("the load plan has no stage", hint="give a duration and a rate")
        for i, stage in enumerate(self.stages):
            if stage.seconds <= 0:
                raise ConfigError(f"load stage {i + 1} lasts {stage.seconds:g} s",
                                  hint="durations must be positive")
            if self.model == OPEN and stage.rate <= 0:
                raise ConfigError(f"load stage {i + 1} has an arrival rate of {stage.rate:g}/s",
                                  hint="an open-model rate must be above 0")
            if self.model == CLOSED and stage.users <= 0:
                raise ConfigError(f"load stage {i + 1} has {stage.users} users",
                                  hint="a closed-model stage needs at least one user")
        if self.workers < 1 or self.pool_per_worker < 1:
            raise ConfigError(f"{self.workers} worker(s) × {self.pool_per_worker} client(s) "
                              "cannot send anything", hint="use at least 1 of each")
        if self.warmup_s >= self.duration_s:
            raise ConfigError(f"the warm-up ({self.warmup_s:g} s) is not shorter than the run "
                              f"({self.duration_s:g} s)", hint="lengthen the run")

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Plan:
        data = json.loads(text)
        data["stages"] = tuple(Stage(**s) for s in data["stages"])
        data["server_timing"] = ServerTiming(**data["server_timing"])
        return cls(**data)

    def write(self, path: Path) -> Path:
        path.write_text(self.to_json(), encoding="utf-8")
        path.chmod(0o600)  # it carries the login's token
        return path
