"""SEC-INJECTION-XSS: stored and reflected payloads, judged by a real headless Chromium.

Stored: every free-text field of every JSON write (POST, PUT, PATCH) gets a payload with a
marker of its own, through the probing session. Reflected: every HTML page is opened with each
payload in its documented query parameters and in a few common ones. Every HTML page (the
OpenAPI document's ``text/html`` answers and the profile's ``html_pages``) is loaded in
Chromium with the session's credentials; a payload that runs calls ``rgXss(marker)`` or opens
a dialog, and either is a finding naming where the marker was written.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from releasegate.evidence.findings import Finding
from releasegate.measure.security.errorcheck import ErrorInspector, curl_line
from releasegate.measure.security.openapi import (
    Operation,
    Resolver,
    accepts_string,
    example,
    is_free_text,
    text_schema,
)

TOOL = "releasegate-xss"
SCOPE = "xss traffic"
REFLECTED_PARAMS = ("q", "search", "name", "message", "error", "next")
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync")


def load_payloads(folder: Path) -> list[str]:
    path = folder / "xss.txt"
    if not path.is_file():
        raise FileNotFoundError(f"payload dictionary {path} is missing")
    return [line for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]


@dataclass
class Planted:
    marker: str
    where: str
    """``POST /api/renters body:name`` or ``GET /page query:q``."""
    reproduction: str


@dataclass
class XssResult:
    findings: list[Finding] = field(default_factory=list)
    planted: dict[str, Planted] = field(default_factory=dict)
    pages: list[str] = field(default_factory=list)
    loads: int = 0
    writes: int = 0
    refused_writes: int = 0
    executed: list[dict[str, str]] = field(default_factory=list)


def html_pages(ops: list[Operation], extra: tuple[str, ...]) -> list[Operation]:
    pages = [op for op in ops if op.method == "GET" and op.html]
    known = {op.path for op in pages}
    return pages + [Operation("GET", path, html=True) for path in extra if path not in known]


class XssProbe:
    def __init__(self, client: httpx.Client, resolver: Resolver, inspector: ErrorInspector,
                 payloads: list[str], *, captured: dict[str, Any], max_requests: int,
                 max_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.client, self.resolver, self.inspector = client, resolver, inspector
        self.payloads, self.captured = payloads, captured
        self.left, self.deadline, self.clock = max_requests, clock() + max_seconds, clock
        self.result = XssResult()
        self._markers = itertools.count(1)

    def _budget(self) -> bool:
        if self.left <= 0 or self.clock() > self.deadline:
            return False
        self.left -= 1
        return True

    def marker(self, where: str, reproduction: str = "") -> str:
        marker = f"rgx{next(self._markers)}"
        self.result.planted[marker] = Planted(marker, where, reproduction)
        return marker

    # -- stored -----------------------------------------------------------------------------
    def store(self, ops: list[Operation]) -> list[str]:
        """Write a payload into every free-text field of every JSON write; returns what could
        not be written for lack of budget."""
        skipped: list[str] = []
        for op in ops:
            body_schema = self.resolver.resolve(op.body) if op.body is not None else None
            if op.method not in ("POST", "PUT", "PATCH") or not isinstance(body_schema, dict):
                continue
            for name, prop in (body_schema.get("properties") or {}).items():
                if not is_free_text(prop):
                    continue
                if not self._budget():
                    skipped.append(f"{op.label} body:{name}")
                    continue
                self._write(op, body_schema, name, text_schema(prop))
        return skipped

    def _write(self, op: Operation, body_schema: dict[str, Any], name: str,
               schema: dict[str, Any]) -> None:
        marker = self.marker(f"{op.label} body:{name}")
        payload = next((p.replace("{marker}", marker) for p in self.payloads
                        if accepts_string(schema, p.replace("{marker}", marker))), None)
        if payload is None:
            self.result.planted.pop(marker)
            return
        body = example(body_schema)
        body = body if isinstance(body, dict) else {}
        body.update({k: v for k, v in self.captured.items() if k in body})
        body[name] = payload
        path = op.url(self.captured)
        response = self.client.request(op.method, path, json=body)
        self.inspector.inspect_httpx(response, scope=SCOPE)
        self.result.writes += 1
        if not response.is_success:
            self.result.refused_writes += 1
        request = response.request
        self.result.planted[marker].reproduction = curl_line(
            request.method, str(request.url), dict(request.headers), request.content)

    # -- browsing ---------------------------------------------------------------------------
    def reflected_urls(self, page: Operation) -> list[tuple[str, str]]:
        """(url, marker) per payload: the payload in every query parameter of the page."""
        names = [p.name for p in page.params_in("query")] + [
            n for n in REFLECTED_PARAMS if n not in {p.name for p in page.params}]
        urls = []
        for template in self.payloads:
            marker = self.marker(f"{page.label} query:{','.join(names)}")
            query = urlencode({n: template.replace("{marker}", marker) for n in names})
            url = f"{page.url(self.captured)}?{query}"
            self.result.planted[marker].reproduction = f"open {url} in a browser"
            urls.append((url, marker))
        return urls


class Browser:
    """Headless Chromium through Playwright, with the session's credential headers and a
    ``rgXss`` binding; every dialog and every call is recorded."""

    def __init__(self, executable: str, base_url: str, headers: dict[str, str]) -> None:
        from playwright.sync_api import sync_playwright

        self._manager = sync_playwright()
        self._pw = self._manager.start()
        self.calls: list[dict[str, str]] = []
        try:
            self._browser = self._pw.chromium.launch(executable_path=executable, headless=True,
                                                     args=list(CHROMIUM_FLAGS[1:]))
            self._context = self._browser.new_context(base_url=base_url,
                                                      extra_http_headers=headers)
            self._context.expose_binding("rgXss", self._called)
        except Exception:
            self._manager.__exit__(None, None, None)
            raise

    def _called(self, source: Any, marker: Any = "") -> None:
        self.calls.append({"how": "rgXss", "marker": str(marker),
                           "url": str(getattr(source.get("page"), "url", ""))
                           if isinstance(source, dict) else ""})

    def load(self, url: str, timeout_s: float = 10.0) -> tuple[int | None, str]:
        """(HTTP status, Content-Type) of the page, after it settled."""
        page = self._context.new_page()

        def dialog_opened(dialog: Any) -> None:
            self.calls.append({"how": f"dialog {dialog.type}", "marker": dialog.message,
                               "url": page.url})
            dialog.dismiss()

        page.on("dialog", dialog_opened)
        try:
            response = page.goto(url, wait_until="load", timeout=timeout_s * 1000)
            page.wait_for_timeout(300)  # onerror/ontoggle handlers run after load
            if response is None:
                return None, ""
            return response.status, response.headers.get("content-type", "")
        finally:
            page.close()

    def close(self) -> None:
        try:
            self._context.close()
            self._browser.close()
        finally:
            self._manager.__exit__(None, None, None)


def browse(probe: XssProbe, browser: Browser, pages: list[Operation]) -> list[str]:
    """Load every page plain (stored payloads) and with each reflected payload; returns the
    pages that did not answer HTML."""
    not_html: list[str] = []
    for page in pages:
        status, kind = browser.load(page.url(probe.captured))
        probe.result.loads += 1
        if status is None or not 200 <= status < 300 or "html" not in kind:
            not_html.append(f"{page.label}: answered {status} {kind}".strip())
            continue
        probe.result.pages.append(page.label)
        for url, _marker in probe.reflected_urls(page):
            if not probe._budget():
                break
            browser.load(url)
            probe.result.loads += 1
    for call in browser.calls:
        _executed(probe, call)
    return not_html


def _executed(probe: XssProbe, call: dict[str, str]) -> None:
    probe.result.executed.append(call)
    marker = next((m for m in probe.result.planted if m in call["marker"]), "")
    planted = probe.result.planted.get(marker)
    stored = planted is not None and " body:" in planted.where
    where = planted.where if planted else "an unknown write"
    page = call.get("url", "")
    probe.result.findings.append(Finding(
        tool=TOOL, rule="xss-stored" if stored else "xss-reflected", severity="high",
        criterion="SEC-INJECTION-XSS",
        title=f"{'stored' if stored else 'reflected'} script ran in the browser ({call['how']})",
        location=f"GET {httpx.URL(page).path}" if page else where,
        evidence=f"marker {marker or call['marker']!r} written through {where} ran on {page}",
        reproduction=planted.reproduction if planted else ""))
