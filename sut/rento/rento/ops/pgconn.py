"""Turn the application's SQLAlchemy ``DATABASE_URL`` into libpq connection parameters.

The PostgreSQL client tools (``pg_dump``, ``pg_restore``) and psycopg both speak libpq. The
password never goes on a command line (it would be visible in ``ps`` and in ``/proc``): it is
handed to the tools through ``PGPASSWORD`` in the child's environment and to psycopg as a
keyword argument. TLS settings (``sslmode``, ``sslrootcert``, ...) given as URL query
parameters are honoured by both.
"""

from __future__ import annotations

import dataclasses
import os
import re
from typing import Any, Dict, Mapping, Optional
from urllib.parse import parse_qsl, unquote, urlsplit

# libpq keywords that have an environment-variable twin: passed through the child's environment.
_ENV_FOR_KEYWORD = {
    "host": "PGHOST",
    "hostaddr": "PGHOSTADDR",
    "port": "PGPORT",
    "user": "PGUSER",
    "dbname": "PGDATABASE",
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "sslcrl": "PGSSLCRL",
    "sslcrldir": "PGSSLCRLDIR",
    "sslsni": "PGSSLSNI",
    "sslcompression": "PGSSLCOMPRESSION",
    "ssl_min_protocol_version": "PGSSLMINPROTOCOLVERSION",
    "ssl_max_protocol_version": "PGSSLMAXPROTOCOLVERSION",
    "requiressl": "PGREQUIRESSL",
    "gssencmode": "PGGSSENCMODE",
    "channel_binding": "PGCHANNELBINDING",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "application_name": "PGAPPNAME",
    "options": "PGOPTIONS",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
    "passfile": "PGPASSFILE",
    "service": "PGSERVICE",
    "krbsrvname": "PGKRBSRVNAME",
    "require_auth": "PGREQUIREAUTH",
    "load_balance_hosts": "PGLOADBALANCEHOSTS",
}

# Query parameters that belong to SQLAlchemy or the Python driver, not to libpq.
_NOT_LIBPQ = {"prepare_threshold", "client_encoding_override", "async_fallback", "plugin"}

DEFAULT_CONNECT_TIMEOUT = 10


class DatabaseUrlError(ValueError):
    """The database URL cannot be understood."""


@dataclasses.dataclass(frozen=True)
class PgTarget:
    """One PostgreSQL database, as libpq keywords (password kept apart)."""

    params: Mapping[str, str]
    password: Optional[str] = dataclasses.field(default=None, repr=False)

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def from_url(cls, url: str, *, connect_timeout: Optional[int] = None) -> PgTarget:
        """Parse ``postgresql[+driver]://user:pw@host:port/db?sslmode=...`` (or ``postgres://``)."""
        if not url:
            raise DatabaseUrlError("no database URL given (set DATABASE_URL or --database-url)")
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        base = scheme.split("+", 1)[0]
        if base not in ("postgresql", "postgres", "pgsql"):
            raise DatabaseUrlError(
                f"not a PostgreSQL URL (scheme {scheme!r}); expected postgresql://..."
            )
        params: Dict[str, str] = {}
        netloc = parts.netloc
        password: Optional[str] = None
        if "@" in netloc:
            userinfo, hostinfo = netloc.rsplit("@", 1)
            if ":" in userinfo:
                user, pw = userinfo.split(":", 1)
                password = unquote(pw)
            else:
                user = userinfo
            if user:
                params["user"] = unquote(user)
        else:
            hostinfo = netloc
        host, port = _split_hostport(hostinfo)
        if host:
            params["host"] = host
        if port:
            params["port"] = port
        dbname = unquote(parts.path.lstrip("/")) if parts.path else ""
        if dbname:
            params["dbname"] = dbname
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            if key in _NOT_LIBPQ:
                continue
            if key == "password":
                password = value
                continue
            params[key] = value
        if "connect_timeout" not in params:
            params["connect_timeout"] = str(connect_timeout or DEFAULT_CONNECT_TIMEOUT)
        return cls(params=params, password=password or None)

    # -- views --------------------------------------------------------------------------------
    @property
    def dbname(self) -> str:
        return self.params.get("dbname") or self.params.get("user") or ""

    def describe(self) -> str:
        """``user@host:port/db`` for logs and reports: never contains the password."""
        user = self.params.get("user", "")
        host = self.params.get("host", "") or "localhost"
        port = self.params.get("port", "")
        where = f"{host}:{port}" if port else host
        return f"{user + '@' if user else ''}{where}/{self.dbname}"

    def connect_kwargs(self) -> Dict[str, Any]:
        """Keyword arguments for ``psycopg.connect``."""
        kwargs: Dict[str, Any] = dict(self.params)
        if self.password is not None:
            kwargs["password"] = self.password
        return kwargs

    def tool_env(self, base: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
        """Environment for a libpq client tool: connection settings as ``PG*`` variables.

        Starts from the current environment (so a ``PGSSLROOTCERT`` the service itself relies on
        still applies) and overrides every variable the URL specifies.
        """
        env = dict(os.environ if base is None else base)
        for key, value in self.params.items():
            name = _ENV_FOR_KEYWORD.get(key)
            if name:
                env[name] = value
        if self.password is not None:
            env["PGPASSWORD"] = self.password
        return env

    def tool_dbname_arg(self) -> str:
        """Value for ``--dbname``: a conninfo string with the database name and any libpq
        keyword that has no environment variable. Never contains the password."""
        items = {"dbname": self.dbname}
        for key, value in self.params.items():
            if key not in _ENV_FOR_KEYWORD:
                items[key] = value
        return " ".join(f"{k}={_quote_conninfo(v)}" for k, v in items.items())

    def redact(self, text: str) -> str:
        """Remove the password from a message before it is logged or sent anywhere."""
        if not text:
            return text
        if self.password:
            text = text.replace(self.password, "***")
        return _URL_PASSWORD.sub(r"\1***\2", text)

    def with_dbname(self, dbname: str) -> PgTarget:
        params = dict(self.params)
        params["dbname"] = dbname
        return PgTarget(params=params, password=self.password)


_URL_PASSWORD = re.compile(r"(://[^:/@\s]*:)[^@\s]*(@)")


def redact_url(text: str) -> str:
    """Mask ``user:password@`` in any URL inside ``text``."""
    return _URL_PASSWORD.sub(r"\1***\2", text or "")


def _split_hostport(hostinfo: str) -> "tuple[str, str]":
    if not hostinfo:
        return "", ""
    if hostinfo.startswith("["):  # IPv6 literal
        end = hostinfo.find("]")
        host = hostinfo[1:end]
        rest = hostinfo[end + 1 :]
        return host, rest[1:] if rest.startswith(":") else ""
    if "," in hostinfo:  # multi-host: leave as libpq lists
        hosts, ports = [], []
        for item in hostinfo.split(","):
            h, _, p = item.partition(":")
            hosts.append(unquote(h))
            ports.append(p)
        return ",".join(hosts), ",".join(ports) if any(ports) else ""
    host, _, port = hostinfo.partition(":")
    return unquote(host), port


def _quote_conninfo(value: str) -> str:
    if value and not re.search(r"[\s'\\=]", value):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def connect(target: PgTarget, **extra: Any) -> Any:
    """Open a psycopg connection (imported lazily so the CLI starts fast)."""
    import psycopg

    kwargs = target.connect_kwargs()
    kwargs.update(extra)
    return psycopg.connect(**kwargs)
