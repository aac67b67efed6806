"""``[load]``: documented defaults, durations per mode, and bad input refused in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from releasegate.config.profile import load_profile
from releasegate.config.sections.load import LoadSettings
from releasegate.errors import ConfigError

RENTO = Path(__file__).resolve().parents[2] / "profiles" / "rento.toml"


def _load(*overrides: str) -> LoadSettings:
    settings: LoadSettings = load_profile(RENTO, overrides=list(overrides)).section("load")
    return settings


def test_rentos_profile_runs_its_mix_at_the_reference_volume() -> None:
    s = _load()
    assert s.scenario == "rento" and s.seed_command == "seed" and s.rate == 30
    assert (s.duration_s.of("ci"), s.duration_s.of("release")) == (60, 1200)
    assert (s.soak.duration_s.of("ci"), s.soak.duration_s.of("release")) == (120, 3600)
    assert s.stress.step_s.of("ci") * s.stress.max_steps <= 180  # stress ≤ 3 min at CI
    assert s.server_timing.header == "Server-Timing" and s.server_timing.metric == "app"


@pytest.mark.parametrize(("override", "words"), [
    ("load.rate=0", "load.rate: 0 is not above 0"),
    ("load.rate=2", "would get about"),
    ("load.scenario=nope", "load scenario 'nope' was not found"),
    ("load.stress.max_steps=1", "at least 2 steps"),
    ("load.generator.cpu_percent=150", "at most 100"),
    ("load.soak.window_s=100", "need a soak of at least three"),
    ("load.ratee=3", "unknown key"),
])
def test_bad_load_settings_are_one_line(override: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words) as info:
        _load(override)
    assert "\n" not in info.value.one_line()


def test_load_workers_reach_the_suites_and_must_be_at_least_one() -> None:
    from releasegate import cli

    args = cli._parser().parse_args(["run", "--load-workers", "3"])
    assert "--rg-load-workers=3" in cli.pytest_arguments(args)
    assert not any(a.startswith("--rg-load-workers") for a in cli.pytest_arguments(
        cli._parser().parse_args(["run"])))
    with pytest.raises(SystemExit):
        cli._parser().parse_args(["run", "--load-workers", "0"])
