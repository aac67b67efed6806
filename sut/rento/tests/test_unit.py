"""Unit tests without a database: redaction, tokens, passwords, configuration, billing dates."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Dict

import pytest

from rento import billing, security
from rento.config import ConfigError, Settings
from rento.logging_setup import JsonFormatter, RedactionFilter
from rento.redaction import redact, register_secret_values

GOOD_KEY = "k" * 40


# --- redaction ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, secret",
    [
        ("renter phone 13800138000 called", "13800138000"),
        ("phone +86 139-0000-1111".replace("-", ""), "13900001111"),
        ("landline 010-12345678", "12345678"),
        ("us 555-123-4567 style", "555-123-4567"),
        ("id 11010519491231002X issued", "11010519491231002X"),
        ("mail zhang.san@example.com now", "zhang.san@example.com"),
        ("Authorization: Bearer v1.abc.def", "v1.abc.def"),
        ('{"password": "hunter2hunter2"}', "hunter2hunter2"),
        ("secret_key=abcdefgh12345", "abcdefgh12345"),
        ("access_token=tok_123456", "tok_123456"),
        (
            "postgresql+psycopg://rento:s3cr3t-pw@db:5432/rento?sslmode=require",
            "s3cr3t-pw",
        ),
    ],
)
def test_redaction_masks(text: str, secret: str) -> None:
    assert secret not in redact(text)


def test_redaction_keeps_harmless_text() -> None:
    text = "GET /api/rooms/42 200 in 12.5 ms on 2026-11-21 request rg-12345678"
    assert redact(text) == text


def test_registered_secret_values_are_masked() -> None:
    register_secret_values(["Canary-Value-XYZ-987"])
    assert "Canary-Value-XYZ-987" not in redact("leaked Canary-Value-XYZ-987 here")


def test_log_record_redacted_in_message_args_extra_and_traceback() -> None:
    record = logging.LogRecord("t", logging.ERROR, __file__, 1, "user %s", ("a@b.example",), None)
    record.phone = "13800138000"
    try:
        raise ValueError("bad id 11010519491231002X")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    RedactionFilter().filter(record)
    line = JsonFormatter().format(record)
    payload = json.loads(line)
    assert "a@b.example" not in line and "13800138000" not in line
    assert "11010519491231002X" not in line
    assert payload["exc_type"] == "ValueError" and "Traceback" in payload["traceback"]
    assert {"ts", "level", "logger", "message", "request_id"} <= set(payload)


# --- tokens and passwords ----------------------------------------------------------------------


def test_token_roundtrip_and_tampering() -> None:
    token = security.issue_token(GOOD_KEY, 7, 3, 60)
    claims = security.verify_token(GOOD_KEY, token)
    assert claims is not None and (claims.user_id, claims.account_id) == (7, 3)
    assert security.verify_token("x" * 40, token) is None  # other key
    head, _, sig = token.split(".")
    forged = security._b64(json.dumps({"sub": 1, "acc": 1, "iat": 0, "exp": 2**40}).encode())
    assert security.verify_token(GOOD_KEY, f"{head}.{forged}.{sig}") is None
    assert security.verify_token(GOOD_KEY, "garbage") is None
    assert security.verify_token(GOOD_KEY, "v1..") is None


def test_token_expiry() -> None:
    token = security.issue_token(GOOD_KEY, 1, 1, 10)
    assert security.verify_token(GOOD_KEY, token) is not None
    assert security.verify_token(GOOD_KEY, token, now=dt.datetime.now().timestamp() + 11) is None


def test_password_hashing() -> None:
    stored = security.hash_password("correct horse", iterations=1000)
    assert stored.startswith("pbkdf2_sha256$1000$")
    assert security.verify_password("correct horse", stored)
    assert not security.verify_password("wrong horse", stored)
    assert not security.verify_password("x", "not-a-hash")


# --- configuration -----------------------------------------------------------------------------


def _settings(**env: str) -> Settings:
    base = {"DATABASE_URL": "postgresql://u:p@h/db", "RENTO_SECRET_KEY": GOOD_KEY}
    base.update(env)
    return Settings.from_env({k: v for k, v in base.items() if v is not None})


@pytest.mark.parametrize("key", ["", "change-me", "changeme", "secret", "dev", "short-key"])
def test_production_refuses_weak_secret(key: str) -> None:
    problems = _settings(RENTO_SECRET_KEY=key).problems()
    assert any("RENTO_SECRET_KEY" in p for p in problems)


def test_production_refuses_weak_admin_password() -> None:
    assert _settings(RENTO_ADMIN_PASSWORD="admin").problems()
    assert _settings(RENTO_ADMIN_PASSWORD="short").problems()
    assert not _settings(RENTO_ADMIN_PASSWORD="a-long-enough-password").problems()


def test_development_accepts_dev_secret_and_defaults() -> None:
    settings = _settings(RENTO_ENV="development", RENTO_SECRET_KEY="dev")
    assert settings.problems() == []
    assert settings.port == 8000 and settings.workers == 1
    assert settings.log_max_bytes == 10 * 1024 * 1024 and settings.log_backup_count == 5


@pytest.mark.parametrize(
    "env, variable",
    [
        ({"RENTO_DB_POOL_SIZE": "0"}, "RENTO_DB_POOL_SIZE"),
        ({"RENTO_DB_MAX_OVERFLOW": "-1"}, "RENTO_DB_MAX_OVERFLOW"),
        ({"RENTO_WORKERS": "0"}, "RENTO_WORKERS"),
    ],
)
def test_pool_and_worker_counts_must_be_usable(env: Dict[str, str], variable: str) -> None:
    assert any(variable in p for p in _settings(**env).problems())
    assert not _settings(RENTO_DB_POOL_SIZE="1", RENTO_DB_MAX_OVERFLOW="0").problems()


def test_development_without_secret_gets_a_random_one() -> None:
    first = _settings(RENTO_ENV="development", RENTO_SECRET_KEY="")
    second = _settings(RENTO_ENV="development", RENTO_SECRET_KEY="")
    assert len(first.secret_key) >= 32 and first.secret_key != second.secret_key


def test_settings_type_conversion_and_errors() -> None:
    s = _settings(RENTO_PORT="9001", RENTO_RUN_MIGRATIONS="false", RENTO_DB_POOL_TIMEOUT="1.5")
    assert (s.port, s.run_migrations, s.db_pool_timeout) == (9001, False, 1.5)
    with pytest.raises(ConfigError):
        _settings(RENTO_PORT="eighty")
    with pytest.raises(ConfigError):
        _settings(RENTO_ENV="staging")
    assert GOOD_KEY not in repr(s)


def test_database_url_normalised() -> None:
    from rento.db import normalise_database_url

    assert normalise_database_url("postgres://u:p@h/d").startswith("postgresql+psycopg://")
    assert normalise_database_url("postgresql://u:p@h/d").startswith("postgresql+psycopg://")
    url = "postgresql+psycopg://u:p@h/d?sslmode=require"
    assert normalise_database_url(url) == url


# --- billing dates -----------------------------------------------------------------------------


def test_add_months_clamps() -> None:
    assert billing.add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert billing.add_months(dt.date(2027, 12, 15), 2) == dt.date(2028, 2, 15)


def test_next_periods_follow_previous_and_respect_term() -> None:
    start, end = dt.date(2026, 1, 31), dt.date(2026, 12, 30)
    first = billing.next_periods(start, end, None, 2)
    assert first == [
        (dt.date(2026, 1, 31), dt.date(2026, 2, 27)),
        (dt.date(2026, 2, 28), dt.date(2026, 3, 30)),
    ]
    following = billing.next_periods(start, end, first[-1][1], 1)
    assert following == [(dt.date(2026, 3, 31), dt.date(2026, 4, 29))]
    assert billing.next_periods(start, end, None, 12) is None
    assert billing.next_periods(start, end, None, 11) is not None


def test_due_date_never_before_period() -> None:
    assert billing.due_date(dt.date(2026, 11, 21), 5) == dt.date(2026, 11, 21)
    assert billing.due_date(dt.date(2026, 11, 1), 5) == dt.date(2026, 11, 5)
    assert billing.due_date(dt.date(2026, 2, 1), 31) == dt.date(2026, 2, 28)
