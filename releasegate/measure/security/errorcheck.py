"""Every error response the harness provokes is inspected by one function.

The fuzzer (as a schemathesis check), the injection, XSS and authorization probes, and the load
suite all hand each 4xx/5xx they see to :class:`ErrorInspector`. It applies the error-body rules
of :mod:`releasegate.measure.error_bodies` (one structured body with the profile's fields, the
request id in the profile's header, no stack trace, no SQL text or driver message) and looks for
the run's canaries: its generated secrets and the PII the harness planted. Each violation keeps
the request that produced it, as a curl line.

Violations count against two criteria: FUNC-ERROR-HANDLING (every problem) and
SEC-LOG-NO-SENSITIVE (what discloses something: a canary, a stack trace, SQL or driver text).
"""

from __future__ import annotations

import hashlib
import json
import shlex
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from releasegate.measure import error_bodies
from releasegate.measure.recorder import CriterionBreached
from releasegate.measure.security.canaries import Canaries

KEEP = 100
"""Violating responses kept with their full detail; the rest are counted."""
MIN_CANARY = 6
"""Shorter values would match ordinary text."""
CREDENTIAL_HEADERS = frozenset({"authorization", "cookie", "x-api-key", "proxy-authorization"})


def planted_pii(run_id: str) -> dict[str, str]:
    """Recognisable, per-run personal data the suites write through the API (as a renter's
    phone, e-mail and ID number…): none of it may come back in an error body or a log line.
    Derived from the run id, so every suite of the run plants and looks for the same values."""
    digest = hashlib.sha256(f"releasegate-pii:{run_id}".encode()).hexdigest()
    digits = str(int(digest[:15], 16)).rjust(18, "0")
    return {
        "pii.email": f"rg.pii.{digest[:10]}@example.test",
        "pii.phone": f"139{digits[:8]}",
        "pii.id_number": f"11010519{digits[8:16]}{digits[16:18]}",
        "pii.name": f"Canary {digest[10:16].upper()}",
    }


def curl_line(method: str, url: str, headers: Mapping[str, str] | None = None,
              body: bytes | str | None = None) -> str:
    """A curl command that repeats the request; credentials are replaced by a placeholder."""
    parts = ["curl", "-X", method.upper()]
    for name, value in (headers or {}).items():
        shown = "<credential>" if name.lower() in CREDENTIAL_HEADERS else value
        parts += ["-H", f"{name}: {shown}"]
    if body:
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        parts += ["--data-binary", text[:4000]]
    parts.append(url)
    return shlex.join(parts)


@dataclass
class ErrorViolation:
    scope: str
    method: str
    url: str
    status: int
    problems: list[str]
    sensitive: list[str]
    """The problems that disclose something (counted against SEC-LOG-NO-SENSITIVE too)."""
    reproduction: str
    excerpt: str = ""

    def one_line(self) -> str:
        return f"{self.method} {self.url} → {self.status}: {'; '.join(self.problems)}"

    def to_json(self) -> dict[str, Any]:
        return {"scope": self.scope, "method": self.method, "url": self.url,
                "status": self.status, "problems": self.problems, "sensitive": self.sensitive,
                "reproduction": self.reproduction, "body_excerpt": self.excerpt}


@dataclass
class Tally:
    """What one scope of traffic showed."""

    examined: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    violating: int = 0
    sensitive: int = 0
    kept: list[ErrorViolation] = field(default_factory=list)


class ErrorInspector:
    """Thread-safe: schemathesis workers and load generators may share one."""

    def __init__(self, *, fields: Mapping[str, str], request_id_header: str,
                 canaries: Mapping[str, str]) -> None:
        self.fields = dict(fields)
        self.request_id_header = request_id_header
        self.canaries = {name: value for name, value in canaries.items()
                         if isinstance(value, str) and len(value) >= MIN_CANARY}
        # The suite's own canary matcher: also the forms a leak takes (lower case, digits
        # without punctuation, URL-encoded), and masking for evidence.
        self._matcher = Canaries(self.canaries)
        self.tallies: dict[str, Tally] = {}
        self._lock = threading.Lock()

    @classmethod
    def for_run(cls, profile: Any, secrets: Mapping[str, str], run_id: str,
                extra: Mapping[str, str] | None = None) -> ErrorInspector:
        """The profile's error-body fields and request-id header; the run's secrets and the
        PII it plants as canaries."""
        fields = profile.option("FUNC-ERROR-HANDLING", "body_fields")
        header = getattr(profile.app, "request_id_header", None) or "X-Request-ID"
        canaries = {f"secret.{k}": v for k, v in secrets.items()}
        canaries.update(planted_pii(run_id))
        canaries.update(extra or {})
        return cls(fields=fields, request_id_header=header, canaries=canaries)

    # -- inspecting --------------------------------------------------------------------
    def problems(self, status: int, headers: Mapping[str, str], text: str) -> tuple[
            list[str], list[str]]:
        """(every problem, the disclosing ones) of one error response; pure."""
        response = httpx.Response(status, headers=list(headers.items()),
                                  content=text.encode("utf-8", "replace"))
        found = error_bodies.body_violations(response, request_id_header=self.request_id_header,
                                             fields=self.fields)
        sensitive = [p for p in found if p.startswith("leaks ")]
        searched = text + "\n" + "\n".join(f"{k}: {v}" for k, v in headers.items())
        for hit in sorted(self._matcher.find(searched, "error response"), key=lambda h: h.label):
            problem = f"discloses the canary {hit.label}"
            found.append(problem)
            sensitive.append(problem)
        return found, sensitive

    def inspect(self, *, scope: str, method: str, url: str, status: int,
                headers: Mapping[str, str], text: str,
                request_headers: Mapping[str, str] | None = None,
                request_body: bytes | str | None = None) -> list[str]:
        """Inspect one response; anything below 400 is not an error and is not counted."""
        if status < 400:
            return []
        found, sensitive = self.problems(status, headers, text)
        with self._lock:
            tally = self.tallies.setdefault(scope, Tally())
            tally.examined += 1
            tally.statuses[status] = tally.statuses.get(status, 0) + 1
            if found:
                tally.violating += 1
                tally.sensitive += bool(sensitive)
                if len(tally.kept) < KEEP:
                    tally.kept.append(ErrorViolation(
                        scope, method.upper(), url, status, found, sensitive,
                        curl_line(method, url, request_headers, request_body),
                        self._masked(text[:300])))
        return found

    def inspect_httpx(self, response: httpx.Response, *, scope: str) -> list[str]:
        request = response.request
        return self.inspect(scope=scope, method=request.method, url=str(request.url),
                            status=response.status_code, headers=dict(response.headers),
                            text=response.text, request_headers=dict(request.headers),
                            request_body=request.content if _has_content(request) else None)

    def _masked(self, text: str) -> str:
        return self._matcher.mask(text)

    # -- reporting ---------------------------------------------------------------------
    def tally(self, scope: str) -> Tally:
        with self._lock:
            return self.tallies.get(scope, Tally())

    def evidence(self, scope: str) -> dict[str, Any]:
        tally = self.tally(scope)
        return {"scope": scope, "error_responses": tally.examined,
                "by_status": {str(k): v for k, v in sorted(tally.statuses.items())},
                "violating": tally.violating, "disclosing": tally.sensitive,
                "request_id_header": self.request_id_header, "body_fields": self.fields,
                "canaries_searched": sorted(self.canaries),
                "violations": [v.to_json() for v in tally.kept]}


def _has_content(request: httpx.Request) -> bool:
    try:
        return bool(request.content)
    except httpx.RequestNotRead:
        return False


def record_inspection(record: Any, inspector: ErrorInspector, scope: str, *,
                      source: str) -> list[BaseException]:
    """Record FUNC-ERROR-HANDLING and SEC-LOG-NO-SENSITIVE parts for one scope of traffic.

    Returns the verdict failures instead of raising them, so a test can record its other
    criteria first and raise afterwards (see :func:`raise_first`)."""
    tally = inspector.tally(scope)
    evidence = inspector.evidence(scope)
    failures: list[BaseException] = []
    if tally.examined == 0:
        for cid in ("FUNC-ERROR-HANDLING", "SEC-LOG-NO-SENSITIVE"):
            record.insufficient(cid, f"{scope}: no error response was seen, so none could be "
                                     "inspected", scope=scope)
        return failures
    attachment = record.attach(f"error-bodies-{_slug(scope)}.json",
                               _json(evidence))
    parts = (
        ("FUNC-ERROR-HANDLING", tally.violating, [v.one_line() for v in tally.kept]),
        ("SEC-LOG-NO-SENSITIVE", tally.sensitive,
         [f"{v.method} {v.url} → {v.status}: {'; '.join(v.sensitive)}"
          for v in tally.kept if v.sensitive]),
    )
    for cid, count, lines in parts:
        try:
            record(cid, value=float(count), samples=tally.examined, source=source,
                   violations=lines[:50], evidence=evidence, attachments=[attachment],
                   scope=scope)
        except BaseException as exc:  # the recorder's verdict; raised later by raise_first
            if not _is_verdict(exc):
                raise
            failures.append(exc)
    return failures


def raise_first(failures: Iterable[BaseException]) -> None:
    for failure in failures:
        raise failure


def guarded(call: Any, failures: list[BaseException]) -> None:
    """Run one recording call; a red verdict is kept for later, anything else propagates."""
    try:
        call()
    except BaseException as exc:
        if not _is_verdict(exc):
            raise
        failures.append(exc)


def _is_verdict(exc: BaseException) -> bool:
    return isinstance(exc, CriterionBreached)


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")[:60]


def _json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)
