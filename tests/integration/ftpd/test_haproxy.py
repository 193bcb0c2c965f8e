"""muxftpd behind a real HAProxy (Debian's haproxy) in TCP mode, sending the PROXY protocol
(send-proxy, send-proxy-v2): curl and lftp through the balancer, passive data connections
straight to the server or through HAProxy's passive port range, FTPS explicit and implicit, and
per-address limits and bans applied to the real client, not to the balancer.

Addresses: HAProxy listens on 127.0.0.4, muxftpd on 127.0.0.1; the clients come from 127.0.0.2
and 127.0.0.3. The configuration written here is the one docs/DEPLOYMENT.md shows."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from ftpd_support import HOST, PASSWORD, USER, pseudo_random_bytes, wait_until
from proxy_support import free_port_range, write_config

HAPROXY = shutil.which("haproxy") or ("/usr/sbin/haproxy" if os.access("/usr/sbin/haproxy",
                                                                        os.X_OK) else None)
CURL = shutil.which("curl")
LFTP = shutil.which("lftp")
BALANCER = "127.0.0.4"
pytestmark = [pytest.mark.skipif(HAPROXY is None, reason="haproxy not installed"),
              pytest.mark.time_limit(120)]

HAPROXY_CONFIG = """\
global
    maxconn 200

defaults
    mode tcp
    timeout connect 5s
    timeout client 60s
    timeout server 60s

# The control connection: the client's address goes to muxftpd in a PROXY header.
frontend ftp
    bind {balancer}:{ftp_port}
    default_backend muxftpd
backend muxftpd
    server ftpd1 {server}:{server_port} {send_proxy}

# Implicit FTPS: the same, TLS passes through untouched.
frontend ftps
    bind {balancer}:{ftps_port}
    default_backend muxftpd_tls
backend muxftpd_tls
    server ftpd1 {server}:{server_tls_port} {send_proxy}

# Passive data connections: the same port on the server (no port on the server line), no
# PROXY header (data connections carry none).
frontend ftp_passive
    bind {balancer}:{passive_low}-{passive_high}
    default_backend muxftpd_passive
backend muxftpd_passive
    server ftpd1 {server}
"""


def free_port(host: str) -> int:
    s = socket.socket()
    s.bind((host, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def certificate(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                    "-addext", f"subjectAltName=IP:{BALANCER},IP:{HOST}",
                    "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    return cert, key


class Setup:
    def __init__(self, srv, haproxy: subprocess.Popen, ftp_port: int, ftps_port: int,
                 cert: Path):
        self.srv, self.haproxy, self.ftp_port, self.ftps_port = srv, haproxy, ftp_port, ftps_port
        self.cert = cert


@pytest.fixture(params=["send-proxy", "send-proxy-v2"])
def balanced(request, make_server, tmp_path):
    """start(toml): muxftpd (PROXY protocol required, FTPS optional with an implicit listener)
    behind HAProxy; extra TOML keys appended."""
    procs: list[subprocess.Popen] = []

    def start(extra_toml: str = "") -> Setup:
        cert, key = certificate(tmp_path)
        low = free_port_range(20, (HOST, BALANCER))
        config = write_config(tmp_path / "muxftpd.toml",
                              'proxy_protocol = "required"\n'
                              f'proxy_trusted_networks = ["{HOST}/32"]\n'
                              # HAProxy connects to passive ports from 127.0.0.1.
                              f'passive_trusted_networks = ["{HOST}/32"]\n'
                              f'passive_ports = "{low}-{low + 19}"\n'
                              f'implicit_tls_listen = ["{HOST}:0"]\n'
                              'tls = "optional"\n'
                              f'tls_cert = "{cert}"\ntls_key = "{key}"\n' + extra_toml)
        srv = make_server(extra=["--config", str(config)])
        tls_port = int(srv.wait_stdout(r"implicit TLS on 127\.0\.0\.1:(\d+)").group(1))
        ftp_port, ftps_port = free_port(BALANCER), free_port(BALANCER)
        hcfg = write_config(tmp_path / "haproxy.cfg", HAPROXY_CONFIG.format(
            balancer=BALANCER, ftp_port=ftp_port, ftps_port=ftps_port, server=HOST,
            server_port=srv.port, server_tls_port=tls_port, send_proxy=request.param,
            passive_low=low, passive_high=low + 19))
        p = subprocess.Popen([HAPROXY, "-f", str(hcfg), "-db"], stdout=subprocess.DEVNULL,
                             stderr=open(tmp_path / "haproxy.log", "wb"))
        procs.append(p)

        def listening() -> bool:
            try:
                socket.create_connection((BALANCER, ftps_port), timeout=1).close()
                return True
            except OSError:
                return False
        assert wait_until(listening, timeout=10), (tmp_path / "haproxy.log").read_text()
        return Setup(srv, p, ftp_port, ftps_port, cert)

    yield start
    for p in procs:
        p.terminate()
        p.wait(timeout=10)


def run(cmd: list[str], timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, timeout=timeout)


def curl(*args: str) -> subprocess.CompletedProcess:
    return run([CURL, "-sS", "--max-time", "30", *args])


def put_file(s: Setup, name: str, size: int) -> bytes:
    data = pseudo_random_bytes(size, seed=size)
    (s.srv.root / name).write_bytes(data)
    return data


@pytest.mark.skipif(CURL is None, reason="curl not installed")
def test_curl_through_the_balancer(balanced):
    s = balanced()
    data = put_file(s, "big.bin", 300_000)
    url = f"ftp://{USER}:{PASSWORD}@{BALANCER}:{s.ftp_port}/big.bin"
    # EPSV: the data connection goes to the balancer's address and its passive port range.
    p = curl("--interface", "127.0.0.2", url)
    assert p.returncode == 0, p.stderr
    assert p.stdout == data
    # PASV: the advertised address is the PROXY header's destination (the balancer).
    p = curl("--interface", "127.0.0.2", "--disable-epsv", "--no-ftp-skip-pasv-ip", url)
    assert p.returncode == 0, p.stderr
    assert p.stdout == data
    # Upload.
    p = curl("--interface", "127.0.0.3", "-T", str(s.srv.root / "big.bin"),
             f"ftp://{USER}:{PASSWORD}@{BALANCER}:{s.ftp_port}/up.bin")
    assert p.returncode == 0, p.stderr
    assert (s.srv.root / "up.bin").read_bytes() == data
    # The server saw the real clients, not the balancer.
    err = s.srv.stderr_text()
    assert "127.0.0.2" in err and "127.0.0.3" in err


@pytest.mark.skipif(CURL is None, reason="curl not installed")
def test_passive_ports_reached_directly(balanced):
    # passive_address names the server itself: data connections bypass the balancer and come
    # from the client's own address, which the passive peer check accepts.
    s = balanced(f'passive_address = "{HOST}"\n')
    data = put_file(s, "f.bin", 50_000)
    p = curl("--interface", "127.0.0.2", "--disable-epsv", "--no-ftp-skip-pasv-ip",
             f"ftp://{USER}:{PASSWORD}@{BALANCER}:{s.ftp_port}/f.bin")
    assert p.returncode == 0, p.stderr
    assert p.stdout == data


@pytest.mark.skipif(LFTP is None, reason="lftp not installed")
def test_lftp_through_the_balancer(balanced, tmp_path):
    s = balanced()
    data = put_file(s, "l.bin", 120_000)
    home = tmp_path / "lftp-home"
    home.mkdir()
    cmds = ("set net:max-retries 1; set net:timeout 10; set ftp:ssl-allow no; "
            "set cmd:fail-exit yes; set xfer:clobber yes; set net:socket-bind-ipv4 127.0.0.2; "
            f"open -u {USER},{PASSWORD} ftp://{BALANCER}:{s.ftp_port}; ls; get l.bin -o got.bin")
    env = dict(os.environ, HOME=str(home), LC_ALL="C.UTF-8")
    p = subprocess.run([LFTP, "-c", cmds], capture_output=True, timeout=60, env=env,
                       cwd=tmp_path)
    assert p.returncode == 0, p.stderr.decode()[-2000:]
    assert b"l.bin" in p.stdout
    assert (tmp_path / "got.bin").read_bytes() == data


@pytest.mark.skipif(CURL is None, reason="curl not installed")
def test_ftps_explicit_and_implicit_through_the_balancer(balanced):
    s = balanced()
    data = put_file(s, "t.bin", 200_000)
    # Explicit: AUTH TLS on the proxied control connection, TLS data through the passive range.
    p = curl("--interface", "127.0.0.2", "--ssl-reqd", "--cacert", str(s.cert),
             f"ftp://{USER}:{PASSWORD}@{BALANCER}:{s.ftp_port}/t.bin")
    assert p.returncode == 0, p.stderr
    assert p.stdout == data
    # Implicit: the PROXY header comes before the TLS handshake.
    p = curl("--interface", "127.0.0.3", "--cacert", str(s.cert),
             f"ftps://{USER}:{PASSWORD}@{BALANCER}:{s.ftps_port}/t.bin")
    assert p.returncode == 0, p.stderr
    assert p.stdout == data


def connect(s: Setup, source: str) -> socket.socket:
    c = socket.create_connection((BALANCER, s.ftp_port), timeout=10,
                                 source_address=(source, 0))
    return c


def reply(c: socket.socket) -> bytes:
    buf = b""
    while b"\r\n" not in buf:
        chunk = c.recv(4096)
        if not chunk:
            break
        buf += chunk
    return buf


def test_limits_and_bans_apply_to_the_real_client(balanced):
    s = balanced("max_sessions_per_ip = 1\nmax_login_failures = 2\nban_seconds = 60\n")
    first = connect(s, "127.0.0.2")
    assert reply(first).startswith(b"220")
    # Everyone comes from the balancer's 127.0.0.1, yet only 127.0.0.2 is over its limit.
    second = connect(s, "127.0.0.2")
    assert reply(second).startswith(b"421")
    second.close()
    other = connect(s, "127.0.0.3")
    assert reply(other).startswith(b"220")
    for _ in range(2):
        other.sendall(f"USER {USER}\r\n".encode())
        assert reply(other).startswith(b"331")
        other.sendall(b"PASS wrong\r\n")
        assert reply(other)[:1] in (b"4", b"5")
    other.close()
    first.close()
    time.sleep(0.3)
    banned = connect(s, "127.0.0.3")
    assert reply(banned).startswith(b"421")
    banned.close()
    fine = connect(s, "127.0.0.2")
    assert reply(fine).startswith(b"220")
    fine.close()
