"""One server per port: the loops of one muxftpd share its listening port (SO_REUSEPORT), but a
second muxftpd started on the same address must fail with a clear error instead of silently
sharing the port (and half of the connections) with the first."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ftpd_support import BACKENDS, HOST, MUXFTPD, PASSWORD, USER


def start_second(srv, tmp_path, threads: int, io: str) -> subprocess.CompletedProcess | None:
    """Runs a second muxftpd on srv's address: its result if it exits within 20 s, else None (it
    is then running, and is stopped)."""
    root = tmp_path / "second-root"
    root.mkdir(exist_ok=True)
    cmd = [MUXFTPD, "--listen", f"{HOST}:{srv.port}", "--root", str(root), "--io", io,
           "--threads", str(threads), "--user", f"{USER}:{PASSWORD}"]
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        out, err = p.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate(timeout=10)
        return None
    return subprocess.CompletedProcess(cmd, p.returncode, out, err)


@pytest.mark.time_limit(60)
@pytest.mark.parametrize("first_threads,second_threads", [(2, 2), (1, 2), (2, 1)])
def test_a_second_server_on_the_same_port_fails_to_start(make_server, tmp_path,
                                                        first_threads, second_threads):
    srv = make_server(threads=first_threads)
    second = start_second(srv, tmp_path, second_threads, srv.io)
    assert second is not None, "a second muxftpd started on a port that is in use"
    assert second.returncode != 0
    assert f"{HOST}:{srv.port}" in second.stderr and "in use" in second.stderr, second.stderr
    # The first one is undisturbed.
    with srv.raw(login=True) as c:
        assert c.cmd("NOOP")[0] == 200


@pytest.mark.time_limit(60)
@pytest.mark.parametrize("io", BACKENDS)
def test_the_loops_of_one_server_share_its_port(make_server, io):
    srv = make_server(io=io, threads=3)
    assert srv.loops == 3
    clients = [srv.raw(login=True) for _ in range(12)]
    try:
        for c in clients:
            assert c.cmd("PWD")[0] == 257
    finally:
        for c in clients:
            c.close()


def test_the_example_config_loads_and_serves(make_server):
    """docs/muxftpd.example.toml is what operators copy: as shipped, it must start a server."""
    example = Path(__file__).resolve().parents[3] / "docs" / "muxftpd.example.toml"
    srv = make_server(extra=["--config", str(example)])
    ftp = srv.ftp()
    assert ftp.sendcmd("NOOP").startswith("200")
    ftp.quit()
