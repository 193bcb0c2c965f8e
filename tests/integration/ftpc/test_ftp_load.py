"""ftp-load, the FTP load generator of bench/ftp.sh, against muxftpd and pyftpdlib: every mode
moves exactly what it reports (bytes, files, listings), FTPS works, and failures are counted by
reason with a non-zero exit status. Counts and bytes are asserted, never speed."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from ftpc_support import HOST, MUXFTP, PASSWORD, USER, FtpServer, PyFtpd

from ftpd_support import make_certificate  # noqa: E402

FTP_LOAD = os.environ.get("FTP_LOAD", str(Path(MUXFTP).parent / "ftp-load"))
PATTERN = bytes((ord("a") + i % 26) for i in range(256 * 1024))


def run_load(port: int, *args: str, password: str = PASSWORD, timeout: float = 120,
             **kw) -> tuple[int, dict, str]:
    proc = subprocess.run(
        [FTP_LOAD, f"{HOST}:{port}", "--user", USER, "--password", password, "--json",
         "--timeout", "20", *args],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout, **kw)
    for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
        assert marker not in proc.stderr, proc.stderr
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    assert lines, proc.stdout + proc.stderr
    return proc.returncode, json.loads(lines[-1]), proc.stdout


def uploaded_content(size: int) -> bytes:
    """What an upload of `size` bytes sends: the pattern, repeated."""
    out = bytearray()
    while len(out) < size:
        out += PATTERN[:size - len(out)]
    return bytes(out)


@pytest.fixture
def server(request, tmp_path):
    """muxftpd, then pyftpdlib: ftp-load measures any server."""
    kind = getattr(request, "param", "muxftpd")
    if kind == "muxftpd":
        srv = FtpServer(tmp_path / "muxftpd")
        srv.start()
        yield srv.root, srv.port
        assert srv.stop() == []
    else:
        py = PyFtpd(tmp_path / "py")
        yield py.root, py.port
        py.stop()


BOTH = pytest.mark.parametrize("server", ["muxftpd", "pyftpdlib"], indirect=True)


@BOTH
@pytest.mark.time_limit(120)
def test_retr_counts_every_byte_of_every_round(server):
    root, port = server
    (root / "big.bin").write_bytes(PATTERN * 4)  # 1 MiB
    rc, out, _ = run_load(port, "--mode", "retr", "--path", "big.bin", "--clients", "4",
                          "--rounds", "3", "--seconds", "0")
    assert rc == 0, out
    assert out["failures"] == {}
    assert out["ops"] == 12
    assert out["bytes"] == 12 * len(PATTERN) * 4
    assert out["p50_ms"] > 0 and out["p99_ms"] >= out["p50_ms"]


@BOTH
@pytest.mark.time_limit(120)
def test_stor_stores_exactly_what_it_reports(server):
    root, port = server
    rc, out, _ = run_load(port, "--mode", "stor", "--size", "300000", "--path", "up",
                          "--clients", "3", "--rounds", "2", "--seconds", "0")
    assert rc == 0, out
    assert out["ops"] == 6 and out["bytes"] == 6 * 300000
    expected = uploaded_content(300000)
    for i in range(3):
        assert (root / f"up-{i}.bin").read_bytes() == expected


@BOTH
@pytest.mark.time_limit(120)
def test_list_modes_read_whole_listings(server):
    root, port = server
    d = root / "many"
    d.mkdir()
    names = [f"file{i:03d}.txt" for i in range(50)]
    for n in names:
        (d / n).write_bytes(b"x")
    for command in ("LIST", "MLSD"):
        rc, out, _ = run_load(port, "--mode", "list", "--list-command", command, "--path", "many",
                              "--clients", "2", "--rounds", "2", "--seconds", "0")
        assert rc == 0, (command, out)
        assert out["ops"] == 4
        assert out["bytes"] > 4 * sum(len(n) for n in names), command
    rc, out, _ = run_load(port, "--mode", "list", "--list-command", "NLST", "--path", "many",
                          "--clients", "1", "--rounds", "1", "--seconds", "0")
    assert rc == 0, out
    # NLST of a directory: bare names or dir/name, one per CRLF line, either way each name once.
    per_name = out["bytes"] / len(names)
    assert per_name in (len("file000.txt") + 2, len("many/file000.txt") + 2), out


@BOTH
@pytest.mark.time_limit(60)
def test_login_mode_logs_in_again_and_again(server):
    _, port = server
    rc, out, _ = run_load(port, "--mode", "login", "--clients", "4", "--seconds", "1")
    assert rc == 0, out
    assert out["ops"] >= 4 and out["failures"] == {}


@pytest.mark.time_limit(60)
def test_idle_mode_holds_its_sessions_and_says_when(server):
    _, port = server
    rc, out, text = run_load(port, "--mode", "idle", "--clients", "30", "--seconds", "1")
    assert rc == 0, out
    assert "ready 30" in text.splitlines()
    assert out["ops"] == 30


@pytest.mark.time_limit(60)
def test_idle_sessions_cut_by_the_server_are_failures(tmp_path):
    srv = FtpServer(tmp_path / "s", extra=["--idle-timeout", "1"])
    srv.start()
    try:
        rc, out, _ = run_load(srv.port, "--mode", "idle", "--clients", "5", "--seconds", "4")
        assert rc == 1
        assert out["ops"] == 0
        assert sum(out["failures"].values()) == 5, out
        assert all(r.startswith("hold:") for r in out["failures"]), out
    finally:
        assert srv.stop() == []


@pytest.mark.time_limit(60)
def test_a_wrong_password_is_counted_by_reason(server):
    _, port = server
    rc, out, _ = run_load(port, "--mode", "login", "--clients", "2", "--seconds", "1",
                          password="wrong")
    assert rc == 1
    assert out["ops"] == 0
    assert list(out["failures"]) == ["PASS: 530"], out


@pytest.mark.time_limit(60)
def test_a_missing_file_is_a_setup_failure_not_a_hang(server):
    _, port = server
    rc, out, _ = run_load(port, "--mode", "retr", "--path", "absent.bin", "--clients", "2",
                          "--rounds", "1", "--seconds", "0")
    assert rc == 1
    assert out["failures"] == {"SIZE: 550": 2}, out


@pytest.mark.time_limit(120)
def test_ftps_retr_and_stor_with_protected_data(tmp_path):
    cert, key = make_certificate(tmp_path)
    srv = FtpServer(tmp_path / "tls", extra=[
        "--tls", "required", "--tls-cert", str(cert), "--tls-key", str(key)])
    srv.start()
    try:
        (srv.root / "big.bin").write_bytes(PATTERN * 2)
        rc, out, _ = run_load(srv.port, "--tls", "--mode", "retr", "--path", "big.bin",
                              "--clients", "3", "--rounds", "2", "--seconds", "0")
        assert rc == 0, out
        assert out["ops"] == 6 and out["bytes"] == 6 * len(PATTERN) * 2 and out["tls"] is True
        rc, out, _ = run_load(srv.port, "--tls", "--mode", "stor", "--size", "200000",
                              "--clients", "2", "--rounds", "2", "--seconds", "0")
        assert rc == 0, out
        for i in range(2):
            assert (srv.root / f"ftp-load-{i}.bin").read_bytes() == uploaded_content(200000)
        # Without --tls the server refuses the login (TLS required): counted, not hung.
        rc, out, _ = run_load(srv.port, "--mode", "login", "--clients", "1", "--seconds", "1")
        assert rc == 1 and out["ops"] == 0
    finally:
        assert srv.stop() == []
