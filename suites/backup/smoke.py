"""Is the application usable on a restored database? Started there, it must answer healthy,
accept the profile's login (the users came back), serve the restored rows through its API, take a
new write (sequences came back too) and pass the profile's end-to-end flow."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from releasegate.config.profile import Profile
from releasegate.config.sections.reliability import WriteRecipe
from releasegate.measure.api import Api, LoginFailed, login
from releasegate.measure.ledger import OK, WriteLedger
from releasegate.measure.recorder import CheckList
from releasegate.measure.steps import FlowRunner
from releasegate.measure.traffic import Writer, read_back_api
from releasegate.stack.extra import ExtraApp
from releasegate.stack.model import StackInfo


def smoke(extra: ExtraApp, profile: Profile, stack: StackInfo, recipe: WriteRecipe,
          restored_ids: Mapping[str, int], prefix: str, checks: CheckList) -> dict[str, Any]:
    evidence: dict[str, Any] = {"healthy_after_s": extra.healthy_after_s,
                                "exit_code": extra.exit_code}
    if not checks.add("the application started on the restored database answers 200 on "
                      f"{profile.app.health_path}", extra.healthy_after_s is not None,
                      f"exit code {extra.exit_code}; log tail: {extra.logs()[-300:]}"):
        return evidence
    try:
        api = login(extra.base_url, profile.login, stack.template_values())
    except (LoginFailed, httpx.HTTPError) as exc:
        checks.add("the profile's login works against the restored users", False, str(exc))
        return evidence
    checks.add("the profile's login works against the restored users", True)
    try:
        _serve_and_write(api, extra.base_url, stack, recipe, restored_ids, prefix, checks)
        _run_flow(api, extra.base_url, profile, stack, checks, evidence)
    finally:
        api.close()
    return evidence


def _run_flow(api: Api, base_url: str, profile: Profile, stack: StackInfo, checks: CheckList,
              evidence: dict[str, Any]) -> None:
    """The profile's end-to-end flow, run as the e2e suite runs it, against this instance."""
    spec = profile.e2e
    if not spec.defined:
        checks.add("an end-to-end flow ran on the restored database", False,
                   "the profile names no [e2e] flow")
        return
    flow_checks = CheckList()
    runner = FlowRunner(spec, base_url=base_url, values=stack.template_values(),
                        recipe=profile.login, admin=lambda: api, checks=flow_checks,
                        base=profile.path.parent)
    try:
        run = runner.execute()
        evidence["e2e"] = run.evidence()
        if spec.flow and not run.stopped:
            from releasegate.suites.e2e.test_flows import load_flow

            evidence["e2e_flow"] = load_flow(spec.flow, profile)(api, base_url, flow_checks)
    except Exception as exc:  # the flow records what broke; the rest cannot proceed
        flow_checks.add("the flow runs to the end", False, f"stopped at: {exc}")
    checks.add("the end-to-end flow passes on the restored database",
               bool(flow_checks.checks) and not flow_checks.violations,
               "; ".join(flow_checks.violations)[:600])
    evidence["e2e_checks"] = len(flow_checks.checks)


def _serve_and_write(api: Api, base_url: str, stack: StackInfo, recipe: WriteRecipe,
                     restored_ids: Mapping[str, int], prefix: str, checks: CheckList) -> None:
    headers = dict(api.http.headers)
    values = stack.template_values()
    if restored_ids and recipe.read_path:
        served = read_back_api(base_url, headers, recipe, prefix, values)
        checks.add("the API serves exactly the restored canary rows",
                   served == dict(restored_ids),
                   served if isinstance(served, str) else
                   f"API {len(served)} ids, database {len(restored_ids)}")
    writer = Writer(base_url, recipe, headers, values, timeout=15.0)
    try:
        write, _ = writer.write(WriteLedger("after-restore"))
    finally:
        writer.close()
    checks.add("a new write succeeds on the restored database", write.outcome == OK,
               f"{write.status} {write.detail}")
