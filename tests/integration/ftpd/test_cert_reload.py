"""SIGHUP reloads the TLS certificate and key: a renewed certificate needs no restart, new
connections see it while sessions opened before go on (with their data connections); a bad new
pair keeps the old certificate and logs an error."""
from __future__ import annotations

import io
import shutil
import signal
import ssl

from ftpd_support import HOST, PASSWORD, USER, make_certificate, wait_until
from test_tls import ReusingFTP_TLS  # data connections resume the control session


def client_context() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def connect(srv) -> ReusingFTP_TLS:
    f = ReusingFTP_TLS(context=client_context())
    f.connect(HOST, srv.port, timeout=10)
    f.login(USER, PASSWORD)  # AUTH TLS first
    f.prot_p()
    return f


def der(path) -> bytes:
    return ssl.PEM_cert_to_DER_cert(path.read_text())


def test_sighup_loads_a_renewed_certificate(make_server, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    cert_a, key_a = make_certificate(tmp_path / "a")
    cert_b, key_b = make_certificate(tmp_path / "b")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    shutil.copy(cert_a, cert)
    shutil.copy(key_a, key)
    srv = make_server(extra=["--tls", "optional", "--tls-cert", str(cert), "--tls-key", str(key)])
    old = connect(srv)
    assert old.sock.getpeercert(binary_form=True) == der(cert_a)
    old.storbinary("STOR before.txt", io.BytesIO(b"before"))

    # Renewed (certbot writes new files in place), then SIGHUP.
    shutil.copy(cert_b, cert)
    shutil.copy(key_b, key)
    srv.proc.send_signal(signal.SIGHUP)
    assert wait_until(lambda: "reload: TLS certificate SHA-256" in srv.stderr_text())
    new = connect(srv)
    assert new.sock.getpeercert(binary_form=True) == der(cert_b)
    new.quit()
    # The session opened before goes on, and its data connections still resume its session.
    old.storbinary("STOR after.txt", io.BytesIO(b"after"))
    assert sorted(old.nlst()) == ["after.txt", "before.txt"]
    old.quit()


def test_a_bad_new_certificate_keeps_the_old_one(make_server, tmp_path):
    cert, key = make_certificate(tmp_path)
    srv = make_server(extra=["--tls", "optional", "--tls-cert", str(cert), "--tls-key", str(key)])
    good = der(cert)
    (tmp_path / "other").mkdir()
    _, other_key = make_certificate(tmp_path / "other")
    shutil.copy(other_key, key)  # a key that does not match the certificate
    srv.proc.send_signal(signal.SIGHUP)
    assert wait_until(lambda: "keeping the certificate loaded before" in srv.stderr_text())
    f = connect(srv)
    assert f.sock.getpeercert(binary_form=True) == good
    f.quit()
    cert.write_text("not a certificate\n")
    srv.proc.send_signal(signal.SIGHUP)
    assert wait_until(lambda: srv.stderr_text().count("keeping the certificate loaded") == 2)
    f = connect(srv)
    assert f.sock.getpeercert(binary_form=True) == good
    f.quit()
    assert srv.alive()
