"""SEC-SECRETS-ENV: secrets only through the environment.

The run's generated secrets are canaries: they must not be in the image (any file of any layer,
its ENV, labels or build history), nor in a log, a log file, a response or the report's own
files. No secret-looking ENV value may be baked into the image. And the application must refuse
to start in production mode without each required secret, or with a well-known default one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import partial
from typing import Any

import pytest

from releasegate.config.profile import Profile
from releasegate.evidence.findings import OWASP_API_2023, Finding, triage
from releasegate.measure.api import Api
from releasegate.measure.recorder import Recorder
from releasegate.measure.security import sources
from releasegate.measure.security.canaries import Canaries, Hit, leak_findings, secret_canaries
from releasegate.measure.security.hardening import env_secret_findings
from releasegate.measure.security.image_scan import scan_image_metadata, scan_saved_image
from releasegate.measure.security.refusal import (
    StartAttempt,
    secret_refusal_finding,
    secret_variables,
)
from releasegate.measure.security.support import announce, stopwatch
from releasegate.stack.extra import extra_app
from releasegate.stack.model import StackInfo

pytestmark = pytest.mark.security
CID = "SEC-SECRETS-ENV"
EXPOSURE = OWASP_API_2023["API8"]


def canary_findings(hits: list[Hit], *, rule: str,
                    reproduce: str | Callable[[str], str]) -> list[Finding]:
    look = reproduce if callable(reproduce) else (lambda _: str(reproduce))
    return leak_findings(hits, criterion=CID, rule=rule, severity="critical", reproduce=look,
                         owasp=lambda _: EXPOSURE)


def _canaries(stack: StackInfo, record: Recorder, scope: str) -> Canaries | None:
    canaries = secret_canaries(stack.secrets)
    if not canaries:
        record.insufficient(CID, "the profile plants no secret to search for (no [secrets] "
                            "entry of 6 characters or more)", scope=scope)
        return None
    return canaries


@pytest.mark.criterion(CID)
def test_no_secret_in_the_image(stack: StackInfo, gate_profile: Profile, app_container: Any,
                                docker_client: Any, record: Recorder,
                                request: pytest.FixtureRequest) -> None:
    image = docker_client.images.get(app_container.attrs["Image"])
    tag = (image.tags or [image.id])[0]
    env = [str(e) for e in (image.attrs.get("Config") or {}).get("Env") or []]
    findings = env_secret_findings(env, criterion=CID, where=f"image {tag}",
                                   reproduction=f"docker image inspect --format "
                                                f"'{{{{json .Config.Env}}}}' {tag}")
    canaries = _canaries(stack, record, "image")
    examined = len(env)
    evidence: dict[str, Any] = {"image": tag}
    if canaries is not None:
        with stopwatch() as watch:
            layers = scan_saved_image(image.save(chunk_size=1 << 20), canaries)
            meta_hits, meta_items = scan_image_metadata(image.attrs,
                                                        docker_client.api.history(image.id),
                                                        canaries)
        announce(request.config, f"security: image scan ({layers.layers} layers, "
                 f"{layers.files} files, {layers.bytes / 1e6:.0f} MB) took {watch.seconds:.1f} s")
        findings += canary_findings(
            layers.hits + meta_hits, rule="canary-secret-in-image",
            reproduce=f"docker save {tag} | tar -xO | grep -a '<the planted value>'")
        examined += layers.files + meta_items
        evidence.update({"layers": layers.layers, "files": layers.files,
                         "bytes": layers.bytes, "canaries": canaries.labels(),
                         "seconds": watch.seconds})
    record.findings(CID, triage(findings, gate_profile.section("security").waivers,
                                date.today()),
                    examined=examined, what="image file or setting", scope="image",
                    source="docker save of the app image (every file of every layer), its ENV, "
                           "labels and history", evidence=evidence)


@pytest.mark.criterion(CID)
def test_app_refuses_missing_or_default_secrets(
    stack: StackInfo, gate_profile: Profile, docker_client: Any, record: Recorder,
    request: pytest.FixtureRequest,
) -> None:
    settings = gate_profile.section("security").secrets
    required = list(settings.required if settings.required is not None
                    else secret_variables(gate_profile.app.env))
    weak = list(settings.weak_defaults if settings.weak_defaults is not None else required)
    if not required and not weak:
        record.insufficient(CID, "no environment variable of the app carries a secret: name "
                            "them in [security.secrets] required", scope="startup")
        return
    canaries = secret_canaries(stack.secrets)
    production = dict(settings.production_env)
    plans: list[tuple[str, str, str | None]] = [(f"{v} removed", v, None) for v in required]
    plans += [(f"{v}={value!r}", v, value) for v in weak for value in settings.default_values]
    findings: list[Finding] = []
    attempts: list[dict[str, Any]] = []
    with stopwatch() as watch:
        for label, variable, value in plans:
            attempt = _start(docker_client, stack, gate_profile, label, variable,
                             {**production, variable: value}, settings.refusal_timeout_s)
            rule = "starts-without-secret" if value is None else "accepts-default-secret"
            finding = secret_refusal_finding(
                attempt, criterion=CID, rule=rule, canaries=canaries,
                reproduction=f"docker run --rm -e <the profile's environment, {label}> "
                             f"{stack.startup.image}")
            findings += [finding] if finding else []
            findings += canary_findings(canaries.find(attempt.logs, f"log of a start with "
                                                      f"{label}"),
                                        rule="canary-secret-in-log",
                                        reproduce="docker logs <the refused container>")
            attempts.append({"change": label, "outcome": attempt.outcome,
                             "refused": finding is None})
    announce(request.config, f"security: {len(plans)} refused starts took "
             f"{watch.seconds:.1f} s")
    record.findings(CID, triage(findings, gate_profile.section("security").waivers,
                                date.today()),
                    examined=len(plans), what="start with a missing or default secret",
                    scope="startup", source="the app's image started beside the stack with "
                    "one secret removed or set to a well-known default",
                    evidence={"attempts": attempts, "production_env": production,
                              "seconds": watch.seconds})


def _start(client: Any, stack: StackInfo, profile: Profile, label: str, variable: str,
           env: dict[str, str | None], timeout_s: float) -> StartAttempt:
    with extra_app(client, stack, profile, role="secret-check", env=env,
                   wait_s=timeout_s) as extra:
        return StartAttempt(label=label, variable=variable,
                            healthy_after_s=extra.healthy_after_s, exit_code=extra.exit_code,
                            logs=extra.logs(), waited_s=timeout_s)


@pytest.mark.criterion(CID)
def test_no_secret_in_logs_responses_or_reports(
    healthy_stack: StackInfo, gate_profile: Profile, app_container: Any, docker_client: Any,
    anon: Api, record: Recorder, request: pytest.FixtureRequest,
) -> None:
    stack = healthy_stack
    canaries = _canaries(stack, record, "runtime")
    if canaries is None:
        return
    api, login_note = sources.try_login(stack.base_url, gate_profile, stack.template_values())
    with stopwatch() as watch:
        try:
            texts, notes = runtime_texts(stack, gate_profile, app_container, docker_client, api,
                                         anon, record)
        finally:
            if api is not None:
                api.close()
        hits = [hit for where, data in texts for hit in canaries.find(data, where)]
    announce(request.config, f"security: secrets in {len(texts)} logs, files and responses "
             f"took {watch.seconds:.1f} s")
    names = {"app": app_container.name}
    if stack.db_container:
        names["db"] = docker_client.containers.get(stack.db_container).name
    findings = canary_findings(hits, rule="canary-secret-exposed", reproduce=partial(
        sources.how_to_look, containers=names, base_url=stack.base_url,
        evidence_dir=record.store.directory))
    record.findings(CID, triage(findings, gate_profile.section("security").waivers,
                                date.today()),
                    examined=len(texts), what="log, file or response", scope="runtime",
                    source="container logs, the app's log files, its responses and the "
                           "run's evidence files, searched for the run's secrets",
                    evidence={"searched": [where for where, _ in texts][:300],
                              "notes": [*notes, *([login_note] if login_note else [])],
                              "canaries": canaries.labels(), "seconds": watch.seconds})


def runtime_texts(stack: StackInfo, profile: Profile, app_container: Any, docker_client: Any,
                  api: Api | None, anon: Api, record: Recorder
                  ) -> tuple[list[sources.Text], list[str]]:
    """Every run-time place a canary must not reach, as (where, content)."""
    containers = {"app": app_container}
    if stack.db_container:
        containers["db"] = docker_client.containers.get(stack.db_container)
    texts = sources.container_logs(containers)
    files, why_not = sources.log_files(app_container, profile.app.log_file)
    texts += files
    app = profile.app
    for what, status, data in sources.responses(api, anon, app.openapi_path,
                                                [app.health_path, app.liveness_path]):
        texts.append((f"response to {what} ({status})", data))
    texts += sources.evidence_files(record.store.directory)
    return texts, [why_not] if why_not else []
