#!/usr/bin/env python3
"""Idle-connection holder for the IO-models lab: opens N TCP connections to a server and keeps
them open without sending anything, so a server's cost per idle descriptor can be measured.

As a module (bench/iomodels/lab.py): IdleHolder(port).grow(n) / ping_all() / closed_count() /
close(). As a script, bounded in time:

    python3 bench/iomodels/idle_holder.py --connect 127.0.0.1:7000 --connections 5000 --seconds 30
"""
from __future__ import annotations

import argparse
import resource
import select
import socket
import sys
import time


def raise_fd_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


class IdleHolder:
    def __init__(self, host: str, port: int):
        self.addr = (host, port)
        self.socks: list[socket.socket] = []
        self.failed = 0  # connects that failed or timed out

    def grow(self, n: int, timeout: float = 60) -> int:
        """Opens connections until n are held (or the timeout passes); returns how many."""
        deadline = time.monotonic() + timeout
        while len(self.socks) < n and time.monotonic() < deadline:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.settimeout(5)
            try:
                s.connect(self.addr)
            except OSError:
                s.close()
                self.failed += 1
                if self.failed > 100:
                    break
                continue
            s.setblocking(False)
            self.socks.append(s)
        return len(self.socks)

    def closed_count(self) -> int:
        """How many held connections the server has closed (end of stream or reset)."""
        closed = 0
        for s in self.socks:
            try:
                if s.recv(1, socket.MSG_PEEK) == b"":
                    closed += 1
            except BlockingIOError:
                pass
            except OSError:
                closed += 1
        return closed

    def ping_all(self, timeout: float = 30) -> int:
        """Sends one byte on every connection, then reads every echo; returns how many came
        back. Makes each server touch its per-connection state (buffers, stacks) once."""
        for s in self.socks:
            try:
                s.send(b"p")
            except OSError:
                pass
        waiting = {s.fileno(): s for s in self.socks}
        poller = select.poll()
        for fd in waiting:
            poller.register(fd, select.POLLIN)
        answered = 0
        deadline = time.monotonic() + timeout
        while waiting and time.monotonic() < deadline:
            for fd, _ in poller.poll(200):
                s = waiting.pop(fd, None)
                if s is None:
                    continue
                poller.unregister(fd)
                try:
                    answered += len(s.recv(16)) > 0
                except OSError:
                    pass
        return answered

    def close(self) -> None:
        for s in self.socks:
            s.close()
        self.socks.clear()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--connect", required=True, help="HOST:PORT")
    ap.add_argument("--connections", type=int, required=True)
    ap.add_argument("--seconds", type=float, default=10, help="how long to hold (bounded)")
    args = ap.parse_args()
    raise_fd_limit()
    host, port = args.connect.rsplit(":", 1)
    holder = IdleHolder(host, int(port))
    held = holder.grow(args.connections)
    print(f"holding {held} connections ({holder.failed} failed)", flush=True)
    time.sleep(max(0.0, min(args.seconds, 3600)))
    print(f"closed by the server: {holder.closed_count()}", flush=True)
    holder.close()
    return 0 if held == args.connections else 1


if __name__ == "__main__":
    sys.exit(main())
