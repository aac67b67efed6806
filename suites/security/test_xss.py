"""SEC-INJECTION-XSS: stored payloads through every free-text field, reflected ones through
query parameters, every HTML page loaded in headless Chromium; a script that runs is a
finding."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from releasegate.config.profile import Profile
from releasegate.evidence.findings import triage
from releasegate.measure.api import Api, LoginAttempt
from releasegate.measure.recorder import Recorder
from releasegate.measure.security import xss
from releasegate.measure.security.authz import credential_headers
from releasegate.measure.security.dynamic import payload_folder, schema_or_insufficient, timed
from releasegate.measure.security.errorcheck import ErrorInspector, planted_pii
from releasegate.measure.security.openapi import Resolver
from releasegate.measure.security.sessions import probing_session
from releasegate.stack.model import StackInfo

pytestmark = pytest.mark.security
CID = "SEC-INJECTION-XSS"


@pytest.mark.criterion(CID)
def test_no_payload_runs_in_a_browser(
    healthy_stack: StackInfo, gate_profile: Profile, admin_login: LoginAttempt, anon: Api,
    record: Recorder, durations: str, request: pytest.FixtureRequest,
) -> None:
    with timed(request, "XSS") as watch:
        loaded = schema_or_insufficient(record, anon.http, gate_profile.app.openapi_path, (CID,))
        if loaded is None:
            return
        document, ops = loaded
        settings = gate_profile.section("injection")
        pages = xss.html_pages(ops, settings.html_pages)
        if not pages:
            record.insufficient(CID, "the application serves no HTML page: none is declared "
                                "(text/html) in its OpenAPI document or in [injection] "
                                "html_pages, so no browser could run a payload")
            return
        if admin_login.api is None:
            record.insufficient(CID, f"no session to probe with: {admin_login.failure}")
            return
        try:
            payloads = xss.load_payloads(payload_folder(gate_profile))
        except FileNotFoundError as exc:
            record.insufficient(CID, str(exc))
            return
        values = {**healthy_stack.template_values(), **planted_pii(healthy_stack.run_id)}
        session, why, setup = probing_session(
            gate_profile, gate_profile.section("probing"), base_url=healthy_stack.base_url,
            admin=admin_login.api, values=values)
        if session is None:
            record.insufficient(CID, why)
            return
        budget = settings.budget(durations)
        inspector = ErrorInspector.for_run(gate_profile, healthy_stack.secrets,
                                           healthy_stack.run_id)
        probe = xss.XssProbe(session.http, Resolver(document), inspector, payloads,
                             captured=dict(setup.get("captured") or {}),
                             max_requests=budget.max_requests, max_seconds=budget.max_seconds)
        unwritten = probe.store(ops)
        try:
            browser = xss.Browser(settings.browser, healthy_stack.base_url,
                                  credential_headers(session))
        except Exception as exc:  # the tool could not run: nothing was examined
            record.insufficient(CID, f"headless Chromium ({settings.browser}) could not start: "
                                f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
            return
        try:
            not_html = xss.browse(probe, browser, pages)
        finally:
            browser.close()
        _record(record, gate_profile, probe, unwritten, not_html, watch.elapsed())


def _record(record: Recorder, profile: Profile, probe: xss.XssProbe, unwritten: list[str],
            not_html: list[str], seconds: float) -> None:
    result = probe.result
    evidence: dict[str, Any] = {
        "pages": result.pages, "not_html": not_html, "loads": result.loads,
        "writes": result.writes, "refused_writes": result.refused_writes,
        "markers": {m: p.where for m, p in result.planted.items()},
        "executed": result.executed, "unwritten": unwritten, "seconds": seconds}
    if unwritten:
        record.insufficient(CID, f"{len(unwritten)} field(s) got no stored payload: the "
                            "budget ran out", scope="unwritten fields")
    record.findings(CID, triage(result.findings, profile.section("security").waivers,
                                date.today()),
                    examined=len(result.pages), what="HTML page", scope="pages",
                    source="payloads stored through the API and reflected in query parameters; "
                           "pages loaded in headless Chromium (Playwright), a script call or a "
                           "dialog counted", evidence=evidence)
