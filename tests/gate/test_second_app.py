"""The profile, not the code, carries the difference: Ledger (tests/apps/ledger) differs from
Rento in every way a profile can say — Flask, an OAuth2 form login with the token under
data.token, plain-text logs, X-Correlation-ID, {error, detail, correlation_id} error bodies,
health under /api/v1, Alembic configured by DB_* variables logging to stderr, no HEALTHCHECK — and
the same suites judge it from tests/apps/ledger/profile.toml alone."""

from __future__ import annotations

from typing import Any

import pytest

from tests.gate.conftest import REPO, leftover_objects

pytestmark = pytest.mark.gate
PROFILE = REPO / "tests" / "apps" / "ledger" / "profile.toml"


def test_the_second_application_is_judged_from_its_profile_alone(run_gate: Any) -> None:
    result = run_gate("--profile", str(PROFILE), "--suite", "deploy", "--suite", "e2e")
    verdicts = {r["id"]: (r["verdict"], r["reasons"]) for r in result.summary["criteria"]}
    assert result.exit_code == 0, verdicts
    assert {v for v, _ in verdicts.values()} == {"pass"}
    # Everything the deploy and e2e suites decide, except what the profile excludes.
    assert set(verdicts) == {
        "FUNC-CONTAINER-BUILD-RUN", "FUNC-PG-RUNNING", "FUNC-MIGRATIONS", "FUNC-HEALTH",
        "FUNC-E2E-FLOWS", "FUNC-ERROR-HANDLING", "FUNC-ERROR-LOG-ALERT",
        "PERF-CONTAINER-START", "SEC-NONROOT"}
    assert [e["id"] for e in result.summary["excluded"]] == ["FUNC-SQLITE-MIGRATION"]
    assert result.summary["run"]["profile_name"] == "ledger"
    assert not leftover_objects(result.run_id())
