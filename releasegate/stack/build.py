"""Building the application image from its Dockerfile, as a classic `docker build` would.

Behind a TLS-inspecting proxy (or on this kind of machine) a package install inside the build
only works with the host's CA bundle. The profile names where the Dockerfile expects it; the
bundle goes into a *copy* of the context, so the source tree stays clean and only the build
stage — never the final image, if the Dockerfile is written that way — sees it.

Each run rebuilds under the same tag; the image that tag named before is removed once nothing
names it any more and its labels say this harness built it, so runs do not pile up dangling
images. The earlier stages of a multi-stage build (a ``build`` stage holding a virtualenv, say)
are tagged ``<tag>-stage<N>``: kept as the next build's cache while current, removed once a
rebuild replaces them.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker.errors

from releasegate.config.profile import BuildSpec
from releasegate.errors import EnvironmentProblem
from releasegate.stack.labels import ROLE

_ALWAYS_SKIPPED = (".git", ".venv", "__pycache__", ".mypy_cache", ".pytest_cache", "node_modules")
_CA_CANDIDATES = ("PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")
_FROM_STEP = re.compile(r"^Step \d+/\d+ : FROM\s", re.IGNORECASE)
_STEP_IMAGE = re.compile(r"^ ---> ([0-9a-f]{12,64})$")


@dataclass
class BuiltImage:
    tag: str
    image_id: str
    seconds: float
    log_tail: str


def host_ca_bundle() -> Path | None:
    for var in _CA_CANDIDATES:
        value = os.environ.get(var)
        if value and Path(value).is_file():
            return Path(value)
    return None


def _dockerignore(context: Path) -> list[str]:
    file = context / ".dockerignore"
    if not file.is_file():
        return []
    lines = (line.strip() for line in file.read_text().splitlines())
    return [line.rstrip("/") for line in lines if line and not line.startswith(("#", "!"))]


@contextmanager
def staged_context(spec: BuildSpec) -> Iterator[Path]:
    """The directory to build from: the context itself, or a copy carrying the CA bundle."""
    bundle = host_ca_bundle() if spec.ca_bundle else None
    if spec.ca_bundle is None or bundle is None:
        yield spec.context
        return
    patterns = [*_dockerignore(spec.context), *_ALWAYS_SKIPPED]

    def ignore(directory: str, names: list[str]) -> set[str]:
        rel = Path(directory).relative_to(spec.context)
        return {
            n for n in names
            if any(fnmatch.fnmatch(str(rel / n), p) or fnmatch.fnmatch(n, p) for p in patterns)
        }

    with tempfile.TemporaryDirectory(prefix="releasegate-ctx-") as tmp:
        staged = Path(tmp) / "context"
        shutil.copytree(spec.context, staged, ignore=ignore, symlinks=True)
        target = staged / spec.ca_bundle
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(bundle, target)
        yield staged


def image_tag(profile_name: str, spec: BuildSpec, extra_args: dict[str, str]) -> str:
    digest = hashlib.sha256(
        json.dumps([str(spec.context), spec.dockerfile, spec.args, extra_args], sort_keys=True)
        .encode()
    ).hexdigest()[:10]
    return f"releasegate/{profile_name}-app:{digest}"


def build_image(
    client: Any, spec: BuildSpec, *, tag: str, build_args: dict[str, str],
    labels: dict[str, str], progress: Callable[[str], None],
) -> BuiltImage:
    started = time.monotonic()
    lines: list[str] = []
    image_id = ""
    previous = _image_id(client, tag)
    progress(f"building {tag} from {spec.context / spec.dockerfile}")
    with staged_context(spec) as context:
        stream = client.api.build(
            path=str(context), dockerfile=spec.dockerfile, tag=tag, buildargs=build_args,
            labels=labels, rm=True, forcerm=True, decode=True, pull=False,
        )
        last_report = started
        for chunk in stream:
            if "stream" in chunk:
                text = str(chunk["stream"]).rstrip()
                if text:
                    lines.append(text)
                    if text.startswith("Step ") or time.monotonic() - last_report > 15:
                        progress(f"  {text[:110]}")
                        last_report = time.monotonic()
            if "aux" in chunk and "ID" in chunk["aux"]:
                image_id = str(chunk["aux"]["ID"])
            if "error" in chunk:
                tail = "\n".join([*lines[-15:], str(chunk["error"]).strip()])
                raise EnvironmentProblem(
                    f"the image {tag} failed to build: {str(chunk['error']).strip()}",
                    hint=f"fix {spec.context / spec.dockerfile}; last build output:\n{tail}",
                )
    if not image_id:
        image_id = str(client.images.get(tag).id)
    seconds = time.monotonic() - started
    progress(f"built {tag} in {seconds:.1f} s")
    if previous and previous != image_id and ROLE in labels:
        remove_if_orphaned(client, previous, role=labels[ROLE], progress=progress)
    try:
        _retag_stages(client, tag, stage_images(lines), progress)
    except docker.errors.APIError as exc:  # housekeeping only: the build itself succeeded
        progress(f"warning: could not tag the build stages of {tag}: {exc}")
    return BuiltImage(tag, image_id, seconds, "\n".join(lines[-30:]))


def stage_images(output: list[str]) -> list[str]:
    """The image each earlier stage of a multi-stage build ended with, from the classic
    builder's output (``Step n/m : FROM …`` opens a stage, `` ---> <id>`` follows each step)."""
    stages: list[str] = []
    for line in (part for text in output for part in text.splitlines()):
        if _FROM_STEP.match(line):
            stages.append("")
        elif stages and (match := _STEP_IMAGE.match(line)):
            stages[-1] = match.group(1)
    return [s for s in stages[:-1] if s]


def _retag_stages(client: Any, tag: str, stages: list[str],
                  progress: Callable[[str], None]) -> None:
    repository, _, name = tag.rpartition(":")
    prefix = f"{tag}-stage"
    before = {t: str(image.id) for image in client.images.list(name=repository)
              for t in image.tags if t.startswith(prefix)}
    after: dict[str, str] = {}
    for number, short_id in enumerate(stages):
        image = client.images.get(short_id)
        image.tag(repository, f"{name}-stage{number}")
        after[f"{prefix}{number}"] = str(image.id)
    for stage_tag, old_id in before.items():
        if stage_tag not in after:
            try:
                client.images.remove(stage_tag, noprune=False)
            except docker.errors.APIError as exc:
                progress(f"kept {stage_tag}: {exc}")
        elif after[stage_tag] != old_id:
            remove_if_orphaned(client, old_id, role=None, progress=progress)


def _image_id(client: Any, tag: str) -> str | None:
    try:
        return str(client.images.get(tag).id)
    except docker.errors.ImageNotFound:
        return None


def remove_if_orphaned(client: Any, image_id: str, *, role: str | None,
                       progress: Callable[[str], None]) -> bool:
    """Remove an image that no tag names any more and that is ours: it carries our ``role``
    label, or (``role=None``) the caller untagged it from a tag of ours. One still used by a
    container (another run's, say) is kept."""
    try:
        image = client.images.get(image_id)
    except docker.errors.ImageNotFound:
        return False
    if [t for t in image.tags if t != "<none>:<none>"] or (
            role is not None and image.labels.get(ROLE) != role):
        return False
    try:
        client.images.remove(image_id, noprune=False)
    except docker.errors.APIError as exc:
        progress(f"kept the previous build {image_id[:19]}: {exc.explanation or exc}")
        return False
    progress(f"removed the previous build {image_id[:19]}, no longer tagged")
    return True
