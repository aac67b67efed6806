"""REL-LOG-ROTATION: driven past its rotation size, the application's log file rotates at the
configured size, keeps a bounded number of copies, and loses no line on the way.

The requests that drive it are numbered GETs the application logs (the profile says which, with
``{line.id}`` in the path); they are sent one after another, so their numbers must appear in the
files in order and without a gap.
"""

from __future__ import annotations

import io
import posixpath
import re
import tarfile
import time
import uuid
from typing import Any

import httpx
import pytest

from releasegate.config.profile import Profile
from releasegate.config.sections.reliability import LogRotation
from releasegate.config.templating import render
from releasegate.measure.log_rotation import LogFiles, judge
from releasegate.measure.parts import announce
from releasegate.measure.recorder import Recorder
from releasegate.stack.model import StackInfo

pytestmark = [pytest.mark.reliability, pytest.mark.disruptive]
CRITERION = "REL-LOG-ROTATION"
FLUSH_S = 1.0
PROBE_LINES = 40
ROUNDS = 3
PAD = "~"
"""Unreserved in URLs, and outside every word or e-mail character class: a log redaction
pattern scans a run of it in linear time (a run of letters can cost some patterns quadratic
time per line, which would measure the redaction instead of the rotation)."""


def _read_logs(container: Any, log_file: str) -> dict[str, bytes]:
    chunks, _ = container.get_archive(posixpath.dirname(log_file))
    files: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(b"".join(chunks))) as archive:
        for member in archive.getmembers():
            handle = archive.extractfile(member) if member.isfile() else None
            if handle is not None and member.name.count("/") == 1:
                files[member.name.split("/", 1)[1]] = handle.read()
    return files


def _longest(files: LogFiles, token: re.Pattern[bytes]) -> int:
    """Bytes of the longest numbered line, its newline included (0 when there is none)."""
    return max((len(x) + 1 for data in files.oldest_first() for x in data.splitlines()
                if token.search(x)), default=0)


class _Driver:
    """Numbered, logged requests, sent one after another."""

    def __init__(self, stack: StackInfo, settings: LogRotation) -> None:
        self.tag = "".join(chr(ord("a") + int(c, 16) % 26) for c in uuid.uuid4().hex[:8])
        self.settings, self.sent, self.failed = settings, 0, 0
        self.http = httpx.Client(base_url=stack.base_url, timeout=10.0)
        self.values = stack.template_values()

    @property
    def token(self) -> re.Pattern[bytes]:
        return re.compile(rb"rglog" + self.tag.encode() + rb"n(\d{6})z")

    def send(self, count: int) -> None:
        for _ in range(count):
            line_id = f"rglog{self.tag}n{self.sent:06d}z"
            path = render(self.settings.path, {**self.values, "line.id": line_id,
                                               "line.pad": PAD * self.settings.pad},
                          where="reliability.log_rotation.path")
            try:
                self.http.get(path)
            except httpx.HTTPError:
                self.failed += 1
            self.sent += 1


@pytest.mark.criterion(CRITERION)
def test_log_rotates_at_its_size_and_keeps_every_line(
    healthy_stack: StackInfo, gate_profile: Profile, app_container: Any, record: Recorder,
    request: pytest.FixtureRequest,
) -> None:
    settings: LogRotation = gate_profile.section("reliability").log_rotation
    log_file = gate_profile.app.log_file
    if not log_file or not settings.max_bytes or not settings.backups:
        record.insufficient(CRITERION, "the profile does not say where the log file is "
                            "(services.app.log_file) or how it rotates ([reliability."
                            "log_rotation] max_bytes and backups)")
        return
    base = posixpath.basename(log_file)
    driver = _Driver(healthy_stack, settings)
    started = time.monotonic()
    driver.send(PROBE_LINES)
    time.sleep(FLUSH_S)
    files = LogFiles.from_directory(_read_logs(app_container, log_file), base)
    line = _longest(files, driver.token) or settings.pad + 200
    # Enough volume to fill every kept copy and push at least one out of the bound.
    wanted = (settings.backups + 2) * settings.max_bytes
    for _ in range(ROUNDS):
        driver.send(max(0, wanted // line - driver.sent + 20))
        time.sleep(FLUSH_S)
        files = LogFiles.from_directory(_read_logs(app_container, log_file), base)
        if len(files.rotated) >= settings.backups or (not files.rotated and not any(
                driver.token.search(d) for d in files.oldest_first())):
            break
        wanted += settings.max_bytes
    driver.http.close()
    longest = _longest(files, driver.token) or line
    checks, evidence = judge(files, settings, driver.token, driver.sent, longest)
    evidence.update(log_file=log_file, line_bytes=longest, request_errors=driver.failed,
                    seconds=round(time.monotonic() - started, 1))
    record.checks(CRITERION, checks, evidence=evidence,
                  source="the log directory read through the engine after numbered requests "
                         "the application logs")
    announce(request.config, f"reliability: log rotation: {driver.sent} lines in "
                             f"{time.monotonic() - started:.1f} s")
