"""Loading a page in a real headless browser and reporting what went wrong while it rendered.

Two browsers, each through its own standard remote protocol, with no driver binary and no
browser download: Chromium through the DevTools protocol, Firefox (ESR, Debian's) through
WebDriver BiDi. Each load yields the script errors (uncaught exceptions), the console errors
and the browser's own error log entries (a resource that failed, a CSP refusal), and a PNG.

Both browsers are started with a fresh profile and a proxy that leads nowhere for every address
but loopback, so nothing leaves the machine: the page under test is on 127.0.0.1.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-extensions", "--disable-default-apps", "--mute-audio",
    # Every request but to loopback (bypassed by default) goes to a proxy that is not there.
    "--proxy-server=http://127.0.0.1:9",
)
FIREFOX_PREFS = {
    "remote.active-protocols": 1,  # WebDriver BiDi only
    "network.proxy.type": 1, "network.proxy.http": "127.0.0.1", "network.proxy.http_port": 9,
    "network.proxy.ssl": "127.0.0.1", "network.proxy.ssl_port": 9,
    "network.proxy.no_proxies_on": "127.0.0.1,localhost",
    "app.update.enabled": False, "app.update.auto": False,
    "browser.safebrowsing.malware.enabled": False, "browser.safebrowsing.phishing.enabled": False,
    "datareporting.policy.dataSubmissionEnabled": False, "toolkit.telemetry.enabled": False,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False, "extensions.update.enabled": False,
    "browser.shell.checkDefaultBrowser": False, "browser.startup.homepage_override.mstone":
    "ignore", "browser.startup.page": 0, "services.settings.server": "http://127.0.0.1:9/",
    "dom.push.connection.enabled": False, "browser.aboutwelcome.enabled": False,
}
_ENDPOINT = re.compile(r"(ws://127\.0\.0\.1:\d+[^\s]*)")


class BrowserUnavailable(RuntimeError):
    """The browser is not installed or did not start: the check could not run here."""


@dataclass
class PageLoad:
    browser: str
    url: str
    errors: list[str] = field(default_factory=list)
    """Uncaught script errors and console errors, one line each."""
    warnings: list[str] = field(default_factory=list)
    screenshot: bytes = b""
    title: str = ""
    seconds: float = 0.0


def _launch(argv: list[str], *, timeout_s: float,
            env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], str]:
    """Start the browser and read its remote endpoint from what it prints."""
    if shutil.which(argv[0]) is None and not Path(argv[0]).is_file():
        raise BrowserUnavailable(f"{argv[0]} is not installed")
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            stdin=subprocess.DEVNULL, start_new_session=True, env=env)
    found: list[str] = []
    seen: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if len(seen) < 200:
                seen.append(line.rstrip())
            match = _ENDPOINT.search(line)
            if match and not found:
                found.append(match.group(1))

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + timeout_s
    while not found and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    if not found:
        _stop(proc)
        raise BrowserUnavailable(f"{argv[0]} did not offer its remote protocol within "
                                 f"{timeout_s:.0f} s: {' | '.join(seen[-3:]) or 'no output'}")
    return proc, found[0]


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


class _Wire:
    """Commands and events over one websocket (CDP and BiDi share the shape)."""

    def __init__(self, ws: ClientConnection, deadline: float) -> None:
        self.ws, self.deadline, self.next_id = ws, deadline, 0
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, params: dict[str, Any] | None = None,
             session: str | None = None) -> dict[str, Any]:
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self.ws.send(json.dumps(message))
        while True:
            reply = self._receive(max(0.1, self.deadline - time.monotonic()))
            if reply.get("id") == self.next_id:
                if reply.get("error"):
                    raise RuntimeError(f"{method}: {reply.get('error')} {reply.get('message', '')}")
                result: dict[str, Any] = reply.get("result") or {}
                return result
            self.events.append(reply)

    def drain(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                self.events.append(self._receive(max(0.05, end - time.monotonic())))
            except TimeoutError:
                return

    def wait_for(self, method: str, seconds: float) -> bool:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if any(e.get("method") == method for e in self.events):
                return True
            try:
                self.events.append(self._receive(max(0.05, end - time.monotonic())))
            except TimeoutError:
                return False
        return False

    def _receive(self, timeout: float) -> dict[str, Any]:
        if time.monotonic() > self.deadline:
            raise TimeoutError("the browser did not answer in time")
        data: dict[str, Any] = json.loads(self.ws.recv(timeout=timeout))
        return data


@contextmanager
def _profile_dir() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="releasegate-browser-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def load_in_chromium(executable: str, url: str, *, cookie: tuple[str, str] | None = None,
                     timeout_s: float = 30.0) -> PageLoad:
    started = time.monotonic()
    load = PageLoad("chromium", url)
    with _profile_dir() as profile:
        proc, endpoint = _launch([executable, *CHROMIUM_FLAGS, "--remote-debugging-port=0",
                                  f"--user-data-dir={profile}", "about:blank"],
                                 timeout_s=timeout_s)
        try:
            with connect(endpoint, max_size=64 * 1024**2, open_timeout=timeout_s) as ws:
                wire = _Wire(ws, time.monotonic() + timeout_s)
                target = wire.call("Target.createTarget", {"url": "about:blank"})["targetId"]
                session = wire.call("Target.attachToTarget",
                                    {"targetId": target, "flatten": True})["sessionId"]
                for domain in ("Page", "Runtime", "Log", "Network"):
                    wire.call(f"{domain}.enable", session=session)
                if cookie:
                    wire.call("Network.setCookie", {"name": cookie[0], "value": cookie[1],
                                                    "url": url}, session=session)
                wire.call("Page.navigate", {"url": url}, session=session)
                if not wire.wait_for("Page.loadEventFired", timeout_s):
                    load.errors.append("the page did not finish loading (no load event)")
                wire.drain(0.5)
                shot = wire.call("Page.captureScreenshot", {"format": "png"}, session=session)
                load.screenshot = base64.b64decode(shot.get("data", ""))
                title = wire.call("Runtime.evaluate", {"expression": "document.title",
                                                       "returnByValue": True}, session=session)
                load.title = str((title.get("result") or {}).get("value", ""))
                _chromium_events(wire.events, load)
        finally:
            _stop(proc)
    load.seconds = time.monotonic() - started
    return load


def _chromium_events(events: list[dict[str, Any]], load: PageLoad) -> None:
    for event in events:
        method, params = event.get("method"), event.get("params") or {}
        if method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails") or {}
            text = (details.get("exception") or {}).get("description") or details.get("text")
            load.errors.append(f"script error: {str(text).splitlines()[0][:300]}")
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            args = " ".join(str(a.get("value", a.get("description", "")))
                            for a in params.get("args") or [])
            load.errors.append(f"console error: {args[:300]}")
        elif method == "Log.entryAdded":
            entry = params.get("entry") or {}
            line = f"{entry.get('source')}: {str(entry.get('text', ''))[:300]}"
            # Chromium asks for /favicon.ico by itself; a page that never names one has no
            # error in it (Firefox does not report the same request).
            noise = str(entry.get("url", "")).endswith("/favicon.ico")
            error = entry.get("level") == "error" and not noise
            (load.errors if error else load.warnings).append(line)


def load_in_firefox(executable: str, url: str, *, cookie: tuple[str, str] | None = None,
                    timeout_s: float = 30.0) -> PageLoad:
    started = time.monotonic()
    load = PageLoad("firefox", url)
    with _profile_dir() as profile:
        (profile / "user.js").write_text("".join(
            f"user_pref({json.dumps(k)}, {json.dumps(v)});\n" for k, v in FIREFOX_PREFS.items()))
        env = {**os.environ, "MOZ_CRASHREPORTER_DISABLE": "1", "MOZ_DISABLE_AUTO_SAFE_MODE": "1"}
        argv = [executable, "--headless", "--no-remote", "--profile", str(profile),
                "--remote-debugging-port=0", "about:blank"]
        proc, endpoint = _launch(argv, timeout_s=timeout_s, env=env)
        try:
            with connect(endpoint.rstrip("/") + "/session", max_size=64 * 1024**2,
                         open_timeout=timeout_s) as ws:
                wire = _Wire(ws, time.monotonic() + timeout_s)
                wire.call("session.new", {"capabilities": {}})
                wire.call("session.subscribe", {"events": ["log.entryAdded"]})
                context = wire.call("browsingContext.getTree", {})["contexts"][0]["context"]
                if cookie:
                    host = url.split("//", 1)[1].split("/", 1)[0].split(":")[0]
                    wire.call("storage.setCookie", {"cookie": {
                        "name": cookie[0], "value": {"type": "string", "value": cookie[1]},
                        "domain": host, "path": "/"}})
                wire.call("browsingContext.navigate",
                          {"context": context, "url": url, "wait": "complete"})
                wire.drain(0.5)
                shot = wire.call("browsingContext.captureScreenshot", {"context": context})
                load.screenshot = base64.b64decode(shot.get("data", ""))
                title = wire.call("script.evaluate", {"expression": "document.title",
                                                      "target": {"context": context},
                                                      "awaitPromise": False})
                load.title = str((title.get("result") or {}).get("value", ""))
                _firefox_events(wire.events, load)
                wire.call("session.end", {})
        finally:
            _stop(proc)
    load.seconds = time.monotonic() - started
    return load


def _firefox_events(events: list[dict[str, Any]], load: PageLoad) -> None:
    for event in events:
        if event.get("method") != "log.entryAdded":
            continue
        params = event.get("params") or {}
        line = f"{params.get('type')}: {str(params.get('text', ''))[:300]}"
        if params.get("level") == "error":
            kind = "script error" if params.get("type") == "javascript" else "console error"
            load.errors.append(f"{kind}: {str(params.get('text', ''))[:300]}")
        elif params.get("level") == "warn":
            load.warnings.append(line)


LOADERS = {"chromium": load_in_chromium, "firefox": load_in_firefox}
