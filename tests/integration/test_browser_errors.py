"""The headless browsers see what a person's browser would: a script that throws and a console
error are reported by Chromium and by Firefox ESR, a clean page has none, a screenshot is a PNG,
and a cookie set for the page arrives with its request."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from releasegate.measure.browser import LOADERS

PAGES = {
    "/broken": b"<!doctype html><title>Broken</title><h1>x</h1>"
               b"<script>console.error('boom'); undefinedFunction();</script>",
    "/clean": b"<!doctype html><title>Clean</title><link rel=icon href=data:,><h1>fine</h1>"
              b"<script>document.title = 'Clean ' + document.cookie;</script>",
}
BROWSERS = {"chromium": "/usr/bin/chromium", "firefox": "/usr/bin/firefox-esr"}


class _Pages(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = PAGES.get(self.path)
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.mark.parametrize("browser", sorted(BROWSERS))
def test_script_and_console_errors_are_reported(site: str, browser: str) -> None:
    load = LOADERS[browser](BROWSERS[browser], site + "/broken", timeout_s=60)
    assert any("undefinedFunction" in e for e in load.errors), load.errors
    assert any("boom" in e for e in load.errors), load.errors
    assert load.screenshot.startswith(b"\x89PNG")


@pytest.mark.parametrize("browser", sorted(BROWSERS))
def test_a_clean_page_has_no_error_and_gets_its_cookie(site: str, browser: str) -> None:
    load = LOADERS[browser](BROWSERS[browser], site + "/clean", cookie=("token", "abc"),
                            timeout_s=60)
    assert load.errors == [] and load.title == "Clean token=abc"
