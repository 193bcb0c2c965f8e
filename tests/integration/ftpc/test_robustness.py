"""Interrupted and broken transfers: a client killed mid-download resumes; Ctrl-C stops cleanly
and leaves a resumable file; a server that drops the connection mid-transfer is retried."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest

from ftpc_support import MUXFTP, client_env, run_muxftp, sha256

RATE = 200_000  # bytes/s per data connection (pyftpdlib lets the first 2 x RATE through at once)
SIZE = 1_600_000


def start_get(url: str, out, home) -> subprocess.Popen:
    return subprocess.Popen([MUXFTP, "--progress=none", "get", url, "-o", str(out)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=client_env(home))


def wait_for_size(path, at_least: int, seconds: float = 20.0) -> int:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists() and path.stat().st_size >= at_least:
            return path.stat().st_size
        time.sleep(0.05)
    raise AssertionError(f"{path} did not reach {at_least} bytes")


@pytest.mark.time_limit(90)
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGINT])
def test_resume_after_interrupted_download(make_pyftpd, tmp_path, home, how):
    srv = make_pyftpd(rate=RATE)
    data = os.urandom(SIZE)
    (srv.root / "big.bin").write_bytes(data)
    out = tmp_path / "out"
    proc = start_get(srv.url + "/big.bin", out, home)
    wait_for_size(out / "big.bin", 200_000)
    proc.send_signal(how)
    _, err = proc.communicate(timeout=20)
    if how == signal.SIGINT:
        # It dies by the SIGINT itself after its clean-up, so that a shell loop stops.
        assert proc.returncode == -signal.SIGINT, err.decode()
        assert b"interrupted" in err
    partial = (out / "big.bin").stat().st_size
    assert 0 < partial < SIZE
    assert (out / "big.bin").read_bytes() == data[:partial]

    r = run_muxftp(["--json", "get", "--resume", srv.url + "/big.bin", "-o", str(out)], home)
    assert r.returncode == 0, r.stderr.decode()
    f = json.loads(r.stdout)["files"][0]
    assert f["offset"] >= partial
    assert f["bytes"] == SIZE - f["offset"]
    assert sha256(out / "big.bin") == sha256(srv.root / "big.bin")

    again = run_muxftp(["--json", "get", "--resume", srv.url + "/big.bin", "-o", str(out)], home)
    assert json.loads(again.stdout)["files"][0]["status"] == "skipped"


@pytest.mark.time_limit(90)
def test_server_drops_connection_mid_transfer(make_pyftpd, tmp_path, home):
    srv = make_pyftpd(rate=RATE, drop_after=0.6, drops=1)
    data = os.urandom(SIZE // 2)
    (srv.root / "drop.bin").write_bytes(data)
    (srv.root / "other.bin").write_bytes(b"fine")
    out = tmp_path / "out"
    r = run_muxftp(["--json", "-j", "1", "get", srv.url + "/drop.bin", srv.url + "/other.bin",
                    "-o", str(out)], home, timeout=80)
    assert r.returncode == 0, r.stderr.decode()
    files = {f["remote"]: f for f in json.loads(r.stdout)["files"]}
    assert files["drop.bin"]["attempts"] == 2
    assert files["drop.bin"]["offset"] == 0
    assert files["drop.bin"]["status"] == "done"
    assert (out / "drop.bin").read_bytes() == data
    assert (out / "other.bin").read_bytes() == b"fine"
    assert b"2 attempts" in r.stderr


@pytest.mark.time_limit(90)
def test_retries_are_bounded(make_pyftpd, tmp_path, home):
    srv = make_pyftpd(rate=RATE, drop_after=0.2, drops=100)
    (srv.root / "never.bin").write_bytes(os.urandom(4_000_000))
    out = tmp_path / "out"
    r = run_muxftp(["--json", "--retries", "2", "get", srv.url + "/never.bin", "-o", str(out)],
                   home, timeout=80)
    assert r.returncode == 1
    f = json.loads(r.stdout)["files"][0]
    assert f["status"] == "failed"
    assert f["attempts"] == 3


@pytest.mark.time_limit(90)
def test_resume_upload(muxftpd, tmp_path, home):
    data = os.urandom(SIZE)
    local = tmp_path / "up.bin"
    local.write_bytes(data)
    (muxftpd.root / "up.bin").write_bytes(data[:500_000])  # what an interrupted upload left
    r = run_muxftp(["--json", "put", "--resume", str(local), muxftpd.url + "/"], home)
    assert r.returncode == 0, r.stderr.decode()
    f = json.loads(r.stdout)["files"][0]
    assert f["offset"] == 500_000
    assert (muxftpd.root / "up.bin").read_bytes() == data


@pytest.mark.time_limit(90)
@pytest.mark.parametrize("refuse,whole", [
    ({"restart": 451}, False),  # ProFTPD without AllowStoreRestart
    ({"restart": 550}, False),
    ({"restart": 554}, False),
    ({"REST": 502}, False),
    ({"REST": 504}, False),
    ({"restart": 451, "APPE": 451}, True),  # neither way: the whole file again
    ({"REST": 502, "APPE": 502}, True),
])
def test_resumed_upload_falls_back_when_the_server_refuses_restart(make_pyftpd, tmp_path, home,
                                                                     refuse, whole):
    """put --resume against a server that refuses REST + STOR goes on with APPE, and when APPE
    is refused too sends the whole file, in one attempt each; the refusal is remembered for the
    next file (it used to fail, or retry the refused command until the retries ran out)."""
    srv = make_pyftpd(refuse=refuse)
    server = srv.server
    names = ["one.bin", "two.bin"]
    data = {n: os.urandom(SIZE // 4) for n in names}
    for n in names:
        (tmp_path / n).write_bytes(data[n])
        (srv.root / n).write_bytes(data[n][:100_000])  # what an interrupted upload left
    r = run_muxftp(["--json", "-j", "1", "put", "--resume", *(str(tmp_path / n) for n in names),
                    srv.url + "/"], home)
    assert r.returncode == 0, r.stderr.decode()
    files = json.loads(r.stdout)["files"]
    for f in files:
        assert f["status"] == "done", f
        assert f["attempts"] == 1, f
        assert f["offset"] == (0 if whole else 100_000), f
    for n in names:
        assert (srv.root / n).read_bytes() == data[n]
    # One refusal per way refused: the second file did not ask again.
    assert server.refusals == len(refuse), server.refusals


@pytest.mark.time_limit(60)
def test_a_522_on_data_is_explained(make_pyftpd, tmp_path, home):
    """vsftpd answers a data command with 522 when the data connection is not protected or does
    not reuse the control connection's TLS session: the error shows the server's text and says
    what 522 means."""
    srv = make_pyftpd(answers={"RETR": "522 SSL connection failed: session reuse required"})
    (srv.root / "f.bin").write_bytes(b"x" * 1000)
    r = run_muxftp(["--progress", "none", "get", srv.url + "/f.bin", "-o", str(tmp_path / "o")],
                   home)
    assert r.returncode == 1
    err = r.stderr.decode()
    assert "522 SSL connection failed: session reuse required" in err, err
    assert "session reuse" in err.split("522 SSL connection failed")[1], err
    assert "protected" in err and "--tls" in err, err


@pytest.mark.time_limit(60)
def test_ctrl_c_stops_a_shell_loop(make_pyftpd, tmp_path, home):
    """`for f in a b; do muxftp get ...; done` in bash: Ctrl-C (SIGINT to the foreground process
    group) during the first download ends the loop; the second download never starts. bash goes
    on after a child that exits 130 (it took the signal as handled); only a death by SIGINT
    stops the loop."""
    srv = make_pyftpd(rate=RATE)
    data = os.urandom(SIZE)
    (srv.root / "a.bin").write_bytes(data)
    (srv.root / "b.bin").write_bytes(data)
    out = tmp_path / "out"
    out.mkdir()
    script = (f'for f in a b; do "{MUXFTP}" -q get "{srv.url}/$f.bin" -o "{out}"; done; '
              'echo loop-went-on')
    proc = subprocess.Popen(["bash", "-c", script], env=client_env(home),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    wait_for_size(out / "a.bin", 200_000)
    os.killpg(proc.pid, signal.SIGINT)
    stdout, err = proc.communicate(timeout=20)
    assert b"loop-went-on" not in stdout, err.decode()
    assert not (out / "b.bin").exists()
