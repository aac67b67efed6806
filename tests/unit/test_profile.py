"""Profiles are validated up front, with the file, the key and the fix in one line."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from releasegate.config.profile import load_profile, parse_profile
from releasegate.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
MINIMAL = """
[profile]
name = "demo"
[services.app]
kind = "app"
image = "demo:1"
port = 8080
{extra_app}
[thresholds."FUNC-HEALTH"]
{extra_threshold}
"""


def write(tmp_path: Path, extra_app: str = "", extra_threshold: str = "", tail: str = "") -> Path:
    path = tmp_path / "p.toml"
    path.write_text(MINIMAL.format(extra_app=extra_app, extra_threshold=extra_threshold) + tail)
    return path


def error_of(path: Path, **kw: object) -> str:
    with pytest.raises(ConfigError) as info:
        load_profile(path, **kw)  # type: ignore[arg-type]
    return info.value.one_line()


def test_reference_profile_loads() -> None:
    profile = load_profile(REPO / "profiles" / "rento.toml")
    assert profile.app.build is not None and profile.db is not None
    assert "FUNC-HEALTH" in profile.thresholds


def test_minimal_profile_loads(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path))
    assert profile.app.port == 8080 and profile.thresholds["FUNC-HEALTH"].limit == 0


def test_broken_toml(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text("[profile\nname=")
    assert "not valid TOML" in error_of(path)


def test_missing_file(tmp_path: Path) -> None:
    assert "profile not found" in error_of(tmp_path / "nope.toml")


def test_unknown_key_names_the_key_and_a_guess(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, extra_app='helth_path = "/h"'))
    assert "services.app.helth_path: unknown key" in message
    assert "health_path" in message


def test_unknown_criterion_suggests_the_documented_id(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, tail='[thresholds."FUNC-HEALTHY"]\n'))
    assert "unknown criterion ID 'FUNC-HEALTHY'" in message and "FUNC-HEALTH" in message


def test_looser_limit_without_waiver_is_an_error(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, tail='[thresholds."PERF-API-P95"]\nlimit = 1500\n'))
    assert "PERF-API-P95.limit: looser than documented" in message and "waiver" in message


def test_fewer_samples_without_waiver_is_an_error(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, tail='[thresholds."REL-SUCCESS-RATE"]\nmin_samples = 10\n'))
    assert "min_samples 10 vs documented 30000" in message


def test_non_blocking_severity_needs_a_waiver(tmp_path: Path) -> None:
    assert "severity" in error_of(write(tmp_path, extra_threshold='severity = "minor"'))


def test_looser_limit_with_waiver_is_accepted(tmp_path: Path) -> None:
    tail = ('[thresholds."PERF-CONCURRENCY"]\nlimit = 500\n'
            'waiver = { reason = "2-core CI machine", expires = 2027-01-31 }\n')
    profile = load_profile(write(tmp_path, tail=tail))
    waiver = profile.thresholds["PERF-CONCURRENCY"].waiver
    assert waiver is not None and waiver.expires == date(2027, 1, 31)


def test_tighter_limit_is_fine(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path, tail='[thresholds."PERF-API-P95"]\nlimit = 200\n'))
    assert profile.thresholds["PERF-API-P95"].limit == 200


def test_wrong_type_is_precise(tmp_path: Path) -> None:
    assert "services.app.port: expected int, got str" in error_of(
        write(tmp_path).parent / "p.toml" if False else _wrong_port(tmp_path))


def _wrong_port(tmp_path: Path) -> Path:
    path = write(tmp_path)
    path.write_text(path.read_text().replace("port = 8080", 'port = "8080"'))
    return path


def test_missing_dockerfile(tmp_path: Path) -> None:
    path = write(tmp_path)
    path.write_text(path.read_text().replace('image = "demo:1"',
                                             '[services.app.build]\ncontext = "nowhere"'))
    # the build table must come last in its section for TOML; rebuild the profile accordingly
    text = MINIMAL.format(extra_app="", extra_threshold="").replace('image = "demo:1"\n', "")
    text = text.replace("port = 8080\n", 'port = 8080\nbuild = { context = "nowhere" }\n')
    path.write_text(text)
    assert "Dockerfile does not exist" in error_of(path)


def test_overrides_apply_before_validation(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path), overrides=["stack.health_timeout_s=12"])
    assert profile.health_timeout_s == 12
    assert "unknown key" in error_of(write(tmp_path), overrides=["stack.bogus=1"])


def test_external_provider_needs_a_target(tmp_path: Path) -> None:
    path = write(tmp_path, tail='[stack]\nprovider = "external"\n')
    assert "no [external] table" in error_of(path)


def test_exactly_one_app(tmp_path: Path) -> None:
    data = {"profile": {"name": "x"}, "services": {},
            "thresholds": {"FUNC-HEALTH": {}}}
    with pytest.raises(ConfigError, match="found 0 services of kind 'app'"):
        parse_profile(data, file=tmp_path / "x.toml", today=date(2026, 11, 21))


def test_no_thresholds_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text(MINIMAL.format(extra_app="", extra_threshold="")
                    .replace('[thresholds."FUNC-HEALTH"]\n', ""))
    assert error_of(path) == f"{path}: no [thresholds] — list the criteria this release must meet"


def test_unknown_criterion_key_path_has_no_dangling_dot(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, tail='[thresholds."FUNC-HEALTHY"]\n'))
    assert 'thresholds.FUNC-HEALTHY: unknown criterion' in message
