"""FTPS (RFC 4217) against muxftpd with three independent clients: Python's ftplib.FTP_TLS,
curl --ssl-reqd and lftp. Login, listing, upload and download over TLS; session reuse on data
connections enforced (and switchable off); tls = required; PBSZ/PROT/CCC rules; the STARTTLS
command-injection defence; a client that drops the connection mid-handshake.

Every server binds 127.0.0.1; certificates are made per test session with openssl.
"""
from __future__ import annotations

import ftplib
import hashlib
import io
import shutil
import socket
import ssl
import subprocess
from pathlib import Path

import pytest

from ftpd_support import (ftplib_retr as retr, HOST, PASSWORD, TIMEOUT, USER, drain, make_certificate,
                          pseudo_random_bytes)

CURL = shutil.which("curl")
LFTP = shutil.which("lftp")
OPENSSL = shutil.which("openssl")

pytestmark = pytest.mark.skipif(OPENSSL is None, reason="openssl not installed")


@pytest.fixture(scope="session")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def tls_server(make_server, certificate):
    def start(mode: str = "optional", extra: list[str] | None = None, **options):
        cert, key = certificate
        flags = ["--tls", mode, "--tls-cert", str(cert), "--tls-key", str(key)]
        return make_server(extra=flags + list(extra or []), **options)
    return start


def client_context(certificate) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(certificate[0]))
    ctx.check_hostname = True
    return ctx


class ReusingFTP_TLS(ftplib.FTP_TLS):
    """FTP_TLS that resumes the control connection's TLS session on data connections, as curl,
    lftp and FileZilla do (Python's ftplib does not, see bpo-19500)."""

    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        if self._prot_p:
            conn = self.context.wrap_socket(conn, server_hostname=self.host,
                                            session=self.sock.session)
        return conn, size


class BorrowingFTP_TLS(ftplib.FTP_TLS):
    """Offers another control connection's TLS session on its data connections."""
    borrowed = None

    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        conn = self.context.wrap_socket(conn, server_hostname=self.host, session=self.borrowed)
        return conn, size


def connect_tls(srv, certificate, cls=ReusingFTP_TLS, login=True, prot_p=True, context=None):
    f = cls(context=context or client_context(certificate), timeout=TIMEOUT)
    f.connect(HOST, srv.port)
    f.auth()
    if login:
        f.login(USER, PASSWORD)
    if prot_p:
        f.prot_p()
    return f


# --- ftplib ------------------------------------------------------------------------------------

def test_ftplib_login_list_upload_download_over_tls(tls_server, certificate):
    srv = tls_server()
    data = pseudo_random_bytes(3_000_000, seed=41)
    f = connect_tls(srv, certificate)
    assert isinstance(f.sock, ssl.SSLSocket) and f.sock.version() in ("TLSv1.2", "TLSv1.3")
    f.storbinary("STOR up.bin", io.BytesIO(data))
    assert (srv.root / "up.bin").read_bytes() == data
    assert retr(f, "up.bin") == data
    assert "up.bin" in f.nlst()
    listing = []
    f.retrlines("LIST", listing.append)
    assert any(line.endswith(" up.bin") for line in listing)
    f.quit()
    assert "TLS on the control connection: TLSv1.3" in srv.stderr_text()


def test_data_is_encrypted_on_the_wire(tls_server, certificate):
    """A passive data connection read without TLS shows a handshake, not the file."""
    srv = tls_server()
    secret = b"the plaintext nobody on the wire may read " * 100
    (srv.root / "secret.txt").write_bytes(secret)
    f = connect_tls(srv, certificate)
    f.voidcmd("TYPE I")
    host, port = ftplib.parse227(f.sendcmd("PASV"))
    raw = socket.create_connection((HOST, port), timeout=TIMEOUT)
    f.putcmd("RETR secret.txt")
    assert f.getresp().startswith("150")
    # We never start TLS: the server waits for a ClientHello and then gives up with 522/426.
    raw.sendall(b"GET / HTTP/1.0\r\n\r\n")
    got = drain(raw)
    raw.close()
    assert secret[:40] not in got
    with pytest.raises(ftplib.error_perm, match="^522"):
        f.voidresp()
    assert f.voidcmd("NOOP").startswith("200"), "the session carries on"


def test_data_connection_without_session_reuse_is_refused(tls_server, certificate):
    srv = tls_server()
    (srv.root / "f.txt").write_bytes(b"content")
    f = connect_tls(srv, certificate, cls=ftplib.FTP_TLS)  # ftplib's own: no reuse
    with pytest.raises((ftplib.error_perm, ssl.SSLError, OSError)):
        retr(f, "f.txt")
    f.close()
    assert "did not resume the control connection's TLS session" in srv.stderr_text()


def test_session_reuse_can_be_switched_off(tls_server, certificate):
    srv = tls_server(extra=["--no-tls-reuse"])
    (srv.root / "f.txt").write_bytes(b"content")
    f = connect_tls(srv, certificate, cls=ftplib.FTP_TLS)
    assert retr(f, "f.txt") == b"content"
    f.quit()


def test_another_sessions_tls_session_does_not_unlock_data(tls_server, certificate):
    """Reuse is tied to the control connection: resuming session A on B's data is refused."""
    srv = tls_server()
    (srv.root / "f.txt").write_bytes(b"content")
    shared = client_context(certificate)  # Python resumes sessions only in their own context
    a = connect_tls(srv, certificate, context=shared)
    assert retr(a, "f.txt") == b"content"
    b = connect_tls(srv, certificate, cls=BorrowingFTP_TLS, context=shared)
    b.borrowed = a.sock.session
    with pytest.raises((ftplib.error_perm, ssl.SSLError, OSError)):
        retr(b, "f.txt")
    assert "did not resume" in srv.stderr_text()
    a.quit()


def test_pbsz_prot_ccc_rules(tls_server, certificate):
    srv = tls_server()
    with srv.raw() as c:
        c.expect("PBSZ 0", 503)
        c.expect("PROT P", 503)
        c.expect("CCC", 533)
        c.expect("AUTH KERBEROS", 504)
    f = connect_tls(srv, certificate, login=False, prot_p=False)
    with pytest.raises(ftplib.error_perm, match="^503"):
        f.sendcmd("PROT P")  # PBSZ first
    assert f.sendcmd("PBSZ 0").startswith("200")
    with pytest.raises(ftplib.error_perm, match="^536"):
        f.sendcmd("PROT S")
    assert f.sendcmd("PROT P").startswith("200")
    with pytest.raises(ftplib.error_perm, match="^534"):
        f.sendcmd("CCC")
    with pytest.raises(ftplib.error_perm, match="^503"):
        f.sendcmd("AUTH TLS")  # already
    feat = f.sendcmd("FEAT")
    assert "AUTH TLS" in feat and "PBSZ" in feat and "PROT" in feat
    f.login(USER, PASSWORD)
    f.quit()


def test_tls_required(tls_server, certificate):
    srv = tls_server("required", extra=["--anonymous"])
    with srv.raw() as c:
        code, text = c.cmd(f"USER {USER}")
        assert code == 530 and "encryption" in text
        # Anonymous users may stay in clear text.
        c.expect("USER anonymous", 331)
        c.expect("PASS guest@", 230)
    f = connect_tls(srv, certificate, prot_p=False)
    (srv.root / "f.txt").write_bytes(b"x")
    with pytest.raises(ftplib.error_perm, match="^521"):
        retr(f, "f.txt")  # data in clear: refused
    f.sendcmd("PBSZ 0")
    with pytest.raises(ftplib.error_perm, match="^534"):
        f.sendcmd("PROT C")
    f.prot_p()
    assert retr(f, "f.txt") == b"x"
    f.quit()


def test_implicit_tls(tls_server, certificate):
    """A listener where TLS starts at connect (port 990 style): greeting under TLS, data
    protected without PBSZ/PROT; the explicit listener keeps working beside it."""
    srv = tls_server(extra=["--implicit-tls-listen", f"{HOST}:0"])
    port = int(srv.wait_stdout(r"^muxftpd: implicit TLS on 127\.0\.0\.1:(\d+)$").group(1))
    (srv.root / "f.bin").write_bytes(b"implicit" * 1000)
    raw = socket.create_connection((HOST, port), timeout=TIMEOUT)
    ctx = client_context(certificate)
    tls = ctx.wrap_socket(raw, server_hostname="localhost")

    class Implicit(ReusingFTP_TLS):
        def connect(self, host="", port=0, timeout=-999, source_address=None):
            self.host, self.port = host, port
            self.sock = tls
            self.af = tls.family
            self.file = tls.makefile("r", encoding=self.encoding)
            self.welcome = self.getresp()
            return self.welcome

    f = Implicit(context=ctx, timeout=TIMEOUT)
    assert f.connect(HOST, port).startswith("220")
    f.login(USER, PASSWORD)
    f._prot_p = True  # implicit: data is protected from the start, no PROT needed
    assert retr(f, "f.bin") == b"implicit" * 1000
    f.quit()
    plain = connect_tls(srv, certificate)  # the explicit listener beside it
    assert retr(plain, "f.bin") == b"implicit" * 1000
    plain.quit()
    if CURL:  # curl reads ftps:// as implicit FTPS
        p = curl("--cacert", str(certificate[0]), f"ftps://{USER}:{PASSWORD}@{HOST}:{port}/f.bin")
        assert p.returncode == 0 and p.stdout == b"implicit" * 1000, p.stderr


def test_tls_off_refuses_auth(make_server):
    srv = make_server()
    with srv.raw() as c:
        c.expect("AUTH TLS", 502)
        feat = c.cmd("FEAT")[1]
        assert "AUTH TLS" not in feat


def test_commands_pipelined_behind_auth_are_dropped(tls_server, certificate):
    """STARTTLS injection: bytes sent in clear after AUTH TLS must not run as protected
    commands."""
    srv = tls_server()
    raw = socket.create_connection((HOST, srv.port), timeout=TIMEOUT)
    assert raw.recv(1024).startswith(b"220")
    raw.sendall(b"AUTH TLS\r\nUSER " + USER.encode() + b"\r\n")
    resp = b""
    while b"\r\n" not in resp:
        resp += raw.recv(1024)
    assert resp.startswith(b"234") and resp.endswith(b"\r\n"), resp
    tls = client_context(certificate).wrap_socket(raw, server_hostname="localhost")
    tls.settimeout(1.0)
    with pytest.raises(socket.timeout):
        extra = tls.recv(1024)  # a 331 here would mean the injected USER ran
        pytest.fail(f"the server answered an injected command: {extra!r}")
    tls.settimeout(TIMEOUT)
    tls.sendall(b"NOOP\r\n")
    assert tls.recv(1024).startswith(b"200")
    assert "dropped" in srv.stderr_text()
    tls.close()


def test_client_vanishing_mid_handshake_does_not_hurt_others(tls_server, certificate):
    srv = tls_server()
    for cut in (0, 5, 60):
        raw = socket.create_connection((HOST, srv.port), timeout=TIMEOUT)
        raw.recv(1024)
        raw.sendall(b"AUTH TLS\r\n")
        raw.recv(1024)
        hello_start = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 200
        raw.sendall(hello_start[:cut])
        raw.close()
    # Garbage instead of a ClientHello.
    raw = socket.create_connection((HOST, srv.port), timeout=TIMEOUT)
    raw.recv(1024)
    raw.sendall(b"AUTH TLS\r\n")
    raw.recv(1024)
    raw.sendall(b"USER alice\r\nPASS s3cret\r\n")
    reply = drain(raw)
    raw.close()
    assert b"230" not in reply and b"331" not in reply, "no command runs outside TLS"
    f = connect_tls(srv, certificate)
    assert f.voidcmd("NOOP").startswith("200")
    f.quit()


# --- curl --------------------------------------------------------------------------------------

def curl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CURL, "-sS", "--max-time", "30", *args], capture_output=True,
                          timeout=60)


@pytest.mark.skipif(CURL is None, reason="curl not installed")
def test_curl_ssl_reqd(tls_server, certificate, tmp_path):
    srv = tls_server("required")
    data = pseudo_random_bytes(2_000_000, seed=42)
    local = tmp_path / "local.bin"
    local.write_bytes(data)
    url = f"ftp://{USER}:{PASSWORD}@{HOST}:{srv.port}"
    tls = ["--ssl-reqd", "--cacert", str(certificate[0])]
    p = curl(*tls, "-T", str(local), url + "/up.bin")
    assert p.returncode == 0, p.stderr
    assert (srv.root / "up.bin").read_bytes() == data
    out = tmp_path / "down.bin"
    p = curl(*tls, "-o", str(out), url + "/up.bin")
    assert p.returncode == 0, p.stderr
    assert hashlib.sha256(out.read_bytes()).digest() == hashlib.sha256(data).digest()
    p = curl(*tls, url + "/")
    assert p.returncode == 0 and b"up.bin" in p.stdout, p.stderr
    # Without --ssl-reqd curl logs in in clear text: refused by tls = required.
    p = curl(url + "/")
    assert p.returncode != 0


def test_client_scope_accepts_a_session_from_the_same_address(tls_server, certificate):
    """--tls-reuse-scope client: a session from another control connection of the same address
    unlocks the data connection (what curl --parallel's shared session cache needs; curl itself
    in test_ftps_clients.py)."""
    srv = tls_server(extra=["--tls-reuse-scope", "client"])
    (srv.root / "f.txt").write_bytes(b"content")
    shared = client_context(certificate)
    a = connect_tls(srv, certificate, context=shared)
    assert retr(a, "f.txt") == b"content"
    b = connect_tls(srv, certificate, cls=BorrowingFTP_TLS, context=shared)
    b.borrowed = a.sock.session
    assert retr(b, "f.txt") == b"content"
    a.quit()
    b.quit()


# --- lftp --------------------------------------------------------------------------------------

@pytest.mark.skipif(LFTP is None, reason="lftp not installed")
def test_lftp_ftps(tls_server, certificate, tmp_path):
    srv = tls_server("required")
    data = pseudo_random_bytes(1_500_000, seed=43)
    (srv.root / "a.bin").write_bytes(data)
    local = tmp_path / "b.bin"
    local.write_bytes(data[::-1])
    script = (f"set ftp:ssl-force true; set ftp:ssl-protect-data true; "
              f"set ssl:ca-file {certificate[0]}; set ssl:check-hostname no; "
              f"set net:max-retries 1; set net:timeout 10; "
              f"open -u {USER},{PASSWORD} ftp://{HOST}:{srv.port}; "
              f"get a.bin -o {tmp_path / 'a.bin'}; put {local} -o b.bin; cls -1")
    p = subprocess.run([LFTP, "-c", script], capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "a.bin").read_bytes() == data
    assert (srv.root / "b.bin").read_bytes() == data[::-1]
    assert b"a.bin" in p.stdout and b"b.bin" in p.stdout
