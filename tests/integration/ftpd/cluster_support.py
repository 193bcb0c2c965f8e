"""The cluster test bed (issue #13): N muxftpd nodes sharing one root directory and one
PostgreSQL user store, behind a real HAProxy in TCP mode that sends PROXY v2 headers.

    with ClusterBed(tmp_path) as bed:          # or bed = ClusterBed(...).start(); bed.stop()
        f = bed.ftp()                           # through the balancer (ftplib, logged in)
        bed.node_of(f)                          # which node answered: 0 or 1
        g = bed.node_ftp(1)                     # straight to node 1, with a PROXY v2 header
        bed.add_user("carol", "pw", "--quota-bytes", "1M")
        bed.kill_node(0)                        # kill -9
        bed.wait_server_state(0, "DOWN")        # HAProxy's health check saw it
        bed.restart_node(0)

Layout (all on loopback):
- PostgreSQL: a throwaway cluster (postgres_support.PostgresCluster) on 127.0.0.1, or one the
  caller shares between beds; each bed gets a fresh database in it, `muxftpd db init` run on it,
  and the account USER/PASSWORD (ftpd_support) added with all permissions.
- The nodes: muxftpd on 127.0.0.1, each with its own control port (fixed for the bed's life, so a
  restarted node is back behind the same server line), its own passive port range, its own
  node_name ("node1", "node2", ...) and a banner naming it ("muxftpd node1 ready"), all with
  `proxy_protocol = "required"` and the same --root and --user-store.
- HAProxy on 127.0.0.4 (BALANCER): the control port, balanced round-robin over the nodes with a
  health check (a PROXY v2 LOCAL header, then the 220 greeting expected); one frontend per node's
  passive range, forwarded port for port to that node, so a data connection reaches the node
  that advertised the port (each node's passive_address is the balancer). A stats socket
  answers server_states() and set_server_state() (maintenance, drain).

Clients should come from 127.0.0.2 and up (CLIENT_HOSTS): HAProxy itself, and its health
checks, come from 127.0.0.1. Clients straight to a node (node_ftp, node_raw) connect from
127.0.0.1, as HAProxy does, and name their client address in the PROXY header.

In pytest: `from cluster_support import cluster_postgres, make_cluster` in a test module, then
`bed = make_cluster(node_toml="max_sessions_per_user = 2\n")` (one PostgreSQL per module, a
fresh database, nodes and HAProxy per bed; keys in node_toml must not repeat NODE_TOML's).

`python3 cluster_support.py` runs the same bed in the foreground for a person (`make cluster`,
scripts/cluster.sh): it prints where to connect and tears everything down on Ctrl-C.
"""
from __future__ import annotations

import ftplib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ftpd_support import (HOST, MUXFTPD, PASSWORD, USER, FtpServer, RawControl,  # noqa: E402
                          wait_until)
from postgres_support import (DB_USER, PostgresCluster, muxftpd_admin,  # noqa: E402
                              started_postgres)
from proxy_support import free_port_range, v2  # noqa: E402

BALANCER = "127.0.0.4"
CLIENT_HOSTS = ("127.0.0.2", "127.0.0.3")


def find_haproxy() -> str | None:
    found = shutil.which("haproxy")
    if found:
        return found
    return "/usr/sbin/haproxy" if os.access("/usr/sbin/haproxy", os.X_OK) else None


HAPROXY = find_haproxy()


def unavailable() -> str | None:
    """None when this machine can run the bed, else why not (tests skip, saying so)."""
    if HAPROXY is None:
        return "haproxy not installed (Debian package haproxy; scripts/deps.sh installs it)"
    why = PostgresCluster.available()
    if why:
        return why + " (scripts/deps.sh installs postgresql)"
    return None


# The configuration HAProxy runs; docs/DEPLOYMENT.md shows it with real addresses.
HAPROXY_GLOBAL = """\
global
    maxconn 2000
    stats socket {stats_socket} mode 600 level admin

defaults
    mode tcp
    timeout connect 5s
    # Longer than muxftpd's idle_timeout (300 s): muxftpd ends idle sessions, with a 421.
    timeout client 6m
    timeout server 6m
    timeout check 2s

# Control connections, spread over the nodes. Each carries the client's address to muxftpd in a
# PROXY v2 header. The health check connects every 500 ms with a PROXY v2 LOCAL header
# (check-send-proxy) and wants the 220 greeting: two misses take a node out, one answer puts
# it back.
frontend ftp
    bind {balancer}:{ftp_port}
    default_backend muxftpd
backend muxftpd
    balance roundrobin
    option tcp-check
    tcp-check expect rstring ^220
    default-server send-proxy-v2 check check-send-proxy inter 500ms fall 2 rise 1
"""

HAPROXY_NODE_SERVER = "    server {name} {host}:{port}\n"

HAPROXY_NODE_PASSIVE = """
# {name}'s passive range: the same ports on {name} (no port on the server line), no PROXY
# header (data connections carry none).
frontend passive_{name}
    bind {balancer}:{low}-{high}
    default_backend passive_{name}
backend passive_{name}
    server {name} {host}
"""

NODE_TOML = """\
node_name = "{name}"
banner = "muxftpd {name} ready"
user_store = "{store}"
user_cache_seconds = {cache_seconds}
proxy_protocol = "required"
proxy_trusted_networks = ["{host}/32"]
# HAProxy connects to the passive ports from {host}.
passive_trusted_networks = ["{host}/32"]
passive_ports = "{low}-{high}"
passive_address = "{balancer}"
"""

BANNER_RE = re.compile(r"^220 muxftpd (\S+) ready")


def free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def toml_string(s: str) -> str:
    return s.replace("\\", "\\\\").replace('"', '\\"')


class ProxiedFTP(ftplib.FTP):
    """ftplib.FTP that opens its control connection with a PROXY v2 header, as the balancer
    would: for talking to one node directly. It connects from the balancer's side (HOST, the
    nodes' proxy_trusted_networks), and the header names `client` with the socket's own port as
    the client, `dst` (the balancer's address and port) as where the client connected. Data
    connections come from HOST too (the nodes' passive_trusted_networks)."""

    def __init__(self, client: str, dst: tuple[str, int], timeout: float = 20.0):
        super().__init__(timeout=timeout, source_address=(HOST, 0))
        self.proxy_client = client
        self.proxy_dst = dst

    def connect(self, host="", port=0, timeout=-999, source_address=None):
        if host:
            self.host = host
        if port > 0:
            self.port = port
        if timeout != -999:
            self.timeout = timeout
        if source_address is not None:
            self.source_address = source_address
        self.sock = socket.create_connection((self.host, self.port), self.timeout,
                                             source_address=self.source_address)
        sport = self.sock.getsockname()[1]
        self.sock.sendall(v2(self.proxy_client, self.proxy_dst[0], sport, self.proxy_dst[1]))
        self.af = self.sock.family
        self.file = self.sock.makefile("r", encoding=self.encoding)
        self.welcome = self.getresp()
        return self.welcome

    def client_address(self) -> tuple[str, int]:
        """The client address the node was told (for ClusterBed.served_by)."""
        return self.proxy_client, self.sock.getsockname()[1]


def _raw_control(sock: socket.socket, transcript: list[str], timeout: float) -> RawControl:
    """A RawControl (ftpd_support) over a socket connected elsewhere than HOST."""
    c = RawControl.__new__(RawControl)
    sock.settimeout(timeout)
    c.sock, c.buf, c.transcript = sock, b"", transcript
    return c


class Node:
    """One muxftpd of the bed. `server` is the running FtpServer (a new one after a restart)."""

    def __init__(self, index: int, name: str, port: int, low: int, high: int, config: Path,
                 workdir: Path):
        self.index, self.name, self.port, self.low, self.high = index, name, port, low, high
        self.config, self.workdir = config, workdir
        self.server: FtpServer | None = None
        self.history: list[FtpServer] = []  # every process this node ran, for stop() and logs

    def alive(self) -> bool:
        return self.server is not None and self.server.alive()

    def log(self) -> str:
        """Everything every process of this node wrote to stderr."""
        return "".join(s.stderr_text() for s in self.history)


class ClusterBed:
    """See the module's docstring. `nodes`, `node_toml` (TOML appended to every node's config),
    `per_node_toml` (a list: TOML appended to node i's config only),
    `node_args` (extra command-line flags for every node), `passive_ports` (per node),
    `cache_seconds` (the user cache lifetime), `postgres` (a running PostgresCluster to share;
    else the bed starts and destroys its own), `ftp_port` (the balancer's; 0: a free one),
    `root` (the shared directory; default workdir/root)."""

    def __init__(self, workdir: Path, *, nodes: int = 2, node_toml: str = "",
                 per_node_toml: list[str] | None = None, node_args: list[str] | None = None,
                 passive_ports: int = 20,
                 cache_seconds: float = 1.0, postgres: PostgresCluster | None = None,
                 ftp_port: int = 0, root: Path | None = None, threads: int = 1):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.root = Path(root) if root is not None else self.workdir / "root"
        self.root.mkdir(parents=True, exist_ok=True)
        self.node_count = nodes
        self.node_toml = node_toml
        self.per_node_toml = list(per_node_toml or [])
        self.node_args = list(node_args or [])
        self.passive_ports = passive_ports
        self.cache_seconds = cache_seconds
        self.threads = threads
        self.postgres = postgres
        self.own_postgres = postgres is None
        self.ftp_port = ftp_port
        self.database = ""
        self.store = ""
        self.nodes: list[Node] = []
        self.haproxy: subprocess.Popen | None = None
        self.haproxy_config = self.workdir / "haproxy.cfg"
        self.haproxy_log = self.workdir / "haproxy.log"
        # A unix socket path must stay under 108 bytes: pytest's tmp_path may be long.
        self.stats_dir = Path(tempfile.mkdtemp(prefix="muxftpd-haproxy-"))
        self.stats_socket = self.stats_dir / "stats.sock"
        self._taken: set[int] = set()  # ports given out: control and passive, nodes and balancer

    # -- life ----------------------------------------------------------------------------------
    def __enter__(self) -> "ClusterBed":
        return self.start()

    def __exit__(self, *exc) -> None:
        problems = self.stop()
        if problems and exc[0] is None:
            raise AssertionError("\n".join(problems))

    def start(self) -> "ClusterBed":
        try:
            self._start_database()
            self._start_nodes()
            self._start_haproxy()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_database(self) -> None:
        if self.postgres is None:
            self.postgres = PostgresCluster()
            self.postgres.init()
            self.postgres.start()
        # A fresh database per bed, so beds sharing one PostgreSQL do not see each other's users.
        self.database = f"cluster_{os.getpid()}_{id(self):x}"
        createdb = self.postgres.bin / "createdb"
        done = subprocess.run([str(createdb), "-h", "127.0.0.1", "-p", str(self.postgres.port),
                               "-U", DB_USER, self.database],
                              capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"createdb failed: {done.stdout}{done.stderr}")
        self.store = (f"postgresql:host=127.0.0.1 port={self.postgres.port} user={DB_USER} "
                      f"dbname={self.database}")
        self.muxftpd("db", "init", "--store", self.store)
        self.add_user(USER, PASSWORD, "--permissions", "all")

    def _start_nodes(self) -> None:
        taken = self._taken
        for i in range(self.node_count):
            name = f"node{i + 1}"
            low = free_port_range(self.passive_ports, (HOST, BALANCER))
            for _ in range(20):  # not overlapping another node's range
                if all(p not in taken for p in range(low, low + self.passive_ports)):
                    break
                low = free_port_range(self.passive_ports, (HOST, BALANCER))
            high = low + self.passive_ports - 1
            taken.update(range(low, high + 1))
            port = free_port(HOST)
            for _ in range(100):
                if port not in taken:
                    break
                port = free_port(HOST)
            taken.add(port)
            workdir = self.workdir / name
            workdir.mkdir(exist_ok=True)
            config = workdir / "muxftpd.toml"
            config.write_text(NODE_TOML.format(
                name=name, store=toml_string(self.store), cache_seconds=self.cache_seconds,
                host=HOST, low=low, high=high, balancer=BALANCER) + self.node_toml
                + (self.per_node_toml[i] if i < len(self.per_node_toml) else ""))
            node = Node(i, name, port, low, high, config, workdir)
            self.nodes.append(node)
            self._run_node(node)

    def _run_node(self, node: Node) -> None:
        # Its own session, as HAProxy's: a Ctrl-C meant for `make cluster` is for the runner.
        srv = FtpServer(node.workdir, users=[], root=self.root, port=node.port,
                        threads=self.threads, new_session=True,
                        extra=["--config", str(node.config), *self.node_args])
        node.server = srv
        node.history.append(srv)
        srv.start()

    def _start_haproxy(self) -> None:
        for _ in range(100):  # not inside a node's passive range, which HAProxy binds too
            if self.ftp_port != 0 and self.ftp_port not in self._taken:
                break
            self.ftp_port = free_port(BALANCER)
        self.haproxy_config.write_text(self.haproxy_config_text())
        self.haproxy = subprocess.Popen([HAPROXY, "-f", str(self.haproxy_config), "-db"],
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=open(self.haproxy_log, "ab"),
                                        start_new_session=True)
        # Listening, and every node seen UP by a health check.
        if not wait_until(lambda: self._answers(BALANCER, self.ftp_port)
                          and self.stats_socket.exists(), timeout=15):
            raise RuntimeError("haproxy did not start:\n" + self.haproxy_log.read_text())
        for i in range(len(self.nodes)):
            self.wait_server_state(i, "UP", timeout=15)

    def haproxy_config_text(self, balancer: str = BALANCER, ftp_port: int | None = None,
                            stats_socket: str | None = None) -> str:
        text = HAPROXY_GLOBAL.format(stats_socket=stats_socket or self.stats_socket,
                                     balancer=balancer,
                                     ftp_port=ftp_port if ftp_port else self.ftp_port)
        for n in self.nodes:
            text += HAPROXY_NODE_SERVER.format(name=n.name, host=HOST, port=n.port)
        for n in self.nodes:
            text += HAPROXY_NODE_PASSIVE.format(name=n.name, balancer=balancer, low=n.low,
                                                high=n.high, host=HOST)
        return text

    def stop(self) -> list[str]:
        """Stops everything; returns the problems found (a node that died on its own, a
        sanitizer report), empty when all is well."""
        problems: list[str] = []
        if self.haproxy is not None and self.haproxy.poll() is None:
            self.haproxy.terminate()
            try:
                self.haproxy.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.haproxy.kill()
                self.haproxy.wait(timeout=10)
        self.haproxy = None
        for node in self.nodes:
            for srv in node.history:
                problems += [f"{node.name}: {p}" for p in srv.stop()]
            node.history = []
            node.server = None
        if self.postgres is not None:
            try:
                if self.own_postgres:
                    self.postgres.destroy()
                elif self.database:
                    subprocess.run([str(self.postgres.bin / "dropdb"), "-h", "127.0.0.1", "-p",
                                    str(self.postgres.port), "-U", DB_USER, "--if-exists",
                                    self.database], capture_output=True, timeout=60)
            except Exception as e:  # noqa: BLE001 - report, keep tearing down
                problems.append(f"postgres: {e}")
            if self.own_postgres:
                self.postgres = None
        shutil.rmtree(self.stats_dir, ignore_errors=True)
        return problems

    # -- nodes ---------------------------------------------------------------------------------
    def kill_node(self, i: int) -> None:
        """kill -9 node i: no clean-up of any kind in the server."""
        srv = self.nodes[i].server
        assert srv is not None
        srv.crash()

    def restart_node(self, i: int, wait_up: bool = True) -> None:
        """Starts node i again on the same ports (after kill_node or a stop)."""
        node = self.nodes[i]
        if node.alive():
            raise RuntimeError(f"{node.name} still runs")
        self._run_node(node)
        if wait_up and self.haproxy is not None:
            self.wait_server_state(i, "UP", timeout=15)

    def node_index(self, name: str) -> int:
        for n in self.nodes:
            if n.name == name:
                return n.index
        raise KeyError(name)

    # -- administration ------------------------------------------------------------------------
    def muxftpd(self, *args: str, password: str | None = None,
                check: bool = True) -> subprocess.CompletedProcess:
        """An administration subcommand (db, user); the password, if any, on stdin."""
        return muxftpd_admin(*args, password=password, check=check)

    def add_user(self, name: str, password: str, *flags: str) -> None:
        """`muxftpd user add NAME --store ... FLAGS` (e.g. --home, --permissions, --quota-bytes,
        --max-sessions). The nodes see it within cache_seconds."""
        self.muxftpd("user", "add", name, "--store", self.store, *flags, password=password)

    def del_user(self, name: str) -> None:
        self.muxftpd("user", "del", name, "--store", self.store)

    def psql(self, sql: str) -> str:
        """Runs SQL on the bed's database (psql -At); its output."""
        done = subprocess.run([str(self.postgres.bin / "psql"), "-h", "127.0.0.1", "-p",
                               str(self.postgres.port), "-U", DB_USER, "-d", self.database,
                               "-v", "ON_ERROR_STOP=1", "-At", "-c", sql],
                              capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise AssertionError(f"psql: {done.stderr}")
        return done.stdout

    # -- HAProxy -------------------------------------------------------------------------------
    def haproxy_command(self, command: str) -> str:
        """One command on HAProxy's stats socket (management guide, "show stat", "set server")."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(5)
            s.connect(str(self.stats_socket))
            s.sendall(command.encode() + b"\n")
            out = b""
            while chunk := s.recv(65536):
                out += chunk
        return out.decode("utf-8", "replace")

    def server_states(self) -> dict[str, str]:
        """Each node's status as HAProxy's control backend sees it: UP, DOWN, MAINT, ... (a node
        between states reads e.g. "UP 1/2")."""
        states: dict[str, str] = {}
        text = self.haproxy_command("show stat")
        header: list[str] = []
        for line in text.splitlines():
            if line.startswith("# "):
                header = line[2:].split(",")
                continue
            fields = line.split(",")
            if not header or len(fields) < len(header):
                continue
            row = dict(zip(header, fields))
            if row.get("pxname") == "muxftpd" and row.get("svname") not in ("FRONTEND",
                                                                             "BACKEND"):
                states[row["svname"]] = row.get("status", "")
        return states

    def server_state(self, i: int) -> str:
        return self.server_states().get(self.nodes[i].name, "")

    def wait_server_state(self, i: int, state: str, timeout: float = 15.0) -> None:
        def reached() -> bool:
            try:
                return self.server_state(i) == state
            except OSError:  # the stats socket is not there yet
                return False
        if not wait_until(reached, timeout=timeout, interval=0.1):
            raise AssertionError(f"{self.nodes[i].name} not {state} within {timeout} s: "
                                 f"{self.server_states()}")

    def set_server_state(self, i: int, state: str) -> None:
        """ready, drain or maint for node i in the control backend."""
        out = self.haproxy_command(f"set server muxftpd/{self.nodes[i].name} state {state}")
        if out.strip():
            raise AssertionError(out)

    # -- clients -------------------------------------------------------------------------------
    def ftp(self, user: str | None = USER, password: str = PASSWORD,
            source: str = CLIENT_HOSTS[0], timeout: float = 20.0) -> ftplib.FTP:
        """An ftplib client through the balancer, logged in unless user is None."""
        f = ftplib.FTP(timeout=timeout)
        f.connect(BALANCER, self.ftp_port, source_address=(source, 0))
        if user is not None:
            f.login(user, password)
        return f

    def node_ftp(self, i: int, user: str | None = USER, password: str = PASSWORD,
                 source: str = CLIENT_HOSTS[0], timeout: float = 20.0) -> ftplib.FTP:
        """An ftplib client straight to node i, sending the PROXY v2 header HAProxy would, with
        `source` as the client's address (see ProxiedFTP)."""
        f = ProxiedFTP(source, (BALANCER, self.ftp_port), timeout=timeout)
        f.connect(HOST, self.nodes[i].port)
        if user is not None:
            f.login(user, password)
        return f

    def node_raw(self, i: int, source: str = CLIENT_HOSTS[0],
                 timeout: float = 20.0) -> RawControl:
        """A hand-spoken control connection straight to node i, with the PROXY v2 header
        HAProxy would send for a client at `source` (from HOST, as ProxiedFTP). The greeting
        (or a 421) is left unread: `c.reply()`."""
        sock = socket.create_connection((HOST, self.nodes[i].port), timeout=timeout,
                                        source_address=(HOST, 0))
        sport = sock.getsockname()[1]
        sock.sendall(v2(source, BALANCER, sport, self.ftp_port))
        return _raw_control(sock, self.nodes[i].server.transcript, timeout)

    def raw(self, source: str = CLIENT_HOSTS[0], timeout: float = 20.0) -> RawControl:
        """A hand-spoken control connection through the balancer from `source`; the greeting
        is left unread."""
        sock = socket.create_connection((BALANCER, self.ftp_port), timeout=timeout,
                                        source_address=(source, 0))
        return _raw_control(sock, [], timeout)

    def node_of(self, f: ftplib.FTP) -> int:
        """The index of the node that greeted this client (its banner names it)."""
        m = BANNER_RE.match(f.getwelcome() or "")
        if not m:
            raise AssertionError(f"greeting names no node: {f.getwelcome()!r}")
        return self.node_index(m.group(1))

    @staticmethod
    def client_address(f: ftplib.FTP) -> tuple[str, int]:
        """The client address a node sees for f (through the balancer or node_ftp)."""
        if isinstance(f, ProxiedFTP):
            return f.client_address()
        return f.sock.getsockname()[:2]

    def served_by(self, client: tuple[str, int]) -> list[int]:
        """The nodes whose logs name this client address:port (the PROXY header's source):
        which node served a connection made by curl or any other client."""
        needle = f" {client[0]}:{client[1]} "
        return [n.index for n in self.nodes if needle in n.log()]

    def url(self, user: str = USER, password: str = PASSWORD, path: str = "") -> str:
        """The ftp:// URL of the balancer (for curl, lftp)."""
        return f"ftp://{user}:{password}@{BALANCER}:{self.ftp_port}/{path.lstrip('/')}"

    def node_url(self, i: int, user: str = USER, password: str = PASSWORD,
                 path: str = "") -> str:
        """The ftp:// URL of node i itself: only for a client that sends a PROXY header from
        HOST (curl --interface 127.0.0.1 --haproxy-protocol)."""
        return f"ftp://{user}:{password}@{HOST}:{self.nodes[i].port}/{path.lstrip('/')}"

    @staticmethod
    def _answers(host: str, port: int) -> bool:
        try:
            socket.create_connection((host, port), timeout=1).close()
            return True
        except OSError:
            return False


# -- pytest fixtures ---------------------------------------------------------------------------
# A test module gets them with `from cluster_support import cluster_postgres, make_cluster`
# (pytest finds fixtures imported into the module) and skips when unavailable() says why.

try:
    import pytest
except ImportError:  # the `make cluster` runner needs no pytest
    pytest = None

if pytest is not None:
    @pytest.fixture(scope="module")
    def cluster_postgres():
        """One throwaway PostgreSQL per test module; each bed makes its own database in it."""
        why = unavailable()
        if why:
            pytest.skip(f"cluster bed: {why}")
        with started_postgres(init_schema=False) as cluster:
            yield cluster

    @pytest.fixture
    def make_cluster(cluster_postgres, tmp_path):
        """make_cluster(**ClusterBed options) -> a started bed, stopped at teardown; the test
        fails if a node died on its own or wrote a sanitizer report."""
        beds: list[ClusterBed] = []

        def start(**options) -> ClusterBed:
            bed = ClusterBed(tmp_path / f"cluster{len(beds) + 1}", postgres=cluster_postgres,
                             **options)
            beds.append(bed)
            return bed.start()

        yield start
        problems: list[str] = []
        for bed in beds:
            problems += bed.stop()
        if problems:
            pytest.fail("\n".join(problems), pytrace=False)


# -- make cluster ------------------------------------------------------------------------------

def main(argv: list[str]) -> int:
    import argparse
    import secrets
    parser = argparse.ArgumentParser(description="The muxftpd cluster test bed, in the "
                                     "foreground until Ctrl-C (make cluster).")
    parser.add_argument("--port", type=int, default=2121, help="the balancer's control port")
    parser.add_argument("--nodes", type=int, default=2)
    parser.add_argument("--root", default="", help="the shared root (default: a temporary "
                        "directory, removed at the end)")
    parser.add_argument("--user", default="ftpuser")
    args = parser.parse_args(argv)
    why = unavailable()
    if why:
        print(f"cluster: cannot run here: {why}", file=sys.stderr)
        return 1
    workdir = Path(tempfile.mkdtemp(prefix="muxftpd-cluster-"))
    root = Path(args.root).resolve() if args.root else None
    if root is not None:
        root.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(12)
    bed = ClusterBed(workdir, nodes=args.nodes, ftp_port=args.port, root=root)
    stop = {"now": False}

    def on_signal(signum, frame):
        stop["now"] = True
    signal.signal(signal.SIGTERM, on_signal)
    # Ctrl-C, even when started from a script in the background (which ignores SIGINT).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        print("cluster: starting PostgreSQL, the nodes and HAProxy ...", flush=True)
        bed.start()
        bed.add_user(args.user, password, "--permissions", "all")
        url = f"ftp://{args.user}:{password}@{BALANCER}:{bed.ftp_port}/"
        print(f"""
muxftpd cluster: {len(bed.nodes)} nodes behind HAProxy, accounts in PostgreSQL
  balancer     {BALANCER}:{bed.ftp_port} (HAProxy, PROXY v2 to the nodes)
  user         {args.user}
  password     {password}
  nodes        {', '.join(f'{n.name} {HOST}:{n.port} passive {n.low}-{n.high}'
                          for n in bed.nodes)}
  shared root  {bed.root}
  PostgreSQL   {bed.store.removeprefix('postgresql:')}
  logs         {workdir}/node*/ (muxftpd), {bed.haproxy_log}

  curl -s {url}                       # list
  curl -s -T FILE {url}               # upload
  lftp -u {args.user},{password} {BALANCER}:{bed.ftp_port}
  {MUXFTPD} user add NAME --store '{bed.store}'

The greeting names the node that answered ("220 muxftpd node1 ready"). Ctrl-C stops it all.
""", flush=True)
        while not stop["now"]:
            for n in bed.nodes:
                if not n.alive():
                    print(f"cluster: {n.name} exited; see {n.workdir}", flush=True)
                    stop["now"] = True
            if bed.haproxy is not None and bed.haproxy.poll() is not None:
                print(f"cluster: haproxy exited; see {bed.haproxy_log}", flush=True)
                stop["now"] = True
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        print("\ncluster: stopping ...", flush=True)
        problems = bed.stop()
        for p in problems:
            print(f"cluster: {p}", file=sys.stderr)
        shutil.rmtree(workdir, ignore_errors=True)  # the logs, and the root unless --root
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
