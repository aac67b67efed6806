"""A cell's phases and what it leaves behind, with the engine faked: the phase that broke is
named, and the cell's own secrets never reach the progress lines, details or attachments."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest
from releasegate.suites.compat import cells

from releasegate.config.profile import load_profile
from releasegate.errors import EnvironmentProblem
from releasegate.measure.compat_plan import Cell
from releasegate.stack import images

REPO = Path(__file__).resolve().parents[2]
SECRET = "cell-db-password-XYZ123"


class _FakeStack:
    started: ClassVar[list[str]] = []
    stopped: ClassVar[list[str]] = []

    def __init__(self, profile: Any, *, run_id: str, parent_run: str, **_: Any) -> None:
        self.profile, self.run_id, self.parent_run = profile, run_id, parent_run
        self.secrets: dict[str, str] = {}

    def start(self) -> Any:
        self.secrets = {"db_password": SECRET}
        self.started.append(self.run_id)
        raise EnvironmentProblem(f"PostgreSQL did not accept connections: password {SECRET}",
                                 hint=f"database log: FATAL password authentication {SECRET}")

    def stop(self) -> None:
        self.stopped.append(self.run_id)

    def capture_logs(self) -> dict[str, str]:
        return {}


@pytest.fixture
def faked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cells.engine, "connect_engine", lambda **_: object())
    monkeypatch.setattr(cells.images, "ensure_image", lambda client, recipe, **_:
                        images.ProvisionedImage(recipe.name, "id", "local", 0.0))
    monkeypatch.setattr(cells.build, "build_image", lambda client, spec, *, tag, **_:
                        cells.build.BuiltImage(tag, "id", 0.1, ""))
    monkeypatch.setattr(cells, "ContainersStack", _FakeStack)


def test_a_database_that_never_starts_ends_the_cell_there_without_its_secret(
        faked: None, tmp_path: Path) -> None:
    said: list[str] = []
    attached: dict[str, str | bytes] = {}

    def attach(name: str, content: str | bytes) -> str:
        attached[name] = content
        return name

    profile = load_profile(REPO / "profiles" / "rento.toml")
    job = cells.CellJob(profile=profile, settings=profile.section("compat"), parent_run="run1",
                        run_dir=tmp_path, attach=attach, say=said.append)
    result = cells.run_cell(job, Cell("3.9", 13))
    assert (result.status, result.phase) == ("failed", "database")
    assert _FakeStack.started == ["run1-py3.9-pg13"] == _FakeStack.stopped
    assert "build" in result.phases and "start" in result.phases
    everything = " ".join([result.detail, *said, *map(str, attached.values())])
    assert SECRET not in everything and "«secret:db_password»" in result.detail
    assert list(attached) == ["compat-py3.9-pg13-database.log"]
