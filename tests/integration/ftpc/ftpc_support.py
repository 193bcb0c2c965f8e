"""Helpers for the muxftp integration tests: running the client, a pyftpdlib server in a thread
(optionally throttled, or dropping the connection in the middle of a download), file trees with
checksums, and a tiny terminal model to check what the progress board leaves on screen.

Everything talks to 127.0.0.1 only; every wait is bounded.
"""
from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "ftpd"))

from ftpd_support import FtpServer, USER, PASSWORD, HOST  # noqa: E402,F401

MUXFTP = os.environ.get("MUXFTP", "/work/main/build-dev/bin/muxftp")
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_files(directory: Path, count: int, seed: int = 1, max_size: int = 200_000,
               prefix: str = "f") -> dict[str, str]:
    """count files with pseudo-random content (one empty); returns name -> sha256."""
    import random
    rnd = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    sums = {}
    for i in range(count):
        size = 0 if i == 0 else rnd.randrange(1, max_size)
        name = f"{prefix}{i:02d}.bin"
        data = rnd.randbytes(size)
        (directory / name).write_bytes(data)
        sums[name] = hashlib.sha256(data).hexdigest()
    return sums


def tree_sums(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): sha256(p) for p in sorted(root.rglob("*")) if p.is_file()}


def client_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["HOME"] = str(home)  # no user's real ~/.netrc
    env.pop("TERM", None)
    return env


def run_muxftp(args: list[str], home: Path, timeout: float = 60.0,
               check_sanitizer: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([MUXFTP, *args], stdin=subprocess.DEVNULL, capture_output=True,
                          timeout=timeout, env=client_env(home))
    if check_sanitizer:
        err = proc.stderr.decode("utf-8", "replace")
        for m in SANITIZER_MARKERS:
            assert m not in err, err
    return proc


class PyFtpd:
    """pyftpdlib on 127.0.0.1:0 in a thread, user alice with every permission on `root`.

    rate: bytes/s per data connection (ThrottledDTPHandler), 0 for unlimited.
    drop_after: close the control connection this many seconds into the first `drops` RETRs.
    size_bias: added to every SIZE answer (a server whose copy differs, for --verify).
    refuse: reply codes refusing a way to continue an upload, as some servers do: "REST" (the
    REST itself), "restart" (a STOR after REST, ProFTPD's "451 Append/Restart not permitted"),
    "APPE"; `refusals` counts the refusals sent.
    answers: a fixed reply line for a command ({"RETR": "522 ..."}): a server that refuses it.
    """

    def __init__(self, root: Path, rate: int = 0, drop_after: float = 0.0, drops: int = 0,
                 mlst: bool = True, size_bias: int = 0, refuse: dict[str, int] | None = None,
                 answers: dict[str, str] | None = None):
        from pyftpdlib.authorizers import DummyAuthorizer
        from pyftpdlib.handlers import FTPHandler, ThrottledDTPHandler, DTPHandler
        from pyftpdlib.servers import FTPServer

        root.mkdir(parents=True, exist_ok=True)
        self.root = root
        auth = DummyAuthorizer()
        auth.add_user(USER, PASSWORD, str(root), perm="elradfmwMT")
        state = {"drops": drops}
        refuse = refuse or {}
        answers = answers or {}
        self.refusals = 0
        outer = self

        if rate:
            dtp = type("Dtp", (ThrottledDTPHandler,), {"read_limit": rate, "write_limit": rate})
        else:
            dtp = type("Dtp", (DTPHandler,), {})

        class Handler(FTPHandler):
            authorizer = auth
            dtp_handler = dtp
            use_sendfile = False
            banner = "pyftpdlib test server"
            passive_ports = None

            def ftp_SIZE(self, path):
                if not size_bias:
                    return super().ftp_SIZE(path)
                self.respond(f"213 {os.path.getsize(path) + size_bias}")

            def process_command(self, cmd, *args, **kwargs):
                if cmd in answers:
                    self.respond(answers[cmd])
                    return
                super().process_command(cmd, *args, **kwargs)

            def refused(self, what: str) -> bool:
                if what not in refuse:
                    return False
                outer.refusals += 1
                self._restart_position = 0
                self.respond(f"{refuse[what]} Append/Restart not permitted, try again")
                return True

            def ftp_REST(self, line):
                if not self.refused("REST"):
                    super().ftp_REST(line)

            def ftp_STOR(self, file, mode="w"):
                what = "APPE" if mode == "a" else ("restart" if self._restart_position else "")
                if not (what and self.refused(what)):
                    super().ftp_STOR(file, mode)

            def ftp_RETR(self, file):
                if state["drops"] > 0:
                    state["drops"] -= 1
                    self.ioloop.call_later(drop_after, self.close)
                return super().ftp_RETR(file)

        if not mlst:
            Handler.proto_cmds = {k: v for k, v in FTPHandler.proto_cmds.items()
                                  if k not in ("MLSD", "MLST")}
        import logging
        logging.getLogger("pyftpdlib").setLevel(logging.ERROR)
        self.server = FTPServer((HOST, 0), Handler)
        self.server.max_cons = 256
        self.port = self.server.socket.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        deadline = time.monotonic() + 600
        while not self._stop.is_set() and time.monotonic() < deadline:
            self.server.serve_forever(timeout=0.05, blocking=False, handle_exit=False)

    def url(self) -> str:
        return f"ftp://{USER}:{PASSWORD}@{HOST}:{self.port}"

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=10)
        self.server.close_all()


class Screen:
    """Just enough of a terminal for the board: CR, LF, ESC[nA, ESC[K, ESC[J, ESC[?25l/h."""

    CSI = re.compile(rb"\x1b\[(\??)(\d*)([A-Za-z])")

    def __init__(self):
        self.lines: list[str] = [""]
        self.row = 0
        self.col = 0
        self.cursor_visible = True
        self.max_rows_seen = 0

    def feed(self, data: bytes) -> None:
        i = 0
        text = data
        while i < len(text):
            b = text[i]
            if b == 0x1b:
                m = self.CSI.match(text, i)
                assert m, f"unknown escape at {text[i:i+10]!r}"
                private, num, cmd = m.group(1), m.group(2), m.group(3).decode()
                n = int(num) if num else 1
                if private == b"?" and num == b"25":
                    self.cursor_visible = cmd == "h"
                elif cmd == "A":
                    self.row = max(0, self.row - n)
                elif cmd == "K":
                    self._line()
                    self.lines[self.row] = self.lines[self.row][: self.col]
                elif cmd == "J":
                    self._line()
                    self.lines[self.row] = self.lines[self.row][: self.col]
                    del self.lines[self.row + 1:]
                else:
                    raise AssertionError(f"unexpected escape {m.group(0)!r}")
                i = m.end()
                continue
            if b == 0x0d:
                self.col = 0
            elif b == 0x0a:
                self.row += 1
                self.col = 0
                self._line()
            else:
                # decode one UTF-8 character
                j = i + 1
                while j < len(text) and (text[j] & 0xC0) == 0x80:
                    j += 1
                ch = text[i:j].decode("utf-8", "replace")
                self._line()
                line = self.lines[self.row].ljust(self.col)
                self.lines[self.row] = line[: self.col] + ch + line[self.col + 1:]
                self.col += 1
                i = j
                continue
            i += 1
        self.max_rows_seen = max(self.max_rows_seen, len(self.lines))

    def _line(self):
        while len(self.lines) <= self.row:
            self.lines.append("")

    def text(self) -> list[str]:
        out = [l.rstrip() for l in self.lines]
        while out and not out[-1]:
            out.pop()
        return out
