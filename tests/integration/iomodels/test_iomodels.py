"""The seeds' example servers (examples/iomodels): every io-* echo server and chat-server.

Each server is started on 127.0.0.1 port 0 and must print `listening on HOST:PORT`; clients
echo random data byte-exact (a 1 MiB message among them, to exercise partial writes), the
multiplexed models must not be held up by a client that neither sends nor reads, and SIGTERM
must end every server with status 0. The binaries come from $IOMODELS_BIN_DIR (default
/work/main/build-dev/bin). Every test runs under a SIGALRM wall-clock limit.
"""
from __future__ import annotations

import os
import random
import re
import select
import signal
import socket
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

BIN_DIR = Path(os.environ.get("IOMODELS_BIN_DIR", "/work/main/build-dev/bin"))
TIME_LIMIT = 120

# name, extra arguments, whether it serves clients concurrently
ECHO_SERVERS = [
    ("io-blocking", [], False),
    ("io-threads", [], True),
    ("io-fork", [], True),
    ("io-nonblocking", [], True),
    ("io-select", [], True),
    ("io-poll", [], True),
    ("io-epoll", [], True),
    ("io-epoll-et", [], True),
    ("io-sigio", [], True),
    ("io-uring", [], True),
    ("io-selectors", [], True),
    ("io-selectors", ["--io", "select"], True),
    ("io-selectors", ["--io", "poll"], True),
    ("io-selectors", ["--io", "epoll-et"], True),
    ("io-selectors", ["--io", "sigio"], True),
    ("io-selectors", ["--io", "uring"], True),
]
IDS = [" ".join([n, *a]) for n, a, _ in ECHO_SERVERS]
LISTENING = re.compile(rb"^listening on (127\.0\.0\.1):(\d+)$")


@pytest.fixture(autouse=True)
def _time_limit():
    def on_alarm(signum, frame):
        raise TimeoutError(f"test exceeded its {TIME_LIMIT} s limit")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, TIME_LIMIT)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class Server:
    def __init__(self, name: str, args: list[str]):
        binary = BIN_DIR / name
        if not binary.exists():
            pytest.fail(f"{binary} not built")
        self.name = name
        self.proc = subprocess.Popen([str(binary), *args, "--listen", "127.0.0.1:0"],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        line = self._first_line(10)
        m = LISTENING.match(line.strip())
        if not m:
            self.proc.kill()
            out, err = self.proc.communicate(timeout=5)
            pytest.fail(f"{name}: expected 'listening on HOST:PORT', got {line!r}; stderr {err!r}")
        self.port = int(m.group(2))

    def _first_line(self, timeout: float) -> bytes:
        fd = self.proc.stdout.fileno()
        buf = b""
        deadline = time.monotonic() + timeout
        while b"\n" not in buf and time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready:
                chunk = os.read(fd, 256)
                if not chunk:
                    break
                buf += chunk
        return buf.split(b"\n")[0]

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=30)

    def stop(self) -> None:
        """SIGTERM must end the server with status 0 within 10 s, without sanitizer reports."""
        assert self.proc.poll() is None, f"{self.name} died: status {self.proc.returncode}"
        self.proc.send_signal(signal.SIGTERM)
        try:
            _, err = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.communicate()
            pytest.fail(f"{self.name} did not exit within 10 s of SIGTERM")
        assert b"Sanitizer" not in err, err.decode(errors="replace")
        assert self.proc.returncode == 0, (self.proc.returncode, err)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


@pytest.fixture
def start():
    servers: list[Server] = []

    def make(name: str, args: list[str]) -> Server:
        srv = Server(name, args)
        servers.append(srv)
        return srv

    yield make
    for srv in servers:
        srv.kill()


def exchange(sock: socket.socket, data: bytes, timeout: float = 60) -> bytes:
    """Sends data while reading the echo (a server that echoes as it reads would otherwise
    deadlock with a client that only sends), and returns what came back."""
    sock.setblocking(False)
    sent, got = 0, bytearray()
    deadline = time.monotonic() + timeout
    while len(got) < len(data):
        if time.monotonic() > deadline:
            raise TimeoutError(f"echo: {len(got)} of {len(data)} bytes after {timeout} s")
        want_write = [sock] if sent < len(data) else []
        readable, writable, _ = select.select([sock], want_write, [], 0.5)
        if writable:
            try:
                sent += sock.send(data[sent:sent + 256 * 1024])
            except BlockingIOError:
                pass
        if readable:
            chunk = sock.recv(256 * 1024)
            if not chunk:
                raise ConnectionError(f"closed after {len(got)} of {len(data)} bytes")
            got += chunk
    return bytes(got)


def echo_client(srv: Server, seed: int) -> None:
    rng = random.Random(seed)
    sizes = [1, rng.randint(2, 1000), rng.randint(1000, 70000), 1 << 20]
    with srv.connect() as sock:
        for size in sizes:
            data = rng.randbytes(size)
            assert exchange(sock, data) == data, f"client {seed}: {size} B not echoed exactly"


@pytest.mark.parametrize("name,args,concurrent", ECHO_SERVERS, ids=IDS)
def test_echo(start, name, args, concurrent):
    srv = start(name, args)
    clients = 20
    if concurrent:
        with ThreadPoolExecutor(clients) as pool:
            for f in [pool.submit(echo_client, srv, seed) for seed in range(clients)]:
                f.result()
    else:  # one client at a time: the model serves the next one after the current one left
        for seed in range(clients):
            echo_client(srv, seed)
    srv.stop()


@pytest.mark.parametrize("name,args,concurrent",
                         [s for s in ECHO_SERVERS if s[2]], ids=[i for i, s in
                                                                 zip(IDS, ECHO_SERVERS) if s[2]])
def test_stalled_clients_do_not_block_others(start, name, args, concurrent):
    """A client that never sends and one that sends 4 MiB without ever reading (its echo fills
    the socket buffers) must not stop the server from serving the others."""
    srv = start(name, args)
    silent = srv.connect()
    stalled = srv.connect()
    stalled.setblocking(False)
    payload = b"x" * (4 << 20)
    sent = 0
    deadline = time.monotonic() + 5
    while sent < len(payload) and time.monotonic() < deadline:
        try:
            sent += stalled.send(payload[sent:])
        except BlockingIOError:
            time.sleep(0.01)
    with ThreadPoolExecutor(5) as pool:
        for f in [pool.submit(echo_client, srv, 100 + i) for i in range(5)]:
            f.result()
    silent.close()
    stalled.close()
    srv.stop()


def test_select_refuses_descriptors_beyond_fd_setsize(start):
    srv = start("io-select", [])
    socks = [srv.connect() for _ in range(1100)]
    try:
        closed = 0
        time.sleep(0.5)
        for s in socks:
            s.setblocking(False)
            try:
                if s.recv(1) == b"":
                    closed += 1
            except BlockingIOError:
                pass
            except ConnectionError:
                closed += 1
        # fds 0-2, the listener: about 1020 connections fit below 1024; the rest are closed.
        assert 60 <= closed <= 90, closed
    finally:
        for s in socks:
            s.close()
    echo_client(srv, 7)  # still serving
    srv.stop()


# --- chat-server ----------------------------------------------------------------------------

class ChatClient:
    def __init__(self, srv: Server):
        self.sock = srv.connect()
        self.file = self.sock.makefile("rb")

    def line(self) -> str:
        data = self.file.readline()
        assert data.endswith(b"\n"), f"connection ended: {data!r}"
        return data.decode().rstrip("\n")

    def send(self, text: str) -> None:
        self.sock.sendall(text.encode())

    def close(self) -> None:
        self.file.close()
        self.sock.close()


def test_chat_broadcast_and_leave(start):
    srv = start("chat-server", [])
    a = ChatClient(srv)
    assert a.line() == "* welcome, you are client 1 (0 others here)"
    b = ChatClient(srv)
    assert b.line() == "* welcome, you are client 2 (1 others here)"
    assert a.line() == "* client 2 joined"
    c = ChatClient(srv)
    assert c.line() == "* welcome, you are client 3 (2 others here)"
    assert a.line() == "* client 3 joined"
    assert b.line() == "* client 3 joined"

    a.send("hello\nworld\r\nspl")
    time.sleep(0.05)
    a.send("it line\n")
    for reader in (b, c):
        assert [reader.line() for _ in range(3)] == \
            ["client 1: hello", "client 1: world", "client 1: split line"]
    b.send("hi from b\n")
    assert a.line() == "client 2: hi from b"  # a never got its own lines back
    assert c.line() == "client 2: hi from b"
    c.send("last words\n")
    assert a.line() == "client 3: last words"
    assert b.line() == "client 3: last words"
    c.close()
    assert a.line() == "* client 3 left"
    assert b.line() == "* client 3 left"
    a.close()
    assert b.line() == "* client 1 left"
    b.close()
    srv.stop()


def test_chat_disconnects_a_client_that_does_not_read(start):
    srv = start("chat-server", [])
    talker = ChatClient(srv)
    assert talker.line().startswith("* welcome")
    listener = ChatClient(srv)
    assert listener.line().startswith("* welcome")
    assert talker.line() == "* client 2 joined"
    slow = socket.socket()
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.connect(("127.0.0.1", srv.port))  # never reads
    assert talker.line() == "* client 3 joined"
    assert listener.line() == "* client 3 joined"

    seen: list[str] = []
    lines = 3000

    def read_all():
        chat = 0
        while chat < lines or "* client 3 left (too slow)" not in seen:
            line = listener.line()
            seen.append(line)
            chat += line.startswith("client 1: ")

    reader = threading.Thread(target=read_all, daemon=True)
    reader.start()
    text = "y" * 3000
    for i in range(lines):
        talker.send(f"{i} {text}\n")
        while i - len(seen) > 200 and reader.is_alive():  # the listener keeps up; slow does not
            time.sleep(0.001)
    reader.join(60)
    assert not reader.is_alive(), f"listener got {len(seen)} lines"
    assert "* client 3 left (too slow)" in seen
    chat = [s for s in seen if s.startswith("client 1: ")]
    assert chat == [f"client 1: {i} {text}" for i in range(lines)]  # nothing lost, in order
    slow.close()
    talker.close()
    listener.close()
    srv.stop()
