"""muxftp over FTPS: explicit (--tls, ftpes://) and implicit (ftps://) against muxftpd with TLS
required and session reuse enforced, and explicit against pyftpdlib's TLS_FTPHandler as an
independent server. Certificates are verified (a self-signed one is refused unless trusted with
--cacert or skipped with --insecure); the client never falls back to clear text.
"""
from __future__ import annotations

import logging
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

from ftpc_support import (FtpServer, HOST, PASSWORD, USER, make_files, run_muxftp, sha256,
                          tree_sums)
from ftpd_support import make_certificate

OPENSSL = shutil.which("openssl")
pytestmark = pytest.mark.skipif(OPENSSL is None, reason="openssl not installed")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def tls_muxftpd(tmp_path, certificate):
    cert, key = certificate
    srv = FtpServer(tmp_path / "srv", extra=[
        "--tls", "required", "--tls-cert", str(cert), "--tls-key", str(key),
        "--implicit-tls-listen", f"{HOST}:0"])
    (tmp_path / "srv").mkdir(exist_ok=True)
    srv.start()
    srv.implicit_port = int(srv.wait_stdout(r"implicit TLS on 127\.0\.0\.1:(\d+)").group(1))
    yield srv
    problems = srv.stop()
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


def ok(proc: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    return proc


def test_explicit_get_put_ls_with_tls_required(tls_muxftpd, certificate, tmp_path, home):
    srv = tls_muxftpd
    files = make_files(srv.root / "set", 6, seed=5)
    out = tmp_path / "out"
    url = f"ftp://{USER}:{PASSWORD}@{HOST}:{srv.port}"
    trust = ["--tls", "--cacert", str(certificate[0]), "--progress", "none"]
    ok(run_muxftp([*trust, "get", "-j", "3", "-o", str(out), f"{url}/set/*"], home))
    assert tree_sums(out) == tree_sums(srv.root / "set")
    up = tmp_path / "up"
    make_files(up, 4, seed=6)
    (srv.root / "incoming").mkdir()
    ok(run_muxftp([*trust, "put", "-j", "2", *[str(p) for p in sorted(up.iterdir())],
                   f"{url}/incoming/"], home))
    assert tree_sums(srv.root / "incoming") == tree_sums(up)
    listing = ok(run_muxftp([*trust, "ls", f"{url}/set/"], home)).stdout.decode()
    assert all(name in listing for name in files)
    # Without --tls the same URL logs in in clear text, which the server refuses.
    proc = run_muxftp(["--progress", "none", "ls", f"{url}/set/"], home)
    assert proc.returncode != 0
    assert "TLS on the control connection" in srv.stderr_text()


def test_segments_over_tls_resume_the_session(tls_muxftpd, certificate, tmp_path, home):
    """Each segment is a data connection of its own session; all of them must resume."""
    srv = tls_muxftpd
    (srv.root / "big.bin").write_bytes(bytes(range(256)) * 8192)
    out = tmp_path / "out"
    url = f"ftpes://{USER}:{PASSWORD}@{HOST}:{srv.port}/big.bin"
    ok(run_muxftp(["--cacert", str(certificate[0]), "--progress", "none", "get",
                   "--segments", "4", "-o", str(out), url], home))
    assert sha256(out / "big.bin") == sha256(srv.root / "big.bin")
    assert "did not resume" not in srv.stderr_text()


def test_implicit_ftps_url(tls_muxftpd, certificate, tmp_path, home):
    srv = tls_muxftpd
    (srv.root / "f.txt").write_bytes(b"implicit tls\n" * 100)
    out = tmp_path / "out"
    url = f"ftps://{USER}:{PASSWORD}@{HOST}:{srv.implicit_port}/f.txt"
    ok(run_muxftp(["--cacert", str(certificate[0]), "--progress", "none", "get", "-o", str(out),
                   url], home))
    assert (out / "f.txt").read_bytes() == b"implicit tls\n" * 100


def test_untrusted_certificate_is_refused_unless_insecure(tls_muxftpd, tmp_path, home):
    srv = tls_muxftpd
    (srv.root / "f.txt").write_bytes(b"x")
    url = f"ftp://{USER}:{PASSWORD}@{HOST}:{srv.port}/f.txt"
    proc = run_muxftp(["--tls", "--progress", "none", "get", "-o", str(tmp_path / "a"), url],
                      home)
    assert proc.returncode != 0
    assert re.search(rb"certificate", proc.stderr, re.I), proc.stderr
    # What to do about it: the two flags muxftp --help names.
    assert b"--cacert" in proc.stderr and b"-k" in proc.stderr, proc.stderr
    assert not (tmp_path / "a" / "f.txt").exists()
    ls = run_muxftp(["--tls", "ls", f"ftp://{USER}:{PASSWORD}@{HOST}:{srv.port}/"], home)
    assert ls.returncode != 0
    assert b"--cacert" in ls.stderr and b"-k" in ls.stderr, ls.stderr
    ok(run_muxftp(["--tls", "-k", "--progress", "none", "get", "-o", str(tmp_path / "b"), url],
                  home))
    assert (tmp_path / "b" / "f.txt").read_bytes() == b"x"


def test_server_without_tls_is_not_used_in_clear_text(tmp_path, home):
    srv = FtpServer(tmp_path / "plain")
    srv.start()
    try:
        (srv.root / "f.txt").write_bytes(b"x")
        url = f"ftp://{USER}:{PASSWORD}@{HOST}:{srv.port}/f.txt"
        proc = run_muxftp(["--tls", "-k", "--progress", "none", "get", "-o",
                           str(tmp_path / "o"), url], home)
        assert proc.returncode != 0
        assert b"502" in proc.stderr or b"AUTH" in proc.stderr, proc.stderr
        assert not (tmp_path / "o" / "f.txt").exists()
    finally:
        assert srv.stop() == []


class PyFtpdTls:
    """pyftpdlib's TLS_FTPHandler (pyOpenSSL) on 127.0.0.1:0 in a thread: an independent FTPS
    server, control and data protection required."""

    def __init__(self, root: Path, cert: Path, key: Path):
        from pyftpdlib.authorizers import DummyAuthorizer
        from pyftpdlib.handlers import TLS_FTPHandler
        from pyftpdlib.servers import FTPServer

        root.mkdir(parents=True, exist_ok=True)
        auth = DummyAuthorizer()
        auth.add_user(USER, PASSWORD, str(root), perm="elradfmwMT")
        handler = type("Handler", (TLS_FTPHandler,), {
            "authorizer": auth, "certfile": str(cert), "keyfile": str(key),
            "tls_control_required": True, "tls_data_required": True, "use_sendfile": False})
        logging.getLogger("pyftpdlib").setLevel(logging.ERROR)
        self.server = FTPServer((HOST, 0), handler)
        self.port = self.server.socket.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        deadline = time.monotonic() + 300
        while not self._stop.is_set() and time.monotonic() < deadline:
            self.server.serve_forever(timeout=0.05, blocking=False, handle_exit=False)

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=10)
        self.server.close_all()


def test_against_pyftpdlib_tls(certificate, tmp_path, home):
    pytest.importorskip("OpenSSL", reason="pyftpdlib's TLS needs python3-openssl")
    srv = PyFtpdTls(tmp_path / "py", *certificate)
    try:
        make_files(tmp_path / "py" / "d", 5, seed=9)
        url = f"ftpes://{USER}:{PASSWORD}@{HOST}:{srv.port}"
        trust = ["--cacert", str(certificate[0]), "--progress", "none"]
        ok(run_muxftp([*trust, "get", "-j", "3", "-o", str(tmp_path / "out"), f"{url}/d/*"],
                      home))
        for p in sorted((tmp_path / "py" / "d").iterdir()):
            got = (tmp_path / "out" / p.name).read_bytes()
            want = p.read_bytes()
            assert len(got) == len(want) and got == want, (p.name, len(got), len(want))
        make_files(tmp_path / "up", 3, seed=10)
        ok(run_muxftp([*trust, "mirror", "--reverse", str(tmp_path / "up"), f"{url}/mirrored"],
                      home))
        assert tree_sums(tmp_path / "py" / "mirrored") == tree_sums(tmp_path / "up")
    finally:
        srv.stop()


def test_unusable_cacert_stops_every_subcommand(tmp_path, home):
    """A --cacert that cannot be loaded ends each subcommand with status 2 (a usage error) before
    any connection is tried; it used to go on with an empty endpoint and exit 0."""
    missing = str(tmp_path / "no-such-ca.pem")
    (tmp_path / "up.txt").write_bytes(b"x")
    (tmp_path / "tree").mkdir()
    url = f"ftps://{HOST}:9/"  # never reached
    for args in (["ls", url + "d"],
                 ["get", "-o", str(tmp_path / "o"), url + "f"],
                 ["get", "--segments", "2", "-o", str(tmp_path / "o"), url + "f"],
                 ["put", str(tmp_path / "up.txt"), url],
                 ["mirror", url + "d", str(tmp_path / "m")],
                 ["mirror", "--reverse", str(tmp_path / "tree"), url + "d"]):
        proc = run_muxftp(["--cacert", missing, "--progress", "none", *args], home)
        assert proc.returncode == 2, (args, proc.stderr)
        assert b"CA file" in proc.stderr, (args, proc.stderr)
