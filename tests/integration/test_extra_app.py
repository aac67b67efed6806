"""A suite can start another instance of the app beside the stack: it answers, it exits when it
refuses to start, and it is removed afterwards."""

from __future__ import annotations

from pathlib import Path

import pytest

from releasegate.config.profile import parse_profile
from releasegate.stack.engine import connect_engine
from releasegate.stack.extra import app_environment, extra_app
from releasegate.stack.images import ensure_image, recipe_for_python
from releasegate.stack.model import StackInfo

pytestmark = pytest.mark.integration


def _profile(tmp_path: Path) -> object:
    return parse_profile({
        "profile": {"name": "extra"},
        "secrets": {"token": {"generate": 20}},
        "services": {"app": {"kind": "app", "image": "unused:1", "port": 8000,
                             "health_path": "/", "env": {"TOKEN": "{secret.token}",
                                                         "MODE": "production"}}},
    }, file=tmp_path / "p.toml", today=__import__("datetime").date(2026, 11, 29))


def test_environment_changes_and_removals(tmp_path: Path) -> None:
    stack = StackInfo(run_id="r1", provider="containers", base_url="",
                      secrets={"token": "s3cret-value-123"})
    env = app_environment(stack, _profile(tmp_path), {"MODE": None, "EXTRA": "{run.id}"})  # type: ignore[arg-type]
    assert env == {"TOKEN": "s3cret-value-123", "EXTRA": "r1"}


def test_an_extra_instance_answers_or_exits_and_is_removed(tmp_path: Path) -> None:
    client = connect_engine(auto_install=True, progress=print)
    image = str(ensure_image(client, recipe_for_python("3.11"), progress=print).tag)
    stack = StackInfo(run_id="extra-test", provider="containers", base_url="",
                      network="bridge", secrets={"token": "s3cret-value-123"})
    profile = _profile(tmp_path)
    with extra_app(client, stack, profile, role="extra", image=image, wait_s=30,  # type: ignore[arg-type]
                   command=["python3", "-m", "http.server", "8000"]) as app:
        assert app.healthy_after_s is not None and app.exit_code is None
        name = app.container.name
    assert not client.containers.list(all=True, filters={"name": name})
    with extra_app(client, stack, profile, role="extra", image=image, wait_s=30,  # type: ignore[arg-type]
                   command=["sh", "-c", "echo refusing: TOKEN is a default >&2; exit 3"]) as app:
        assert app.healthy_after_s is None and app.exit_code == 3
        assert "refusing" in app.logs()
