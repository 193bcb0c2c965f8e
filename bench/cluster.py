"""The cluster's costs, side by side in one run (issue #13): what a PostgreSQL user store, the
cluster's shared state and HAProxy in front each cost one muxftpd node.

    make bench-cluster                    # or: /usr/bin/python3 bench/cluster.py
    ROUNDS=3 LOGIN_SECONDS=5 XFER_SECONDS=6 CLIENTS=100 FILE_MB=4 HASH=sha512 python3 bench/cluster.py

Set-up (all on loopback; muxftpd, HAProxy and PostgreSQL are started here and torn down at the
end, whatever happens):
- a throwaway PostgreSQL (tests/integration/ftpd/postgres_support.py: no fsync, trust auth),
  `muxftpd db init` on it;
- one account, `bench`, with the SAME password hash in the users file and in PostgreSQL:
  HASH=sha512 (default) a `$6$` sha512-crypt hash (5000 rounds, as bench/ftp.sh) written into
  both; HASH=argon2id `muxftpd user add` into both stores (it always hashes argon2id,
  interactive limits: then the hash, not the store, is most of a login);
- six muxftpd nodes, each `--threads 1 --io epoll`, `fsync_uploads = false`, no per-address
  limit, started once and measured in turn (rows interleaved, round after round):
    file        --users-file
    pg          user_store = postgresql (answers cached user_cache_seconds = 5, the default)
    pg-nocache  the same with user_cache_seconds = 0: one user lookup per login
    pg+node     the same with node_name: a cluster member (heartbeat, shared bans)
    pg+claims   pg+node with max_sessions_per_user = 1000: every login claims a session place
                in cluster_sessions (a transaction with an advisory lock) and frees it at QUIT
    haproxy     pg+claims behind HAProxy (TCP mode, send-proxy-v2, proxy_protocol = "required",
                passive ports forwarded port for port, passive_address the balancer)
- the load: apps/ftp_load (`ftp-load`, C++, one epoll thread):
    logins  LOGIN_CLIENTS (20) clients connect, USER/PASS, QUIT, again, for LOGIN_SECONDS;
    retr    CLIENTS (100) clients RETR a FILE_MB MiB file, again, for XFER_SECONDS;
    stor    CLIENTS clients STOR FILE_MB MiB, again, for XFER_SECONDS;
  the transfer rows compare pg+claims (direct) with haproxy.
ROWS=retr,stor runs only those modes; HAPROXY_SPLICE=1 gives HAProxy `option splice-auto`.
Each row's value is the median over ROUNDS; the CPU columns are user+system seconds of muxftpd,
PostgreSQL (all its processes) and HAProxy per login (or per MiB) over the same runs.
"""
from __future__ import annotations

import json
import os
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "tests/integration/ftpd"))
sys.path.insert(0, str(HERE))

BIN = Path(os.environ.get("BIN_DIR", REPO / "build/bin"))
os.environ.setdefault("MUXFTPD", str(BIN / "muxftpd"))

from ftp_load import server_cpu_ticks, CLK_TCK  # noqa: E402
from postgres_support import DB_USER, PostgresCluster, muxftpd_admin  # noqa: E402
from cluster_support import find_haproxy  # noqa: E402

MUXFTPD = str(BIN / "muxftpd")
FTP_LOAD = str(BIN / "ftp-load")
HOST = "127.0.0.1"
BALANCER = "127.0.0.4"
USER, PASSWORD = "bench", "bench-cluster-pw"

ROUNDS = int(os.environ.get("ROUNDS", "3"))
LOGIN_CLIENTS = int(os.environ.get("LOGIN_CLIENTS", "20"))
LOGIN_SECONDS = float(os.environ.get("LOGIN_SECONDS", "5"))
CLIENTS = int(os.environ.get("CLIENTS", "100"))
XFER_SECONDS = float(os.environ.get("XFER_SECONDS", "6"))
FILE_MB = int(os.environ.get("FILE_MB", "4"))
HASH = os.environ.get("HASH", "sha512")
# HAPROXY_SPLICE=1: `option splice-auto` (the kernel moves the bytes between the two sockets,
# pipe to pipe, instead of HAProxy copying them through user space).
SPLICE = os.environ.get("HAPROXY_SPLICE") == "1"
# ROWS: the modes to run, e.g. ROWS=retr,stor (default all: logins,retr,stor).
MODES = os.environ.get("ROWS", "logins,retr,stor").split(",")
PASSIVE_PORTS = int(os.environ.get("PASSIVE_PORTS", "300"))

TAKEN: set[int] = set()  # passive ports given to a node

BASE_TOML = """\
fsync_uploads = false
max_sessions = 0
max_sessions_per_ip = 0
log_level = "warn"
"""


def bindable(port: int) -> bool:
    for host in (HOST, BALANCER):
        with socket.socket() as s:
            try:
                s.bind((host, port))
            except OSError:
                return False
    return True


def passive_range(n: int) -> int:
    """n consecutive ports below the kernel's ephemeral range (which the loads' connections and
    their TIME_WAITs fill), free now on HOST and BALANCER and not another node's."""
    low = 20000
    while low + n < 32000:
        ports = range(low, low + n)
        if not TAKEN & set(ports) and all(bindable(p) for p in ports):
            TAKEN.update(ports)
            return low
        low += n
    raise RuntimeError(f"no {n} free ports in 20000-32000")


def free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class Node:
    """One muxftpd process; its stderr in workdir/NAME.stderr."""

    def __init__(self, name: str, workdir: Path, root: Path, toml: str, args: list[str]):
        self.name = name
        self.dir = workdir / name
        self.dir.mkdir()
        # A few hundred passive ports, as docs/DEPLOYMENT.md advises: 100 clients set up
        # transfers at once.
        self.low = passive_range(PASSIVE_PORTS)
        self.high = self.low + PASSIVE_PORTS - 1
        (self.dir / "muxftpd.toml").write_text(
            BASE_TOML + f'passive_ports = "{self.low}-{self.high}"\n' + toml)
        self.cmd = [MUXFTPD, "--config", str(self.dir / "muxftpd.toml"), "--listen",
                    f"{HOST}:0", "--root", str(root), "--threads", "1", "--io", "epoll", *args]
        self.proc: subprocess.Popen | None = None
        self.port = 0

    def start(self) -> None:
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=open(self.dir / "stderr", "ab"),
                                     start_new_session=True)
        line, deadline = b"", time.monotonic() + 15
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} did not start: {line!r} "
                                   f"{(self.dir / 'stderr').read_text()[-2000:]}")
            if select.select([self.proc.stdout], [], [], left)[0]:
                line += os.read(self.proc.stdout.fileno(), 4096)
        first = line.decode().splitlines()[0]
        self.port = int(first.split("listening on ")[1].split()[0].rsplit(":", 1)[1])

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def haproxy_config(node: Node, port: int, stats: Path) -> str:
    # As tests/integration/ftpd/cluster_support.py (docs/DEPLOYMENT.md): the control port with
    # PROXY v2 to the node, the node's passive range forwarded port for port without a header.
    return f"""global
    maxconn 4000
    stats socket {stats} mode 600 level admin
defaults
    mode tcp
    timeout connect 5s
    timeout client 6m
    timeout server 6m
    timeout check 2s
{"    option splice-auto" if SPLICE else ""}
frontend ftp
    bind {BALANCER}:{port}
    default_backend muxftpd
backend muxftpd
    option tcp-check
    tcp-check expect rstring ^220
    server {node.name} {HOST}:{node.port} send-proxy-v2 check check-send-proxy inter 2s
frontend passive
    bind {BALANCER}:{node.low}-{node.high}
    default_backend passive
backend passive
    server {node.name} {HOST}
"""


def postgres_pid(pg: PostgresCluster) -> int:
    return int((pg.data / "postmaster.pid").read_text().split()[0])


def cpu_of(pids: dict[str, int]) -> dict[str, int]:
    return {k: server_cpu_ticks(p) for k, p in pids.items()}


def ftp_load(host: str, port: int, mode: list[str], seconds: float) -> dict:
    argv = [FTP_LOAD, f"{host}:{port}", "--user", USER, "--password-env", "FTP_PASSWORD",
            "--json", "--threads", "1", "--timeout", "20", "--seconds", f"{seconds:g}", *mode]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 90,
                          env=dict(os.environ, FTP_PASSWORD=PASSWORD))
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        raise RuntimeError(f"ftp-load exit {done.returncode}: {done.stderr.strip()[-500:]}")
    return json.loads(lines[-1])


def main() -> int:
    haproxy = find_haproxy()
    why = PostgresCluster.available() or (None if haproxy else "haproxy not installed")
    if why:
        print(f"bench-cluster: cannot run here: {why}", file=sys.stderr)
        return 1
    for b in (MUXFTPD, FTP_LOAD):
        if not os.access(b, os.X_OK):
            print(f"bench-cluster: {b} missing (make build)", file=sys.stderr)
            return 1
    work = Path(tempfile.mkdtemp(prefix="muxftpd-bench-cluster-"))
    os.chmod(work, 0o755)
    root = work / "root"
    root.mkdir()
    with open(root / "file.bin", "wb") as f:
        f.write(os.urandom(FILE_MB << 20))
    (root / "up").mkdir()
    pg = PostgresCluster()
    nodes: list[Node] = []
    ha: subprocess.Popen | None = None
    try:
        print(f"bench-cluster: PostgreSQL, 6 nodes, HAProxy in {work} ...", flush=True)
        pg.init()
        pg.start()
        store = f"postgresql:host=127.0.0.1 port={pg.port} user={DB_USER} dbname=postgres"
        muxftpd_admin("db", "init", "--store", store)
        users = work / "users"
        if HASH == "argon2id":
            users.write_text("")
            muxftpd_admin("user", "add", USER, "--store", f"file:{users}", "--permissions",
                          "all", password=PASSWORD)
            muxftpd_admin("user", "add", USER, "--store", store, "--permissions", "all",
                          password=PASSWORD)
        else:
            h = subprocess.run(["openssl", "passwd", "-6", "-salt", "benchclusterab", PASSWORD],
                               capture_output=True, text=True, check=True).stdout.strip()
            users.write_text(f"{USER}:{h}:all:\n")
            muxftpd_admin("user", "add", USER, "--store", store, "--permissions", "all",
                          password=PASSWORD)
            subprocess.run([str(pg.bin / "psql"), "-h", "127.0.0.1", "-p", str(pg.port), "-U",
                            DB_USER, "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-qc",
                            f"UPDATE users SET password_hash = '{h}' WHERE name = '{USER}'"],
                           check=True, capture_output=True, timeout=60)
        # The same kind of hash in both stores, or the comparison means nothing.
        file_hash = users.read_text().split(":")[1]
        pg_hash = subprocess.run([str(pg.bin / "psql"), "-h", "127.0.0.1", "-p", str(pg.port),
                                  "-U", DB_USER, "-d", "postgres", "-tAc",
                                  f"SELECT password_hash FROM users WHERE name = '{USER}'"],
                                 check=True, capture_output=True, text=True).stdout.strip()
        kinds = {file_hash.split("$")[1], pg_hash.split("$")[1]}
        assert len(kinds) == 1, f"hash kinds differ: {kinds}"
        hash_kind = kinds.pop()
        pg_toml = f'user_store = "{store}"\n'
        claims = "max_sessions_per_user = 1000\n"
        spec = {
            "file": ("", ["--users-file", str(users)]),
            "pg": (pg_toml, []),
            "pg-nocache": (pg_toml + "user_cache_seconds = 0\n", []),
            "pg+node": (pg_toml + 'node_name = "n1"\n', []),
            "pg+claims": (pg_toml + 'node_name = "n2"\n' + claims, []),
            "haproxy": (pg_toml + 'node_name = "n3"\n' + claims + 'proxy_protocol = "required"\n'
                        f'proxy_trusted_networks = ["{HOST}/32"]\n'
                        f'passive_trusted_networks = ["{HOST}/32"]\n'
                        f'passive_address = "{BALANCER}"\n', []),
        }
        for name, (toml, args) in spec.items():
            nodes.append(Node(name, work, root, toml, args))
            nodes[-1].start()
        by = {n.name: n for n in nodes}
        hp = free_port(BALANCER)
        stats = work / "haproxy.sock"
        (work / "haproxy.cfg").write_text(haproxy_config(by["haproxy"], hp, stats))
        ha = subprocess.Popen([haproxy, "-f", str(work / "haproxy.cfg"), "-db"],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=open(work / "haproxy.log", "ab"), start_new_session=True)
        for _ in range(100):
            try:
                socket.create_connection((BALANCER, hp), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        time.sleep(1.0)
        pids = {"pg": postgres_pid(pg), "ha": ha.pid}
        target = {n.name: (HOST, n.port) for n in nodes}
        target["haproxy"] = (BALANCER, hp)
        rows = [("logins", n.name) for n in nodes] + [
            (m, t) for m in ("retr", "stor") for t in ("pg+claims", "haproxy")]
        rows = [r for r in rows if r[0] in MODES]
        modes = {
            "logins": (["--mode", "login", "--clients", str(LOGIN_CLIENTS)], LOGIN_SECONDS),
            "retr": (["--mode", "retr", "--clients", str(CLIENTS), "--path", "file.bin"],
                     XFER_SECONDS),
            "stor": (["--mode", "stor", "--clients", str(CLIENTS), "--path", "up/u",
                      "--size", str(FILE_MB << 20)], XFER_SECONDS),
        }
        results: dict[tuple[str, str], list[dict]] = {r: [] for r in rows}
        # Warm-up: every node's first login (the store connection, the lookup cache).
        for n in nodes:
            ftp_load(*target[n.name], ["--mode", "login", "--clients", "2"], 1)
        for rnd in range(ROUNDS):
            for row in rows:
                mode, node = row
                pids["ftpd"] = by[node].proc.pid
                c0, t0 = cpu_of(pids), time.monotonic()
                r = ftp_load(*target[node], modes[mode][0], modes[mode][1])
                c1 = cpu_of(pids)
                r["cpu"] = {k: (c1[k] - c0[k]) / CLK_TCK for k in c0}
                r["wall"] = time.monotonic() - t0
                results[row].append(r)
                unit = "logins/s" if mode == "logins" else "MiB/s"
                rate = rate_of(mode, r)
                fails = sum(r.get("failures", {}).values())
                why = ", ".join(f"{n}x {k}" for k, n in sorted(
                    r.get("failures", {}).items(), key=lambda kv: -kv[1])[:3])
                print(f"  round {rnd + 1} {mode:6} {node:9} {rate:9.1f} {unit}"
                      f"{f'  ({fails} failed: {why})' if fails else ''}", flush=True)
        # Nothing in the users' way: every node still up.
        for n in nodes:
            if n.proc.poll() is not None:
                raise RuntimeError(f"{n.name} died: {(n.dir / 'stderr').read_text()[-2000:]}")
        report(results, rows, hash_kind)
    finally:
        if ha is not None and ha.poll() is None:
            ha.terminate()
            ha.wait(timeout=10)
        for n in nodes:
            n.stop()
        pg.destroy()
        if os.environ.get("KEEP") != "1":
            shutil.rmtree(work, ignore_errors=True)
    return 0


def rate_of(mode: str, r: dict) -> float:
    if mode == "logins":
        return r["ops"] / max(r["seconds"], 1e-9)
    return r["bytes"] / (1 << 20) / max(r["seconds"], 1e-9)


def report(results, rows, hash_kind) -> None:
    med = {}
    print()
    print(f"muxftpd cluster costs: {ROUNDS} rounds, median; hash ${hash_kind}$ in both stores; "
          f"logins: {LOGIN_CLIENTS} clients x {LOGIN_SECONDS:g} s; transfers: {CLIENTS} clients "
          f"x {XFER_SECONDS:g} s of a {FILE_MB} MiB file; {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f} at the end")
    print(f"{'row':18} {'rate':>10} {'ratio':>7}  {'all runs':24} "
          f"{'ftpd ms':>8} {'pg ms':>7} {'ha ms':>7} {'load ms':>7} {'p50 ms':>7}")
    base = {"logins": "file", "retr": "pg+claims", "stor": "pg+claims"}
    if SPLICE:
        print("HAProxy with option splice-auto")
    for row in rows:
        mode, node = row
        runs = results[row]
        rates = [rate_of(mode, r) for r in runs]
        med[row] = statistics.median(rates)
    for row in rows:
        mode, node = row
        runs = results[row]
        rates = [rate_of(mode, r) for r in runs]
        units = sum(r["ops"] if mode == "logins" else r["bytes"] / (1 << 20) for r in runs)
        cpu = {k: sum(r["cpu"][k] for r in runs) * 1000 / max(units, 1e-9)
               for k in ("ftpd", "pg", "ha")}
        cpu["load"] = sum(r["cpu_seconds"] for r in runs) * 1000 / max(units, 1e-9)
        p50 = statistics.median(r["p50_ms"] for r in runs)
        ratio = med[row] / med[(mode, base[mode])]
        # The balancer's own cost: against the same node configuration straight.
        direct = f" ({med[row] / med[(mode, 'pg+claims')]:.2f}x direct)" if (
            node == "haproxy" and mode == "logins" and (mode, "pg+claims") in med) else ""
        unit = "logins/s" if mode == "logins" else "MiB/s"
        fails = sum(sum(r.get("failures", {}).values()) for r in runs)
        print(f"{mode + ' ' + node:18} {med[row]:10.1f} {ratio:6.2f}x  "
              f"{' '.join(f'{x:.0f}' for x in rates):24} {cpu['ftpd']:8.3f} {cpu['pg']:7.3f} "
              f"{cpu['ha']:7.3f} {cpu['load']:7.3f} {p50:7.1f}  {unit}{direct}{f', {fails} failed' if fails else ''}")
    print()
    print("ratios: logins against `file` (haproxy also against pg+claims, its node's "
          "configuration straight); transfers against `pg+claims` straight to the node. "
          "CPU in ms (user+system) per login or per MiB of muxftpd, "
          "PostgreSQL, HAProxy and ftp-load; p50: the median operation's latency (a login: "
          "connect to 230; a transfer: the whole file).")


if __name__ == "__main__":
    sys.exit(main())
