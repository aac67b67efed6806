"""Settings, read once from the environment (12-factor: no config files, no secrets in the image).

Every field names its environment variable in ``metadata["env"]``; ``Settings.from_env`` converts
the raw string according to the field's declared type (str, int, float or bool). To add a setting,
add one ``_setting(...)`` field; the README lists them all.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
from functools import lru_cache
from typing import Any, List, Mapping, Optional

from rento import __version__

# Values that show up in tutorials and .env.example files: never acceptable as real secrets.
KNOWN_DEFAULT_SECRETS = frozenset(
    {
        "",
        "change-me",
        "changeme",
        "change_me",
        "changethis",
        "secret",
        "secret-key",
        "secretkey",
        "dev",
        "development",
        "test",
        "default",
        "password",
        "admin",
        "admin123",
        "rento",
        "insecure",
    }
)
MIN_SECRET_KEY_LENGTH = 32
MIN_ADMIN_PASSWORD_LENGTH = 12

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ConfigError(ValueError):
    """The environment does not describe a configuration the service may run with."""


def _setting(env: str, default: Any) -> Any:
    return dataclasses.field(default=default, metadata={"env": env})


@dataclasses.dataclass(frozen=True)
class Settings:
    env: str = _setting("RENTO_ENV", "production")
    secret_key: str = dataclasses.field(
        default="", repr=False, metadata={"env": "RENTO_SECRET_KEY"}
    )
    version: str = _setting("RENTO_VERSION", __version__)

    # Database
    database_url: str = dataclasses.field(default="", repr=False, metadata={"env": "DATABASE_URL"})
    db_pool_size: int = _setting("RENTO_DB_POOL_SIZE", 10)
    db_max_overflow: int = _setting("RENTO_DB_MAX_OVERFLOW", 10)
    db_pool_timeout: float = _setting("RENTO_DB_POOL_TIMEOUT", 5.0)
    db_connect_timeout: int = _setting("RENTO_DB_CONNECT_TIMEOUT", 3)
    db_pool_recycle: int = _setting("RENTO_DB_POOL_RECYCLE_SECONDS", 1800)
    db_statement_timeout_ms: int = _setting("RENTO_DB_STATEMENT_TIMEOUT_MS", 15000)
    run_migrations: bool = _setting("RENTO_RUN_MIGRATIONS", True)
    db_startup_wait_seconds: int = _setting("RENTO_DB_STARTUP_WAIT_SECONDS", 60)

    # Bootstrap administrator of account 1
    admin_username: str = _setting("RENTO_ADMIN_USERNAME", "admin")
    admin_password: str = dataclasses.field(
        default="", repr=False, metadata={"env": "RENTO_ADMIN_PASSWORD"}
    )

    # HTTP server
    host: str = _setting("RENTO_HOST", "127.0.0.1")
    port: int = _setting("RENTO_PORT", 8000)
    workers: int = _setting("RENTO_WORKERS", 1)
    shutdown_timeout_seconds: int = _setting("RENTO_SHUTDOWN_TIMEOUT_SECONDS", 20)
    token_ttl_seconds: int = _setting("RENTO_TOKEN_TTL_SECONDS", 28800)

    # Logging
    log_level: str = _setting("RENTO_LOG_LEVEL", "INFO")
    log_file: str = _setting("RENTO_LOG_FILE", "/app/logs/rento.log")
    log_max_bytes: int = _setting("RENTO_LOG_MAX_BYTES", 10 * 1024 * 1024)
    log_backup_count: int = _setting("RENTO_LOG_BACKUP_COUNT", 5)

    # Alerts
    alert_webhook_url: str = dataclasses.field(
        default="", repr=False, metadata={"env": "RENTO_ALERT_WEBHOOK_URL"}
    )
    alert_retries: int = _setting("RENTO_ALERT_RETRIES", 3)
    alert_timeout_seconds: float = _setting("RENTO_ALERT_TIMEOUT_SECONDS", 2.0)
    alert_queue_size: int = _setting("RENTO_ALERT_QUEUE_SIZE", 100)

    # Backups (rento.ops): see README "Operations"
    backup_dir: str = _setting("RENTO_BACKUP_DIR", "/app/backups")
    backup_interval_seconds: float = _setting("RENTO_BACKUP_INTERVAL_SECONDS", 0.0)
    backup_keep: int = _setting("RENTO_BACKUP_KEEP", 7)
    backup_max_age_days: float = _setting("RENTO_BACKUP_MAX_AGE_DAYS", 30.0)
    backup_timeout_seconds: float = _setting("RENTO_BACKUP_TIMEOUT_SECONDS", 3600.0)
    pg_dump: str = _setting("RENTO_PG_DUMP", "pg_dump")
    pg_restore: str = _setting("RENTO_PG_RESTORE", "pg_restore")

    @property
    def is_production(self) -> bool:
        return self.env != "development"

    @classmethod
    def from_env(cls, environ: Optional[Mapping[str, str]] = None) -> Settings:
        source = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            name = f.metadata.get("env")
            if name is None or name not in source:
                continue
            values[f.name] = _convert(name, source[name], f.type)
        settings = cls(**values)
        if settings.env not in ("production", "development"):
            raise ConfigError("RENTO_ENV must be 'production' or 'development'")
        if not settings.is_production and not settings.secret_key:
            # Development convenience: a random per-process key (tokens die with the process).
            settings = dataclasses.replace(settings, secret_key=secrets.token_urlsafe(32))
        return settings

    def problems(self) -> List[str]:
        """Reasons this configuration must not serve traffic (empty list = fine)."""
        found: List[str] = []
        if not self.database_url:
            found.append("DATABASE_URL is not set")
        if self.db_pool_size < 1 or self.db_max_overflow < 0:
            found.append("RENTO_DB_POOL_SIZE must be at least 1, RENTO_DB_MAX_OVERFLOW at least 0")
        if self.workers < 1:
            found.append("RENTO_WORKERS must be at least 1")
        if self.is_production:
            key = self.secret_key
            if not key:
                found.append("RENTO_SECRET_KEY is not set")
            elif key.strip().lower() in KNOWN_DEFAULT_SECRETS:
                found.append("RENTO_SECRET_KEY is a well-known default value")
            elif len(key) < MIN_SECRET_KEY_LENGTH:
                found.append(f"RENTO_SECRET_KEY is shorter than {MIN_SECRET_KEY_LENGTH} characters")
            pw = self.admin_password
            if pw and (
                pw.strip().lower() in KNOWN_DEFAULT_SECRETS or len(pw) < MIN_ADMIN_PASSWORD_LENGTH
            ):
                found.append(
                    "RENTO_ADMIN_PASSWORD is a default value or shorter than "
                    f"{MIN_ADMIN_PASSWORD_LENGTH} characters"
                )
        return found


def _convert(name: str, raw: str, declared: Any) -> Any:
    kind = declared if isinstance(declared, str) else getattr(declared, "__name__", "str")
    value = raw.strip()
    try:
        if kind == "int":
            return int(value)
        if kind == "float":
            return float(value)
    except ValueError:
        raise ConfigError(f"{name} must be a number") from None
    if kind == "bool":
        lowered = value.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ConfigError(f"{name} must be true or false")
    return raw


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings. Tests call ``get_settings.cache_clear()`` after changing env."""
    return Settings.from_env()
