"""The sessions the authorization probe acts as, opened from the profile's ``[authz.setup]``.

Setup runs as declarative steps (the ``[e2e]`` format): it creates the low-privilege user and
the second account, and objects of the profile's own account, capturing their ids. The steps'
login sessions are then opened again for the probe, with the same credentials (the setup runner
closes its own sessions when it ends).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from releasegate.config.profile import Profile
from releasegate.config.sections.authz import EXPIRED_TOKEN_COMMAND, AuthzSettings
from releasegate.config.sections.probing import ProbingSettings
from releasegate.measure.api import Api, LoginFailed, login
from releasegate.measure.commands import run_profile_command
from releasegate.measure.recorder import CheckList
from releasegate.measure.security.authz import Sessions
from releasegate.measure.steps import FlowRunner


def open_sessions(profile: Profile, settings: AuthzSettings, *, base_url: str, admin: Api,
                  values: Mapping[str, str], app_container: Any | None,
                  checks: CheckList) -> tuple[Sessions, dict[str, Any]]:
    """(the sessions, the setup's evidence). A role whose session could not be opened is
    named in ``Sessions.missing`` with the reason; the setup's own checks land in ``checks``."""
    sessions = Sessions(admin=admin)
    evidence: dict[str, Any] = {}
    if settings.setup.steps:
        runner = FlowRunner(settings.setup, base_url=base_url, values=values,
                            recipe=profile.login, admin=lambda: admin, checks=checks,
                            base=profile.path.parent)
        run = runner.execute()
        evidence = run.evidence()
        sessions.captured = dict(run.captured)
        stopped = f"[authz.setup] {run.stopped}" if run.stopped else ""
        for role, name in (("low", settings.low_privilege), ("other", settings.other_account)):
            if not name:
                continue
            step = next(s for s in settings.setup.steps if s.session == name and s.login)
            try:
                api = login(base_url, profile.login, values,
                            username=str(runner.resolve(step.login["username"], "login")),
                            password=str(runner.resolve(step.login["password"], "login")))
            except (LoginFailed, KeyError) as exc:
                sessions.missing[role] = stopped or f"the {name!r} login failed: {exc}"
                continue
            setattr(sessions, role, api)
    for role, key in (("low", "low_privilege"), ("other", "other_account")):
        if getattr(sessions, role) is None and role not in sessions.missing:
            sessions.missing[role] = (f"the profile names no [authz] {key} session (opened by "
                                      "a login step in [authz.setup])")
    sessions.expired_token, reason = expired_token(profile, app_container, values)
    if reason:
        sessions.missing["expired"] = reason
    return sessions, evidence


def expired_token(profile: Profile, container: Any | None,
                  values: Mapping[str, str]) -> tuple[str | None, str]:
    """(token, why there is none)."""
    if EXPIRED_TOKEN_COMMAND not in profile.commands:
        return None, (f"the profile has no [commands] {EXPIRED_TOKEN_COMMAND} (a command that "
                      "prints a correctly signed, expired token)")
    if container is None:
        return None, "the application container is not reachable to run [commands] " \
                     f"{EXPIRED_TOKEN_COMMAND}"
    result = run_profile_command(container, profile, EXPIRED_TOKEN_COMMAND, values)
    token = result.stdout.strip().splitlines()[-1].strip() if result.stdout.strip() else ""
    if not result.ok or not token:
        return None, f"[commands] {EXPIRED_TOKEN_COMMAND} failed: {result.describe()}"
    return token, ""


def close(sessions: Sessions) -> None:
    for api in (sessions.low, sessions.other):
        if api is not None:
            api.close()


def probing_session(profile: Profile, settings: ProbingSettings, *, base_url: str, admin: Api,
                    values: Mapping[str, str]) -> tuple[Api | None, str, dict[str, Any]]:
    """(the session the fuzzing, injection and XSS probes act as, why there is none, the
    setup's evidence). Without [probing] setup it is the profile's own session."""
    if not settings.session:
        return admin, "", {}
    checks = CheckList()
    runner = FlowRunner(settings.setup, base_url=base_url, values=values, recipe=profile.login,
                        admin=lambda: admin, checks=checks, base=profile.path.parent)
    run = runner.execute()
    evidence = {**run.evidence(), "checks": checks.as_dicts()}
    if run.stopped:
        return None, f"[probing.setup] {run.stopped}", evidence
    step = next(s for s in settings.setup.steps if s.session == settings.session and s.login)
    try:
        api = login(base_url, profile.login, values,
                    username=str(runner.resolve(step.login["username"], "login")),
                    password=str(runner.resolve(step.login["password"], "login")))
    except LoginFailed as exc:
        return None, f"the [probing] session {settings.session!r} could not log in: {exc}", \
            evidence
    return api, "", evidence
