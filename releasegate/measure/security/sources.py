"""Where planted canaries must never show up at run time: container logs, the application's log
files, its responses (error bodies included) and the run's own evidence files. Each source is a
(where, content) pair for ``Canaries.find``."""

from __future__ import annotations

import io
import posixpath
import re
import secrets
import tarfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx

from releasegate.config.profile import Profile
from releasegate.errors import ConfigError
from releasegate.measure.api import Api, LoginFailed, login

Text = tuple[str, bytes]
MAX_GET_OPERATIONS = 60


def container_logs(containers: dict[str, Any]) -> list[Text]:
    return [(f"{role} container log", bytes(c.logs(stdout=True, stderr=True)))
            for role, c in containers.items()]


def log_files(container: Any, log_file: str | None) -> tuple[list[Text], str]:
    """The log file the profile names and its rotations (``app.log.1`` …), read through the
    engine's archive API (no shell needed in the image); the reason when none could be read."""
    if not log_file:
        return [], "the profile names no log file"
    folder, name = posixpath.split(log_file)
    try:
        stream, _ = container.get_archive(folder or "/")
    except Exception as exc:  # the engine's NotFound, permission problems, …
        return [], f"could not read {folder} from the container: {exc}"
    found: list[Text] = []
    with tarfile.open(fileobj=io.BytesIO(b"".join(stream)), mode="r:") as tar:
        for member in tar.getmembers():
            if member.isfile() and posixpath.basename(member.name).startswith(name):
                handle = tar.extractfile(member)
                if handle is not None:
                    found.append((f"log file {folder}/{member.name.split('/', 1)[-1]}",
                                  handle.read()))
    return found, "" if found else f"no file named {name}* in {folder}"


def evidence_files(directory: Path) -> list[Text]:
    """The run's measurements and attachments written so far (the report's own raw files)."""
    if not directory.is_dir():
        return []
    return [(f"report file {p.relative_to(directory)}", p.read_bytes())
            for p in sorted(directory.rglob("*")) if p.is_file()]


def get_operations(document: Any) -> list[str]:
    """GET paths of an OpenAPI document that need no path parameter."""
    paths = document.get("paths") if isinstance(document, dict) else None
    if not isinstance(paths, dict):
        return []
    return sorted(p for p, ops in paths.items()
                  if isinstance(ops, dict) and "get" in ops and "{" not in p)


def responses(api: Api | None, anon: Api, openapi_path: str, extra_paths: list[str]
              ) -> Iterator[tuple[str, int, bytes]]:
    """(request, status, headers and body) for the documented parameterless GETs (logged in
    when a login is available), the same first one anonymously, and an unknown route (404)."""
    api = api or anon
    document: Any = None
    answer = api.get(openapi_path)
    yield _seen("GET", openapi_path, answer)
    if answer.status_code == 200:
        try:
            document = answer.json()
        except ValueError:
            document = None
    paths = [p for p in get_operations(document) if p != openapi_path][:MAX_GET_OPERATIONS]
    for path in dict.fromkeys([*extra_paths, *paths]):
        yield _seen("GET", path, api.get(path))
    if paths:
        yield _seen("GET (anonymous)", paths[0], anon.get(paths[0]))
    unknown = f"/releasegate-no-such-route-{secrets.token_hex(4)}"
    yield _seen("GET", unknown, api.get(unknown))


def try_login(base_url: str, profile: Profile, values: Mapping[str, str]
              ) -> tuple[Api | None, str]:
    """A logged-in client, or None and why: checks that can look without a login still do,
    and say what they could not see. ``values`` are the run's placeholders
    (``StackInfo.template_values()``)."""
    try:
        return login(base_url, profile.login, values), ""
    except LoginFailed as exc:
        return None, f"the profile's login failed: {exc}"
    except ConfigError as exc:
        return None, f"no login: {exc.one_line()}"


def _seen(method: str, path: str, response: httpx.Response) -> tuple[str, int, bytes]:
    headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    return f"{method} {path}", response.status_code, headers.encode() + b"\n\n" + response.content


_PLANTED = "<the planted value>"
_REQUEST = re.compile(r"^(?:error body of|response to) (\S+)(?: \(anonymous\))? (\S+) \(\d+\)$")


def how_to_look(where: str, *, containers: dict[str, str], base_url: str,
                evidence_dir: Path | None = None) -> str:
    """A shell command that shows the place a canary was found (its value stays out of the
    report: the secrets are in the run's stack file, the personal data is made per run)."""
    role = where.removesuffix(" container log")
    if role != where and role in containers:
        return f"docker logs {containers[role]} 2>&1 | grep -F '{_PLANTED}'"
    if where.startswith("log file ") and "app" in containers:
        return f"docker exec {containers['app']} grep -F '{_PLANTED}' {where[9:]}"
    if match := _REQUEST.match(where):
        method, path = match.groups()
        return f"curl -si -X {method} '{base_url}{path}' | grep -F '{_PLANTED}'"
    if where.startswith("report file ") and evidence_dir is not None:
        return f"grep -F '{_PLANTED}' {evidence_dir / where[12:]}"
    return f"search {where} for {_PLANTED}"
