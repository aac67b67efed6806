"""[backup] and [reliability]: documented defaults, strict keys, and the mistakes that would make a
drill measure nothing (a scheduler variable without the interval, a write without its id)."""

from __future__ import annotations

from pathlib import Path

import pytest

from releasegate.config.profile import load_profile
from releasegate.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
BASE = """
[profile]
name = "demo"
[services.app]
kind = "app"
image = "demo:1"
port = 8080
"""
WRITES = """
[reliability.writes]
path = "/items"
body = { name = "{write.id}" }
read_path = "/items?q={write.prefix}&page={page}"
read_id = "name"
sql_table = "items"
sql_column = "name"
"""


def load(tmp_path: Path, tail: str) -> object:
    path = tmp_path / "p.toml"
    path.write_text(BASE + tail)
    return load_profile(path)


def error(tmp_path: Path, tail: str) -> str:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, tail)
    return info.value.one_line()


def test_absent_sections_mean_unknown_not_guessed(tmp_path: Path) -> None:
    profile = load(tmp_path, "")
    backup, rel = profile.section("backup"), profile.section("reliability")  # type: ignore[attr-defined]
    assert backup.dir == "" and backup.latest == "" and not backup.scheduler_env
    assert not rel.writes.defined and rel.log_rotation.max_bytes == 0


def test_reference_profile_describes_its_backups_and_writes() -> None:
    profile = load_profile(REPO / "profiles" / "rento.toml")
    backup, rel = profile.section("backup"), profile.section("reliability")
    assert backup.dir == "/app/backups" and backup.checksum_suffix == ".sha256"
    assert rel.writes.defined and rel.writes.sql_table == "buildings"
    assert rel.log_rotation.max_bytes == 1048576 and rel.log_rotation.backups == 3
    assert {"backup", "restore", "seed"} <= set(profile.commands)


def test_writes_parse(tmp_path: Path) -> None:
    rel = load(tmp_path, WRITES).section("reliability")  # type: ignore[attr-defined]
    assert rel.writes.read_id == "name" and rel.writes.page_size == 100
    assert rel.proxy_fault_s.of("ci") < rel.proxy_fault_s.of("release")


@pytest.mark.parametrize(("tail", "message"), [
    ('[backup]\ndir = "backups"\n', "must be an absolute path"),
    ('[backup]\ndir = "/b"\nscheduler_env = { X = "5" }\n', "no value uses {backup.interval_s}"),
    ('[backup]\nartifact = "sub/*.dump"\n', "a file-name glob"),
    ('[backup]\ndirectory = "/b"\n', "unknown key"),
    ('[reliability.writes]\npath = "/items"\nbody = { name = "x" }\n',
     "no value carries {write.id}"),
    (WRITES.replace('read_id = "name"\n', ""), "read_path needs read_id"),
    (WRITES.replace('sql_column = "name"\n', ""), "give both sql_table and sql_column"),
    ('[reliability.log_rotation]\nmax_bytes = 1000\npath = "/log"\n', "carries {line.id}"),
    ("[reliability]\nwriters = 0\n", "writers 1-16"),
    ("[reliability]\nproxy_fault_s = { ci = 20, release = 10 }\n", "ci <= release"),
])
def test_mistakes_are_named(tmp_path: Path, tail: str, message: str) -> None:
    assert message in error(tmp_path, tail)
