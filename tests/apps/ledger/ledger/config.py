"""Settings, read once from the environment.

Outside ``ENVIRONMENT=local`` the service refuses to start on a missing or well-known secret or on
a database connection that may fall back to plain text: every problem is listed at once, so an
operator fixes the deployment in one go.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.engine import URL

ENVIRONMENTS = ("local", "staging", "production")
# Values shipped in examples and templates everywhere; never acceptable outside a laptop.
WELL_KNOWN = frozenset({
    "changethis", "changeme", "change-me", "secret", "password", "admin", "postgres", "default",
    "dev", "test", "ledger", "example",
})
PLAIN_TEXT_SSLMODES = ("disable", "allow", "prefer")
SSLMODES = (*PLAIN_TEXT_SSLMODES, "require", "verify-ca", "verify-full")
MIN_SECRET_KEY = 32
MIN_ADMIN_PASSWORD = 12


class SettingsError(Exception):
    """The environment does not describe a deployment this service will run in."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class DatabaseSettings:
    host: str
    port: int
    name: str
    user: str
    password: str
    sslmode: str
    connect_timeout_s: int = 3

    def url(self) -> URL:
        return URL.create(
            "postgresql+psycopg", username=self.user, password=self.password, host=self.host,
            port=self.port, database=self.name,
            query={"sslmode": self.sslmode, "connect_timeout": str(self.connect_timeout_s),
                   "application_name": "ledger"},
        )


@dataclass(frozen=True)
class Settings:
    environment: str
    secret_key: str
    token_minutes: int
    first_superuser: str
    first_superuser_password: str
    database: DatabaseSettings
    alert_webhook_url: str | None
    alert_attempts: int
    log_level: str
    version: str

    @property
    def is_local(self) -> bool:
        return self.environment == "local"


def _integer(env: Mapping[str, str], name: str, default: int, problems: list[str],
             low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        problems.append(f"{name}={raw!r} is not an integer between {low} and {high}")
        return default
    return int(raw)


def _secret(env: Mapping[str, str], name: str, minimum: int, problems: list[str],
            strict: bool) -> str:
    value = env.get(name, "")
    if not strict:
        return value or "changethis"
    if not value:
        problems.append(f"{name} is not set")
    elif value.lower() in WELL_KNOWN:
        problems.append(f"{name} is a well-known default value")
    elif len(value) < minimum:
        problems.append(f"{name} is shorter than {minimum} characters")
    return value


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    problems: list[str] = []
    environment = env.get("ENVIRONMENT", "production").strip().lower()
    if environment not in ENVIRONMENTS:
        problems.append(f"ENVIRONMENT={environment!r} is not one of {', '.join(ENVIRONMENTS)}")
        environment = "production"
    strict = environment != "local"
    sslmode = env.get("DB_SSLMODE", "require" if strict else "prefer").strip()
    if sslmode not in SSLMODES:
        problems.append(f"DB_SSLMODE={sslmode!r} is not one of {', '.join(SSLMODES)}")
    elif strict and sslmode in PLAIN_TEXT_SSLMODES:
        problems.append(f"DB_SSLMODE={sslmode} may send credentials in plain text; "
                        "use require, verify-ca or verify-full")
    database = DatabaseSettings(
        host=env.get("DB_HOST", "localhost"),
        port=_integer(env, "DB_PORT", 5432, problems, 1, 65535),
        name=env.get("DB_NAME", "ledger"), user=env.get("DB_USER", "ledger"),
        password=_secret(env, "DB_PASSWORD", 1, problems, strict), sslmode=sslmode,
        connect_timeout_s=_integer(env, "DB_CONNECT_TIMEOUT", 3, problems, 1, 60),
    )
    admin = env.get("FIRST_SUPERUSER", "" if strict else "admin@ledger.local").strip().lower()
    if "@" not in admin:
        problems.append("FIRST_SUPERUSER must be the administrator's e-mail address")
    webhook = env.get("ALERT_WEBHOOK_URL", "").strip() or None
    if webhook and not webhook.startswith(("http://", "https://")):
        problems.append("ALERT_WEBHOOK_URL must be an http(s) URL")
    level = env.get("LOG_LEVEL", "INFO").strip().upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        problems.append(f"LOG_LEVEL={level!r} is not DEBUG, INFO, WARNING or ERROR")
    settings = Settings(
        environment=environment,
        secret_key=_secret(env, "SECRET_KEY", MIN_SECRET_KEY, problems, strict),
        token_minutes=_integer(env, "ACCESS_TOKEN_EXPIRE_MINUTES", 30, problems, 1, 24 * 60),
        first_superuser=admin,
        first_superuser_password=_secret(env, "FIRST_SUPERUSER_PASSWORD", MIN_ADMIN_PASSWORD,
                                         problems, strict),
        database=database, alert_webhook_url=webhook,
        alert_attempts=_integer(env, "ALERT_ATTEMPTS", 4, problems, 1, 10),
        log_level=level, version=env.get("APP_VERSION", "0.0.0+local"),
    )
    if problems:
        raise SettingsError(problems)
    return settings
