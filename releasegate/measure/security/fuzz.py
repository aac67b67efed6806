"""SEC-API-FUZZ: schemathesis 4, in this process, against the running application.

Phases examples, coverage, fuzzing and stateful; every built-in check, plus one of ours that
hands each 4xx/5xx to the run's :class:`ErrorInspector` (FUNC-ERROR-HANDLING and
SEC-LOG-NO-SENSITIVE). The seed is drawn here (or fixed by the profile) and recorded; every
failure becomes a finding with schemathesis's own curl line as its reproduction.
"""

from __future__ import annotations

import copy
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import schemathesis
from schemathesis.engine import Status, events, from_schema

from releasegate.evidence.findings import OWASP_API_2023, SEVERITIES, Finding
from releasegate.measure.security.errorcheck import ErrorInspector

TOOL = "schemathesis"
SCOPE = "fuzzing traffic"
PHASES = ("examples", "coverage", "fuzzing", "stateful")
OWASP = {"ignored_auth": "API2", "object_level_authorization": "API1",
         "not_a_server_error": "API8", "missing_required_header": "API8"}
CHECK_NAME = "releasegate_error_body"

_active: list[ErrorInspector] = []
_lock = threading.Lock()


@schemathesis.check
def releasegate_error_body(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every error response of the fuzz run goes through the run's error inspector. It never
    fails the schemathesis case itself: its violations are recorded against the error-handling
    criteria, with the request, by the inspector (a failing check would also shrink every such
    case, spending the time box on what is already known)."""
    with _lock:
        inspector = _active[0] if _active else None
    if inspector is None or response.status_code < 400:
        return None
    request = response.request
    body = request.body
    inspector.inspect(scope=SCOPE, method=str(request.method), url=str(request.url),
                      status=response.status_code,
                      headers={k: ", ".join(v) for k, v in response.headers.items()},
                      text=response.content.decode("utf-8", "replace"),
                      request_headers=dict(request.headers),
                      request_body=body if isinstance(body, (bytes, str)) else None)
    return None


@dataclass
class FuzzResult:
    seed: int
    selected: list[str] = field(default_factory=list)
    tested: set[str] = field(default_factory=set)
    errored: dict[str, str] = field(default_factory=dict)
    """Operation → what went wrong in schemathesis itself (not a finding about the app)."""
    findings: list[Finding] = field(default_factory=list)
    phases: dict[str, str] = field(default_factory=dict)
    stop_reason: str = ""
    seconds: float = 0.0
    checks: set[str] = field(default_factory=set)

    def evidence(self) -> dict[str, Any]:
        return {"seed": self.seed, "operations_selected": len(self.selected),
                "operations_tested": sorted(self.tested),
                "operations_not_tested": sorted(set(self.selected) - self.tested),
                "schemathesis_errors": self.errored, "phases": self.phases,
                "stop_reason": self.stop_reason, "seconds": round(self.seconds, 1),
                "checks_run": sorted(self.checks), "schemathesis": schemathesis.__version__}


def without(document: dict[str, Any], labels: set[str]) -> dict[str, Any]:
    """A copy of the document without the named operations (``METHOD /path``)."""
    trimmed = copy.deepcopy(document)
    for label in labels:
        method, _, path = label.partition(" ")
        item = trimmed["paths"].get(path) or {}
        item.pop(method.lower(), None)
        if not any(k in item for k in ("get", "put", "post", "delete", "patch")):
            trimmed["paths"].pop(path, None)
    return trimmed


def run(document: dict[str, Any], *, base_url: str, headers: dict[str, str],
        max_examples: int, max_seconds: int, seed: int | None,
        inspector: ErrorInspector) -> FuzzResult:
    result = FuzzResult(seed=seed if seed is not None else random.SystemRandom().getrandbits(32))
    config = schemathesis.Config.from_dict({
        "seed": result.seed, "max-time": max_seconds, "base-url": base_url.rstrip("/"),
        "workers": 1, "request-timeout": 10,
        "generation": {"max-examples": max_examples, "database": "none"},
        "phases": {name: {"enabled": True} for name in PHASES},
    })
    schema = schemathesis.openapi.from_dict(document, config=config)
    # Credentials as an auth provider, not configured headers: schemathesis then knows them
    # for what they are, and its ignored_auth check can take them away (configured headers
    # would be sent again with its credential-less probes and read as ignored auth).
    schema.auth()(_credentials(headers))
    result.selected = sorted(f"{op.method.upper()} {op.path}"
                             for op in _operations(schema))
    started = time.monotonic()
    with _lock:
        _active[:] = [inspector]
    try:
        for event in from_schema(schema).execute():
            _consume(event, result)
    finally:
        with _lock:
            _active.clear()
        result.seconds = time.monotonic() - started
    return result


def _credentials(headers: dict[str, str]) -> type:
    class Credentials:
        def get(self, case: Any, ctx: Any) -> dict[str, str]:
            return dict(headers)

        def set(self, case: Any, data: dict[str, str], ctx: Any) -> None:
            case.headers = {**(case.headers or {}), **data}

    return Credentials


def _operations(schema: Any) -> list[Any]:
    """Operations schemathesis could read (one it cannot is reported by the run itself)."""
    return [item.ok() for item in schema.get_all_operations() if hasattr(item, "ok")]


def _consume(event: Any, result: FuzzResult) -> None:
    if isinstance(event, events.PhaseFinished):
        result.phases[str(getattr(event.phase.name, "value", event.phase.name))] = str(
            event.status)
    elif isinstance(event, events.ScenarioFinished):
        _scenario(event, result)
    elif isinstance(event, events.NonFatalError):
        result.errored[str(event.label)] = f"{event.info.title}: {event.info}"[:300]
    elif isinstance(event, events.FatalError):
        raise RuntimeError(f"schemathesis stopped: {event.exception}") from event.exception
    elif isinstance(event, events.EngineFinished):
        result.stop_reason = str(event.stop_reason)


def _scenario(event: Any, result: FuzzResult) -> None:
    recorder = event.recorder
    stateful = str(getattr(event, "phase", "")).endswith("stateful")
    if not stateful and event.status in (Status.SUCCESS, Status.FAILURE) and recorder.cases:
        result.tested.add(recorder.label)
    if event.status == Status.ERROR and not stateful:
        result.errored.setdefault(recorder.label, "the scenario ended in an error")
    for case_id, checks in recorder.checks.items():
        for check in checks:
            result.checks.add(check.name)
            info = check.failure_info
            if info is None:
                continue
            failure = info.failure
            severity = str(getattr(failure, "severity", "medium"))
            severity = severity if severity in SEVERITIES else "medium"
            location = str(getattr(failure, "operation", "") or recorder.label)
            interaction = recorder.interactions.get(case_id)
            status = getattr(getattr(interaction, "response", None), "status_code", None)
            message = " ".join(str(failure.message or "").split())
            owasp = OWASP.get(check.name, "")
            result.findings.append(Finding(
                tool=TOOL, rule=check.name, severity=severity, criterion="SEC-API-FUZZ",
                title=f"{failure.title}" + (f": {message[:160]}" if message else ""),
                location=location, owasp=OWASP_API_2023[owasp] if owasp else "",
                evidence=f"{'stateful ' if stateful else ''}case {case_id} answered {status}",
                reproduction=info.code_sample))
