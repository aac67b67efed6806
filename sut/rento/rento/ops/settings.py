"""The slice of the service settings the operations tools use, with their defaults.

The tools accept the application's ``rento.config.Settings`` (or anything with the same
attribute names); missing attributes fall back to the documented defaults so the tools also run
from a bare environment.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Optional


@dataclasses.dataclass(frozen=True)
class OpsSettings:
    database_url: str = dataclasses.field(default="", repr=False)
    backup_dir: str = "/app/backups"
    backup_interval_seconds: float = 0.0
    backup_keep: int = 7
    backup_max_age_days: float = 30.0
    backup_timeout_seconds: float = 3600.0
    pg_dump: str = "pg_dump"
    pg_restore: str = "pg_restore"
    alert_webhook_url: str = dataclasses.field(default="", repr=False)
    alert_retries: int = 3
    alert_timeout_seconds: float = 2.0

    @classmethod
    def from_settings(cls, settings: Any = None, **overrides: Any) -> OpsSettings:
        if settings is None:
            from rento.config import get_settings

            settings = get_settings()
        if isinstance(settings, OpsSettings):
            base = settings
        else:
            values = {}
            for f in dataclasses.fields(cls):
                if hasattr(settings, f.name):
                    value = getattr(settings, f.name)
                    if value is not None:
                        values[f.name] = value
            base = cls(**values)
        overrides = {k: v for k, v in overrides.items() if v is not None}
        return dataclasses.replace(base, **overrides) if overrides else base


def coerce(settings: Optional[Any]) -> OpsSettings:
    return OpsSettings.from_settings(settings)
