"""SEC-API-FUZZ: schemathesis over every operation (examples, coverage, fuzzing, stateful; all
checks), acting as the profile's probing session; every error body it provokes is inspected
for FUNC-ERROR-HANDLING and SEC-LOG-NO-SENSITIVE."""

from __future__ import annotations

from datetime import date

import pytest

from releasegate.config.profile import Profile
from releasegate.evidence.findings import triage
from releasegate.measure.api import Api, LoginAttempt
from releasegate.measure.recorder import Recorder
from releasegate.measure.security import fuzz
from releasegate.measure.security.authz import credential_headers
from releasegate.measure.security.dynamic import insufficient, probe_inputs, timed
from releasegate.measure.security.errorcheck import (
    ErrorInspector,
    guarded,
    planted_pii,
    raise_first,
    record_inspection,
)
from releasegate.measure.security.openapi import Operation, matches
from releasegate.measure.security.sessions import probing_session
from releasegate.stack.model import StackInfo

pytestmark = pytest.mark.security
CRITERIA = ("SEC-API-FUZZ", "FUNC-ERROR-HANDLING", "SEC-LOG-NO-SENSITIVE")


def excluded(profile: Profile, ops: list[Operation]) -> dict[str, str]:
    """Operation → why it is not fuzzed: the profile's [fuzzing] exclude, and the server-error
    probe, which fails on purpose."""
    reasons = dict(profile.section("fuzzing").exclude)
    probe = profile.probes.get("server_error")
    if probe:
        label = f"{str(probe.get('method', 'POST')).upper()} {probe['path']}"
        reasons.setdefault(label, "the profile's [probes.server_error]: it fails on purpose")
    return {op.label: why for op in ops for pattern, why in reasons.items()
            if matches(op, [pattern])}


@pytest.mark.criterion(*CRITERIA)
def test_schema_driven_fuzzing_finds_nothing(
    healthy_stack: StackInfo, gate_profile: Profile, admin_login: LoginAttempt, anon: Api,
    record: Recorder, durations: str, request: pytest.FixtureRequest,
) -> None:
    with timed(request, "fuzzing") as watch:
        loaded = probe_inputs(record, anon.http, gate_profile.app.openapi_path, admin_login,
                              CRITERIA, "fuzz")
        if loaded is None:
            return
        document, ops, admin = loaded
        values = {**healthy_stack.template_values(), **planted_pii(healthy_stack.run_id)}
        session, why, setup = probing_session(
            gate_profile, gate_profile.section("probing"), base_url=healthy_stack.base_url,
            admin=admin, values=values)
        if session is None:
            insufficient(record, CRITERIA, why)
            return
        skipped = excluded(gate_profile, ops)
        budget = gate_profile.section("fuzzing").budget(durations)
        inspector = ErrorInspector.for_run(gate_profile, healthy_stack.secrets,
                                           healthy_stack.run_id)
        result = fuzz.run(fuzz.without(document, set(skipped)),
                          base_url=healthy_stack.base_url, headers=credential_headers(session),
                          max_examples=budget.max_examples, max_seconds=budget.max_seconds,
                          seed=gate_profile.section("fuzzing").seed, inspector=inspector)
        failures: list[BaseException] = []
        evidence = {**result.evidence(), "excluded": skipped, "budget": vars(budget),
                    "durations": durations, "probing_setup": setup,
                    "seconds_total": watch.elapsed()}
        if not result.tested:
            record.insufficient("SEC-API-FUZZ", f"schemathesis tested zero operations (of "
                                f"{len(result.selected)} selected; stop: {result.stop_reason})")
        else:
            waivers = gate_profile.section("security").waivers
            guarded(lambda: record.findings(
                "SEC-API-FUZZ", triage(result.findings, waivers, date.today()),
                examined=len(result.tested), what="operation", scope="schemathesis",
                source=f"schemathesis {evidence['schemathesis']} run in-process, seed "
                       f"{result.seed}, phases {', '.join(fuzz.PHASES)}, all checks",
                evidence=evidence), failures)
            untested = sorted(set(result.selected) - result.tested)
            if untested:
                record.insufficient("SEC-API-FUZZ", f"{len(untested)} operation(s) never "
                                    f"tested (stop: {result.stop_reason}): "
                                    f"{', '.join(untested[:10])}", scope="untested operations")
        failures += record_inspection(record, inspector, fuzz.SCOPE,
                                      source="every 4xx/5xx of the schemathesis run, through "
                                             f"the {fuzz.CHECK_NAME} check")
        raise_first(failures)
