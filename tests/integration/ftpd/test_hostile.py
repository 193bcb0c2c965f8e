"""Hostile input to muxftpd (issue #4): Telnet IAC sequences, binary garbage on the control
connection, odd UTF-8 and control characters in names, a directory swapped for a symlink under
the server's feet, clients that never read, descriptor exhaustion, pipelined floods.

Each test asserts what the server must do — reply codes, nothing outside the root read, written,
listed or revealed, other clients still served, memory bounded — and would fail if it did not.
(Cases test_safety.py and test_commands.py cover already are not repeated here.)"""
from __future__ import annotations

import ctypes
import os
import re
import select
import socket
import threading
import time
from pathlib import Path

import pytest

from ftpd_support import (
    BACKENDS, HOST, PASSWORD, USER, RawControl, ThreadErrors, connect_data, parse_229,
    pseudo_random_bytes, recv_all, rst_close, sha256, wait_until,
)

MiB = 1 << 20
REPLY_LINE = re.compile(rb"^(\d{3})([ -])")
LS_LINE = re.compile(
    rb"^(?P<type>[-dlpscb])(?P<perm>[-rwxsStT]{9}) +(?P<nlink>\d+) +(?P<owner>\S+) +"
    rb"(?P<group>\S+) +(?P<size>\d+) (?P<month>[A-Z][a-z]{2}) +(?P<day>\d{1,2}) +"
    rb"(?P<time>\d{2}:\d{2}|\d{4}) (?P<name>[^\r\n]+)$"
)


# --- helpers ----------------------------------------------------------------------------------

def bpath(directory: Path, name: bytes) -> bytes:
    """A file name given as bytes (not necessarily UTF-8) inside directory."""
    return os.path.join(os.fsencode(directory), name)


def listdir_b(directory: Path) -> list[bytes]:
    return sorted(os.listdir(os.fsencode(directory)))


def tree(path: Path) -> dict[bytes, tuple]:
    """Names, types and contents of everything under path (symlinks not followed)."""
    out = {}
    top = os.fsencode(path)
    for dirpath, dirnames, filenames in os.walk(top):
        for n in dirnames + filenames:
            p = os.path.join(dirpath, n)
            st = os.lstat(p)
            content = None
            if os.path.isfile(p) and not os.path.islink(p):
                with open(p, "rb") as f:
                    content = f.read()
            out[os.path.relpath(p, top)] = (st.st_mode, content)
    return out


def retr(c: RawControl, path: bytes | str, rcvbuf: int | None = None) -> tuple[int, bytes | None]:
    """RETR over a fresh passive connection: (226, content) or (refusal code, None)."""
    return _download(c, b"RETR", path, rcvbuf)


def listing(c: RawControl, verb: str, path: bytes | str = b"") -> tuple[int, bytes | None]:
    """LIST/NLST/MLSD over a fresh passive connection: (226, raw bytes) or (code, None)."""
    return _download(c, verb.encode(), path)


def _download(c: RawControl, verb: bytes, path: bytes | str,
              rcvbuf: int | None = None) -> tuple[int, bytes | None]:
    if isinstance(path, str):
        path = path.encode()
    data = c.pasv(rcvbuf=rcvbuf)
    try:
        code, text = c.cmd(verb + (b" " + path if path else b""))
        if code != 150:
            return code, None
        got = recv_all(data, timeout=15)
    finally:
        data.close()
    code, text = c.reply(15)
    assert code == 226, text
    return code, got


def stor(c: RawControl, path: bytes | str, content: bytes, verb: bytes = b"STOR") -> int:
    """STOR (or APPE) over a fresh passive connection: 226, or the refusal code."""
    if isinstance(path, str):
        path = path.encode()
    data = c.pasv()
    try:
        code, text = c.cmd(verb + b" " + path)
        if code != 150:
            return code
        data.sendall(content)
    finally:
        data.close()
    code, text = c.reply(15)
    return code


def read_lines_until(sock: socket.socket, buf: bytearray, marker: bytes,
                     timeout: float) -> tuple[list[bytes], bool]:
    """Reads reply lines until one starts with `marker` (included) or the server closes the
    connection. Returns (lines, closed)."""
    lines: list[bytes] = []
    deadline = time.monotonic() + timeout
    while True:
        while b"\n" in buf:
            i = buf.index(b"\n")
            line = bytes(buf[:i]).rstrip(b"\r")
            del buf[:i + 1]
            lines.append(line)
            if line.startswith(marker):
                return lines, False
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"no {marker!r} within {timeout} s; got {lines[-5:]!r}")
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except ConnectionError:
            return lines, True
        if not chunk:
            return lines, True
        buf += chunk


def blast(sock: socket.socket, payload: bytes, seconds: float) -> bytearray:
    """Sends payload while reading whatever the server answers meanwhile (so neither side
    blocks on a full buffer). Returns what was received; stops early if the server closes."""
    received = bytearray()
    view = memoryview(payload)
    sent = 0
    deadline = time.monotonic() + seconds
    sock.setblocking(False)
    try:
        while sent < len(payload):
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"sent only {sent} of {len(payload)} bytes in {seconds} s")
            r, w, _ = select.select([sock], [sock], [], min(left, 1.0))
            if r:
                try:
                    chunk = sock.recv(65536)
                except (BlockingIOError, InterruptedError):
                    chunk = None
                except ConnectionError:
                    return received
                if chunk == b"":
                    return received
                if chunk:
                    received += chunk
            if w:
                try:
                    sent += sock.send(view[sent:sent + 65536])
                except (BlockingIOError, InterruptedError):
                    pass
                except (BrokenPipeError, ConnectionError):
                    return received
    finally:
        sock.setblocking(True)
    return received


def reply_codes(lines: list[bytes]) -> list[int]:
    """Codes of complete single-line replies; fails on anything that is not a reply line."""
    codes = []
    for line in lines:
        m = REPLY_LINE.match(line)
        assert m, f"not a reply line: {line[:80]!r}"
        assert m.group(2) == b" ", f"unexpected multi-line reply: {line[:80]!r}"
        codes.append(int(m.group(1)))
    return codes


def round_trip_ok(srv, seed: int, size: int = 300_000) -> None:
    """A well-behaved client logs in, uploads, downloads and lists: all correct."""
    payload = pseudo_random_bytes(size, seed=seed)
    name = f"check-{seed}.bin"
    with srv.raw(login=True) as c:
        assert c.cmd("TYPE I")[0] == 200
        assert stor(c, name, payload) == 226
        assert sha256((srv.root / name).read_bytes()) == sha256(payload)
        code, got = retr(c, name)
        assert code == 226 and sha256(got) == sha256(payload)
        code, names = listing(c, "NLST")
        assert code == 226 and name.encode() in names.split(b"\r\n")
        assert c.cmd("QUIT")[0] == 221


@pytest.fixture
def small_quarantine(monkeypatch):
    """AddressSanitizer keeps freed memory in a quarantine (256 MB by default), which would read as
    growth in the RSS checks: a small one, for servers started after this fixture."""
    options = os.environ.get("ASAN_OPTIONS", "")
    monkeypatch.setenv("ASAN_OPTIONS", (options + ":" if options else "") + "quarantine_size_mb=1")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return ticks / os.sysconf("SC_CLK_TCK")


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


# --- 1. Telnet IAC sequences ------------------------------------------------------------------

IAC_CASES = [
    # (line, the reply it gets; None: no reply, as for an empty line)
    (b"NO\xff\xfb\x01OP", 200),  # IAC WILL ECHO in the middle of the verb
    (b"\xff\xfd\x18\xff\xfe\x01\xff\xfc\x03NOOP", 200),  # DO, DONT, WONT in front
    (b"\xff\xfb\x00NOOP", 200),  # the option byte of WILL is a NUL: part of the sequence
    (b"\xff\xfa\x18\x00xterm\xff\xf0SYST", 215),  # subnegotiation (with a NUL) ... IAC SE
    # IAC IAC inside a subnegotiation is data: the SE after it does not end it, the next does.
    (b"\xff\xfa\x18\xff\xff\xf0x\xff\xf0PWD", 257),
    (b"\xff\xf1\xff\xf6\xff\xf5\xff\xf8NOOP", 200),  # NOP, AYT, AO, EL
    (b"\xff\xf4\xff\xf2TYPE I", 200),  # IP, DM before a command with an argument
    (b"TYPE\xff\xf1 \xff\xf1A", 200),  # NOPs inside the argument
    (b"NOOP\xff", 200),  # a lone IAC at the end
    (b"NOOP\xff\xfd", 200),  # a negotiation cut short by the end of the line
    (b"NOOP\x00\xff\xf4", 500),  # a NUL outside any sequence stays, and is refused
    (b"\xff\xff\xff\xffNOOP", 500),  # escaped 0xFF bytes are data: no such verb
    (b"NOOP\xff\xff", 500),  # "NOOP\xff": a verb must end the line or be followed by a space
    (b"\xff\xf4\xff\xf2", None),  # only Telnet commands: an empty line
    (b"\xff\xfaNOOP", None),  # an unterminated subnegotiation takes the rest of the line
]


def test_telnet_iac_sequences_in_command_lines(server):
    with server.raw(login=True) as c:
        for line, expected in IAC_CASES:
            # A marker command after each line: its 550 shows where that line's replies end.
            c.send(line + b"\r\nMDTM no-such-file\r\n")
            codes = []
            for _ in range(5):
                code, text = c.reply(5)
                if code == 550:
                    break
                codes.append(code)
            allowed = [[expected]] if expected is not None else [[], [500]]
            assert codes in allowed, (line, codes)
        assert c.cmd("NOOP")[0] == 200
        assert c.buf == b""
    assert server.alive()


def test_telnet_sequences_in_user_and_pass(server):
    with server.raw() as c:
        assert c.cmd(b"US\xff\xf1ER al\xff\xfb\x01ice")[0] == 331
        assert c.cmd(b"\xff\xf4\xff\xf2PASS s3\xff\xf6cret")[0] == 230
        assert c.cmd("PWD")[0] == 257


def test_escaped_iac_in_file_names_is_a_literal_0xff(server):
    payload = pseudo_random_bytes(100_000, seed=21)
    wire = b"ff\xff\xffname.bin"  # IAC IAC on the wire
    disk = b"ff\xffname.bin"  # one 0xFF byte in the name
    with server.raw(login=True) as c:
        assert c.cmd("TYPE I")[0] == 200
        assert stor(c, wire, payload) == 226
        assert listdir_b(server.root) == [disk]
        with open(bpath(server.root, disk), "rb") as f:
            assert f.read() == payload
        assert c.cmd(b"SIZE " + wire) == (213, f"213 {len(payload)}")
        assert retr(c, wire) == (226, payload)
        # Listings go over the data connection, which is not Telnet: the byte as it is.
        code, names = listing(c, "NLST")
        assert code == 226 and names == disk + b"\r\n"
        assert c.cmd(b"MKD d\xff\xff\xff\xff")[0] == 257
        assert os.path.isdir(bpath(server.root, b"d\xff\xff"))
        assert c.cmd(b"CWD d\xff\xff\xff\xff")[0] == 250
        assert c.cmd(b"RNFR /" + wire)[0] == 350
        assert c.cmd(b"RNTO moved\xff\xff")[0] == 250
        assert os.path.isfile(bpath(server.root, b"d\xff\xff/moved\xff"))
        assert c.cmd(b"DELE moved\xff\xff")[0] == 250
        assert c.cmd("CDUP")[0] in (200, 250)
        assert c.cmd(b"RMD d\xff\xff\xff\xff")[0] == 250
        assert listdir_b(server.root) == []


# --- 2. binary garbage on the control connection ----------------------------------------------

GARBAGE_CODES = {500, 501, 502, 504, 530}


def _garbage_payloads() -> list[tuple[str, bytes, bool, int | None]]:
    """(name, bytes, log in first, exact number of replies expected or None)."""
    rnd = pseudo_random_bytes(256 * 1024, seed=31)
    return [
        ("random", rnd, False, None),
        ("random-logged-in", pseudo_random_bytes(256 * 1024, seed=32), True, None),
        ("nul-lines", (b"\x00" * 3000 + b"\r\n") * 50, True, 50),
        ("nul-long-lines", (b"N\x00" * 3000 + b"\r\n") * 20, False, 20),
        ("iac-run", b"\xff" * 300_001 + b"\r\n" + b"\xff\xfb" * 1000 + b"\r\n", True, 2),
        ("long-line", b"L" * (3 * MiB), True, 1),
        # A lone CR ends nothing: this is one (far too long) line, not 20000 NOOPs.
        ("lone-cr", b"NOOP\r" * 20000, False, 1),
        ("random-no-lf", rnd.replace(b"\n", b"\r")[:200_000], True, 1),
        ("utf8-junk", "\u202e\u200b\ufeff".encode() * 3000 + b"\r\n" +
         b"\xc0\xae\xed\xa0\x80\xf8\x88\x80\x80\x80" * 300 + b"\r\n", False, 2),
    ]


@pytest.mark.parametrize("io", BACKENDS)
@pytest.mark.time_limit(60)
def test_binary_garbage_from_several_connections_at_once(make_server, io):
    srv = make_server(io=io, threads=2)
    (srv.root / "victim").write_bytes(b"must survive")
    payloads = _garbage_payloads()
    conns = [srv.raw(login=login) for _, _, login, _ in payloads]
    errors = ThreadErrors()
    outcome: dict[str, tuple[list[bytes], bool]] = {}

    def run(i: int) -> None:
        name, payload, _, _ = payloads[i]
        c = conns[i]
        try:
            buf = blast(c.sock, payload, 30)
            try:
                c.send(b"\r\nSYST\r\n")  # ends the last line; SYST marks the end of the replies
            except OSError:
                outcome[name] = ([], True)
                return
            outcome[name] = read_lines_until(c.sock, buf, b"215 ", 15)
        except Exception as e:  # noqa: BLE001 - reported by the test
            errors.add(f"{name}: {e!r}")

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(payloads))]
    try:
        for t in threads:
            t.start()
        # Meanwhile a well-behaved session is answered.
        with srv.raw(login=True) as other:
            for _ in range(20):
                assert other.cmd("NOOP", timeout=5)[0] == 200
                time.sleep(0.05)
        for t in threads:
            t.join(40)
        assert not errors.errors, errors.errors
        assert all(not t.is_alive() for t in threads)
        assert srv.alive()
        for name, _, login, count in payloads:
            lines, closed = outcome[name]
            if closed:
                # Closing is acceptable, but only after a final reply, never mid-line.
                assert all(REPLY_LINE.match(line) for line in lines), (name, lines[-3:])
                continue
            assert lines and lines[-1].startswith(b"215 "), name
            codes = reply_codes(lines[:-1])
            assert set(codes) <= GARBAGE_CODES, (name, sorted(set(codes)))
            # The line cut off by the "\r\n" we sent is one more 500 (if it was not empty).
            if count is not None:
                assert len(codes) in (count, count + 1), (name, len(codes))
            else:
                assert len(codes) > 100, (name, len(codes))  # ~1000 lines of random bytes
        # The sessions that survived the garbage still work.
        for (name, _, login, _), c in zip(payloads, conns):
            if outcome[name][1]:
                continue
            assert c.cmd("PWD")[0] == (257 if login else 530), name
        assert (srv.root / "victim").read_bytes() == b"must survive"
        assert sorted(os.listdir(srv.root)) == ["victim"]  # garbage made nothing
        round_trip_ok(srv, seed=33)
    finally:
        for c in conns:
            c.close()


def test_lone_cr_does_not_split_a_command_line(server):
    (server.root / "victim").write_bytes(b"x")
    with server.raw(login=True) as c:
        # Were CR a line end, this would be NOOP then DELE victim.
        c.send(b"NOOP\rDELE victim\r\nSYST\r\n")
        assert c.reply()[0] == 500
        assert c.reply()[0] == 215
        c.send(b"MKD a\rRMD b\r\n")  # one argument, CR and all (a legal byte in a name)
        assert c.reply()[0] == 257
        assert c.cmd("NOOP")[0] == 200
    assert (server.root / "victim").exists()
    assert sorted(os.listdir(server.root)) == ["a\rRMD b", "victim"]


@pytest.mark.time_limit(60)
def test_50_mb_without_newline_keeps_memory_bounded(small_quarantine, server):
    other = server.raw(login=True)
    flood = server.raw()  # not even logged in
    # Random bytes, no LF anywhere (CRs, NULs and IACs are welcome), as fast as they go.
    block = pseudo_random_bytes(MiB, seed=34).replace(b"\n", b"\r")
    sent = [0]
    errors = ThreadErrors()

    def send() -> None:
        try:
            flood.sock.settimeout(20)
            t0 = time.monotonic()
            while sent[0] < 50 * MiB and time.monotonic() - t0 < 40:
                flood.sock.sendall(block)
                sent[0] += len(block)
        except Exception as e:  # noqa: BLE001
            errors.add(repr(e))

    try:
        rss_before = server.rss_kib()
        peak = rss_before
        sender = threading.Thread(target=send)
        sender.start()
        # Meanwhile the other session is answered, and the server's memory stays put.
        for _ in range(2000):
            if not sender.is_alive():
                break
            assert other.cmd("NOOP", timeout=5)[0] == 200
            peak = max(peak, server.rss_kib())
            time.sleep(0.05)
        sender.join(45)
        assert not errors.errors, errors.errors
        assert sent[0] >= 50 * MiB, f"only {sent[0]} bytes sent"
        assert server.alive()
        flood.send(b"\r\nSYST\r\n")
        assert flood.reply(10)[0] == 500  # too long, reported once
        assert flood.reply(10)[0] == 215
        peak = max(peak, server.rss_kib())  # all read by now
        assert peak - rss_before < 16 * 1024, \
            f"server grew by {peak - rss_before} KiB while reading one endless line"
        assert other.cmd("PWD")[0] == 257
    finally:
        other.close()
        flood.close()


# --- 3. odd UTF-8 and control characters in names ----------------------------------------------

ODD_NAMES = [
    # invalid UTF-8
    b"bad\xc3\x28", b"\x80\x81\x82", b"\xed\xa0\x80surrogate", b"\xf4\x90\x80\x80big",
    b"\xfe\xfd", b"trunc\xe2\x82",
    # overlong encodings of '.', '/' and ".."
    b"\xc0\xae", b"\xc0\xae\xc0\xae", b"\xe0\x80\xae\xe0\x80\xae", b"\xc0\xaf",
    b"\xc0\xae\xc0\xae\xc0\xafsecret.txt", b"..\xc0\xafsecret.txt", b"..\xe0\x80\xafsecret.txt",
    # ".." spelt otherwise
    b"%2e%2e", b"%2e%2e%2fsecret.txt", b"..%2fsecret.txt", b"..%5csecret.txt",
    "\uff0e\uff0e".encode(), "\u2024\u2024".encode(), "\u2025".encode(),
    # direction overrides, zero-width characters
    "\u202etxt.exe".encode(), "\u200b..".encode(), "..\u200b".encode(), "\u200d".encode(),
    "\ufeffbom".encode(), "\u2066iso\u2069".encode(), ".\u0338.".encode(),
    # control characters and terminal escapes
    b"\x01", b"ctl\x01\x02\x03", b"\x1b[2J\x1b[H", b"\x1b]0;title\x07", b"\x7f", b"tab\there",
    b"\x0b\x0c", b"a\rb", b"\x1b[6n",
]


@pytest.mark.time_limit(60)
def test_odd_utf8_and_control_characters_in_names(make_server, tmp_path):
    # The root is deep inside the test directory: an escape would land next to secrets.
    jail = tmp_path / "jail"
    root = jail / "inner" / "root"
    srv = make_server(root=root)
    (jail / "secret.txt").write_bytes(b"OUTER SECRET")
    (jail / "inner" / "secret.txt").write_bytes(b"INNER SECRET")
    outside_before = {k: v for k, v in tree(jail).items() if not k.startswith(b"inner/root")}
    stored: dict[bytes, bytes] = {}  # name -> content, for the files the server accepted
    made_dirs: set[bytes] = set()
    with srv.raw(login=True) as c:
        assert c.cmd("TYPE I")[0] == 200
        for i, name in enumerate(ODD_NAMES):
            content = b"content %d " % i + name
            code = stor(c, name, content)
            assert code in (226, 550, 553), (name, code)
            if code == 226:
                stored[name] = content
            dname = name + b".d"
            code, text = c.cmd(b"MKD " + dname)
            assert code in (257, 550, 553), (dname, text)
            if code == 257:
                made_dirs.add(dname)
                assert c.cmd(b"CWD " + dname)[0] == 250
                assert c.cmd("PWD")[0] == 257
                assert c.cmd("CWD /")[0] == 250
        # Stored under exactly the bytes sent, in the root itself, and nowhere else.
        assert listdir_b(root) == sorted(list(stored) + list(made_dirs))
        for name, content in stored.items():
            with open(bpath(root, name), "rb") as f:
                assert f.read() == content
            assert retr(c, name) == (226, content)
        # Paths that would climb out if the server decoded them name nothing that exists.
        for path in [b"\xc0\xae\xc0\xae/secret.txt",
                     b"\xc0\xae\xc0\xae/\xc0\xae\xc0\xae/secret.txt", b"%2e%2e/secret.txt",
                     b"%2e%2e%2f%2e%2e%2fsecret.txt",
                     "\uff0e\uff0e/secret.txt".encode(), b"..\xc0\xaf..\xc0\xafsecret.txt",
                     b"\xe0\x80\xae\xe0\x80\xae/inner/secret.txt", b"..\\..\\secret.txt"]:
            code, got = retr(c, path)
            assert code == 550, (path, code, got)
            code, text = c.cmd(b"SIZE " + path)
            assert code == 550, (path, text)
            assert c.cmd(b"CWD " + path.rsplit(b"/", 1)[0])[0] == 550
        code, text = c.cmd("PWD")
        assert code == 257 and text.startswith('257 "/" '), text
        # Every name is listed once, on one line (CR, LF and NUL shown as '?').
        code, names = listing(c, "NLST")
        shown = sorted(n.replace(b"\r", b"?") for n in list(stored) + list(made_dirs))
        assert code == 226 and sorted(names.split(b"\r\n")[:-1]) == shown
        code, text = listing(c, "LIST")
        lines = text.split(b"\r\n")[:-1]
        assert len(lines) == len(shown) and all(LS_LINE.match(line) for line in lines)
        # LIST is for people: every control character shows as '?' (no terminal escapes).
        shown_in_list = sorted(re.sub(rb"[\x00-\x1f\x7f]", b"?", n)
                               for n in list(stored) + list(made_dirs))
        assert sorted(LS_LINE.match(line).group("name") for line in lines) == shown_in_list
        code, text = listing(c, "MLSD")
        lines = text.split(b"\r\n")[:-1]
        assert len(lines) == len(shown) and all(line.startswith(b"type=") for line in lines)
        assert c.cmd("NOOP")[0] == 200
    after = {k: v for k, v in tree(jail).items() if not k.startswith(b"inner/root")}
    assert after == outside_before, "something outside the root changed"
    assert all(b"SECRET" not in content for content in stored.values())


EVIL_NAMES = [
    b"x\r\n226 Transfer complete.",
    b"\r\n-rw-r--r--    1 ftp      ftp             0 Jan 01 00:00 fake",
    b"y\n150 injected",
    b"\n",
    b"\r",
    b"z\r\r",
    b"type=file;size=1;modify=20000101000000; fake",
    b"nl\nbetween\nlines",
    b"\x1b[2K\rlooks-clean",
    b"\x01\x02\x7f",
]


def _check_multiline(reply: str, body_lines: int) -> None:
    assert "\r" not in reply, reply
    lines = reply.split("\n")
    assert len(lines) == body_lines + 2, lines
    code = lines[0][:3]
    assert lines[0][3] == "-" and lines[-1].startswith(code + " ")
    for line in lines[1:-1]:
        assert not re.match(r"^\d{3}[ -]", line), f"a body line looks like a reply: {line!r}"


def test_control_characters_in_names_cannot_inject_lines(server):
    for name in EVIL_NAMES:
        with open(bpath(server.root, name), "wb") as f:
            f.write(b"evil")
    (server.root / "plain").write_bytes(b"plain")
    n = len(EVIL_NAMES) + 1
    with server.raw(login=True) as c:
        code, text = listing(c, "LIST")
        lines = text.split(b"\r\n")
        assert lines[-1] == b"" and len(lines) - 1 == n, lines
        assert all(LS_LINE.match(line) for line in lines[:-1]), lines
        assert sum(b"fake" in line for line in lines) == 2  # the two names that say "fake"
        assert b"\x1b" not in text, "a terminal escape sequence reached a LIST line"
        code, text = listing(c, "NLST")
        assert len(text.split(b"\r\n")) - 1 == n and b"\n" not in text.replace(b"\r\n", b"")
        code, text = listing(c, "MLSD")
        lines = text.split(b"\r\n")[:-1]
        assert len(lines) == n and all(re.match(rb"^type=\w+;size=\d+;modify=\d{14};", line)
                                       for line in lines), lines
        assert b"\r" not in text.replace(b"\r\n", b"")
        # Over the control connection too: one body line per entry, then the final line.
        code, text = c.cmd("STAT /")
        assert code == 213
        _check_multiline(text, n)
        # Names with a bare CR can be named in a command (the last CR is the line end's).
        for verb in ["MLST", "STAT"]:
            code, text = c.cmd(f"{verb} \r")  # names the file "\r"
            assert code in (213, 250), text
            _check_multiline(text, 1)
        code, text = listing(c, "LIST", b"z\r\r")
        assert code == 226 and text.count(b"\r\n") == 1 and text.endswith(b" z??\r\n"), text
        code, text = listing(c, "NLST", b"\r")
        assert code == 226 and text == b"/?\r\n", text
        code, got = retr(c, b"\r")
        assert (code, got) == (226, b"evil")
        # And nothing extra was queued on the control connection.
        assert c.cmd("NOOP")[0] == 200
        assert c.buf == b""


# --- 4. a directory swapped for a symlink to the outside, again and again ----------------------

_libc = ctypes.CDLL(None, use_errno=True)
RENAME_EXCHANGE = 2
AT_FDCWD = -100


def exchange(a: Path, b: Path) -> None:
    """Swaps two names atomically (renameat2 RENAME_EXCHANGE)."""
    if _libc.renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE):
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


INSIDE = b"inside canary\n"
OUTSIDE = b"OUTSIDE CANARY - must never be served\n"


@pytest.mark.time_limit(60)
def test_symlink_swap_race_never_escapes_the_root(make_server, tmp_path):
    srv = make_server(threads=2)
    root = srv.root
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "canary.txt").write_bytes(OUTSIDE)
    (outside / "outside_only.txt").write_bytes(OUTSIDE)
    (outside / "sub").mkdir()
    d = root / "d"
    d.mkdir()
    (d / "canary.txt").write_bytes(INSIDE)
    (d / "sub").mkdir()
    swap = root / "swap"
    swap.symlink_to(outside)  # d and swap change places, over and over
    outside_before = tree(outside)
    outside_names = sorted(os.listdir(outside))

    stop = threading.Event()
    swaps = [0]
    errors = ThreadErrors()

    def swapper() -> None:
        try:
            t0 = time.monotonic()
            while not stop.is_set() and swaps[0] < 2_000_000 and time.monotonic() - t0 < 30:
                exchange(d, swap)
                swaps[0] += 1
                if swaps[0] % 8 == 0:
                    time.sleep(0.0002)  # let the others run on a busy machine
        except Exception as e:  # noqa: BLE001
            errors.add(f"swapper: {e!r}")

    counts = {"retr": 0, "stor": 0, "list": 0, "refused": 0}
    stored: set[str] = set()

    def reader() -> None:
        try:
            with srv.raw(login=True) as c:
                assert c.cmd("TYPE I")[0] == 200
                t0 = time.monotonic()
                i = 0
                while not stop.is_set() and i < 1200 and time.monotonic() - t0 < 12:
                    i += 1
                    op = i % 6
                    if op == 0:
                        code, got = retr(c, "d/canary.txt")
                        if code == 226:
                            assert got == INSIDE, got
                            counts["retr"] += 1
                    elif op == 1:
                        code, text = c.cmd("SIZE d/canary.txt")
                        assert code in (213, 550), text
                        if code == 213:
                            assert text == f"213 {len(INSIDE)}"
                    elif op == 2:
                        code, got = listing(c, ("LIST", "NLST", "MLSD")[i % 3], "d")
                        if code == 226:
                            assert b"outside_only" not in got, got
                            counts["list"] += 1
                    elif op == 3:
                        code, text = c.cmd("CWD /d/sub")
                        if code == 250:
                            code, got = retr(c, "../canary.txt")
                            assert code == 550 or got == INSIDE, got
                        assert c.cmd("CWD /")[0] == 250
                    elif op == 4:
                        code, text = c.cmd("STAT d")
                        assert "outside_only" not in text
                    else:
                        code, text = c.cmd("MLST d/canary.txt")
                        if code == 250:
                            assert f"size={len(INSIDE)};" in text
                    if code in (550, 553):
                        counts["refused"] += 1
        except Exception as e:  # noqa: BLE001
            errors.add(f"reader: {e!r}")

    def writer() -> None:
        try:
            with srv.raw(login=True) as c:
                assert c.cmd("TYPE I")[0] == 200
                t0 = time.monotonic()
                i = 0
                while not stop.is_set() and i < 600 and time.monotonic() - t0 < 12:
                    i += 1
                    name = f"up{i}.txt"
                    if i % 3 == 0:
                        code, text = c.cmd(f"MKD d/m{i}")
                        assert code in (257, 550, 553), text
                        continue
                    verb = b"APPE" if i % 3 == 2 else b"STOR"
                    code = stor(c, "d/" + name, b"upload %d\n" % i, verb)
                    assert code in (226, 550, 553, 451), code
                    if code == 226:
                        stored.add(name)
                        counts["stor"] += 1
                    else:
                        counts["refused"] += 1
                    # Not even for a moment (an upload's temporary file, say).
                    assert sorted(os.listdir(outside)) == outside_names
        except Exception as e:  # noqa: BLE001
            errors.add(f"writer: {e!r}")

    workers = [threading.Thread(target=f) for f in (swapper, reader, writer)]
    try:
        for t in workers:
            t.start()
        for t in workers[1:]:
            t.join(40)
    finally:
        stop.set()
        for t in workers:
            t.join(10)
    if d.is_symlink():
        exchange(d, swap)
    assert not errors.errors, errors.errors
    assert tree(outside) == outside_before, "the outside directory changed"
    # The race did happen: both outcomes were seen.
    assert swaps[0] > 1000, swaps[0]
    assert counts["retr"] > 0 and counts["stor"] > 0 and counts["list"] > 0, counts
    assert counts["refused"] > 0, counts
    # Every upload that succeeded is inside (in the real directory), none got lost outside.
    ups = {n for n in os.listdir(d) if n.startswith("up")}
    assert ups == stored, (ups ^ stored)
    for n in ups:
        assert (d / n).read_bytes().startswith(b"upload ")
    assert (d / "canary.txt").read_bytes() == INSIDE
    assert srv.alive()
    round_trip_ok(srv, seed=41)


# --- 5. a client that never reads its download -------------------------------------------------

@pytest.mark.time_limit(60)
def test_clients_that_never_read_cannot_pin_memory(small_quarantine, make_server):
    srv = make_server(extra=["--data-timeout", "3"])
    big = srv.root / "big.bin"
    with open(big, "wb") as f:
        f.truncate(200 * MiB)  # sparse: costs no disk
    (big.parent / "lines.txt").write_bytes(b"line\n" * 2_000_000)  # 10 MB of short lines
    stalled = []
    try:
        rss_before = srv.rss_kib()
        # Binary downloads (sendfile) and ASCII ones (through user space), none ever read.
        for i in range(6):
            c = srv.raw(login=True)
            stalled.append(c)
            assert c.cmd("TYPE I" if i % 2 == 0 else "TYPE A")[0] == 200
            data = c.pasv(rcvbuf=4096)
            c.data = data  # kept open, never read
            name = "big.bin" if i % 3 != 2 else "lines.txt"
            assert c.cmd(f"RETR {name}")[0] == 150
        peak = rss_before
        # Meanwhile others are served, and the server's memory stays put.
        for i in range(4):
            round_trip_ok(srv, seed=50 + i, size=200_000)
            peak = max(peak, srv.rss_kib())
            time.sleep(0.2)
        assert peak - rss_before < 24 * 1024, \
            f"six stalled downloads grew the server by {peak - rss_before} KiB"
        # The data timeout cuts them all.
        for c in stalled:
            code, text = c.reply(15)
            assert code == 426 and "timed out" in text.lower(), text
            c.data.close()
            assert c.cmd("NOOP")[0] == 200
        assert srv.alive()
    finally:
        for c in stalled:
            if hasattr(c, "data"):
                c.data.close()
            c.close()


# --- 6. out of file descriptors ---------------------------------------------------------------

def greeted_or_closed(socks: list[socket.socket], timeout: float) -> tuple[int, int]:
    """Waits until each connection got its 220 greeting or was closed by the server without a
    byte; returns (greeted, closed). Fails on anything else, or if one is left hanging."""
    pending = {s: b"" for s in socks}
    greeted = closed = 0
    deadline = time.monotonic() + timeout
    while pending:
        left = deadline - time.monotonic()
        assert left > 0, f"{len(pending)} connection(s) neither greeted nor closed"
        readable, _, _ = select.select(list(pending), [], [], left)
        for s in readable:
            try:
                chunk = s.recv(4096)
            except ConnectionError:
                chunk = b""
            if not chunk:
                assert pending[s] == b"", f"closed after a partial reply {pending[s]!r}"
                closed += 1
                del pending[s]
                continue
            pending[s] += chunk
            if b"\n" in pending[s]:
                assert pending[s].startswith(b"220 "), pending[s]
                greeted += 1
                del pending[s]
    return greeted, closed


@pytest.mark.parametrize("io", BACKENDS)
@pytest.mark.time_limit(60)
def test_out_of_descriptors_no_spin_and_recovery(make_server, io):
    limit = 64
    srv = make_server(io=io, nofile=limit,
                      extra=["--max-sessions", "0", "--max-sessions-per-ip", "0"])
    pid = srv.pid()
    with open(f"/proc/{pid}/limits") as f:
        assert re.search(rf"Max open files\s+{limit}\s+{limit}", f.read())
    held = srv.raw(login=True)  # a session from before: it must keep working
    conns: list[socket.socket] = []
    try:
        for _ in range(limit + 40):
            conns.append(socket.create_connection((HOST, srv.port), timeout=5))
        # The server takes what it can; the rest are closed at once (not left hanging).
        greeted, closed = greeted_or_closed(conns, 15)
        assert greeted > limit // 2 and closed > 0, (greeted, closed)
        assert open_fds(pid) >= limit - 2, open_fds(pid)
        # Out of descriptors, with clients still knocking: no busy loop.
        cpu0 = cpu_seconds(pid)
        knocking = []
        t0 = time.monotonic()
        while time.monotonic() - t0 < 3.0:
            knocking.append(socket.create_connection((HOST, srv.port), timeout=5))
            time.sleep(0.1)
        spent = cpu_seconds(pid) - cpu0
        assert greeted_or_closed(knocking, 10) == (0, len(knocking))
        conns += knocking
        # A server that retried accept() in a tight loop would burn a whole core here.
        assert spent < 0.5, f"the server used {spent:.2f} s of CPU in 3 s while out of fds"
        assert srv.alive()
        # The session from before is answered; what needs a descriptor fails cleanly.
        assert held.cmd("NOOP")[0] == 200
        code, text = held.cmd("MKD stillok")
        assert code in (257, 451, 550), text
        code, text = held.cmd("PASV")
        assert code in (227, 425), text
        assert held.cmd("PWD")[0] == 257
    finally:
        for s in conns:
            s.close()
    # Once those connections are gone, the server serves normally again.
    assert wait_until(lambda: open_fds(pid) < limit // 2, timeout=15), open_fds(pid)
    round_trip_ok(srv, seed=61)
    assert held.cmd("NOOP")[0] == 200
    held.close()
    assert srv.alive()
    # Three seconds of failing accepts are not thirty log lines (io_uring's accept reports
    # EMFILE to the server, which backs off every 100 ms): the first failure is logged, the
    # repeats are counted. The readiness backends shed inside the listener and log none.
    log = srv.stderr_text()
    assert log.count("accept: ") <= 3, log[-2000:]


# --- 7. pipelining -----------------------------------------------------------------------------

def test_pipelined_commands_across_transfers(server):
    payload = pseudo_random_bytes(2 * MiB, seed=71)
    (server.root / "f.bin").write_bytes(payload)
    upload = pseudo_random_bytes(MiB, seed=72)
    with server.raw(login=True) as c:
        c.send(b"TYPE I\r\nEPSV\r\n")
        assert c.reply()[0] == 200
        code, text = c.reply()
        assert code == 229
        data = connect_data(parse_229(text))
        # One send: a download, commands that wait for it, a second data set-up and an upload,
        # and commands after that.
        c.send(b"RETR f.bin\r\nPWD\r\nSIZE f.bin\r\nEPSV\r\nSTOR g.bin\r\nSYST\r\nSIZE g.bin\r\n"
               b"MKD after\r\nQUIT\r\nNOOP\r\n")
        assert c.reply()[0] == 150
        assert sha256(recv_all(data)) == sha256(payload)
        data.close()
        assert c.reply()[0] == 226
        assert c.reply()[0] == 257
        assert c.reply() == (213, f"213 {len(payload)}")
        code, text = c.reply()
        assert code == 229
        data = connect_data(parse_229(text))
        assert c.reply()[0] == 150
        data.sendall(upload)
        data.close()
        assert c.reply()[0] == 226
        assert c.reply()[0] == 215
        assert c.reply() == (213, f"213 {len(upload)}")
        assert c.reply()[0] == 257
        assert c.reply()[0] == 221
        assert c.closed_by_server(5)  # the NOOP after QUIT is not answered
        assert c.buf == b""
    assert (server.root / "g.bin").read_bytes() == upload
    assert (server.root / "after").is_dir()


@pytest.mark.time_limit(60)
def test_fifty_thousand_pipelined_commands_in_one_send(small_quarantine, server):
    expected = []
    wire = bytearray()
    for i in range(50_000):
        if i % 1000 == 999:
            wire += b"PWD\r\n"
            expected.append(257)
        elif i % 777 == 0:
            wire += b"BOGUS\r\n"
            expected.append(500)
        else:
            wire += b"NOOP\r\n"
            expected.append(200)
    with server.raw(login=True) as c:
        rss_before = server.rss_kib()
        received = blast(c.sock, bytes(wire), 40)  # replies are read as they come
        c.send(b"SYST\r\n")
        lines, closed = read_lines_until(c.sock, received, b"215 ", 40)
        assert not closed and server.alive()
        assert reply_codes(lines[:-1]) == expected
        assert server.rss_kib() - rss_before < 8 * 1024
        assert c.cmd("NOOP")[0] == 200


@pytest.mark.time_limit(60)
def test_pipelined_flood_of_a_client_that_does_not_read_replies(small_quarantine, server):
    """A client that sends commands without ever reading a reply: once its replies back up the
    server stops reading from it, so neither memory nor a reply queue grows, and the others are
    served meanwhile."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
    s.settimeout(10)
    s.connect((HOST, server.port))
    other = server.raw(login=True)
    try:
        buf = bytearray()
        read_lines_until(s, buf, b"220 ", 5)
        s.sendall(f"USER {USER}\r\nPASS {PASSWORD}\r\n".encode())
        read_lines_until(s, buf, b"230 ", 5)
        rss_before = server.rss_kib()
        chunk = b"NOOP\r\n" * 10_000
        sent = 0
        s.setblocking(False)
        t0 = time.monotonic()
        stuck_since = None
        # Send until the server stops taking commands (bounded: 40 MB, 30 s).
        while sent < 40 * MiB and time.monotonic() - t0 < 30:
            try:
                sent += s.send(chunk[sent % len(chunk):])
                stuck_since = None
            except BlockingIOError:
                if stuck_since is None:
                    stuck_since = time.monotonic()
                elif time.monotonic() - stuck_since > 1.0:
                    break
                select.select([], [s], [], 0.1)
        assert stuck_since is not None, f"the server took {sent} bytes without being read"
        grown = server.rss_kib() - rss_before
        assert grown < 8 * 1024, f"server grew by {grown} KiB with unread replies backing up"
        assert server.alive()
        for _ in range(5):
            assert other.cmd("NOOP", timeout=5)[0] == 200
        # The replies that did go out are the NOOPs', in order and whole.
        s.setblocking(True)
        s.settimeout(5)
        while len(buf) < 14 * 5000:
            got = s.recv(65536)
            assert got
            buf += got
        lines = bytes(buf).split(b"\r\n")[:5000]
        assert len(set(lines)) == 1 and lines[0].startswith(b"200 "), set(lines)
    finally:
        rst_close(s)  # with megabytes still queued both ways
    # The session goes away with its backlog; the server goes on.
    assert other.cmd("PWD", timeout=10)[0] == 257
    other.close()
    round_trip_ok(server, seed=73)
