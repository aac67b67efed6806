"""SEC-LOG-NO-SENSITIVE: canary personal data written through the API (phone, e-mail, ID number,
a password at login) and the run's secrets never appear in a log line, a log file, an error body
or the report's own files."""

from __future__ import annotations

import time
from datetime import date
from functools import partial
from typing import Any

import pytest

from releasegate.config.profile import Profile
from releasegate.evidence.findings import OWASP_API_2023, triage
from releasegate.measure.api import Api
from releasegate.measure.recorder import Recorder
from releasegate.measure.security import sources
from releasegate.measure.security.canaries import (
    combined,
    leak_findings,
    make_pii,
    pii_canaries,
    secret_canaries,
)
from releasegate.measure.security.pii import send
from releasegate.measure.security.support import announce, stopwatch
from releasegate.stack.model import StackInfo

pytestmark = pytest.mark.security
CID = "SEC-LOG-NO-SENSITIVE"
LOG_SETTLE_S = 1.0
"""Time for the application's log handlers to flush what the requests made them write."""


def _exposure(where: str) -> str:
    # Personal data in an error body is data the API exposes; in a log it is not an API flaw.
    return OWASP_API_2023["API3"] if where.startswith("error body") else ""


@pytest.mark.criterion(CID)
def test_personal_data_and_secrets_stay_out_of_logs(
    healthy_stack: StackInfo, gate_profile: Profile, app_container: Any, docker_client: Any,
    anon: Api, record: Recorder, request: pytest.FixtureRequest,
) -> None:
    requests = gate_profile.section("security").pii.requests
    if not requests:
        record.insufficient(CID, "the profile names no request that writes personal data "
                            "through the API ([[security.pii.requests]])")
        return
    pii = make_pii(healthy_stack.run_id)
    pii_only = pii_canaries(pii)
    canaries = combined(pii_only, secret_canaries(healthy_stack.secrets))
    values = {**healthy_stack.template_values(), **{f"pii.{k}": v for k, v in pii.items()}}
    api, login_note = (sources.try_login(healthy_stack.base_url, gate_profile,
                                         healthy_stack.template_values())
                       if any(r.auth for r in requests) else (None, ""))
    with stopwatch() as watch:
        try:
            sent = send(requests, values, api=api, anon=anon, canaries=pii_only)
        finally:
            if api is not None:
                api.close()
        time.sleep(LOG_SETTLE_S)
        containers = {"app": app_container}
        if healthy_stack.db_container:
            containers["db"] = docker_client.containers.get(healthy_stack.db_container)
        texts = sources.container_logs(containers)
        files, why_not = sources.log_files(app_container, gate_profile.app.log_file)
        texts += files
        texts += [(f"error body of {s.request} ({s.status})", s.body) for s in sent
                  if s.status >= 400]
        texts += sources.evidence_files(record.store.directory)
        hits = [hit for where, data in texts for hit in canaries.find(data, where)]
    look = partial(sources.how_to_look, containers={r: c.name for r, c in containers.items()},
                   base_url=healthy_stack.base_url, evidence_dir=record.store.directory)
    findings = leak_findings(hits, criterion=CID, rule="canary-in-logs", severity="high",
                             owasp=_exposure, reproduce=look)
    announce(request.config, f"security: personal data ({len(sent)} requests, {len(texts)} "
             f"logs, bodies and files searched) took {watch.seconds:.1f} s")
    off_plan = [f"{s.request} got {s.status}, expected {s.expected}" for s in sent
                if not s.as_planned]
    if off_plan or login_note:
        # The data may never have been written: a clean search would prove nothing about it.
        record.insufficient(CID, "; ".join([*off_plan, *([login_note] if login_note else [])])
                            + " — the canary data may not have reached the application",
                            scope="writes")
    record.findings(
        CID, triage(findings, gate_profile.section("security").waivers, date.today()),
        examined=len(texts), what="log, error body or report file",
        source="canary personal data sent by the profile's [[security.pii.requests]], then "
               "searched with the run's secrets in container logs, log files, error bodies "
               "and the run's evidence files",
        evidence={"requests": [{"request": s.request, "status": s.status,
                                "expected": s.expected} for s in sent],
                  "searched": [where for where, _ in texts][:300],
                  "notes": [why_not] if why_not else [], "canaries": canaries.labels(),
                  "seconds": watch.seconds})

