"""A multi-loop server (--threads 2) under a concurrent load that crosses its threads: logins
(the offload pool hashes passwords), transfers, a per-user quota and per-user session counts
shared by sessions on both loops, an address banned by failed logins, and SIGHUP reloads of the
users and the settings meanwhile. Run under ThreadSanitizer by `make tsan` (MUXFTPD pointing at
build-tsan): the fixture fails the test on any "WARNING: ThreadSanitizer" in the server's
stderr. It also passes under the ordinary builds."""
from __future__ import annotations

import ftplib
import io
import signal
import subprocess
import threading
import time

import pytest

from ftpd_support import (
    FOREIGN_HOST, MUXFTPD, RawControl, ThreadErrors, pseudo_random_bytes, wait_until,
)

WORKERS = 4
ROUNDS = 4
PASSWORD = "thr-pw"


def add_user(users_file, name: str, password: str) -> None:
    r = subprocess.run([MUXFTPD, "passwd", str(users_file), name, "--permissions", "all"],
                       input=password + "\n", capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr


def stor_within_quota(f: ftplib.FTP, name: str, data: bytes) -> bool:
    """STOR; False when the quota refuses it (552, and the server may cut the data connection
    while the client still sends: then the 552 is read after the reset)."""
    try:
        f.storbinary(f"STOR {name}", io.BytesIO(data))
        return True
    except ftplib.error_perm as e:
        if not str(e).startswith("552"):
            raise
        return False
    except ConnectionError:
        try:
            f.getresp()
        except ftplib.error_perm as e:
            if not str(e).startswith("552"):
                raise
        return False


def worker(srv, i: int, errors: ThreadErrors) -> None:
    try:
        for r in range(ROUNDS):
            f = srv.ftp(user="tina", password=PASSWORD, timeout=60)
            try:
                name = f"w{i}-{r}.bin"
                data = pseudo_random_bytes(20_000 + 1000 * i, seed=100 * i + r)
                if not stor_within_quota(f, name, data):  # the others took the quota meanwhile
                    f.quit()
                    continue
                got = io.BytesIO()
                f.retrbinary(f"RETR {name}", got.write)
                if got.getvalue() != data:
                    errors.add(f"worker {i}: round trip of {name} differs")
                f.nlst()
                # Beyond the quota: refused, whichever loop the other sessions are on.
                if stor_within_quota(f, f"big{i}.bin", bytes(600_000)):
                    errors.add(f"worker {i}: an upload beyond the quota was accepted")
                f.delete(name)
                f.quit()
            finally:
                f.close()
    except Exception as e:  # noqa: BLE001 - reported by the test
        errors.add(f"worker {i}: {e!r}")


def guesser(srv, errors: ThreadErrors, refusals: list[str]) -> None:
    """Wrong passwords from another address: it is banned (421 at PASS or at the greeting)."""
    try:
        for _ in range(4):
            with RawControl(srv.port, srv.transcript, timeout=30, source=FOREIGN_HOST) as c:
                code, text = c.reply()
                if code == 421:
                    refusals.append(text)
                    time.sleep(4.2)  # the ban (4 s) ends
                    continue
                c.cmd("USER tina")
                code, text = c.cmd("PASS wrong", timeout=30)
                if code == 421:
                    refusals.append(text)
    except Exception as e:  # noqa: BLE001
        errors.add(f"guesser: {e!r}")


@pytest.mark.time_limit(300)
def test_two_loops_under_a_mixed_load_with_reloads(make_server, tmp_path):
    users_file = tmp_path / "users"
    add_user(users_file, "tina", PASSWORD)
    config = tmp_path / "muxftpd.toml"
    config.write_text('banner = "first"\n')
    srv = make_server(threads=2, users=[], extra=[
        "--users-file", str(users_file), "--config", str(config), "--quota-bytes", "500K",
        "--max-sessions-per-user", "20", "--max-login-failures", "2", "--ban-seconds", "4"])
    errors = ThreadErrors()
    threads = [threading.Thread(target=worker, args=(srv, i, errors)) for i in range(WORKERS)]
    refusals: list[str] = []
    threads.append(threading.Thread(target=guesser, args=(srv, errors, refusals)))
    for t in threads:
        t.start()
    for n in range(3):
        time.sleep(1.0)
        config.write_text(f'banner = "reload {n}"\n')
        srv.proc.send_signal(signal.SIGHUP)
    for t in threads:
        t.join(timeout=240)
    assert not any(t.is_alive() for t in threads), "the load did not finish"
    assert errors.errors == []
    assert wait_until(lambda: "reload: settings" in srv.stderr_text(), timeout=10)
    assert any("Too many failed logins" in text for text in refusals), refusals
