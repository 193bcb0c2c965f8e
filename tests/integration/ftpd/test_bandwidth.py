"""Bandwidth limits: per session (download and upload) and per user (shared by all of a user's
sessions, while other users are not slowed), paced without burning CPU.

Only lower bounds on durations are asserted (a limit that does not limit finishes in
milliseconds; a slow machine only makes transfers longer), plus the server's CPU time while a
throttled transfer runs (a busy loop would use a whole core).
"""
from __future__ import annotations

import io
import threading
import time

import pytest

from ftpd_support import RO_PASSWORD, RO_USER, pseudo_random_bytes

KIB = 1024


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100.0  # utime + stime, in clock ticks


def timed_download(srv, name: str, user=None, password=None) -> tuple[bytes, float]:
    f = srv.ftp() if user is None else srv.ftp(user, password)
    buf = io.BytesIO()
    t0 = time.monotonic()
    f.retrbinary(f"RETR {name}", buf.write)
    elapsed = time.monotonic() - t0
    f.quit()
    return buf.getvalue(), elapsed


@pytest.mark.time_limit(60)
def test_session_download_rate(make_server):
    srv = make_server(extra=["--download-rate", "200K"])
    data = pseudo_random_bytes(600 * KIB, seed=51)
    (srv.root / "f.bin").write_bytes(data)
    cpu0 = cpu_seconds(srv.pid())
    got, elapsed = timed_download(srv, "f.bin")
    cpu = cpu_seconds(srv.pid()) - cpu0
    assert got == data
    # 600 KiB at 200 KiB/s, minus the first burst (a tenth of a second's worth).
    assert elapsed >= 2.5, f"not throttled: {elapsed:.2f} s"
    assert cpu < elapsed / 2, f"the server spun while pacing: {cpu:.2f} s CPU in {elapsed:.2f} s"


@pytest.mark.time_limit(60)
def test_session_upload_rate(make_server):
    srv = make_server(extra=["--upload-rate", "200K"])
    data = pseudo_random_bytes(600 * KIB, seed=52)
    f = srv.ftp()
    t0 = time.monotonic()
    f.storbinary("STOR up.bin", io.BytesIO(data))
    elapsed = time.monotonic() - t0
    f.quit()
    assert (srv.root / "up.bin").read_bytes() == data
    # Socket buffers absorb some of the upload before the pacing shows; still well over 1 s.
    assert elapsed >= 1.5, f"not throttled: {elapsed:.2f} s"


@pytest.mark.time_limit(90)
def test_user_rate_is_shared_by_sessions_and_spares_other_users(make_server):
    srv = make_server(extra=["--user-download-rate", "300K"])
    data = pseudo_random_bytes(450 * KIB, seed=53)
    (srv.root / "f.bin").write_bytes(data)
    results: list[tuple[bytes, float]] = []
    lock = threading.Lock()

    def download():
        r = timed_download(srv, "f.bin")
        with lock:
            results.append(r)

    threads = [threading.Thread(target=download) for _ in range(2)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    # Meanwhile another user downloads the same file with its own bucket (not shared).
    other, other_elapsed = timed_download(srv, "f.bin", RO_USER, RO_PASSWORD)
    for t in threads:
        t.join(timeout=60)
    total = time.monotonic() - t0
    assert len(results) == 2 and all(got == data for got, _ in results)
    assert other == data
    # 900 KiB through one 300 KiB/s bucket: about 3 s for both together.
    assert total >= 2.5, f"the user's sessions were not limited together: {total:.2f} s"
    assert other_elapsed < total, "another user's transfer is not held back by this user's"
