"""COMPAT-BROWSER: every HTML page the application serves renders in headless Chromium and
Firefox ESR without a script error or a console error; a screenshot of each page in each
browser is attached.

The pages are the profile's (``[compat.browser] pages``) and every GET operation without path
parameters that the OpenAPI document declares as ``text/html``. Each page must first answer 200
with an HTML content type to the harness itself; a browser that is not installed or does not
start makes its parts insufficient, never passed.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from releasegate.config.profile import Profile
from releasegate.config.sections.compat import BrowserSettings
from releasegate.evidence.measurement import Outcome
from releasegate.measure.api import LoginAttempt, excerpt
from releasegate.measure.browser import LOADERS, BrowserUnavailable
from releasegate.measure.recorder import CriterionBreached, Recorder
from releasegate.stack.model import StackInfo

pytestmark = pytest.mark.compat
CRITERION = "COMPAT-BROWSER"


def html_operations(document: Any) -> list[str]:
    """GET paths without parameters whose 200 answer the document says is text/html."""
    found = []
    for path, item in ((document or {}).get("paths") or {}).items():
        get = (item or {}).get("get") if isinstance(item, dict) else None
        if not isinstance(get, dict) or "{" in str(path):
            continue
        content = ((get.get("responses") or {}).get("200") or {}).get("content") or {}
        if any(str(kind).startswith("text/html") for kind in content):
            found.append(str(path))
    return found


def _pages(base_url: str, profile: Profile, settings: BrowserSettings) -> tuple[list[str], str]:
    """The pages to render, and where the list came from."""
    pages = list(settings.pages)
    source = "[compat.browser] pages" if pages else ""
    try:
        document = httpx.get(base_url + profile.app.openapi_path, timeout=10).json()
    except (httpx.HTTPError, ValueError):
        document = None
    declared = [p for p in html_operations(document) if p not in pages]
    if declared:
        pages += declared
        source += (" and " if source else "") + "the OpenAPI document's text/html operations"
    return pages, source


@pytest.mark.criterion(CRITERION)
def test_pages_render_in_headless_browsers(healthy_stack: StackInfo, gate_profile: Profile,
                                           record: Recorder,
                                           request: pytest.FixtureRequest) -> None:
    settings: BrowserSettings = gate_profile.section("compat").browser
    pages, listed_by = _pages(healthy_stack.base_url, gate_profile, settings)
    if not pages:
        record.insufficient(CRITERION, "the application names no HTML page: list them in "
                            "[compat.browser] pages, or declare text/html answers in OpenAPI")
        return
    cookie: tuple[str, str] | None = None
    if settings.session == "admin":
        attempt: LoginAttempt = request.getfixturevalue("admin_login")
        if attempt.api is None or not attempt.api.token:
            record.insufficient(CRITERION, attempt.failure or "the login gave no token")
            return
        if not settings.cookie:
            record.insufficient(CRITERION, "the pages are behind the profile's login, but "
                                "[compat.browser] cookie does not say which cookie carries it")
            return
        cookie = (settings.cookie, attempt.api.token)
    red: list[str] = []
    for page in pages:
        url = healthy_stack.base_url + page
        answer = httpx.get(url, cookies=dict([cookie]) if cookie else None, timeout=10)
        kind = answer.headers.get("content-type", "")
        if answer.status_code != 200 or not kind.startswith("text/html"):
            why = f"{page} answered {answer.status_code} {kind!r}: {excerpt(answer.text)}"
            record(CRITERION, value=1.0, samples=1, violations=[why], scope=page,
                   source="the harness's own GET of the page", fail_test=False)
            red.append(why)
            continue
        for browser in settings.browsers:
            red += _render(record, browser, page, url, cookie, settings, listed_by)
    if red:
        raise CriterionBreached("; ".join(red[:5]), pytrace=False)


def _render(record: Recorder, browser: str, page: str, url: str,
            cookie: tuple[str, str] | None, settings: BrowserSettings,
            listed_by: str) -> list[str]:
    executable = settings.chromium if browser == "chromium" else settings.firefox
    scope = f"{browser} {page}"
    source = (f"{executable} headless, driven over "
              + ("the DevTools protocol" if browser == "chromium" else "WebDriver BiDi")
              + ": uncaught exceptions, console errors and the browser's error log; pages from "
              + listed_by)
    try:
        load = LOADERS[browser](executable, url, cookie=cookie, timeout_s=settings.timeout_s)
    except (BrowserUnavailable, OSError) as exc:
        record(CRITERION, value=None, samples=0, source=source, outcome=Outcome.INSUFFICIENT,
               reason=f"{browser} could not run here: {exc} (scripts/system-deps.sh installs "
                      "it)", scope=scope, fail_test=False)
        return [f"{scope}: {browser} unavailable"]
    except (TimeoutError, RuntimeError) as exc:
        record(CRITERION, value=None, samples=0, source=source, outcome=Outcome.ERROR,
               reason=f"{browser} broke while loading {page}: {exc}", scope=scope,
               fail_test=False)
        return [f"{scope}: {exc}"]
    shots = [record.attach(f"{browser}-{page.strip('/').replace('/', '-') or 'root'}.png",
                           load.screenshot)] if load.screenshot else []
    if not load.screenshot:
        load.errors.append("no screenshot could be taken")
    record(CRITERION, value=float(len(load.errors)), samples=1, source=source,
           violations=[f"{scope}: {e}" for e in load.errors], attachments=shots, scope=scope,
           evidence={"browser": browser, "page": page, "title": load.title,
                     "seconds": round(load.seconds, 2), "warnings": load.warnings[:20]},
           fail_test=False)
    return [f"{scope}: {e}" for e in load.errors]
