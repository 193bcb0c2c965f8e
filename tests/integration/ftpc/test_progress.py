"""The progress board on a pseudo-terminal (bars redrawn in place, screen left clean) and on a
pipe (plain lines, no control characters)."""
from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import termios
import time

import pytest

from ftpc_support import MUXFTP, Screen, client_env, make_files, run_muxftp, sha256

RATE = 200_000  # pyftpdlib lets the first 2 x RATE of a connection through at once


def run_on_pty(args: list[str], home, cols: int = 100, seconds: float = 60.0):
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, cols, 0, 0))
    env = client_env(home)
    env["TERM"] = "xterm"
    proc = subprocess.Popen([MUXFTP, *args], stdin=slave, stdout=slave, stderr=slave, env=env,
                            close_fds=True)
    os.close(slave)
    out = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        r, _, _ = select.select([master], [], [], 0.2)
        if r:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        elif proc.poll() is not None:
            break
    os.close(master)
    proc.wait(timeout=10)
    return proc.returncode, out


@pytest.mark.time_limit(90)
def test_board_on_a_terminal(make_pyftpd, tmp_path, home):
    srv = make_pyftpd(rate=RATE)
    sums = make_files(srv.root, 6, seed=21, max_size=1_500_000)
    out = tmp_path / "out"
    status, raw = run_on_pty(["-j", "3", "get", srv.url + "/*.bin", "-o", str(out)], home)
    assert status == 0, raw.decode("utf-8", "replace")
    assert {p.name: sha256(p) for p in out.iterdir()} == sums
    text = raw.replace(b"\r\n", b"\n")  # the pty's ONLCR
    # redrawn in place many times, several bars in one frame
    assert text.count(b"\x1b[") > 20
    frames = text.split(b"\x1b[J")
    bars_per_frame = [len(set(re.findall(rb"(f\d\d\.bin) +\[[=> ]+\]", fr))) for fr in frames]
    assert max(bars_per_frame) >= 2, raw[:2000]
    assert b"ETA" in text and b"MiB" in text or b"KiB" in text
    screen = Screen()
    screen.feed(text)
    final = screen.text()
    assert screen.cursor_visible
    assert not any("ETA" in l or "total" in l for l in final), final
    done = [l for l in final if l.startswith("done    ")]
    assert sorted(l.split()[1] for l in done) == sorted(n for n in sums if n != "f00.bin") or \
        len(done) == len(sums), final
    assert all(len(l) < 100 for l in final)


@pytest.mark.time_limit(60)
def test_board_fits_a_narrow_terminal(make_pyftpd, tmp_path, home):
    srv = make_pyftpd(rate=RATE)
    (srv.root / ("a-rather-long-file-name-" * 3 + ".bin")).write_bytes(os.urandom(400_000))
    out = tmp_path / "out"
    status, raw = run_on_pty(["get", srv.url + "/*.bin", "-o", str(out)], home, cols=40)
    assert status == 0
    screen = Screen()
    screen.feed(raw.replace(b"\r\n", b"\n"))
    # no line ever reached the last column (which would wrap and break the redraw)
    for frame in raw.split(b"\x1b[K"):
        last = frame.rsplit(b"\n", 1)[-1].rsplit(b"\x1b[", 1)[-1]
        assert len(last.decode("utf-8", "replace")) < 45
    assert not any("ETA" in l for l in screen.text())


@pytest.mark.time_limit(60)
def test_lines_when_not_a_terminal(make_pyftpd, tmp_path, home):
    srv = make_pyftpd(rate=RATE)
    sums = make_files(srv.root, 3, seed=22, max_size=900_000)
    out = tmp_path / "out"
    r = run_muxftp(["-j", "3", "get", srv.url + "/*.bin", "-o", str(out)], home)
    assert r.returncode == 0
    assert b"\x1b" not in r.stderr and b"\r" not in r.stderr
    lines = r.stderr.decode().splitlines()
    assert sum(1 for l in lines if l.startswith("done    ")) == len(sums)
    assert any(l.startswith("total: ") for l in lines), lines  # periodic status lines
    assert {p.name: sha256(p) for p in out.iterdir()} == sums
    quiet = run_muxftp(["-q", "get", srv.url + "/*.bin", "-o", str(tmp_path / "q")], home)
    assert quiet.returncode == 0 and quiet.stderr == b""
