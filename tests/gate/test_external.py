"""The external provider against a real deployment: what it can measure passes, what it cannot
see (the image build, the start, alert delivery) is insufficient — never a pass."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from releasegate.config.profile import load_profile
from releasegate.measure.alerts import start_receiver
from releasegate.stack.containers import ContainersStack
from releasegate.stack.model import StackInfo
from tests.gate.conftest import REPO

pytestmark = pytest.mark.gate


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[StackInfo, Any]]:
    """A Rento deployment made outside the run under test (here: by the containers provider)."""
    profile = load_profile(REPO / "profiles" / "rento.toml")
    stack = ContainersStack(profile, run_id="extdeploy", run_dir=tmp_path_factory.mktemp("dep"),
                            progress=print, alert_sink=start_receiver)
    try:
        info = stack.start()
        assert info.healthy
        yield info, stack
    finally:
        stack.stop()


def test_external_environment_is_judged_and_fails_closed(
    run_gate: Any, deployed: tuple[StackInfo, Any]
) -> None:
    info, stack = deployed
    assert info.db is not None
    containers = [stack.client.containers.get(c) for c in (info.app_container,
                                                           info.db_container)]
    app, db = (c.name for c in containers)
    started = [c.attrs["State"]["StartedAt"] for c in containers]
    result = run_gate(
        "--suite", "deploy", "--suite", "e2e", "--external", info.base_url,
        "--dsn", info.db.dsn(), "--container", f"app={app}", "--container", f"db={db}",
        "--set", 'secrets.admin_password={ env = "RG_EXTERNAL_ADMIN" }',
        "--set", f"external.base_url={info.base_url}", "--set", "external.app_db_host=db:5432",
        env={"RG_EXTERNAL_ADMIN": info.secrets["admin_password"]},
    )
    verdicts = {r["id"]: r["verdict"] for r in result.summary["criteria"]}
    assert result.summary["run"]["provider"] == "external"
    for blind in ("FUNC-CONTAINER-BUILD-RUN", "PERF-CONTAINER-START", "FUNC-ERROR-LOG-ALERT",
                  "FUNC-HEALTH"):
        assert verdicts[blind] == "insufficient", blind
    for seen in ("FUNC-PG-RUNNING", "FUNC-E2E-FLOWS", "FUNC-ERROR-HANDLING",
                 "SEC-NONROOT", "FUNC-MIGRATIONS"):
        assert verdicts[seen] == "pass", (seen, result.summary["criteria"])
    # Someone else's environment: its profile does not allow disruption, so no container of it
    # was stopped or restarted, and the verdicts say why that part is missing.
    health = next(r for r in result.summary["criteria"] if r["id"] == "FUNC-HEALTH")
    assert any("allow_disruption = true" in reason for reason in health["reasons"])
    for container, before in zip(containers, started, strict=True):
        container.reload()
        assert container.attrs["State"]["StartedAt"] == before, container.name
    assert result.exit_code == 3
    assert info.healthy  # the deployment was not torn down by the external run
    assert Path(result.reports / "summary.md").read_text().count("INSUFFICIENT") >= 1
