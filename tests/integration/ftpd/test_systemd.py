"""systemd supervision without systemd: readiness, status, reload and stop notifications on a
NOTIFY_SOCKET the test opens (a path and an abstract '@' socket), and socket activation through
systemd-socket-activate with a real FTP login on the inherited socket."""
from __future__ import annotations

import ftplib
import os
import shutil
import signal
import socket
import subprocess
import time

import pytest

from ftpd_support import HOST, MUXFTPD, PASSWORD, USER


def start(tmp_path, env_extra, *flags, wrapper=()):
    root = tmp_path / "root"
    root.mkdir(exist_ok=True)
    env = dict(os.environ, **env_extra)
    cmd = [*wrapper, MUXFTPD, "--root", str(root), "--user", f"{USER}:{PASSWORD}", "--io",
           os.environ.get("MUXFTPD_IO", "epoll"), *flags]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE,
                            stderr=open(tmp_path / "stderr.txt", "ab"))


def receive(sock: socket.socket, timeout: float = 10.0) -> str:
    sock.settimeout(timeout)
    return sock.recv(4096).decode()


def stop(proc: subprocess.Popen) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=15)


@pytest.mark.parametrize("abstract", [False, True])
def test_notifications_reach_the_notify_socket(tmp_path, abstract):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    if abstract:
        name = f"muxftpd-test-{os.getpid()}-{time.monotonic_ns()}"
        sock.bind("\0" + name)
        address = "@" + name
    else:
        address = str(tmp_path / "notify.sock")
        sock.bind(address)
    proc = start(tmp_path, {"NOTIFY_SOCKET": address}, "--listen", f"{HOST}:0")
    try:
        ready = receive(sock)
        assert "READY=1" in ready.split("\n")
        assert f"MAINPID={proc.pid}" in ready
        assert "STATUS=" in ready
        line = proc.stdout.readline().decode()
        port = int(line.split("listening on ")[1].split()[0].rsplit(":", 1)[1])
        f = ftplib.FTP()
        f.connect(HOST, port, timeout=10)
        f.login(USER, PASSWORD)
        # The status follows the session count (sampled once a second).
        deadline = time.monotonic() + 10
        while "STATUS=Serving, 1 session(s)" not in receive(sock):
            assert time.monotonic() < deadline
        f.quit()
        proc.send_signal(signal.SIGHUP)
        assert receive(sock).startswith("RELOADING=1")
        got = receive(sock)
        while "READY=1" not in got:
            got = receive(sock)
        proc.send_signal(signal.SIGTERM)
        got = receive(sock)
        while "STOPPING=1" not in got:
            got = receive(sock)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        sock.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


@pytest.mark.skipif(shutil.which("systemd-socket-activate") is None,
                    reason="Debian package systemd (systemd-socket-activate)")
def test_socket_activation_serves_the_inherited_socket(tmp_path):
    port = free_port()
    # Nothing configured to bind: --listen names another port, which must stay unused.
    unused = free_port()
    proc = start(tmp_path, {}, "--listen", f"{HOST}:{unused}", "--threads", "2",
                 wrapper=("systemd-socket-activate", "-l", f"{HOST}:{port}",
                          "--fdname=ftp"))
    try:
        # systemd-socket-activate starts the program at the first connection.
        f = ftplib.FTP()
        deadline = time.monotonic() + 10
        while True:
            try:
                f.connect(HOST, port, timeout=10)
                break
            except ConnectionRefusedError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        line = proc.stdout.readline().decode()
        assert f"listening on {HOST}:{port}" in line, line
        f.login(USER, PASSWORD)
        f.storbinary("STOR a.txt", __import__("io").BytesIO(b"hello"))
        assert f.nlst() == ["a.txt"]
        f.quit()
        with pytest.raises(OSError):
            socket.create_connection((HOST, unused), timeout=2).close()
        assert stop(proc) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.mark.skipif(shutil.which("systemd-socket-activate") is None,
                    reason="Debian package systemd (systemd-socket-activate)")
def test_a_socket_named_implicit_tls_needs_a_certificate(tmp_path):
    port = free_port()
    proc = start(tmp_path, {}, wrapper=("systemd-socket-activate", "-l", f"{HOST}:{port}",
                                        "--fdname=implicit-tls"))
    deadline = time.monotonic() + 10
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            socket.create_connection((HOST, port), timeout=2).close()
        except OSError:
            time.sleep(0.05)
    assert proc.wait(timeout=15) != 0
    assert "implicit-tls without a TLS certificate" in (tmp_path / "stderr.txt").read_text() + \
        proc.stdout.read().decode()
