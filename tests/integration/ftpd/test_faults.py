"""Faults and signals: a full disk, SIGTERM with a grace period, SIGHUP reloads, kill -9 in the
middle of an upload. Each test would fail without the behaviour it names."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
from pathlib import Path

import pytest

from ftpd_support import (
    BACKENDS, HOST, MUXFTPD, RawControl, file_sha256, pseudo_random_bytes, recv_all, sha256, temp_files,
    wait_until,
)

KiB = 1024
MiB = 1024 * KiB


# --- helpers ----------------------------------------------------------------------------------

def retr(c: RawControl, name: str) -> bytes:
    data = c.pasv()
    assert c.cmd(f"RETR {name}")[0] == 150
    got = recv_all(data)
    data.close()
    code, text = c.reply()
    assert code == 226, text
    return got


def listing(c: RawControl) -> str:
    data = c.pasv()
    assert c.cmd("NLST")[0] == 150
    got = recv_all(data)
    data.close()
    code, text = c.reply()
    assert code == 226, text
    return got.decode()


def stor(c: RawControl, command: str, payload: bytes) -> tuple[int, str]:
    """Sends payload for STOR/APPE and returns the final reply. The server may close the data
    connection before it has everything (a full disk): that is not an error here."""
    data = c.pasv()
    code, text = c.cmd(command)
    assert code == 150, text
    try:
        data.sendall(payload)
        data.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    finally:
        data.close()
    return c.reply(timeout=20)


def connection_refused(port: int) -> bool:
    try:
        s = socket.create_connection((HOST, port), timeout=2)
    except ConnectionRefusedError:
        return True
    s.close()
    return False


def stderr_has(srv, text: str, timeout: float = 5.0) -> bool:
    return wait_until(lambda: text in srv.stderr_text(), timeout=timeout)


# --- disk full --------------------------------------------------------------------------------

@pytest.fixture
def small_disk(tmp_path):
    """A 2 MiB tmpfs, unmounted at the end (after the server of the test has stopped)."""
    mountpoint = tmp_path / "small-disk"
    mountpoint.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0755", "tmpfs",
                        str(mountpoint)], capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        pytest.skip(f"mounting a tmpfs is not permitted here (needs root and CAP_SYS_ADMIN): "
                    f"{r.stderr.strip()}")
    try:
        yield mountpoint
    finally:
        if subprocess.run(["umount", str(mountpoint)], capture_output=True,
                          timeout=30).returncode != 0:
            subprocess.run(["umount", "-l", str(mountpoint)], capture_output=True, timeout=30)


@pytest.mark.parametrize("io", BACKENDS)
def test_stor_on_full_disk_keeps_old_file_and_serves_on(small_disk, make_server, io):
    srv = make_server(root=small_disk, io=io)
    old = pseudo_random_bytes(512 * KiB, seed=11)
    (small_disk / "keep.bin").write_bytes(old)
    c = srv.raw(login=True)
    assert c.cmd("TYPE I")[0] == 200

    code, text = stor(c, "STOR keep.bin", pseudo_random_bytes(4 * MiB, seed=12))
    assert code in (452, 552), text
    assert temp_files(small_disk) == []
    assert (small_disk / "keep.bin").read_bytes() == old

    # The space of the failed upload is free again, and the server goes on serving.
    fits = pseudo_random_bytes(256 * KiB, seed=13)
    code, text = stor(c, "STOR fits.bin", fits)
    assert code == 226, text
    assert (small_disk / "fits.bin").read_bytes() == fits
    assert sorted(listing(c).split()) == ["fits.bin", "keep.bin"]
    assert retr(c, "keep.bin") == old
    c.close()


@pytest.mark.parametrize("io", BACKENDS)
def test_appe_and_resume_on_full_disk_truncate_back(small_disk, make_server, io):
    srv = make_server(root=small_disk, io=io)
    before = pseudo_random_bytes(256 * KiB, seed=21)
    target = small_disk / "grow.bin"
    target.write_bytes(before)
    c = srv.raw(login=True)
    assert c.cmd("TYPE I")[0] == 200

    code, text = stor(c, "APPE grow.bin", pseudo_random_bytes(4 * MiB, seed=22))
    assert code in (452, 552), text
    assert target.read_bytes() == before  # the partial tail is gone

    assert c.cmd(f"REST {len(before)}")[0] == 350
    code, text = stor(c, "STOR grow.bin", pseudo_random_bytes(4 * MiB, seed=23))
    assert code in (452, 552), text
    assert target.read_bytes() == before

    tail = pseudo_random_bytes(64 * KiB, seed=24)
    code, text = stor(c, "APPE grow.bin", tail)
    assert code == 226, text
    assert target.read_bytes() == before + tail
    assert temp_files(small_disk) == []
    c.close()


# --- durable before visible --------------------------------------------------------------------

def fsynced_paths(trace: Path) -> list[str]:
    """The paths that strace -y saw fsynced: `fsync(5</a/b>) = 0`."""
    import re
    return re.findall(r"fsync\(\d+<([^>]*)>\)", trace.read_text()) if trace.exists() else []


class Strace:
    """strace attached to the running server; the trace is written to `trace`."""

    def __init__(self, srv, trace: Path, *options: str):
        import shutil
        strace = shutil.which("strace")
        assert strace, "strace is missing: scripts/deps.sh installs it"
        self.trace = trace
        self.tracer = subprocess.Popen([strace, "-f", "-y", "-o", str(trace), *options,
                                        "-p", str(srv.pid())], stderr=subprocess.PIPE, text=True)

    def __enter__(self) -> "Strace":
        import time
        # strace says "attached" on stderr once it traces the process.
        deadline = time.monotonic() + 20
        seen = ""
        while "attached" not in seen and time.monotonic() < deadline:
            seen += self.tracer.stderr.readline()
        assert "attached" in seen, seen
        return self

    def __exit__(self, *exc) -> None:
        self.tracer.terminate()
        self.tracer.wait(timeout=10)


@pytest.mark.time_limit(60)
def test_nlst_reads_names_without_a_stat_of_each(make_server, tmp_path):
    """NLST needs names only: a directory of 300 files costs one readdir, not 300 stats (what
    made NLST of 10,000 files 20 times slower than pure-ftpd's)."""
    srv = make_server()
    big = srv.root / "big"
    big.mkdir()
    for i in range(300):
        (big / f"f{i:03}").write_bytes(b"")
    trace = tmp_path / "stat.trace"
    with Strace(srv, trace, "-e", "trace=%%stat"):
        c = srv.raw(login=True)
        assert c.cmd("CWD big")[0] == 250
        names = set(listing(c).split("\r\n")) - {""}
        c.close()
    assert names == {f"f{i:03}" for i in range(300)}
    import re
    stats = re.findall(r'stat[^(]*\(.*"f\d{3}"', trace.read_text())
    assert len(stats) < 30, f"{len(stats)} stats of entries, e.g. {stats[:3]}"


@pytest.mark.time_limit(60)
def test_stor_fsyncs_the_file_and_then_its_directory(make_server, tmp_path):
    srv = make_server()
    (srv.root / "sub").mkdir()
    trace = tmp_path / "fsync.trace"
    with Strace(srv, trace, "-e", "trace=fsync"):
        c = srv.raw(login=True)
        assert c.cmd("TYPE I")[0] == 200
        code, text = stor(c, "STOR sub/durable.bin", b"on disk before it is visible\n")
        assert code == 226, text
        c.close()
        directory = str((srv.root / "sub").resolve())
        assert wait_until(lambda: directory in fsynced_paths(trace), timeout=10), \
            fsynced_paths(trace)
    paths = fsynced_paths(trace)
    # The content first (still under its temporary name), then the directory with the new name.
    assert any(p.startswith(directory + "/.muxftpd-upload-") for p in paths[:paths.index(directory)]), paths


@pytest.mark.time_limit(60)
@pytest.mark.parametrize("fsync_uploads", [True, False])
def test_a_large_upload_is_written_behind_when_it_will_be_fsynced(make_server, tmp_path,
                                                                 fsync_uploads):
    """With fsync_uploads (the default) the kernel is asked to start writing every 8 MiB while
    the upload arrives, so the final fsync does not write the whole file while the client
    waits; without fsync nothing is asked."""
    config = tmp_path / "muxftpd.toml"
    config.write_text(f"fsync_uploads = {'true' if fsync_uploads else 'false'}\n")
    srv = make_server(extra=["--config", str(config)])
    trace = tmp_path / "sync.trace"
    payload = os.urandom(20 << 20)
    with Strace(srv, trace, "-e", "trace=sync_file_range,fsync"):
        c = srv.raw(login=True)
        assert c.cmd("TYPE I")[0] == 200
        code, text = stor(c, "STOR big.bin", payload)
        assert code == 226, text
        c.close()
    assert (srv.root / "big.bin").read_bytes() == payload
    import re
    ranges = re.findall(r"sync_file_range\(\d+<[^>]*\.muxftpd-upload-[^>]*>, (\d+), (\d+)",
                        trace.read_text())
    if fsync_uploads:
        assert len(ranges) >= 2, trace.read_text()[-2000:]
        assert int(ranges[0][0]) == 0 and int(ranges[1][0]) == sum(map(int, ranges[0]))
    else:
        assert ranges == []


@pytest.mark.time_limit(60)
def test_stou_fsyncs_the_file_and_then_its_directory(make_server, tmp_path):
    # STOU writes under its final name: the content, then the new name, are on disk before 226.
    srv = make_server()
    (srv.root / "sub").mkdir()
    trace = tmp_path / "fsync.trace"
    with Strace(srv, trace, "-e", "trace=fsync"):
        c = srv.raw(login=True)
        assert c.cmd("CWD sub")[0] == 250
        assert c.cmd("TYPE I")[0] == 200
        code, text = stor(c, "STOU", b"on disk before 226\n")
        assert code == 226, text
        c.close()
        directory = str((srv.root / "sub").resolve())
        assert wait_until(lambda: directory in fsynced_paths(trace), timeout=10), \
            fsynced_paths(trace)
    paths = fsynced_paths(trace)
    (created,) = [p for p in (srv.root / "sub").iterdir()]
    assert str(created.resolve()) in paths[:paths.index(directory)], paths


@pytest.mark.time_limit(60)
@pytest.mark.parametrize("command", ["APPE", "REST"])
def test_in_place_upload_whose_close_fails_is_undone(make_server, tmp_path, command):
    # Without fsync a write error may show only at close (NFS, quotas). An upload written in
    # place must then be answered 451 and taken back, not 226 for data that is lost.
    srv = make_server()
    target = srv.root / "grow.bin"
    old = b"the old content, which must survive\n"
    target.write_bytes(old)
    trace = tmp_path / "close.trace"
    # -P: only a close of the upload's file fails.
    with Strace(srv, trace, "-P", str(target.resolve()), "-e", "trace=close",
                "-e", "inject=close:error=EIO"):
        c = srv.raw(login=True)
        assert c.cmd("TYPE I")[0] == 200
        if command == "REST":
            assert c.cmd("REST 8")[0] == 350
            code, text = stor(c, "STOR grow.bin", b"NEW TAIL\n")
            # What it overwrote stays overwritten; the old tail is cut only when an upload
            # completes, so here it stays too.
            expected = old[:8] + b"NEW TAIL\n" + old[17:]
        else:
            code, text = stor(c, "APPE grow.bin", b"an appended tail\n")
            expected = old
        assert code == 451, text
        c.close()
    assert target.read_bytes() == expected


# --- a file that shrinks while it is downloaded -----------------------------------------------

def xferlog_status(log: Path, path: str) -> list[str]:
    """The completion flags (c/i) of the xferlog lines of `path`, oldest first."""
    return [line.split()[-1] for line in log.read_text().splitlines()
            if f" {path} " in line] if log.exists() else []


@pytest.mark.time_limit(60)
@pytest.mark.parametrize("mode", ["I", "A"])  # sendfile, and the user-space path (ASCII)
@pytest.mark.parametrize("io", ["epoll", "uring"])
def test_retr_of_a_file_that_shrinks_meanwhile_is_not_complete(make_server, tmp_path, io, mode):
    log = tmp_path / "xfer.log"
    srv = make_server(io=io, extra=["--xferlog", str(log)])
    big = srv.root / "shrinks.bin"
    big.write_bytes(b"line of text\n" * (48 * MiB // 13))  # far more than socket buffers hold
    c = srv.raw(login=True)
    assert c.cmd(f"TYPE {mode}")[0] == 200
    data = c.pasv(rcvbuf=64 * KiB)
    assert c.cmd("RETR shrinks.bin")[0] == 150
    # Nothing read yet: the server is stuck in its first chunk, far from the end, when the
    # file is cut short.
    os.truncate(big, 1 * MiB)
    # A reset, not a FIN: a client that only watches the data connection must not take the
    # truncated copy for the whole file.
    with pytest.raises(ConnectionResetError):
        recv_all(data, timeout=30)
    data.close()
    code, text = c.reply(timeout=20)
    assert code == 451, (code, text)
    assert wait_until(lambda: xferlog_status(log, "/shrinks.bin") == ["i"], timeout=5), \
        log.read_text() if log.exists() else "no xferlog"
    # The session goes on: a file that stays as it is downloads whole, with 226.
    (srv.root / "steady.bin").write_bytes(b"steady\n" * 1000)
    data = c.pasv()
    assert c.cmd("RETR steady.bin")[0] == 150
    assert len(recv_all(data, timeout=20)) in (7000, 8000)  # ASCII mode adds the CRs
    data.close()
    assert c.reply(timeout=20)[0] == 226
    c.close()


# --- SIGTERM: stop accepting, let transfers finish within the grace period --------------------

def start_slow_download(srv, size: int) -> tuple[RawControl, socket.socket, bytes]:
    """RETR of a file of `size` bytes through a small receive buffer: the server can only send
    as fast as the test reads."""
    content = pseudo_random_bytes(size, seed=31)
    (srv.root / "big.bin").write_bytes(content)
    c = srv.raw(login=True)
    assert c.cmd("TYPE I")[0] == 200
    data = c.pasv(rcvbuf=64 * KiB)
    assert c.cmd("RETR big.bin")[0] == 150
    return c, data, content


def read_slowly(data: socket.socket, chunks: int, pause: float = 0.05) -> bytes:
    import time
    got = []
    for _ in range(chunks):
        got.append(data.recv(64 * KiB))
        time.sleep(pause)
    return b"".join(got)


@pytest.mark.time_limit(60)
@pytest.mark.parametrize("io", BACKENDS)
def test_sigterm_lets_a_running_download_finish(make_server, io):
    srv = make_server(io=io, threads=2, extra=["--shutdown-grace", "20"])
    idle = srv.raw(login=True)
    c, data, content = start_slow_download(srv, 16 * MiB)
    head = read_slowly(data, 4)

    srv.expect_exit = True
    srv.proc.send_signal(signal.SIGTERM)
    code, text = idle.reply(timeout=5)  # idle sessions end at once
    assert code == 421, text
    assert idle.closed_by_server()
    assert wait_until(lambda: connection_refused(srv.port), timeout=5), \
        "new connections still accepted after SIGTERM"

    # Well past the moment an immediate stop would have cut it, the download still runs.
    head += read_slowly(data, 20)
    assert srv.alive()
    got = head + recv_all(data)
    data.close()
    assert sha256(got) == sha256(content)
    code, text = c.reply()
    assert code == 226, text
    code, text = c.reply()
    assert code == 421, text
    assert c.closed_by_server()
    assert srv.proc.wait(timeout=10) == 0


@pytest.mark.time_limit(30)
def test_sigterm_lets_a_running_upload_finish(make_server):
    srv = make_server(extra=["--shutdown-grace", "20"])
    (srv.root / "f.bin").write_bytes(b"old content\n" * 1000)
    c = srv.raw(login=True)
    assert c.cmd("TYPE I")[0] == 200
    data = c.pasv()
    assert c.cmd("STOR f.bin")[0] == 150
    first = pseudo_random_bytes(MiB, seed=35)
    data.sendall(first)
    assert wait_until(lambda: [p.stat().st_size for p in temp_files(srv.root)] == [len(first)],
                      timeout=10), "the upload never reached its temporary file"

    srv.expect_exit = True
    srv.proc.send_signal(signal.SIGTERM)
    assert stderr_has(srv, "shutting down")
    rest = pseudo_random_bytes(MiB, seed=36)
    data.sendall(rest)
    data.close()
    code, text = c.reply()
    assert code == 226, text
    code, text = c.reply()
    assert code == 421, text
    assert srv.proc.wait(timeout=10) == 0
    assert file_sha256(srv.root / "f.bin") == sha256(first + rest)
    assert temp_files(srv.root) == []


@pytest.mark.time_limit(30)
def test_sigterm_aborts_transfers_when_grace_ends(make_server):
    srv = make_server(extra=["--shutdown-grace", "1"])
    c, data, _ = start_slow_download(srv, 16 * MiB)  # and never read: the transfer stalls
    srv.expect_exit = True
    srv.proc.send_signal(signal.SIGTERM)
    code, text = c.reply(timeout=10)
    assert code == 426, text
    code, text = c.reply(timeout=5)
    assert code == 421, text
    assert srv.proc.wait(timeout=10) == 0
    data.close()


@pytest.mark.time_limit(30)
def test_second_sigterm_stops_at_once(make_server):
    srv = make_server(extra=["--shutdown-grace", "120"])
    c, data, _ = start_slow_download(srv, 16 * MiB)
    srv.expect_exit = True
    srv.proc.send_signal(signal.SIGTERM)
    assert stderr_has(srv, "shutting down")
    assert srv.alive()  # draining: the transfer has its grace period
    srv.proc.send_signal(signal.SIGTERM)
    assert srv.proc.wait(timeout=10) == 0
    code, text = c.reply(timeout=5)
    assert code == 426, text
    data.close()


# --- SIGHUP: reload users and settings without dropping sessions ------------------------------

def set_password(users_file: Path, name: str, password: str) -> None:
    r = subprocess.run([MUXFTPD, "passwd", str(users_file), name], input=password + "\n",
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


def login_code(srv, user: str, password: str) -> int:
    with srv.raw() as c:
        assert c.cmd(f"USER {user}")[0] == 331
        return c.cmd(f"PASS {password}", timeout=15)[0]


@pytest.mark.time_limit(90)
def test_sighup_reloads_users_and_keeps_sessions(make_server, tmp_path):
    users_file = tmp_path / "users"
    set_password(users_file, "anna", "first-pw")
    srv = make_server(users=[], extra=["--users-file", str(users_file)])
    (srv.root / "hello.txt").write_bytes(b"hello\n")
    old_session = srv.raw(login=True, user="anna", password="first-pw")
    assert old_session.cmd("TYPE I")[0] == 200
    assert login_code(srv, "bert", "bert-pw") == 530

    set_password(users_file, "anna", "second-pw")
    set_password(users_file, "bert", "bert-pw")
    srv.proc.send_signal(signal.SIGHUP)
    assert stderr_has(srv, "reload: 2 user(s)")

    assert login_code(srv, "bert", "bert-pw") == 230
    assert "hello.txt" in listing(old_session)  # still logged in, still serving
    assert retr(old_session, "hello.txt") == b"hello\n"
    assert login_code(srv, "anna", "first-pw") == 530
    assert login_code(srv, "anna", "second-pw") == 230

    # A broken file keeps the users loaded before.
    users_file.write_text(users_file.read_text() + "not a users line\n")
    srv.proc.send_signal(signal.SIGHUP)
    assert stderr_has(srv, "keeping the users loaded before")
    assert login_code(srv, "bert", "bert-pw") == 230
    assert login_code(srv, "anna", "second-pw") == 230
    assert old_session.cmd("NOOP")[0] == 200
    old_session.close()


def greeting(srv) -> str:
    with RawControl(srv.port, srv.transcript) as c:
        code, text = c.reply()
        assert code == 220, text
        return text


@pytest.mark.time_limit(30)
def test_sighup_reloads_config_file_settings(make_server, tmp_path):
    config = tmp_path / "muxftpd.toml"
    config.write_text('banner = "before the reload"\n')
    srv = make_server(extra=["--config", str(config)])
    assert "before the reload" in greeting(srv)
    old_session = srv.raw(login=True)

    config.write_text('banner = "after the reload"\n')
    srv.proc.send_signal(signal.SIGHUP)
    assert stderr_has(srv, "reload: settings")
    assert "after the reload" in greeting(srv)
    assert old_session.cmd("NOOP")[0] == 200

    config.write_text('banner = "unterminated\n')
    srv.proc.send_signal(signal.SIGHUP)
    assert stderr_has(srv, "keeping the settings loaded before")
    assert "after the reload" in greeting(srv)
    old_session.close()


# --- kill -9 in the middle of an upload -------------------------------------------------------

@pytest.mark.time_limit(40)
def test_kill_9_mid_upload_keeps_old_file_and_restart_sweeps_temporary(make_server):
    srv = make_server()
    old = pseudo_random_bytes(1 * MiB, seed=41)
    (srv.root / "big.bin").write_bytes(old)
    c = srv.raw(login=True)
    assert c.cmd("TYPE I")[0] == 200
    data = c.pasv()
    assert c.cmd("STOR big.bin")[0] == 150
    first = pseudo_random_bytes(2 * MiB, seed=42)
    data.sendall(first)  # of a larger upload that never ends
    assert wait_until(lambda: [p.stat().st_size for p in temp_files(srv.root)] == [len(first)],
                      timeout=10), "the upload never reached its temporary file"

    srv.crash()
    assert file_sha256(srv.root / "big.bin") == sha256(old)
    assert len(temp_files(srv.root)) == 1  # what the sweep at the next start is for
    data.close()
    c.close()

    again = make_server(root=srv.root)
    assert temp_files(srv.root) == []
    assert "removed 1 stale upload file(s)" in again.stderr_text()
    c = again.raw(login=True)
    assert c.cmd("TYPE I")[0] == 200
    assert listing(c).split() == ["big.bin"]
    assert sha256(retr(c, "big.bin")) == sha256(old)
    c.close()


def test_start_up_sweeps_only_upload_temporaries(make_server, tmp_path):
    root = tmp_path / "root"
    (root / "sub" / "deeper").mkdir(parents=True)
    # Named as the server names its temporaries: the prefix and 12 random characters.
    stale = [root / ".muxftpd-upload-abc123def456",
             root / "sub" / "deeper" / ".muxftpd-upload-0123456789az"]
    # Not its own: other names with the prefix, and a named node's temporaries (a node started
    # without its name on a cluster's shared root must not remove their uploads in progress).
    kept = [root / "keep.muxftpd-upload-", root / ".muxftpd-uploadX", root / "normal.txt",
            root / ".muxftpd-upload-x", root / ".muxftpd-upload-abc123def4567",
            root / ".muxftpd-upload-n1.abc123def456",
            root / "sub" / ".muxftpd-upload-dir" / "inside"]
    kept[-1].parent.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    kept.append(outside / ".muxftpd-upload-not-ours")
    (root / "link").symlink_to(outside)  # never followed
    for p in stale + kept:
        p.write_bytes(b"x")

    srv = make_server(root=root)
    assert "removed 2 stale upload file(s)" in srv.stderr_text()
    assert [p for p in stale if p.exists()] == []
    assert [p for p in kept if not p.exists()] == []
    assert srv.raw(login=True).cmd("NOOP")[0] == 200


def test_a_node_of_a_cluster_sweeps_only_its_own_temporaries(make_server, tmp_path):
    """Nodes sharing one root (node_name): a node that restarts must not remove an upload that
    another node is writing; and its own uploads in progress carry its name."""
    root = tmp_path / "root"
    root.mkdir()
    mine = root / ".muxftpd-upload-n1.abc123def456"
    theirs = [root / ".muxftpd-upload-n2.abc123def456", root / ".muxftpd-upload-n10.x",
              root / ".muxftpd-upload-abc123def456", root / ".muxftpd-upload-oldstyle"]
    for p in [mine, *theirs]:
        p.write_bytes(b"x")
    srv = make_server(root=root, extra=["--node-name", "n1"])
    assert "removed 1 stale upload file(s) of node n1" in srv.stderr_text()
    assert not mine.exists()
    assert [p for p in theirs if not p.exists()] == []
    c = srv.ftp()
    c.voidcmd("TYPE I")
    sock = c.transfercmd("STOR up.bin")
    sock.sendall(b"y" * 1000)
    assert wait_until(lambda: list(root.glob(".muxftpd-upload-n1.*")), timeout=5)
    sock.close()
    c.voidresp()
    assert (root / "up.bin").read_bytes() == b"y" * 1000
    c.quit()


def test_a_bad_node_name_is_refused_at_start(tmp_path):
    proc = subprocess.run([MUXFTPD, "--listen", "127.0.0.1:0", "--root", str(tmp_path),
                           "--node-name", "../x"], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    assert "--node-name" in proc.stderr


# --- forced shutdown: frames freed with transfers still running -------------------------------

@pytest.mark.time_limit(60)
@pytest.mark.parametrize("io", BACKENDS)
def test_second_sigterm_with_transfers_running_tears_down_cleanly(make_server, io):
    """A second SIGTERM while a download stalls and an upload is halfway: the loops are destroyed
    with sessions and their transfers suspended (on io_uring with requests in the kernel). The
    transfers go before their sessions and the kernel is done before any frame is freed: the
    fixture finds no sanitizer report."""
    srv = make_server(io=io, extra=["--shutdown-grace", "120"])
    down, down_data, _ = start_slow_download(srv, 16 * MiB)  # never read: the transfer stalls
    up = srv.raw(login=True)
    assert up.cmd("TYPE I")[0] == 200
    up_data = up.pasv()
    assert up.cmd("STOR up.bin")[0] == 150
    first = pseudo_random_bytes(MiB, seed=41)
    up_data.sendall(first)
    assert wait_until(lambda: [p.stat().st_size for p in temp_files(srv.root)] == [len(first)],
                      timeout=10), "the upload never reached its temporary file"

    srv.expect_exit = True
    srv.proc.send_signal(signal.SIGTERM)
    assert stderr_has(srv, "shutting down")
    srv.proc.send_signal(signal.SIGTERM)
    assert srv.proc.wait(timeout=20) == 0
    assert not (srv.root / "up.bin").exists(), "a cut upload was committed"
    for s in (down_data, up_data):
        s.close()
