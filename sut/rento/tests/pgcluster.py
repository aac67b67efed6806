"""A throwaway PostgreSQL cluster built from the host's server binaries.

UTF8 with C.UTF-8 collation (as the official image initialises it), TLS on with a self-signed
certificate, password (SCRAM) authentication over TCP only, on a free port in a temp directory.
initdb refuses to run as root, so under root every server command runs as the ``postgres`` user.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import List, Optional

INSTALL_HINT = (
    "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin: "
    "install them with `apt-get install postgresql` (Debian/Ubuntu)"
)


def find_bin_dir() -> Path:
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: (
            int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0
        ),
    )
    if not candidates:
        raise RuntimeError(INSTALL_HINT)
    return Path(candidates[-1]).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgCluster:
    def __init__(self, user: str = "rento", password: str = "rento-test-password") -> None:
        self.bin = find_bin_dir()
        self.user = user
        self.password = password
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="rento-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self._run_as: Optional[str] = "postgres" if os.geteuid() == 0 else None

    # -- helpers ---------------------------------------------------------------------------

    def _cmd(self, args: List[str]) -> List[str]:
        if self._run_as:
            return ["runuser", "-u", self._run_as, "--", *args]
        return args

    def _run(self, args: List[str], **kwargs: object) -> subprocess.CompletedProcess:  # type: ignore[type-arg]
        return subprocess.run(self._cmd(args), check=True, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]

    @property
    def url(self) -> str:
        return (
            f"postgresql+psycopg://{self.user}:{self.password}@127.0.0.1:{self.port}/rento"
            "?sslmode=require"
        )

    # -- lifecycle -------------------------------------------------------------------------

    def create(self) -> PgCluster:
        if self._run_as:
            entry = pwd.getpwnam(self._run_as)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        pwfile = self.root / "pw"
        pwfile.write_text("postgres-test-password\n")
        if self._run_as:
            entry = pwd.getpwnam(self._run_as)
            os.chown(pwfile, entry.pw_uid, entry.pw_gid)
        self._run(
            [
                str(self.bin / "initdb"),
                "-D",
                str(self.data),
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "-U",
                "postgres",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                f"--pwfile={pwfile}",
            ]
        )
        self._run(
            [
                "openssl",
                "req",
                "-new",
                "-x509",
                "-days",
                "2",
                "-nodes",
                "-subj",
                "/CN=localhost",
                "-keyout",
                str(self.data / "server.key"),
                "-out",
                str(self.data / "server.crt"),
            ]
        )
        os.chmod(self.data / "server.key", 0o600)
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(
                f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.root}'\n"
                "ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n"
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                "max_connections = 100\n"
            )
        # Only TLS connections over TCP; the local socket (trust) is for set-up as superuser.
        (self.data / "pg_hba.conf").write_text(
            "local all all trust\nhostssl all all 127.0.0.1/32 scram-sha-256\n"
        )
        if self._run_as:
            entry = pwd.getpwnam(self._run_as)
            for path in (self.data / "postgresql.conf", self.data / "pg_hba.conf"):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        self.start()
        self.psql(f"CREATE ROLE {self.user} LOGIN PASSWORD '{self.password}'")
        self.psql(f"CREATE DATABASE rento OWNER {self.user}")
        return self

    def psql(self, sql: str, database: str = "postgres") -> str:
        result = self._run(
            [
                str(self.bin / "psql"),
                "-h",
                str(self.root),
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                database,
                "-v",
                "ON_ERROR_STOP=1",
                "-At",
                "-c",
                sql,
            ]
        )
        return result.stdout.strip()

    def start(self) -> None:
        self._run(
            [
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.log),
                "-w",
                "-t",
                "30",
                "start",
            ]
        )

    def stop(self) -> None:
        self._run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"])

    def destroy(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self.stop()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
