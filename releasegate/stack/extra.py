"""Another instance of the application under test, started by a suite beside the run's stack.

Several checks need the application started differently: with a secret missing or set to a
well-known default (it must refuse), against a database without TLS (it must refuse), on a
restored database (it must work), on another Python or PostgreSQL. The instance runs the run's
own image on the run's network with the profile's environment, changed as asked; it carries the
run's labels, so the run's teardown and ``releasegate clean`` remove it even if the suite dies.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from releasegate.config.profile import Profile
from releasegate.config.templating import render
from releasegate.stack import labels
from releasegate.stack.model import StackInfo


@dataclass
class ExtraApp:
    container: Any
    base_url: str
    healthy_after_s: float | None = None
    """Seconds from start to the first 200 on the health path; None if it never answered."""
    exit_code: int | None = None
    """Set when the process ended on its own while being watched."""

    def logs(self) -> str:
        return bytes(self.container.logs(stdout=True, stderr=True)).decode("utf-8", "replace")


def app_environment(stack: StackInfo, profile: Profile,
                    changes: Mapping[str, str | None]) -> dict[str, str]:
    """The profile's app environment rendered for this run, with ``changes`` applied
    (a value of None removes the variable; values may use the same placeholders)."""
    values = stack.template_values()
    where = f"services.{profile.app.name}.env"
    env = {k: render(v, values, where=f"{where}.{k}") for k, v in profile.app.env.items()}
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = render(value, values, where=f"{where}.{key}")
    return env


@contextmanager
def extra_app(
    client: Any, stack: StackInfo, profile: Profile, *, role: str,
    env: Mapping[str, str | None] | None = None,
    image: str | None = None, network: str | None = None, wait_s: float = 60.0,
    command: list[str] | None = None, tmpfs: Mapping[str, str] | None = None,
) -> Iterator[ExtraApp]:
    """Start the app, wait until it answers 200 on its health path or exits (at most
    ``wait_s``), yield it, and remove it afterwards whatever happened. ``tmpfs`` mounts small
    in-memory file systems (path → mount options), e.g. a full disk for the backup drill."""
    app = profile.app
    container = client.containers.run(
        image or stack.startup.image, command=command, detach=True, tmpfs=dict(tmpfs or {}),
        environment=app_environment(stack, profile, env or {}),
        network=network or stack.network, labels=labels.run_labels(stack.run_id, role),
        ports={f"{app.port}/tcp": ("127.0.0.1", None)},
        name=f"releasegate-{stack.run_id}-{role}-{int(time.monotonic() * 1000) % 100000}",
    )
    try:
        container.reload()
        # A process that refuses to start may be gone before its port was ever published.
        published = (container.attrs["NetworkSettings"].get("Ports") or {}).get(
            f"{app.port}/tcp") or []
        extra = ExtraApp(container, f"http://127.0.0.1:{published[0]['HostPort']}"
                         if published else "")
        _watch(extra, app.health_path, wait_s)
        yield extra
    finally:
        container.remove(force=True)


def _watch(extra: ExtraApp, health_path: str, wait_s: float) -> None:
    started = time.monotonic()
    with httpx.Client(timeout=2.0) as http:
        while time.monotonic() - started < wait_s:
            extra.container.reload()
            if extra.container.status in ("exited", "dead"):
                extra.exit_code = int(extra.container.attrs["State"].get("ExitCode", -1))
                return
            try:
                if extra.base_url and http.get(extra.base_url + health_path).status_code == 200:
                    extra.healthy_after_s = time.monotonic() - started
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
