"""Helpers for the PROXY protocol and passive-address tests: headers built by hand (HAProxy's
doc/proxy-protocol.txt), control connections that send one first, and muxftpd runs that are
expected to fail at start."""
from __future__ import annotations

import socket
import struct
import subprocess
from pathlib import Path

from ftpd_support import HOST, MUXFTPD, TIMEOUT, RawControl

V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"


def v1(src: str, dst: str, sport: int, dport: int) -> bytes:
    return f"PROXY TCP4 {src} {dst} {sport} {dport}\r\n".encode()


def v2(src: str, dst: str, sport: int, dport: int, tlvs: bytes = b"") -> bytes:
    block = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!HH", sport, dport)
    block += tlvs
    return V2_SIGNATURE + b"\x21\x11" + struct.pack("!H", len(block)) + block


def v2_local() -> bytes:
    return V2_SIGNATURE + b"\x20\x00\x00\x00"


class ProxiedControl(RawControl):
    """A control connection from `source` (the balancer) that sends `header` first, in pieces
    if `pieces` is given (a list of byte strings whose concatenation is the header)."""

    def __init__(self, port: int, transcript: list[str], header: bytes | None = None, *,
                 pieces: list[bytes] | None = None, pause: float = 0.0,
                 source: str | None = None, timeout: float = TIMEOUT):
        import time
        self.sock = socket.create_connection((HOST, port), timeout=timeout,
                                             source_address=(source, 0) if source else None)
        self.sock.settimeout(timeout)
        self.buf = b""
        self.transcript = transcript
        for i, piece in enumerate(pieces if pieces is not None else [header or b""]):
            if i and pause:
                time.sleep(pause)
            if piece:
                self.sock.sendall(piece)


def free_port_range(n: int, hosts: tuple[str, ...] = (HOST,)) -> int:
    """The first of n consecutive ports free on every one of `hosts` now (best effort)."""
    import pytest
    for _ in range(50):
        s = socket.socket()
        s.bind((HOST, 0))
        base = s.getsockname()[1]
        s.close()
        if base + n + 200 >= 65535:
            continue
        ok = True
        for p in range(base, base + n):
            for host in hosts:
                t = socket.socket()
                try:
                    t.bind((host, p))
                except OSError:
                    ok = False
                finally:
                    t.close()
        if ok:
            return base
    pytest.skip("no free port range")


def finish_listing(c: RawControl, data: socket.socket) -> None:
    """After a listing command: 150, everything on `data` until the server closes it, 226."""
    assert c.reply()[0] == 150
    data.settimeout(5)
    while data.recv(65536):
        pass
    data.close()
    assert c.reply()[0] == 226


def list_over(c: RawControl, data: socket.socket, command: bytes = b"NLST") -> None:
    c.send(command + b"\r\n")
    finish_listing(c, data)


def write_config(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def start_fails(tmp_path: Path, config_text: str, *extra: str) -> str:
    """Runs muxftpd with a config that must be refused at start: its standard error."""
    config = write_config(tmp_path / "bad.toml", config_text)
    root = tmp_path / "root"
    root.mkdir(exist_ok=True)
    p = subprocess.run([MUXFTPD, "--config", str(config), "--listen", f"{HOST}:0", "--root",
                        str(root), "--user", "u:p", *extra],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    return p.stderr
