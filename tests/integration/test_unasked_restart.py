"""A container restart no disruptive test caused turns the criteria measured meanwhile into
errors — read from the real engine's events, through a whole pytest run of the plugin."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from releasegate.stack.engine import connect_engine
from releasegate.stack.images import ensure_image, recipe_for_python

pytestmark = pytest.mark.integration

PROFILE = """
[profile]
name = "restart-test"
[stack]
provider = "external"
[external]
base_url = "{url}"
app_container = "{container}"
[services.app]
kind = "app"
image = "unused:1"
port = 8000
health_path = "/health"
"""

TESTS = '''
import time
import pytest
from releasegate.measure.recorder import CheckList

@pytest.mark.criterion("FUNC-HEALTH")
def test_measures_while_it_restarts(record, stack, {fixture}):
    {restart}
    checks = CheckList()
    checks.add("answers", True)
    record.checks("FUNC-HEALTH", checks, source="unit")

@pytest.mark.criterion("FUNC-E2E-FLOWS")
def test_measures_later(record, stack):
    checks = CheckList()
    checks.add("answers", True)
    record.checks("FUNC-E2E-FLOWS", checks, source="unit")
'''


class _Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def target() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def container() -> Iterator[Any]:
    client = connect_engine(auto_install=True, progress=print)
    image = ensure_image(client, recipe_for_python("3.11"), progress=print).tag
    running = client.containers.run(image, ["sleep", "300"], detach=True,
                                    labels={"releasegate.test": "1"})
    yield running
    running.remove(force=True)


@pytest.mark.parametrize("disruptive", [False, True])
def test_an_unasked_restart_spoils_the_measurement(
    pytester: pytest.Pytester, target: str, container: Any, disruptive: bool
) -> None:
    pytester.makefile(".toml", profile=PROFILE.format(url=target, container=container.name))
    restart = (f"import docker; docker.from_env().containers.get({container.name!r})"
               ".restart(timeout=1)")
    tests = TESTS.replace("{restart}", restart).replace("{fixture}", "request")
    if disruptive:
        tests = tests.replace('@pytest.mark.criterion("FUNC-HEALTH")',
                              '@pytest.mark.disruptive\n@pytest.mark.criterion("FUNC-HEALTH")')
    pytester.makepyfile(test_suite=tests)
    reports = pytester.path / "reports"
    pytester.runpytest_subprocess(
        "-p", "releasegate.pytest_plugin", "-p", "no:cacheprovider", "--profile",
        str(pytester.path / "profile.toml"), "--reports-dir", str(reports), "--no-html",
        "--suites-root", str(pytester.path), "-W", "ignore::pytest.PytestUnknownMarkWarning")
    summary = json.loads((reports / "summary.json").read_text())
    verdicts = {r["id"]: r for r in summary["criteria"]}
    if disruptive:
        assert verdicts["FUNC-HEALTH"]["verdict"] == "pass"
    else:
        assert verdicts["FUNC-HEALTH"]["verdict"] == "error"
        assert any("app container was interrupted" in r and "no disruptive test caused it" in r
                   for r in verdicts["FUNC-HEALTH"]["reasons"])
    # A test that ran after the container was back is not touched.
    assert verdicts["FUNC-E2E-FLOWS"]["verdict"] == "pass"
