"""FTPS with the clients people use, as they use them: curl (several transfers on one control
connection, and --parallel), rclone (copy and sync both ways), lftp mirror, Python ftplib with
session reuse. Each runs with fast logins (--user) and with slow ones (an argon2id users file),
since a slow login changes how a client's connections interleave.

Also: a TLS upload cut by a bare TCP FIN (no close_notify) replaces nothing; every client above
ends its uploads with close_notify (their uploads are committed).
"""
from __future__ import annotations

import ftplib
import io
import shutil
import socket
import ssl
import subprocess
import time
from pathlib import Path

import pytest

from ftpd_support import (ftplib_retr as retr, HOST, MUXFTPD, PASSWORD, TIMEOUT, USER, make_certificate,
                          pseudo_random_bytes, temp_files)

CURL = shutil.which("curl")
LFTP = shutil.which("lftp")
RCLONE = shutil.which("rclone")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture(params=["fast-login", "slow-login"])
def ftps(request, make_server, certificate, tmp_path):
    """start(*flags): an FTPS server (tls required); alice's password is checked against an
    argon2id hash in a users file for slow-login."""
    def start(*flags: str, **options):
        cert, key = certificate
        extra = ["--tls", "required", "--tls-cert", str(cert), "--tls-key", str(key), *flags]
        if request.param == "slow-login":
            users = tmp_path / f"users-{time.monotonic_ns()}"
            subprocess.run([MUXFTPD, "passwd", str(users), USER], input=PASSWORD + "\n",
                           text=True, check=True, capture_output=True, timeout=60)
            return make_server(users=[], extra=["--users-file", str(users), *extra], **options)
        return make_server(extra=extra, **options)
    return start


def run(cmd: list[str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, timeout=timeout)


def write_files(directory: Path, n: int, size: int, seed: int) -> dict[str, bytes]:
    directory.mkdir(parents=True, exist_ok=True)
    files = {f"f{i:02d}.bin": pseudo_random_bytes(size + i, seed=seed + i) for i in range(n)}
    for name, data in files.items():
        (directory / name).write_bytes(data)
    return files


def assert_same_tree(expected: dict[str, bytes], directory: Path) -> None:
    got = {p.name: p.read_bytes() for p in directory.iterdir() if p.is_file()}
    assert sorted(got) == sorted(expected)
    for name, data in expected.items():
        assert got[name] == data, name


# --- curl ----------------------------------------------------------------------------------

def curl(certificate, *args: str) -> subprocess.CompletedProcess:
    return run([CURL, "-sS", "--max-time", "60", "--ssl-reqd", "--cacert", str(certificate[0]),
                *args])


def test_curl_three_downloads_on_one_control_connection(ftps, certificate, tmp_path):
    """curl -o a URL1 -o b URL2 -o c URL3: one control connection, three TLS 1.3 data
    connections, each resuming a session (OpenSSL's client uses each TLS 1.3 session once)."""
    srv = ftps()
    files = write_files(srv.root, 3, 300_000, seed=60)
    out = tmp_path / "out"
    out.mkdir()
    args = []
    for name in files:
        args += ["-o", str(out / name), f"{srv.url()}/{name}"]
    p = curl(certificate, "--tlsv1.3", *args)
    assert p.returncode == 0, p.stderr
    assert_same_tree(files, out)
    log = srv.stderr_text()
    assert log.count("TLS on the control connection: TLSv1.3") == 1, "one control connection"
    assert "refused" not in log


def test_curl_three_uploads_on_one_control_connection(ftps, certificate, tmp_path):
    """Uploads spend a session too (and get no ticket on their data connection); the ones
    after them still resume. The uploads are committed: curl ends them with close_notify."""
    srv = ftps()
    data = {n: pseudo_random_bytes(400_000 + n, seed=70 + n) for n in range(3)}
    local = tmp_path / "local"
    local.mkdir()
    for n, d in data.items():
        (local / f"u{n}").write_bytes(d)
    url = srv.url()
    # curl pairs each -T with the next URL: three uploads on one control connection.
    p = curl(certificate, *[a for n in data for a in ("-T", str(local / f"u{n}"), f"{url}/u{n}")])
    assert p.returncode == 0, p.stderr
    for n, d in data.items():
        assert (srv.root / f"u{n}").read_bytes() == d
    assert srv.stderr_text().count("TLS on the control connection") == 1
    assert "refused" not in srv.stderr_text()
    assert "without TLS close_notify" not in srv.stderr_text()


@pytest.mark.time_limit(240)
@pytest.mark.parametrize("n", [30, 100])
def test_curl_parallel_shares_one_session_cache(ftps, certificate, tmp_path, n):
    """curl -Z: n control connections at once, one shared session cache (a data connection
    often offers another control connection's session): served with --tls-reuse-scope client.
    Every one of them must arrive with a resumable session, however the logins interleave."""
    srv = ftps("--tls-reuse-scope", "client", "--max-sessions-per-ip", "200")
    files = write_files(srv.root, 30, 200_000, seed=80)
    names = sorted(files)
    out = tmp_path / "out"
    out.mkdir()
    config = tmp_path / "curl.cfg"
    config.write_text("".join(
        f'url = "{srv.url()}/{names[i % len(names)]}"\noutput = "{out}/{i}.bin"\n'
        for i in range(n)))
    p = curl(certificate, "--parallel", "--parallel-immediate", "--parallel-max", str(n),
             "-K", str(config), "-w", "%{exitcode} %{size_download}\n")
    results = [tuple(map(int, line.split())) for line in p.stdout.decode().splitlines()]
    failed = [r for r in results if r[0] != 0]
    assert len(results) == n and not failed, (failed, p.stderr[-2000:])
    for i in range(n):
        assert (out / f"{i}.bin").read_bytes() == files[names[i % len(names)]]
    assert "refused" not in srv.stderr_text()


# --- rclone --------------------------------------------------------------------------------

def rclone(srv, tmp_path, *args: str) -> subprocess.CompletedProcess:
    obscured = run([RCLONE, "obscure", PASSWORD]).stdout.decode().strip()
    remote = (f":ftp,host={HOST},port={srv.port},user={USER},pass={obscured},"
              f"explicit_tls=true,no_check_certificate=true:")
    cmd = [RCLONE, "--config", str(tmp_path / "rclone.conf"), "--retries", "1",
           "--low-level-retries", "1", "--contimeout", "10s", "--timeout", "30s"]
    return run([*cmd, *[a.replace("REMOTE:", remote) for a in args]], timeout=180)


@pytest.mark.time_limit(240)
def test_rclone_copy_and_sync_both_ways(ftps, certificate, tmp_path):
    """rclone's defaults: 4 transfers and 8 checkers on parallel control connections with one
    shared TLS session cache (Go's): needs --tls-reuse-scope client."""
    srv = ftps("--tls-reuse-scope", "client")
    up = tmp_path / "up"
    files = write_files(up, 12, 150_000, seed=90)
    p = rclone(srv, tmp_path, "copy", str(up), "REMOTE:/copied")
    assert p.returncode == 0, p.stderr[-3000:]
    assert_same_tree(files, srv.root / "copied")
    down = tmp_path / "down"
    p = rclone(srv, tmp_path, "copy", "REMOTE:/copied", str(down))
    assert p.returncode == 0, p.stderr[-3000:]
    assert_same_tree(files, down)
    # sync up: one file changed, one gone, one new.
    (up / "f00.bin").write_bytes(b"changed" * 1000)
    (up / "f01.bin").unlink()
    (up / "new.bin").write_bytes(b"new" * 5000)
    expected = {p.name: p.read_bytes() for p in up.iterdir()}
    p = rclone(srv, tmp_path, "sync", str(up), "REMOTE:/copied")
    assert p.returncode == 0, p.stderr[-3000:]
    assert_same_tree(expected, srv.root / "copied")
    p = rclone(srv, tmp_path, "sync", "REMOTE:/copied", str(down))
    assert p.returncode == 0, p.stderr[-3000:]
    assert_same_tree(expected, down)
    log = srv.stderr_text()
    assert "refused" not in log and "without TLS close_notify" not in log


# --- lftp ----------------------------------------------------------------------------------

@pytest.mark.time_limit(180)
def test_lftp_mirror_both_ways(ftps, certificate, tmp_path):
    srv = ftps()
    remote = srv.root / "tree"
    files = write_files(remote, 10, 120_000, seed=100)
    up = tmp_path / "up"
    up_files = write_files(up, 8, 90_000, seed=110)
    script = (f"set ftp:ssl-force true; set ftp:ssl-protect-data true; "
              f"set ssl:ca-file {certificate[0]}; set ssl:check-hostname no; "
              f"set net:max-retries 1; set net:timeout 10; "
              f"open -u {USER},{PASSWORD} ftp://{HOST}:{srv.port}; "
              f"mirror tree {tmp_path / 'down'}; mirror -R {up} uploaded")
    p = run([LFTP, "-c", script], timeout=150)
    assert p.returncode == 0, p.stderr
    assert_same_tree(files, tmp_path / "down")
    assert_same_tree(up_files, srv.root / "uploaded")
    log = srv.stderr_text()
    assert "refused" not in log and "without TLS close_notify" not in log


# --- Python ftplib -------------------------------------------------------------------------

class ReusingFTP_TLS(ftplib.FTP_TLS):
    """Resumes the control connection's current session on each data connection (the
    session the latest reply brought)."""

    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        if self._prot_p:
            conn = self.context.wrap_socket(conn, server_hostname=self.host,
                                            session=self.sock.session)
        return conn, size


def context_for(certificate, max_version=None) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(certificate[0]))
    if max_version is not None:
        ctx.maximum_version = max_version
    return ctx


def login(srv, certificate, ctx=None) -> ReusingFTP_TLS:
    f = ReusingFTP_TLS(context=ctx or context_for(certificate), timeout=TIMEOUT)
    f.connect(HOST, srv.port)
    f.auth()
    f.login(USER, PASSWORD)
    f.prot_p()
    return f


@pytest.mark.parametrize("version", ["TLSv1.2", "TLSv1.3"])
def test_ftplib_many_transfers_with_session_reuse(ftps, certificate, version):
    srv = ftps()
    ctx = context_for(certificate, getattr(ssl.TLSVersion, version.replace(".", "_")))
    f = login(srv, certificate, ctx)
    assert f.sock.version() == version
    for i in range(5):
        data = pseudo_random_bytes(100_000 + i, seed=120 + i)
        f.storbinary(f"STOR p{i}", io.BytesIO(data))  # ftplib unwraps: close_notify
        assert (srv.root / f"p{i}").read_bytes() == data
        assert retr(f, f"p{i}") == data
        assert f"p{i}" in f.nlst()
    f.quit()


def test_control_connection_older_than_the_session_lifetime(ftps, certificate):
    """With a 2 s session lifetime, a control connection 3 s old still gets its data
    connections: each transfer brings a fresh session (OpenSSL's default lifetime, 7,200 s,
    once ended long FTPS sessions)."""
    srv = ftps("--tls-session-lifetime", "2")
    (srv.root / "f.bin").write_bytes(b"x" * 50_000)
    f = login(srv, certificate)
    for _ in range(2):
        time.sleep(3)
        assert retr(f, "f.bin") == b"x" * 50_000
        f.storbinary("STOR g.bin", io.BytesIO(b"y" * 40_000))
        assert (srv.root / "g.bin").read_bytes() == b"y" * 40_000
    f.quit()


# --- a TLS upload cut short ----------------------------------------------------------------

def upload_then_cut(srv, certificate, name: str, part: bytes, close_notify: bool) -> str:
    """STOR over a TLS data connection that ends with (or without) close_notify; returns the
    final reply."""
    f = login(srv, certificate)
    f.voidcmd("TYPE I")
    _, port = ftplib.parse227(f.sendcmd("PASV"))
    raw = socket.create_connection((HOST, port), timeout=TIMEOUT)
    resp = f.sendcmd(f"STOR {name}")
    assert resp.startswith("150"), resp
    tls = f.context.wrap_socket(raw, server_hostname=HOST, session=f.sock.session)
    tls.sendall(part)
    if close_notify:
        tls.unwrap().close()
    else:
        tls.shutdown(socket.SHUT_WR)  # a TCP FIN, no TLS close_notify
        tls.close()
    try:
        reply = f.getresp()
    except ftplib.Error as e:
        reply = str(e)
    f.quit()
    return reply


def test_tls_upload_cut_by_a_bare_fin_replaces_nothing(ftps, certificate, tmp_path):
    xferlog = tmp_path / "xfer.log"
    srv = ftps("--xferlog", str(xferlog))
    old = b"the good old content\n" * 1000
    (srv.root / "doc.txt").write_bytes(old)
    reply = upload_then_cut(srv, certificate, "doc.txt", b"new but cut" * 5000,
                            close_notify=False)
    assert reply.startswith("426"), reply
    assert (srv.root / "doc.txt").read_bytes() == old
    assert temp_files(srv.root) == []
    line = [ln for ln in xferlog.read_text().splitlines() if "doc.txt" in ln][-1]
    assert line.endswith(" i"), line  # xferlog completion status: incomplete
    # The same upload with close_notify is committed.
    new = b"new and whole" * 5000
    reply = upload_then_cut(srv, certificate, "doc.txt", new, close_notify=True)
    assert reply.startswith("226"), reply
    assert (srv.root / "doc.txt").read_bytes() == new
    assert xferlog.read_text().splitlines()[-1].endswith(" c")


def test_bare_fin_uploads_can_be_allowed(ftps, certificate):
    srv = ftps("--tls-upload-without-close-notify")
    reply = upload_then_cut(srv, certificate, "a.bin", b"z" * 30_000, close_notify=False)
    assert reply.startswith("226"), reply
    assert (srv.root / "a.bin").read_bytes() == b"z" * 30_000
