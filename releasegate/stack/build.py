"""Building the application image from its Dockerfile, as a classic `docker build` would.

Behind a TLS-inspecting proxy (or on this kind of machine) a package install inside the build
only works with the host's CA bundle. The profile names where the Dockerfile expects it; the
bundle goes into a *copy* of the context, so the source tree stays clean and only the build
stage — never the final image, if the Dockerfile is written that way — sees it.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from releasegate.config.profile import BuildSpec
from releasegate.errors import EnvironmentProblem

_ALWAYS_SKIPPED = (".git", ".venv", "__pycache__", ".mypy_cache", ".pytest_cache", "node_modules")
_CA_CANDIDATES = ("PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")


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
    return BuiltImage(tag, image_id, seconds, "\n".join(lines[-30:]))
