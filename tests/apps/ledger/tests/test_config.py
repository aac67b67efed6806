"""Outside ENVIRONMENT=local the service refuses missing or well-known secrets."""

from __future__ import annotations

import pytest

from ledger import prestart
from ledger.config import SettingsError, load_settings

STRONG = {"SECRET_KEY": "s" * 40, "FIRST_SUPERUSER": "admin@ledger.test",
          "FIRST_SUPERUSER_PASSWORD": "a-long-admin-password", "DB_PASSWORD": "db-password-x"}


def problems(env: dict[str, str]) -> str:
    with pytest.raises(SettingsError) as caught:
        load_settings(env)
    return " | ".join(caught.value.problems)


def test_production_is_the_default_and_needs_every_secret() -> None:
    found = problems({})
    for name in ("SECRET_KEY is not set", "FIRST_SUPERUSER_PASSWORD is not set",
                 "DB_PASSWORD is not set", "FIRST_SUPERUSER must be"):
        assert name in found


@pytest.mark.parametrize("environment", ["production", "staging"])
@pytest.mark.parametrize("key,value,says", [
    ("SECRET_KEY", "changethis", "well-known"),
    ("SECRET_KEY", "short-but-not-default", "shorter than 32"),
    ("FIRST_SUPERUSER_PASSWORD", "changethis", "well-known"),
    ("FIRST_SUPERUSER_PASSWORD", "tooshort", "shorter than 12"),
    ("DB_PASSWORD", "postgres", "well-known"),
    ("DB_SSLMODE", "disable", "plain text"),
    ("DB_SSLMODE", "prefer", "plain text"),
])
def test_weak_values_are_refused(environment: str, key: str, value: str, says: str) -> None:
    assert says in problems({**STRONG, "ENVIRONMENT": environment, key: value})


def test_strong_production_settings_load_and_require_tls() -> None:
    settings = load_settings({**STRONG, "ENVIRONMENT": "production"})
    assert settings.database.sslmode == "require"
    assert settings.database.url().query["sslmode"] == "require"


def test_local_development_runs_on_defaults() -> None:
    settings = load_settings({"ENVIRONMENT": "local"})
    assert settings.is_local and settings.secret_key == "changethis"


def test_unknown_environment_and_bad_numbers_are_refused() -> None:
    found = problems({**STRONG, "ENVIRONMENT": "prod", "DB_PORT": "http"})
    assert "ENVIRONMENT='prod'" in found and "DB_PORT='http'" in found


def test_prestart_refuses_before_touching_the_database(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    for key in ("SECRET_KEY", "FIRST_SUPERUSER_PASSWORD", "DB_PASSWORD", "ENVIRONMENT"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("DB_HOST", "db.invalid")
    assert prestart.main() == 2
    assert "refusing to start" in capsys.readouterr().err
