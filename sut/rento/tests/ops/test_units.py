"""Pure functions of the operations tools (no database)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import Boolean, Date, DateTime, Integer, Numeric, String

from rento.ops import backup, convert
from rento.ops.pgconn import PgTarget


def test_url_to_libpq_keeps_password_off_the_command_line() -> None:
    t = PgTarget.from_url(
        "postgresql+psycopg://app:p%40ss%3Aw0rd@db.internal:5433/rento"
        "?sslmode=verify-full&sslrootcert=/certs/ca.pem"
    )
    env = t.tool_env({})
    assert env["PGPASSWORD"] == "p@ss:w0rd"
    assert env["PGHOST"] == "db.internal" and env["PGPORT"] == "5433"
    assert env["PGSSLMODE"] == "verify-full" and env["PGSSLROOTCERT"] == "/certs/ca.pem"
    assert "p@ss" not in t.tool_dbname_arg() and "p@ss" not in t.describe()
    assert t.redact("failed for p@ss:w0rd") == "failed for ***"
    sock = PgTarget.from_url("postgres:///rento?host=/run/postgresql&user=me")
    assert sock.params["host"] == "/run/postgresql" and sock.dbname == "rento"
    with pytest.raises(ValueError):
        PgTarget.from_url("mysql://x@y/z")


def test_error_classification() -> None:
    c = backup.classify_error
    assert c('FATAL:  password authentication failed for user "x"', "d") == "auth_failed"
    assert c("could not connect to server: Connection refused", "d") == "unreachable"
    assert c("pg_dump: error: could not write: No space left on device", "d") == "disk_full"
    assert c("something else", "dump_failed") == "dump_failed"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2025-04-10T23:15:00+08:00", "2025-04-10T15:15:00.000000Z"),
        ("2025-04-10 23:15:00", "2025-04-10T23:15:00.000000Z"),
        ("2025-04-10T23:15:00.5Z", "2025-04-10T23:15:00.500000Z"),
        (1735689600000, "2025-01-01T00:00:00.000000Z"),
        (1735689600, "2025-01-01T00:00:00.000000Z"),
        ("1735689600123", "2025-01-01T00:00:00.123000Z"),
    ],
)
def test_timestamp_conversion(raw: object, expected: str) -> None:
    col = DateTime(timezone=True)
    value = convert.converter_for(col)(raw)
    assert convert.canonical_for(col)(value) == expected


def test_scalar_conversions() -> None:
    money = Numeric(12, 2)
    assert convert.converter_for(money)(1234.5) == Decimal("1234.50")
    assert convert.converter_for(money)("0.005") == Decimal("0.01")
    assert convert.canonical_for(money)(Decimal("7")) == "7.00"
    assert convert.converter_for(Boolean())("false") is False
    assert convert.converter_for(Boolean())(1) is True
    assert convert.converter_for(Date())("2025-02-03T10:00:00+08:00") == dt.date(2025, 2, 3)
    assert convert.converter_for(Integer())("42") == 42
    assert convert.converter_for(Integer())("") is None
    assert convert.converter_for(String())("") == ""
    with pytest.raises(convert.ConversionError):
        convert.converter_for(Integer())("4.5")


def test_backup_names_sort_by_time() -> None:
    t1 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    t2 = t1 + dt.timedelta(microseconds=1)
    n1, n2 = backup.backup_name("my-db", t1), backup.backup_name("my-db", t2)
    assert backup.parse_backup_time(n1) == t1 and backup.parse_backup_time(n2) == t2
    assert backup.parse_backup_time("LATEST") is None
