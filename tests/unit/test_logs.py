"""Logs, request ids and alerts where and how the profile says: a header of the application's
own, JSON or plain-text logs from stdout or a file, and the request id anywhere in an alert."""

from __future__ import annotations

import io
import tarfile
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from releasegate.config.profile import AppService, parse_profile
from releasegate.config.recipes import LogSettings
from releasegate.measure import error_bodies, logs
from releasegate.measure.alerts import start_receiver, wait_for_alert

PATTERN = r"^(?P<time>\S+ \S+) (?P<level>[A-Z]+) \[(?P<request_id>[^\]]*)\] (?P<message>.*)$"
TEXT_LOG = """2026-01-01 10:00:00 INFO [rid-1] request started
2026-01-01 10:00:01 ERROR [rid-1] boom
Traceback (most recent call last): rid-1
2026-01-01 10:00:02 WARNING [rid-2] slow, after rid-1
"""


def app(**logs_table: str) -> AppService:
    service: dict[str, Any] = {"kind": "app", "image": "x:1", "port": 80,
                               "log_file": "/var/log/app.log"}
    if logs_table:
        service["logs"] = logs_table
    data = {"profile": {"name": "t"}, "services": {"app": service}}
    return parse_profile(data, file=Path("t.toml"), today=date(2026, 1, 1)).app


def test_text_logs_use_the_patterns_request_id_and_level() -> None:
    settings = LogSettings(format="text", pattern=PATTERN)
    entries = logs.entries_for(TEXT_LOG, "rid-1", settings)
    # The traceback line is no entry; the WARNING line names rid-1 in its text only.
    assert [(e.level, e.is_error) for e in entries] == [("info", False), ("error", True)]


def test_text_logs_without_an_id_group_search_the_line() -> None:
    settings = LogSettings(format="text", pattern=r"^\S+ \S+ (?P<level>[A-Z]+) ")
    assert [e.level for e in logs.entries_for(TEXT_LOG, "rid-1", settings)] == [
        "info", "error", "warning"]


def test_json_logs_as_today() -> None:
    text = ('2026-01-01T10:00:00Z {"level": "ERROR", "request_id": "rid-1", "msg": "x"}\n'
            'not json\n{"severity": "info", "msg": "rid-2"}\n')
    entries = logs.entries_for(text, "rid-1", LogSettings())
    assert len(entries) == 1 and entries[0].is_error and entries[0].fields["msg"] == "x"


class Container:
    def __init__(self, files: dict[str, str], stdout: str = "") -> None:
        self.files, self.stdout = files, stdout

    def logs(self, **kwargs: Any) -> bytes:
        return self.stdout.encode()

    def get_archive(self, path: str) -> tuple[list[bytes], dict[str, Any]]:
        import docker.errors

        if path not in self.files:
            raise docker.errors.NotFound("no such file")
        data = self.files[path].encode()
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as archive:
            info = tarfile.TarInfo(Path(path).name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        return [buffer.getvalue()], {"size": len(data)}


def test_app_log_reads_the_profiles_source() -> None:
    container = Container({"/var/log/app.log": TEXT_LOG}, stdout='{"level": "info"}\n')
    from_file = logs.AppLog(container, app(source="file", format="text", pattern=PATTERN))
    assert from_file.read() == TEXT_LOG
    assert "/var/log/app.log" in from_file.source and "text" in from_file.source
    assert len(from_file.entries_for(from_file.read(), "rid-1")) == 2
    from_stdout = logs.AppLog(container, app())
    assert from_stdout.read() == '{"level": "info"}\n' and "stdout" in from_stdout.source
    missing = logs.AppLog(Container({}), app(source="file"))
    assert missing.read() == ""


def test_error_bodies_check_the_profiles_request_id_header() -> None:
    body = b'{"code": "x", "message": "y", "request_id": "rid-9"}'
    response = httpx.Response(404, content=body, headers={"X-Trace-Id": "rid-9"})
    assert error_bodies.body_violations(response, request_id_header="X-Trace-Id") == []
    assert error_bodies.body_violations(response, request_id_header="X-Request-ID") == [
        "no X-Request-ID header"]


@pytest.fixture
def receiver() -> Any:
    sink = start_receiver("127.0.0.1")
    yield sink
    sink.stop()


def test_an_alert_is_matched_by_a_dotted_path(receiver: Any) -> None:
    alert = {"labels": {"severity": "page"}, "annotations": {"request": {"id": "rid-7"}}}
    httpx.post(receiver.url + "/alerts", json=alert, timeout=5).raise_for_status()
    found = wait_for_alert(receiver.url, {"annotations.request.id": "rid-7"}, timeout=2)
    assert found is not None and found["body"] == alert
    assert wait_for_alert(receiver.url, {"request_id": "rid-7"}, timeout=0.3) is None
