"""Rotation judged from the files: cut at the size, bounded in count and bytes, no line lost."""

from __future__ import annotations

import re

from releasegate.config.sections.reliability import LogRotation
from releasegate.measure.log_rotation import LogFiles, judge

TOKEN = re.compile(rb"req(\d{6})z")
SETTINGS = LogRotation(max_bytes=1000, backups=2)


def line(n: int) -> bytes:
    return b"GET /req%06dz " % n + b"~" * 79 + b"\n"  # 100 bytes


def rotate(sent: int, *, max_bytes: int = 1000, keep: int = 2, lose: int | None = None) -> dict[
        str, bytes]:
    """What a faithful size-based rotation leaves after ``sent`` lines (optionally losing one)."""
    files: list[bytes] = [b""]
    for n in range(sent):
        if len(files[-1]) + 100 > max_bytes:
            files.append(b"")
        if n != lose:
            files[-1] += line(n)
    kept = files[-(keep + 1):]
    out = {"app.log": kept[-1]}
    for i, data in enumerate(reversed(kept[:-1]), 1):
        out[f"app.log.{i}"] = data
    return out


def verdict(files: dict[str, bytes], sent: int) -> list[str]:
    checks, _ = judge(LogFiles.from_directory(files, "app.log"), SETTINGS, TOKEN, sent, 100)
    return checks.violations


def test_a_faithful_rotation_passes() -> None:
    assert verdict(rotate(45), 45) == []


def test_a_log_that_never_rotates_fails() -> None:
    violations = verdict(rotate(45, max_bytes=10**6), 45)
    assert any("rotated" in v for v in violations)
    assert any("grows past" in v for v in violations)


def test_unbounded_copies_and_lost_lines_fail() -> None:
    assert any("at most 2" in v for v in verdict(rotate(45, keep=4), 45))
    assert any("no line lost" in v for v in verdict(rotate(45, lose=40), 45))


def test_rotating_early_is_not_rotating_at_the_size() -> None:
    assert any("cut at about" in v for v in verdict(rotate(45, max_bytes=500, keep=2), 45))


def test_other_copies_count_against_the_bound() -> None:
    files = {**rotate(45), "app.log.2026-11-29.gz": b"old"}
    assert any("others" in v for v in verdict(files, 45))
