"""A throwaway PostgreSQL server from the host's binaries: TLS on, SCRAM over TCP, a free port.

initdb refuses to run as root, so under root the server commands run as ``postgres``.
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


def _bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    if not found:
        raise RuntimeError("PostgreSQL server binaries not found under /usr/lib/postgresql: "
                           "apt-get install postgresql")
    return Path(found[-1]).parent


class PgServer:
    superuser_password = "superuser-test-password"

    def __init__(self) -> None:
        self.bin = _bin_dir()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self.root = Path(tempfile.mkdtemp(prefix="ledger-pg-"))
        self.data = self.root / "data"
        self.owner = "postgres" if os.geteuid() == 0 else None

    def _run(self, *argv: str) -> str:
        cmd = ["runuser", "-u", self.owner, "--", *argv] if self.owner else list(argv)
        return subprocess.run(cmd, check=True, capture_output=True, text=True,
                              timeout=60).stdout.strip()

    def start(self) -> PgServer:
        if self.owner:
            entry = pwd.getpwnam(self.owner)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        password_file = self.root / "pw"
        password_file.write_text(self.superuser_password + "\n")
        if self.owner:
            os.chown(password_file, pwd.getpwnam(self.owner).pw_uid, -1)
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-E", "UTF8",
                  "--locale=C.UTF-8", "-U", "postgres", "--auth-local=trust",
                  "--auth-host=scram-sha-256", f"--pwfile={password_file}")
        self._run("openssl", "req", "-new", "-x509", "-days", "2", "-nodes", "-subj",
                  "/CN=localhost", "-keyout", str(self.data / "server.key"),
                  "-out", str(self.data / "server.crt"))
        os.chmod(self.data / "server.key", 0o600)
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                       f"unix_socket_directories = '{self.root}'\nssl = on\n"
                       "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n")
        with open(self.data / "pg_hba.conf", "w") as hba:
            hba.write("local all all trust\nhostssl all all 127.0.0.1/32 scram-sha-256\n")
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"),
                  "-w", "-t", "30", "start")
        return self

    def sql(self, statement: str, database: str = "postgres") -> str:
        return self._run(str(self.bin / "psql"), "-h", str(self.root), "-p", str(self.port),
                         "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1", "-At",
                         "-c", statement)

    def create_database(self, name: str, owner: str, password: str) -> None:
        if not self.sql(f"SELECT 1 FROM pg_roles WHERE rolname = '{owner}'"):
            self.sql(f"CREATE ROLE {owner} LOGIN PASSWORD '{password}'")
        self.sql(f"CREATE DATABASE {name} OWNER {owner}")

    def stop(self) -> None:
        try:
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w",
                      "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
