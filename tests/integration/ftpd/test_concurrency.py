"""Many sessions at once on every IO backend, and a control connection that stays responsive
while its own transfer runs."""
from __future__ import annotations

import io
import threading
import time

import pytest

from ftpd_support import (
    BACKENDS, TEMP_PREFIX, ThreadErrors, file_sha256, pseudo_random_bytes, recv_all, rst_close,
    sha256, temp_files, wait_until,
)

CLIENTS = 50
KiB, MiB = 1024, 1024 * 1024
# One size per client: a few big transfers and many small ones, uploads and downloads mixed.
SIZES = ([8 * MiB] * 4 + [2 * MiB] * 6 + [256 * KiB] * 10 + [64 * KiB] * 10 + [4 * KiB] * 10
         + [1 * KiB] * 10)
assert len(SIZES) == CLIENTS

_blobs: dict[int, bytes] = {}


def blob(i: int) -> bytes:
    """Client i's content, made once per test run and shared by the backends."""
    if i not in _blobs:
        _blobs[i] = pseudo_random_bytes(SIZES[i], seed=1000 + i)
    return _blobs[i]


def upload_closing_after_consumed(ftp, directory, target: str, data: bytes) -> str:
    """STOR that closes the data connection only once the server has written every byte to
    its upload temporary, so that the FIN cannot arrive in the same readiness edge as the last
    data. Used on epoll-et, whose bug with exactly that case has its own test
    (test_safety.py::test_upload_whose_last_segment_carries_fin); everything else about
    concurrent uploads is still checked there."""
    conn = ftp.transfercmd(f"STOR {target}")
    try:
        conn.sendall(data)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            sizes = [p.stat().st_size for p in directory.iterdir()
                     if p.name.startswith(TEMP_PREFIX)]
            if sizes == [len(data)]:
                break
            time.sleep(0.005)
        else:
            raise AssertionError(f"server did not consume upload {target}")
    finally:
        conn.close()
    return ftp.voidresp()


@pytest.mark.time_limit(90)
@pytest.mark.parametrize("backend", BACKENDS)
def test_many_clients_mixed_transfers(make_server, backend):
    # All from 127.0.0.1: room above the per-address limit's default (50) for the 50 clients.
    srv = make_server(io=backend, threads=2, extra=["--max-sessions-per-ip", "200"])
    assert srv.backend == backend and srv.loops == 2
    uploads = [i for i in range(CLIENTS) if i % 2 == 0]
    downloads = [i for i in range(CLIENTS) if i % 2 == 1]
    for i in downloads:
        (srv.root / f"down{i}.bin").write_bytes(blob(i))
    for i in uploads:
        (srv.root / f"c{i}").mkdir()  # one directory each: its upload temporary is findable
    barrier = threading.Barrier(CLIENTS, timeout=30)
    errors = ThreadErrors()
    done = []

    def client(i: int) -> None:
        ftp = None
        try:
            ftp = srv.ftp(timeout=30)
            barrier.wait()  # every client is connected and logged in at the same time
            ftp.voidcmd("TYPE I")
            data = blob(i)
            if i in uploads:
                target = f"c{i}/up.bin"
                if backend == "epoll-et":
                    resp = upload_closing_after_consumed(ftp, srv.root / f"c{i}", target, data)
                else:
                    resp = ftp.storbinary(f"STOR {target}", io.BytesIO(data),
                                          blocksize=256 * KiB)
                assert resp.startswith("226"), resp
                assert file_sha256(srv.root / target) == sha256(data), f"upload {i}"
                back = io.BytesIO()
                ftp.retrbinary(f"RETR {target}", back.write, blocksize=256 * KiB)
                assert sha256(back.getvalue()) == sha256(data), f"download of upload {i}"
            else:
                got = io.BytesIO()
                resp = ftp.retrbinary(f"RETR down{i}.bin", got.write, blocksize=256 * KiB)
                assert resp.startswith("226"), resp
                assert sha256(got.getvalue()) == sha256(data), f"download {i}"
            assert ftp.quit().startswith("221")
            done.append(i)
        except BaseException as e:  # noqa: BLE001 - reported by the main thread
            errors.add(f"client {i} ({SIZES[i]} bytes): {e!r}")
            barrier.abort()
        finally:
            if ftp is not None:
                ftp.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(CLIENTS)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max(1.0, 75 - (time.monotonic() - t0)))
    assert not any(t.is_alive() for t in threads), "clients still running after 75 s"
    assert not errors.errors, "\n".join(errors.errors[:10])
    assert sorted(done) == list(range(CLIENTS))
    assert temp_files(srv.root) == []
    for i in uploads:  # big files are removed early: the tmp directory is kept by pytest
        (srv.root / f"c{i}" / "up.bin").unlink()
    for i in downloads:
        (srv.root / f"down{i}.bin").unlink()


def _reply_skipping(c, wanted: int, seen: list[int], timeout: float) -> float:
    """Reads replies until `wanted` arrives (others are recorded in `seen`); returns the
    time it took."""
    t0 = time.monotonic()
    for _ in range(10):
        code, text = c.reply(timeout)
        if code == wanted:
            return time.monotonic() - t0
        seen.append(code)
    raise AssertionError(f"no {wanted} reply; saw {seen}")


@pytest.mark.time_limit(45)
def test_noop_and_stat_answered_during_own_slow_download(backend_server):
    srv = backend_server
    data = pseudo_random_bytes(12 * MiB, seed=77)
    (srv.root / "big.bin").write_bytes(data)
    with srv.raw(login=True) as c:
        assert c.cmd("TYPE I")[0] == 200
        sock = c.pasv(rcvbuf=32 * KiB)
        assert c.cmd("RETR big.bin")[0] == 150
        received = bytearray()
        other: list[int] = []
        latencies: list[float] = []
        stat_seen = False
        next_noop = time.monotonic()
        deadline = time.monotonic() + 30
        sock.settimeout(10)
        while time.monotonic() < deadline:
            chunk = sock.recv(128 * KiB)
            if not chunk:
                break
            received += chunk
            time.sleep(0.005)  # a slow reader: ~10 MiB/s at most
            if time.monotonic() >= next_noop and 226 not in other:
                c.send(b"NOOP\r\n")
                latencies.append(_reply_skipping(c, 200, other, timeout=5))
                if not stat_seen:
                    code, text = c.cmd("STAT")
                    assert code == 211, text
                    assert "Transfer in progress" in text and "big.bin" in text, text
                    stat_seen = True
                next_noop = time.monotonic() + 0.1
        sock.close()
        assert bytes(received) == data
        if 226 not in other:
            assert c.reply(10)[0] == 226
        assert other in ([], [226]), other
    answered_during = len(latencies) - (1 if 226 in other else 0)
    assert answered_during >= 3, f"only {answered_during} NOOPs while the download ran"
    assert max(latencies) < 2.0, latencies


@pytest.mark.time_limit(30)
def test_abor_running_download_then_session_works(backend_server):
    srv = backend_server
    (srv.root / "big.bin").write_bytes(pseudo_random_bytes(32 * MiB, seed=78))
    (srv.root / "small.txt").write_bytes(b"still works")
    with srv.raw(login=True) as c:
        assert c.cmd("TYPE I")[0] == 200
        sock = c.pasv(rcvbuf=32 * KiB)
        assert c.cmd("RETR big.bin")[0] == 150
        sock.settimeout(5)
        assert sock.recv(64 * KiB)
        time.sleep(0.2)  # the server is now blocked on a full socket
        t0 = time.monotonic()
        c.send(b"ABOR\r\n")
        assert c.reply(5)[0] == 426
        assert c.reply(5)[0] == 226
        assert time.monotonic() - t0 < 2.0
        # The aborted data connection is closed by the server: it ends (EOF or reset) soon.
        ended = False
        try:
            for _ in range(2000):
                if not sock.recv(1 << 20):
                    ended = True
                    break
        except ConnectionError:
            ended = True
        assert ended
        sock.close()
        assert c.cmd("NOOP")[0] == 200
        sock = c.pasv()
        assert c.cmd("RETR small.txt")[0] == 150
        assert recv_all(sock) == b"still works"
        assert c.reply()[0] == 226
        assert c.cmd("QUIT")[0] == 221


@pytest.mark.time_limit(30)
def test_abor_running_upload_keeps_old_file(make_server):
    srv = make_server(threads=2)
    (srv.root / "f.bin").write_bytes(b"the old content")
    with srv.raw(login=True) as c:
        assert c.cmd("TYPE I")[0] == 200
        sock = c.pasv()
        assert c.cmd("STOR f.bin")[0] == 150
        sock.sendall(pseudo_random_bytes(2 * MiB, seed=79))
        c.send(b"ABOR\r\n")
        assert c.reply(5)[0] == 426
        assert c.reply(5)[0] == 226
        sock.close()
        assert c.cmd("NOOP")[0] == 200
    assert (srv.root / "f.bin").read_bytes() == b"the old content"
    assert temp_files(srv.root) == []


@pytest.mark.parametrize("direction", ["upload", "download"])
def test_client_vanishing_right_after_abor(make_server, direction):
    """ABOR, then both connections dropped at once (reset) before any reply is read: the
    session ends cleanly, the old file is intact, nothing temporary is left, others go on."""
    srv = make_server(threads=2)
    old = b"the old content"
    (srv.root / "f.bin").write_bytes(old)
    (srv.root / "big.bin").write_bytes(pseudo_random_bytes(8 * MiB, seed=80))
    for _ in range(5):
        c = srv.raw(login=True)
        assert c.cmd("TYPE I")[0] == 200
        sock = c.pasv(rcvbuf=4096)
        if direction == "upload":
            assert c.cmd("STOR f.bin")[0] == 150
            sock.sendall(pseudo_random_bytes(1 * MiB, seed=81))
        else:
            assert c.cmd("RETR big.bin")[0] == 150
        c.send(b"ABOR\r\n")
        rst_close(sock)
        rst_close(c.sock)
    other = srv.ftp()
    assert other.voidcmd("NOOP").startswith("200")
    buf = io.BytesIO()
    other.retrbinary("RETR f.bin", buf.write)
    other.quit()
    assert buf.getvalue() == old
    assert wait_until(lambda: temp_files(srv.root) == [], 10), temp_files(srv.root)
