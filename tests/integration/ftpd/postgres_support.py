"""A throwaway PostgreSQL cluster for the user-store tests: Debian's `postgresql` binaries
(initdb, pg_ctl from /usr/lib/postgresql/*/bin), a data directory in a fresh temporary
directory, listening on 127.0.0.1 on a free port (and a unix socket in the same directory),
trust authentication, no fsync. initdb refuses to run as root: then every command runs as the
`postgres` OS user (runuser), owning the directory.

`PostgresCluster.available()` says why the machine cannot run one (tests skip, saying so).
"""
from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

DB_USER = "muxftpd"


def postgres_bin_dir() -> Path | None:
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                  key=lambda d: int(Path(d).parent.name) if Path(d).parent.name.isdigit() else 0)
    for d in reversed(dirs):
        if os.access(os.path.join(d, "initdb"), os.X_OK):
            return Path(d)
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresCluster:
    def __init__(self) -> None:
        self.bin = postgres_bin_dir()
        self.dir = Path(tempfile.mkdtemp(prefix="muxftpd-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        self.port = free_port()
        self.as_postgres: list[str] = []
        if os.geteuid() == 0:
            entry = pwd.getpwnam("postgres")
            os.chmod(self.dir, 0o755)
            os.chown(self.dir, entry.pw_uid, entry.pw_gid)
            self.as_postgres = ["runuser", "-u", "postgres", "--"]

    @staticmethod
    def available() -> str | None:
        """None when a cluster can be started here, else why not."""
        if postgres_bin_dir() is None:
            return "PostgreSQL server binaries not installed (Debian package postgresql)"
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                return "running as root and there is no postgres user to run initdb as"
            if shutil.which("runuser") is None:
                return "running as root and runuser is missing"
        return None

    def _run(self, *args: str, timeout: float = 60) -> None:
        cmd = self.as_postgres + [str(self.bin / args[0]), *args[1:]]
        done = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=timeout, cwd=self.dir)
        if done.returncode != 0:
            log = self.log.read_text(errors="replace") if self.log.exists() else ""
            raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout}\n"
                               f"{done.stderr}\n{log[-3000:]}")

    def init(self) -> "PostgresCluster":
        self._run("initdb", "-D", str(self.data), "-U", DB_USER, "-A", "trust", "--no-sync",
                  "-E", "UTF8", "--locale=C")
        return self

    def start(self) -> None:
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir} "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options,
                  "-w", "-t", "60", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def conninfo(self) -> str:
        return f"host=127.0.0.1 port={self.port} user={DB_USER} dbname=postgres"

    def destroy(self) -> None:
        try:
            if self.running():
                self.stop()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


def muxftpd_admin(*args: str, password: str | None = None,
                  check: bool = True) -> subprocess.CompletedProcess:
    """Runs a muxftpd administration subcommand (db, user); the password, if any, on stdin."""
    from ftpd_support import MUXFTPD
    done = subprocess.run([MUXFTPD, *args], input=(password + "\n") if password else "",
                          capture_output=True, text=True, timeout=60)
    if check and done.returncode != 0:
        raise AssertionError(f"muxftpd {' '.join(args)} exited {done.returncode}: "
                             f"{done.stdout}{done.stderr}")
    return done


@contextlib.contextmanager
def started_postgres(init_schema: bool = True):
    """A started throwaway cluster (with muxftpd's schema in its `postgres` database unless
    init_schema is false), destroyed on exit. Check available() first."""
    cluster = PostgresCluster()
    try:
        cluster.init()
        cluster.start()
        if init_schema:
            muxftpd_admin("db", "init", "--store", "postgresql:" + cluster.conninfo())
        yield cluster
    finally:
        cluster.destroy()
