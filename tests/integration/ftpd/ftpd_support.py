"""Shared helpers for the muxftpd integration tests: starting a server, FTP clients that record
every reply line, a raw control-connection client, and data-connection helpers.

Everything here talks to 127.0.0.1 (127.0.0.2 for the foreign-address tests) only; every socket
has a timeout and every wait is bounded.
"""
from __future__ import annotations

import ftplib
import hashlib
import os
import re
import select
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

MUXFTPD = os.environ.get("MUXFTPD", "/work/main/build-dev/bin/muxftpd")
HOST = "127.0.0.1"
FOREIGN_HOST = "127.0.0.2"  # also loopback on Linux, but "another host" to the server

USER, PASSWORD = "alice", "s3cret"
RO_USER, RO_PASSWORD = "bob", "bobpw"
BACKENDS = ["select", "poll", "epoll", "epoll-et", "sigio", "uring"]

TEMP_PREFIX = ".muxftpd-upload-"
SANITIZER_MARKERS = (
    "ERROR: AddressSanitizer",
    "ERROR: LeakSanitizer",
    "WARNING: ThreadSanitizer",
    "runtime error:",
)
LISTENING_RE = re.compile(
    r"^muxftpd: listening on 127\.0\.0\.1:(\d+) \((\S+), (\d+) loop\(s\)\), root (.*)$"
)
TIMEOUT = 10.0  # default socket timeout


def ftplib_retr(f: ftplib.FTP, name: str) -> bytes:
    """A whole file through ftplib (plain or FTP_TLS), in memory."""
    chunks: list[bytes] = []
    f.retrbinary(f"RETR {name}", chunks.append)
    return b"".join(chunks)


class ServerError(Exception):
    pass


def wait_for_binary(path: str = MUXFTPD, seconds: float = 90.0) -> None:
    """The binary is rebuilt by someone else now and then: wait a little if it is missing."""
    deadline = time.monotonic() + seconds
    while not os.access(path, os.X_OK):
        if time.monotonic() > deadline:
            raise ServerError(f"{path} not found or not executable (set MUXFTPD)")
        time.sleep(1.0)


class FtpServer:
    """One muxftpd process serving `root`. Stderr goes to a file, checked at stop()."""

    def __init__(self, workdir: Path, *, io: str | None = None, threads: int = 1,
                 users: list[str] | None = None, extra: list[str] | None = None,
                 root: Path | None = None, nofile: int | None = None, port: int = 0,
                 new_session: bool = False):
        self.workdir = workdir
        self.listen_port = port  # 0: any free port (read back from the start line)
        self.new_session = new_session  # out of the caller's process group (no Ctrl-C)
        self.root = root if root is not None else workdir / "root"
        self.root.mkdir(parents=True, exist_ok=True)
        # MUXFTPD_IO runs every test that does not pick a backend on another one (uring in CI).
        self.io = io or os.environ.get("MUXFTPD_IO", "epoll")
        self.threads = threads
        self.users = users if users is not None else [
            f"{USER}:{PASSWORD}", f"{RO_USER}:{RO_PASSWORD}:ro"]
        self.extra = list(extra or [])
        self.nofile = nofile  # RLIMIT_NOFILE (soft and hard) for the server process, if set
        self.stderr_path = workdir / f"muxftpd-{self.io}-{id(self):x}.stderr"
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.backend = ""
        self.transcript: list[str] = []  # every reply line any client of this server received
        self.expect_exit = False  # set by tests that stop the server themselves
        self.crashed = False  # set by crash(): no exit status to check

    # -- process -------------------------------------------------------------------------------
    def start(self) -> "FtpServer":
        wait_for_binary()
        cmd = [MUXFTPD, "--listen", f"{HOST}:{self.listen_port}", "--root", str(self.root),
               "--io", self.io, "--threads", str(self.threads)]
        for u in self.users:
            cmd += ["--user", u]
        cmd += self.extra
        self._stderr = open(self.stderr_path, "ab")
        preexec = None
        if self.nofile is not None:
            import resource
            limit = self.nofile

            def preexec():
                resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self._stderr, preexec_fn=preexec,
                                     start_new_session=self.new_session)
        deadline = time.monotonic() + 10.0
        line = b""
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                self.kill()
                raise ServerError(f"muxftpd did not start: {line!r}\n{self.stderr_text()}")
            r, _, _ = select.select([self.proc.stdout], [], [], left)
            if r:
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    continue
                line += chunk
        self.stdout_text = line.decode("utf-8", "replace")
        first = self.stdout_text.splitlines()[0]
        m = LISTENING_RE.match(first)
        if not m:
            self.kill()
            raise ServerError(f"unexpected start line: {first!r}")
        self.port = int(m.group(1))
        self.backend = m.group(2)
        self.loops = int(m.group(3))
        return self

    def wait_stdout(self, pattern: str, timeout: float = 10.0) -> re.Match:
        """The first match of `pattern` in what the server printed at start (read on demand)."""
        deadline = time.monotonic() + timeout
        while not (m := re.search(pattern, self.stdout_text, re.M)):
            left = deadline - time.monotonic()
            if left <= 0:
                raise ServerError(f"{pattern!r} not printed; stdout: {self.stdout_text!r}")
            r, _, _ = select.select([self.proc.stdout], [], [], left)
            if r:
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    raise ServerError(f"{pattern!r} not printed before the end of stdout")
                self.stdout_text += chunk.decode("utf-8", "replace")
        return m

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def crash(self) -> None:
        """SIGKILL, as a crash or an impatient operator would: no clean-up in the server."""
        self.crashed = True
        self.kill()

    def terminate(self, timeout: float = 10.0) -> int:
        """SIGTERM and wait; returns the exit status (kills and raises if it does not exit)."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise ServerError(f"muxftpd did not exit within {timeout} s of SIGTERM")
        return self.proc.returncode

    def stderr_text(self) -> str:
        try:
            return self.stderr_path.read_text("utf-8", "replace")
        except OSError:
            return ""

    def stop(self) -> list[str]:
        """Stops the server; returns a list of problems (empty when all is well)."""
        problems: list[str] = []
        if self.proc is None:
            return problems
        if self.crashed:
            pass
        elif self.proc.poll() is not None and not self.expect_exit:
            problems.append(f"muxftpd died unexpectedly (status {self.proc.returncode})")
        else:
            try:
                status = self.terminate()
                if status != 0:
                    problems.append(f"muxftpd exited with status {status} after SIGTERM")
            except ServerError as e:
                problems.append(str(e))
        if self.proc.stdout:
            self.proc.stdout.close()
        self._stderr.close()
        err = self.stderr_text()
        for marker in SANITIZER_MARKERS:
            if marker in err:
                problems.append(f"sanitizer report in stderr ({marker!r})")
        if problems:
            tail = "\n".join(err.splitlines()[-40:])
            problems.append("stderr tail:\n" + tail)
        return problems

    def rss_kib(self) -> int:
        with open(f"/proc/{self.pid()}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    # -- clients -------------------------------------------------------------------------------
    def ftp(self, user: str | None = USER, password: str = PASSWORD,
            timeout: float = TIMEOUT) -> "RecordingFTP":
        f = RecordingFTP(self.transcript)
        f.connect(HOST, self.port, timeout=timeout)
        if user is not None:
            f.login(user, password)
        return f

    def raw(self, login: bool = False, user: str = USER, password: str = PASSWORD,
            timeout: float = TIMEOUT, source: str | None = None) -> "RawControl":
        c = RawControl(self.port, self.transcript, timeout=timeout, source=source)
        code, _ = c.reply()
        assert code == 220
        if login:
            c.login(user, password)
        return c

    def url(self, user: str = USER, password: str = PASSWORD) -> str:
        return f"ftp://{user}:{password}@{HOST}:{self.port}"


class RecordingFTP(ftplib.FTP):
    """ftplib.FTP that keeps every reply line in the server's transcript."""

    def __init__(self, transcript: list[str]):
        super().__init__(encoding="utf-8")
        self._transcript = transcript

    def getline(self):
        line = super().getline()
        self._transcript.append(line)
        return line


class RawControl:
    """A control connection spoken by hand: bytes out, (code, text) replies in."""

    def __init__(self, port: int, transcript: list[str], timeout: float = TIMEOUT,
                 source: str | None = None):
        self.sock = socket.create_connection(
            (HOST, port), timeout=timeout,
            source_address=(source, 0) if source else None)
        self.sock.settimeout(timeout)
        self.buf = b""
        self.transcript = transcript

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data: bytes | str) -> None:
        if isinstance(data, str):
            data = data.encode("utf-8")
        self.sock.sendall(data)

    def _line(self, timeout: float) -> bytes:
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no complete reply line within {timeout} s: {self.buf!r}")
            self.sock.settimeout(left)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError(f"control connection closed; pending {self.buf!r}")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        text = line.rstrip(b"\r").decode("utf-8", "replace")
        self.transcript.append(text)
        return line.rstrip(b"\r")

    def reply(self, timeout: float = TIMEOUT) -> tuple[int, str]:
        """One complete reply (multi-line replies joined with newlines)."""
        first = self._line(timeout).decode("utf-8", "replace")
        if len(first) < 4 or not first[:3].isdigit():
            raise AssertionError(f"malformed reply line {first!r}")
        code = int(first[:3])
        lines = [first]
        if first[3] == "-":
            for _ in range(100000):
                line = self._line(timeout).decode("utf-8", "replace")
                lines.append(line)
                if line[:3] == first[:3] and line[3:4] == " ":
                    break
        return code, "\n".join(lines)

    def cmd(self, line: str | bytes, timeout: float = TIMEOUT) -> tuple[int, str]:
        if isinstance(line, str):
            line = line.encode("utf-8")
        self.send(line + b"\r\n")
        return self.reply(timeout)

    def expect(self, line: str | bytes, code: int, timeout: float = TIMEOUT) -> str:
        got, text = self.cmd(line, timeout)
        assert got == code, f"{line!r}: expected {code}, got {text!r}"
        return text

    def login(self, user: str = USER, password: str = PASSWORD) -> None:
        self.expect(f"USER {user}", 331)
        self.expect(f"PASS {password}", 230)

    def closed_by_server(self, timeout: float = 5.0) -> bool:
        """True when the server closes the connection (EOF or reset) within timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return False
            except ConnectionError:
                return True
            if not chunk:
                return True
            self.buf += chunk
        return False

    # -- data connections ----------------------------------------------------------------------
    def pasv(self, source: str | None = None, rcvbuf: int | None = None) -> socket.socket:
        code, text = self.cmd("PASV")
        assert code == 227, text
        host, port = parse_227(text)
        assert host == HOST
        return connect_data(port, source=source, rcvbuf=rcvbuf)

    def epsv(self, rcvbuf: int | None = None) -> socket.socket:
        code, text = self.cmd("EPSV")
        assert code == 229, text
        return connect_data(parse_229(text), rcvbuf=rcvbuf)


def parse_227(text: str) -> tuple[str, int]:
    m = re.search(r"(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)", text)
    assert m, text
    n = [int(x) for x in m.groups()]
    return ".".join(map(str, n[:4])), n[4] * 256 + n[5]


def parse_229(text: str) -> int:
    m = re.search(r"\(\|\|\|(\d+)\|\)", text)
    assert m, text
    return int(m.group(1))


def connect_data(port: int, source: str | None = None, rcvbuf: int | None = None,
                 timeout: float = TIMEOUT) -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    if rcvbuf is not None:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    if source is not None:
        s.bind((source, 0))
    s.connect((HOST, port))
    return s


def recv_all(sock: socket.socket, limit: int = 1 << 30, timeout: float = 30.0) -> bytes:
    deadline = time.monotonic() + timeout
    chunks = []
    total = 0
    while total <= limit:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("data connection did not end in time")
        sock.settimeout(left)
        chunk = sock.recv(1 << 20)
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def rst_close(sock: socket.socket) -> None:
    """Closes with a TCP reset instead of a FIN (SO_LINGER 0)."""
    import struct
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def transfer(ftp: ftplib.FTP, command: str, mode: str = "pasv", upload: bytes | None = None,
             rest: int | None = None) -> bytes:
    """Runs one transfer over a data connection made with `mode` (pasv, epsv, port, eprt)
    and checks 150 ... 226. Returns what was received (b"" for uploads)."""
    listener = None
    if mode in ("pasv", "epsv"):
        if mode == "pasv":
            _, port = parse_227(ftp.sendcmd("PASV"))
        else:
            port = parse_229(ftp.sendcmd("EPSV"))
        data = connect_data(port)
    elif mode in ("port", "eprt"):
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.settimeout(TIMEOUT)
        listener.bind((HOST, 0))
        listener.listen(1)
        lport = listener.getsockname()[1]
        if mode == "port":
            arg = "127,0,0,1,%d,%d" % (lport >> 8, lport & 0xFF)
            assert ftp.sendcmd("PORT " + arg).startswith("200")
        else:
            assert ftp.sendcmd(f"EPRT |1|{HOST}|{lport}|").startswith("200")
        data = None
    else:
        raise ValueError(mode)
    try:
        if rest is not None:
            assert ftp.sendcmd(f"REST {rest}").startswith("350")
        resp = ftp.sendcmd(command)
        assert resp.startswith("150"), resp
        if data is None:
            data, _ = listener.accept()
            data.settimeout(TIMEOUT)
        if upload is not None:
            data.sendall(upload)
            data.close()
            got = b""
        else:
            got = recv_all(data)
            data.close()
        resp = ftp.voidresp()
        assert resp.startswith("226"), resp
        return got
    finally:
        if data is not None:
            data.close()
        if listener is not None:
            listener.close()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def temp_files(root: Path) -> list[Path]:
    """Upload temporaries anywhere under root."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        for n in filenames:
            if n.startswith(TEMP_PREFIX):
                found.append(Path(dirpath) / n)
    return found


def wait_until(predicate, timeout: float = 5.0, interval: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def pseudo_random_bytes(n: int, seed: int) -> bytes:
    """Deterministic incompressible-looking bytes, fast (no os.urandom for megabytes)."""
    import random
    return random.Random(seed).randbytes(n)


class ThreadErrors:
    """Collects exceptions from worker threads so the test can fail with them."""

    def __init__(self):
        self.lock = threading.Lock()
        self.errors: list[str] = []

    def add(self, what: str) -> None:
        with self.lock:
            self.errors.append(what)


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and 127.0.0.1 (openssl req): (cert, key)."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def drain(sock: socket.socket) -> bytes:
    """Everything the peer sends until it closes or resets the connection (socket timeout
    bounds each wait)."""
    got = b""
    try:
        while chunk := sock.recv(65536):
            got += chunk
    except OSError:
        pass
    return got
