"""SEC-AUTHZ: every operation of the schema refuses missing, malformed and expired credentials,
the wrong role, and another account's administrator; the error bodies of that traffic are
inspected for FUNC-ERROR-HANDLING and SEC-LOG-NO-SENSITIVE."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from releasegate.config.profile import Profile
from releasegate.evidence.findings import triage
from releasegate.measure.api import Api, LoginAttempt
from releasegate.measure.recorder import CheckList, Recorder
from releasegate.measure.security import sessions as authz_sessions
from releasegate.measure.security.authz import SCOPE, AuthzProbe
from releasegate.measure.security.dynamic import probe_inputs, timed
from releasegate.measure.security.errorcheck import (
    ErrorInspector,
    guarded,
    planted_pii,
    raise_first,
    record_inspection,
)
from releasegate.stack.model import StackInfo

pytestmark = pytest.mark.security
CRITERIA = ("SEC-AUTHZ", "FUNC-ERROR-HANDLING", "SEC-LOG-NO-SENSITIVE")


@pytest.mark.criterion(*CRITERIA)
def test_every_operation_refuses_the_wrong_credentials(
    healthy_stack: StackInfo, gate_profile: Profile, admin_login: LoginAttempt, anon: Api,
    record: Recorder, durations: str, request: pytest.FixtureRequest,
) -> None:
    with timed(request, "authorization") as watch:
        loaded = probe_inputs(record, anon.http, gate_profile.app.openapi_path, admin_login,
                              CRITERIA, "probe")
        if loaded is None:
            return
        document, ops, admin = loaded
        settings = gate_profile.section("authz")
        values = {**healthy_stack.template_values(), **planted_pii(healthy_stack.run_id)}
        container = (request.getfixturevalue("app_container")
                     if healthy_stack.app_container else None)
        setup_checks = CheckList()
        sessions, setup = authz_sessions.open_sessions(
            gate_profile, settings, base_url=healthy_stack.base_url, admin=admin,
            values=values, app_container=container, checks=setup_checks)
        inspector = ErrorInspector.for_run(gate_profile, healthy_stack.secrets,
                                           healthy_stack.run_id)
        probe = AuthzProbe(healthy_stack.base_url, ops, document, settings, sessions,
                           inspector, max_seconds=settings.seconds(durations))
        try:
            probe.run()
            _inspect_server_error_probe(gate_profile, admin, inspector)
        finally:
            authz_sessions.close(sessions)
        _record(record, gate_profile, probe, setup, setup_checks, inspector, watch.elapsed())


def _inspect_server_error_probe(profile: Profile, api: Api, inspector: ErrorInspector) -> None:
    """The profile's server-error probe is fuzzed by nobody (it fails on purpose), yet its 500
    is an error the harness sees: its body goes through the same inspection, once."""
    probe = profile.probes.get("server_error")
    if probe:
        response = api.request(str(probe.get("method", "POST")), str(probe["path"]))
        inspector.inspect_httpx(response, scope=SCOPE)


def _record(record: Recorder, profile: Profile, probe: AuthzProbe, setup: dict[str, Any],
            setup_checks: CheckList, inspector: ErrorInspector, seconds: float) -> None:
    failures: list[BaseException] = []
    coverage = [{"operation": c.label, **c.results} for c in probe.coverage.values()]
    evidence = {"coverage": coverage, "requests": probe.requests, "seconds": seconds,
                "setup": setup, "setup_checks": setup_checks.as_dicts(),
                "missing_roles": probe.sessions.missing}
    covered = [c for c in probe.coverage.values() if not c.uncovered]
    waivers = profile.section("security").waivers
    guarded(lambda: record.findings(
        "SEC-AUTHZ", triage(probe.findings, waivers, date.today()), examined=len(covered),
        source="every operation of the OpenAPI document requested without credentials, with "
               "a malformed and an expired token, as a low-privilege user and as another "
               "account's administrator", what="operation", scope="operations",
        evidence=evidence), failures)
    for item in probe.coverage.values():
        if item.uncovered:
            reasons = "; ".join(f"{check}: {why}" for check, why in item.uncovered.items())
            record.insufficient("SEC-AUTHZ", f"{item.label} not fully covered — {reasons}",
                                scope=item.label)
    failures += record_inspection(record, inspector, SCOPE,
                                  source="every 4xx/5xx of the authorization probe, inspected "
                                         "as it arrived")
    raise_first(failures)
