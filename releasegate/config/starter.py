"""What `releasegate init` can tell about an application from its OpenAPI document and its
Dockerfile: name, port, health and login paths, each with what the guess rests on.

Nothing here is trusted: every guess carries its reason, and the starter profile prints it as a
``# check:`` comment beside the value (see ``starter_profile.py``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlparse

from releasegate.errors import ConfigError

FETCH_TIMEOUT_S = 15.0
DEFAULT_PORT = 8000
# Path fragments of health endpoints, most telling first: readiness (it should touch the
# database) is what the gate waits for; liveness only says the process runs.
READY_WORDS = ("ready", "readyz", "readiness")
HEALTH_WORDS = ("healthz", "health")
LIVE_WORDS = ("live", "livez", "liveness", "ping")
LOGIN_WORDS = ("login", "token")
USER_FIELDS = ("username", "user", "email", "login")
TOKEN_FIELDS = ("access_token", "token", "accessToken", "jwt", "id_token")


@dataclass(frozen=True)
class Guess:
    value: Any
    why: str
    """What the guess rests on, for the ``# check:`` comment."""


@dataclass(frozen=True)
class LoginGuess:
    path: str
    form: bool
    """Form-encoded (OAuth2 password flow) rather than JSON."""
    user_field: str
    password_field: str
    token_field: str | None
    """Where the answer carries the token, when the document says."""
    why: str


@dataclass(frozen=True)
class Dockerfile:
    path: Path
    ports: tuple[int, ...]
    takes_base_image: bool
    """Declares ``ARG BASE_IMAGE``, so the harness can hand it a provisioned Python image."""


# -- reading the inputs ------------------------------------------------------------------------

def read_openapi(source: str) -> dict[str, Any]:
    """The document at an http(s) URL or in a file, JSON or YAML."""
    if source.startswith(("http://", "https://")):
        import httpx

        try:
            answer = httpx.get(source, timeout=FETCH_TIMEOUT_S, follow_redirects=True)
        except httpx.HTTPError as exc:
            raise ConfigError(
                f"could not fetch {source}: {exc}",
                hint="start the application, or save its document to a file",
            ) from None
        if answer.status_code != 200:
            raise ConfigError(f"{source} answered {answer.status_code}, not the OpenAPI document",
                              hint="pass the URL the application serves its document at")
        text = answer.text
    else:
        try:
            text = Path(source).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{source}: cannot read the OpenAPI document ({exc.strerror})",
                              hint="pass a URL or an existing file") from None
    document = _parse(text)
    if not isinstance(document, dict) or not ("openapi" in document or "swagger" in document):
        raise ConfigError(f"{source} is not an OpenAPI document (no 'openapi' or 'swagger' key)",
                          hint="pass the application's OpenAPI JSON or YAML")
    return document


def _parse(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        import yaml

        return yaml.safe_load(text)
    except Exception:  # YAML's own errors, or no YAML reader: either way not a document
        return None


def read_dockerfile(path: Path) -> Dockerfile:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the Dockerfile ({exc.strerror})",
                          hint="pass --dockerfile with the application's Dockerfile") from None
    logical = re.sub(r"\\\r?\n", " ", text)  # continuation lines joined
    ports: list[int] = []
    defaults: dict[str, str] = {}
    for line in logical.splitlines():
        words = line.split()
        if len(words) < 2:
            continue
        keyword = words[0].upper()
        if keyword in ("ARG", "ENV"):
            for word in words[1:]:
                name, _, value = word.partition("=")
                defaults[name] = value.strip("\"'")
        elif keyword == "EXPOSE":
            for word in words[1:]:
                port = _expand(word.split("/")[0], defaults)
                if port.isdigit() and 0 < int(port) < 65536:
                    ports.append(int(port))
    return Dockerfile(path, tuple(ports), "BASE_IMAGE" in defaults)


def _expand(word: str, defaults: dict[str, str]) -> str:
    """``$PORT`` / ``${PORT}`` / ``${PORT:-8000}`` from ARG/ENV defaults, as far as they go."""
    match = re.fullmatch(r"\$\{?(\w+)(?::?-([^}]*))?\}?", word)
    if not match:
        return word
    return defaults.get(match.group(1)) or (match.group(2) or "")


# -- guessing ----------------------------------------------------------------------------------

def guess_name(document: dict[str, Any]) -> Guess:
    title = str((document.get("info") or {}).get("title") or "")
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    if not slug:
        return Guess("app", "the OpenAPI document has no info.title")
    return Guess(slug[:40].strip("-"), f"from the OpenAPI title {title!r}")


def guess_port(dockerfile: Dockerfile) -> Guess:
    if dockerfile.ports:
        others = f" (also exposed: {', '.join(map(str, dockerfile.ports[1:]))})" \
            if len(dockerfile.ports) > 1 else ""
        return Guess(dockerfile.ports[0], f"EXPOSE {dockerfile.ports[0]} in "
                     f"{dockerfile.path.name}{others}")
    return Guess(DEFAULT_PORT,
                 f"{dockerfile.path.name} EXPOSEs no port; the port the app listens on")


def base_path(document: dict[str, Any]) -> str:
    """The prefix every operation path sits under (OpenAPI 3 servers[0], Swagger basePath)."""
    servers = document.get("servers") or []
    if servers and isinstance(servers[0], dict):
        prefix = urlparse(str(servers[0].get("url") or "")).path
    else:
        prefix = str(document.get("basePath") or "")
    return prefix.rstrip("/")


def _operations(document: dict[str, Any], method: str) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path, item in (document.get("paths") or {}).items():
        if isinstance(item, dict) and isinstance(item.get(method), dict) and "{" not in path:
            found.append((str(path), item[method]))
    return found


def _pick(paths: list[str], words: tuple[str, ...]) -> str | None:
    hits = [p for p in paths if any(w in p.lower() for w in words)]
    return min(hits, key=len) if hits else None


def guess_health(document: dict[str, Any]) -> tuple[Guess, Guess | None]:
    """(readiness path the gate waits on, liveness path if there is a distinct one)."""
    prefix = base_path(document)
    paths = [p for p, _ in _operations(document, "get")]
    ready = _pick(paths, READY_WORDS) or _pick(paths, HEALTH_WORDS)
    live = _pick([p for p in paths if p != ready], LIVE_WORDS)
    if ready is None and live is not None:
        ready, live = live, None
    if ready is None:
        return Guess("/health", "no GET operation looks like a health check; "
                     "a path that answers 200 only when the app can use its database"), None
    health = Guess(prefix + ready, f"GET {ready} in the OpenAPI document; it should answer 200 "
                   "only when the app can use its database")
    liveness = Guess(prefix + live, f"GET {live} in the OpenAPI document") if live else None
    return health, liveness


def guess_openapi_path(source: str, document: dict[str, Any]) -> Guess:
    if source.startswith(("http://", "https://")):
        return Guess(urlparse(source).path or "/", f"where {source} served it")
    default = "/swagger.json" if "swagger" in document else "/openapi.json"
    return Guess(default, "the document came from a file: the path the running app serves it at")


def guess_login(document: dict[str, Any]) -> LoginGuess | None:
    prefix = base_path(document)
    for name, scheme in _security_schemes(document).items():
        token_url = _password_token_url(scheme)
        if token_url is None:
            continue
        path = urlparse(urljoin(prefix + "/", token_url)).path
        operation = dict(_operations(document, "post")).get(path.removeprefix(prefix), {})
        user, password = _credential_fields(document, operation)
        return LoginGuess(path, True, user, password, _token_field(document, operation),
                          f"OAuth2 password flow {name!r} (tokenUrl {token_url})")
    posts = dict(_operations(document, "post"))
    # "login" before "token": /auth/login beats /auth/token/refresh.
    found = next((p for p in (_pick(list(posts), (word,)) for word in LOGIN_WORDS) if p), None)
    if found is None:
        return None
    operation = posts[found]
    user, password = _credential_fields(document, operation)
    return LoginGuess(prefix + found, _accepts_only_form(operation), user, password,
                      _token_field(document, operation), f"POST {found} in the OpenAPI document")


def _security_schemes(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    schemes = ((document.get("components") or {}).get("securitySchemes")
               or document.get("securityDefinitions") or {})
    return {str(k): v for k, v in schemes.items() if isinstance(v, dict)}


def _password_token_url(scheme: dict[str, Any]) -> str | None:
    if scheme.get("type") != "oauth2":
        return None
    flow = (scheme.get("flows") or {}).get("password")  # OpenAPI 3
    if isinstance(flow, dict) and flow.get("tokenUrl"):
        return str(flow["tokenUrl"])
    if scheme.get("flow") == "password" and scheme.get("tokenUrl"):  # Swagger 2
        return str(scheme["tokenUrl"])
    return None


def _accepts_only_form(operation: dict[str, Any]) -> bool:
    content = ((operation.get("requestBody") or {}).get("content") or {})
    return bool(content) and "application/json" not in content and any(
        "form" in kind for kind in content)


def _resolve(document: dict[str, Any], node: Any, depth: int = 0) -> dict[str, Any]:
    """Follow local $refs (``#/components/schemas/X``) a few levels deep."""
    while isinstance(node, dict) and "$ref" in node and depth < 8:
        target: Any = document
        for part in str(node["$ref"]).lstrip("#/").split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        node, depth = target, depth + 1
    return node if isinstance(node, dict) else {}


def _properties(document: dict[str, Any], schema: Any) -> dict[str, Any]:
    props = _resolve(document, schema).get("properties")
    return props if isinstance(props, dict) else {}


def _credential_fields(document: dict[str, Any], operation: dict[str, Any]) -> tuple[str, str]:
    content = ((operation.get("requestBody") or {}).get("content") or {})
    fields: dict[str, Any] = {}
    for media in content.values():
        if isinstance(media, dict):
            fields.update(_properties(document, media.get("schema")))
    user = next((f for f in USER_FIELDS if f in fields), "username")
    password = "password" if "password" in fields or not fields else next(
        (f for f in fields if "pass" in f.lower()), "password")
    return user, password


def _token_field(document: dict[str, Any], operation: dict[str, Any]) -> str | None:
    responses = operation.get("responses") or {}
    answer = _resolve(document, responses.get("200") or responses.get("201") or {})
    for media in (answer.get("content") or {}).values():
        fields = _properties(document, (media or {}).get("schema"))
        found = next((f for f in TOKEN_FIELDS if f in fields), None)
        if found:
            return found
    return None
