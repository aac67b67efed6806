"""SEC-AUTHZ: every operation of the schema, asked with the wrong credentials.

For each operation: without credentials, with a malformed token and with an expired one it must
answer 401 (unless the profile declares it public); with a low-privilege session an admin-only
operation must answer 403; and the administrator of another account replaying the profile
account's own successful requests on its objects (read, update, delete) must get 403 or 404
(BOLA), while the object stays there. Each check an operation could not get is listed with the
reason, so coverage is never silently partial.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from releasegate.config.sections.authz import AuthzSettings
from releasegate.evidence.findings import OWASP_API_2023, Finding
from releasegate.measure.api import Api
from releasegate.measure.security.errorcheck import ErrorInspector, curl_line
from releasegate.measure.security.openapi import Operation, Resolver, example, matches

TOOL = "releasegate-authz"
SCOPE = "authorization traffic"
CHECKS = ("no credentials", "malformed token", "expired token", "low privilege", "other account")
READ_WRITE = ("GET", "PUT", "PATCH", "POST")


def credential_headers(api: Api) -> dict[str, str]:
    """The headers a logged-in client adds to every request (whatever the recipe's header
    and scheme are): those a plain client does not send."""
    with httpx.Client() as plain:
        ordinary = {k.lower() for k in plain.headers}
    # The raw pairs keep the recipe's spelling (Authorization), which tools that look headers
    # up case-sensitively (schemathesis removing credentials for its probes) rely on.
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in api.http.headers.raw
            if k.decode("latin-1").lower() not in ordinary}


def with_token(headers: Mapping[str, str], token: str | None, replacement: str) -> dict[str, str]:
    """The same credential headers carrying ``replacement`` instead of the real token."""
    out = {}
    for name, value in headers.items():
        out[name] = value.replace(token, replacement) if token and token in value else replacement
    return out


@dataclass
class Sessions:
    admin: Api
    """The profile's own user: the owner ("account A") of every captured object."""
    low: Api | None = None
    other: Api | None = None
    """The administrator of another account ("account B")."""
    expired_token: str | None = None
    captured: dict[str, Any] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    """Role → why there is no session (or token) for it."""


@dataclass
class OperationCoverage:
    label: str
    results: dict[str, str] = field(default_factory=dict)
    """Check → ``ok``, ``finding``, ``n/a: why`` or ``not covered: why``."""

    @property
    def uncovered(self) -> dict[str, str]:
        return {k: v for k, v in self.results.items() if v.startswith("not covered")}


class AuthzProbe:
    def __init__(self, base_url: str, ops: list[Operation], document: dict[str, Any],
                 settings: AuthzSettings, sessions: Sessions, inspector: ErrorInspector, *,
                 max_seconds: float, clock: Callable[[], float] = time.monotonic,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.ops = ops
        self.resolver = Resolver(document)
        self.settings = settings
        self.sessions = sessions
        self.inspector = inspector
        self.clock = clock
        self.deadline = clock() + max_seconds
        self.findings: list[Finding] = []
        self.coverage: dict[str, OperationCoverage] = {}
        self.requests = 0
        self.creds = credential_headers(sessions.admin)
        self.anon = httpx.Client(base_url=self.base_url, timeout=10.0, transport=transport)

    # -- requests ----------------------------------------------------------------------------
    def _request(self, op: Operation, client: httpx.Client, headers: Mapping[str, str],
                 url: str | None = None) -> httpx.Response:
        self.requests += 1
        kwargs = self._arguments(op)
        response = client.request(op.method, url or op.url(self.sessions.captured),
                                  headers=dict(headers), **kwargs)
        self.inspector.inspect_httpx(response, scope=SCOPE)
        return response

    def _arguments(self, op: Operation) -> dict[str, Any]:
        captured = self.sessions.captured
        params = {p.name: captured.get(p.name, example(self.resolver.resolve(p.schema)))
                  for p in op.params_in("query") if p.required}
        kwargs: dict[str, Any] = {"params": params}
        if op.body is not None:
            body = example(self.resolver.resolve(op.body))
            if isinstance(body, dict):
                body.update({k: v for k, v in captured.items() if k in body})
            kwargs["json"] = body
        return kwargs

    def _finding(self, op: Operation, rule: str, severity: str, owasp: str, title: str,
                 response: httpx.Response, as_whom: str) -> None:
        request = response.request
        self.findings.append(Finding(
            tool=TOOL, rule=rule, severity=severity, criterion="SEC-AUTHZ", title=title,
            location=op.label, owasp=OWASP_API_2023[owasp],
            evidence=f"{as_whom}: {request.method} {request.url.path} answered "
                     f"{response.status_code}: {response.text[:200]}",
            reproduction=curl_line(request.method, str(request.url), dict(request.headers),
                                   request.content or None)))

    def _mark(self, op: Operation, check: str, result: str) -> None:
        self.coverage.setdefault(op.label, OperationCoverage(op.label)).results[check] = result

    # -- the checks --------------------------------------------------------------------------
    def run(self) -> None:
        deletes = [op for op in self.ops if op.method == "DELETE"]
        for op in [op for op in self.ops if op.method != "DELETE"] + deletes:
            if self.clock() > self.deadline:
                for check in CHECKS:
                    if check not in self.coverage.get(op.label, OperationCoverage("")).results:
                        self._mark(op, check, "not covered: the probe's time box ran out")
                continue
            self._credentials(op)
            self._role(op)
            self._ownership(op)
        self.anon.close()

    def _credentials(self, op: Operation) -> None:
        if matches(op, self.settings.public):
            for check in CHECKS[:3]:
                self._mark(op, check, "n/a: public by the profile ([authz] public)")
            return
        token = self.sessions.admin.token
        malformed = f"rg-malformed-{secrets.token_hex(8)}"
        cases: list[tuple[str, dict[str, str] | None, str]] = [
            ("no credentials", {}, "authz-no-credentials"),
            ("malformed token", with_token(self.creds, token, malformed),
             "authz-malformed-token"),
            ("expired token", with_token(self.creds, token, self.sessions.expired_token)
             if self.sessions.expired_token else None, "authz-expired-token"),
        ]
        for check, headers, rule in cases:
            if headers is None:
                self._mark(op, check, "not covered: " + self.sessions.missing.get(
                    "expired", "no expired token"))
                continue
            response = self._request(op, self.anon, headers)
            if response.status_code == 401:
                self._mark(op, check, "ok")
                continue
            served = 200 <= response.status_code < 300
            self._finding(op, rule, "critical" if served else "high", "API2",
                          f"{check}: answered {response.status_code}, expected 401"
                          + (" (served without valid credentials)" if served else ""),
                          response, check)
            self._mark(op, check, "finding")

    def _role(self, op: Operation) -> None:
        if not matches(op, self.settings.admin_only):
            self._mark(op, "low privilege", "n/a: not admin-only ([authz] admin_only)")
            return
        low = self.sessions.low
        if low is None:
            self._mark(op, "low privilege", "not covered: " + self.sessions.missing.get(
                "low", "no low-privilege session"))
            return
        response = self._request(op, low.http, {})
        if response.status_code == 403:
            self._mark(op, "low privilege", "ok")
            return
        served = 200 <= response.status_code < 300
        self._finding(op, "authz-role", "critical" if served else "high", "API5",
                      f"a low-privilege session answered {response.status_code}, expected 403",
                      response, "low-privilege session")
        self._mark(op, "low privilege", "finding")

    def _ownership(self, op: Operation) -> None:
        names = [p.name for p in op.params_in("path")]
        if not names:
            self._mark(op, "other account", "n/a: no object in the path")
            return
        missing = [n for n in names if n not in self.sessions.captured]
        if missing:
            self._mark(op, "other account", f"not covered: account A has no object for "
                       f"{', '.join(missing)} (capture it in [authz.setup])")
            return
        other = self.sessions.other
        if other is None:
            self._mark(op, "other account", "not covered: " + self.sessions.missing.get(
                "other", "no session of another account"))
            return
        if op.method in READ_WRITE:
            own = self._request(op, self.sessions.admin.http, {})
            if not 200 <= own.status_code < 300:
                self._mark(op, "other account", f"not covered: account A's own request "
                           f"answered {own.status_code}, so there is nothing to replay")
                return
        response = self._request(op, other.http, {})
        ok = response.status_code in (403, 404)
        if not ok:
            served = 200 <= response.status_code < 300
            self._finding(op, "authz-bola", "critical" if served else "high", "API1",
                          f"another account's administrator got {response.status_code} on "
                          "account A's object, expected 403 or 404", response, "account B")
        if op.method == "DELETE":
            ok = self._still_there(op) and ok
        self._mark(op, "other account", "ok" if ok else "finding")

    def _still_there(self, op: Operation) -> bool:
        read = next((o for o in self.ops if o.method == "GET" and o.path == op.path), None)
        if read is None:
            return True
        response = self._request(read, self.sessions.admin.http, {})
        if 200 <= response.status_code < 300:
            return True
        self._finding(op, "authz-bola", "critical", "API1",
                      f"after account B's DELETE, account A's own read answered "
                      f"{response.status_code}: the object is gone", response, "account A")
        return False
