"""SEC-LOG-NO-SENSITIVE: canary personal data written through the API by the requests the profile
lists (``[[security.pii.requests]]``, with ``{pii.phone}``, ``{pii.email}``, ``{pii.id_number}``
and ``{pii.password}`` placeholders), so that the logs and error bodies can be searched for it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from releasegate.config.sections.security_checks import PiiRequest
from releasegate.config.templating import render
from releasegate.measure.api import Api
from releasegate.measure.security.canaries import Canaries


def render_tree(value: Any, values: Mapping[str, str], *, where: str) -> Any:
    if isinstance(value, str):
        return render(value, values, where=where)
    if isinstance(value, dict):
        return {k: render_tree(v, values, where=f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [render_tree(v, values, where=f"{where}[{i}]") for i, v in enumerate(value)]
    return value


@dataclass
class Sent:
    request: str
    """``METHOD /path`` with every canary masked."""
    status: int
    expected: str
    body: bytes

    @property
    def as_planned(self) -> bool:
        return self.status == int(self.expected) if self.expected.isdigit() else (
            200 <= self.status < 300)


def send(requests: tuple[PiiRequest, ...], values: Mapping[str, str], *, api: Api | None,
         anon: Api, canaries: Canaries) -> list[Sent]:
    """Send each request (logged in where it asks, when a login is available)."""
    sent: list[Sent] = []
    for i, request in enumerate(requests):
        where = f"security.pii.requests[{i}]"
        path = render(request.path, values, where=f"{where}.path")
        body = render_tree(request.body, values, where=f"{where}.body")
        client = api if request.auth and api is not None else anon
        payload: dict[str, Any] = {}
        if body is not None:
            payload = {"data": body} if request.form else {"json": body}
        response = client.request(request.method, path, **payload)
        sent.append(Sent(canaries.mask(f"{request.method} {path}"), response.status_code,
                         str(request.expect) if request.expect is not None else "2xx",
                         response.content))
    return sent
