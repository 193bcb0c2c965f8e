"""muxftp's interactive shell (`muxftp URL` with no subcommand).

Scripted through a pipe against both servers: every command, with checks on the files and on
what ls/pwd/status/jobs print, and the exit status (0 all well, 1 a command failed, every line
still run). On a pseudo-terminal: the prompt, line editing, history, a background get answered
around while it runs, a password prompt without echo, Ctrl-C, and a terminal left as it was.
"""
from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import termios
import time
from pathlib import Path

import pytest

from ftpc_support import (MUXFTP, SANITIZER_MARKERS, Screen, client_env, make_files, sha256,
                          HOST, USER, PASSWORD)


def run_script(url: str, script: str, home: Path, cwd: Path, timeout: float = 60.0):
    proc = subprocess.run([MUXFTP, url], input=script.encode(), capture_output=True,
                          timeout=timeout, env=client_env(home), cwd=cwd)
    err = proc.stderr.decode("utf-8", "replace")
    for m in SANITIZER_MARKERS:
        assert m not in err, err
    return proc.returncode, proc.stdout.decode("utf-8", "replace"), err


def listed_names(listing: str) -> list[str]:
    """Names from `ls` lines: "        1234  2025-11-23 12:34  name" (dirs have a blank size)."""
    return [line[32:] for line in listing.splitlines() if len(line) > 32]


@pytest.mark.time_limit(120)
def test_script_runs_every_command(server, tmp_path, home):
    root = server.root
    (root / "a.txt").write_bytes(b"hello\n")
    (root / "sub").mkdir()
    (root / "sub" / "t.txt").write_bytes(b"l1\nl2\n")
    sums = make_files(root / "sub", 3, seed=7, max_size=300_000, prefix="x")
    local = tmp_path / "local"
    local.mkdir()
    (local / "up.txt").write_bytes(b"up\n")
    (local / "m1.dat").write_bytes(b"m1" * 1000)
    (local / "m2.dat").write_bytes(b"m2" * 2000)
    (local / "text.txt").write_bytes(b"one\ntwo\n")
    work = tmp_path / "work"
    work.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    script = f"""# every command of the shell, one after the other
status
pwd
ls
cd sub
pwd
ls
get t.txt
get t.txt "copy of t.txt"
mget x*.bin
lcd {elsewhere}
get /a.txt
get x01.bin &
jobs
wait
cd /
mkdir "new dir"
cd "new dir"
put {local}/up.txt
mput {local}/*.dat
put {local}/up.txt renamed.txt &
wait 2
rename renamed.txt moved.txt
rm up.txt
ls
cd /
active
ls sub
get sub/t.txt active.txt
passive
ascii
get sub/t.txt ascii.txt
put {local}/text.txt "new dir/text.txt"
binary
user {USER} {PASSWORD}
pwd
open {server.url}/sub
pwd
help
help get
quit
"""
    status, out, err = run_script(server.url, script, home, work)
    assert status == 0, err
    # the files
    assert (work / "t.txt").read_bytes() == b"l1\nl2\n"
    assert (work / "copy of t.txt").read_bytes() == b"l1\nl2\n"
    assert {n: sha256(work / n) for n in sums} == sums
    assert (elsewhere / "a.txt").read_bytes() == b"hello\n"
    assert sha256(elsewhere / "x01.bin") == sums["x01.bin"]
    assert (elsewhere / "active.txt").read_bytes() == b"l1\nl2\n"
    # ascii: CRLF on the wire (both servers convert), LF again here
    assert (elsewhere / "ascii.txt").read_bytes() == b"l1\nl2\n"
    new_dir = root / "new dir"
    assert not (new_dir / "up.txt").exists()
    assert (new_dir / "moved.txt").read_bytes() == b"up\n"
    assert (new_dir / "m1.dat").read_bytes() == b"m1" * 1000
    assert (new_dir / "m2.dat").read_bytes() == b"m2" * 2000
    assert (new_dir / "text.txt").read_bytes() == b"one\ntwo\n"
    # what it printed
    assert "server:" in out and "type:        binary" in out and "mode:        passive" in out
    lines = out.splitlines()
    assert lines.count("/") >= 2 and "/sub" in lines, out
    assert "a.txt" in listed_names(out) and "sub/" in listed_names(out)
    assert "t.txt" in listed_names(out) and "x01.bin" in listed_names(out)
    assert "[1] get x01.bin\n" in err  # started
    assert re.search(r"^(\[1\] get x01\.bin +\[.*|no background transfers)$", out, re.M), out
    assert re.search(r"^\[1\] done +x01\.bin ", err, re.M), err
    assert re.search(r"^\[2\] done +up\.txt ", err, re.M), err
    listing_new_dir = [n for n in listed_names(out) if n in ("moved.txt", "m1.dat", "m2.dat")]
    assert sorted(listing_new_dir) == ["m1.dat", "m2.dat", "moved.txt"], out
    assert "get REMOTE [LOCAL] [&]" in out and "usage: get REMOTE [LOCAL] [&]" in out
    assert "done    t.txt" in err
    assert "muxftp:" not in err, err  # no error at all
    assert "\x1b" not in out + err  # no terminal control on pipes


def test_script_goes_on_after_a_failure_and_exits_1(server, tmp_path, home):
    (server.root / "keep.txt").write_bytes(b"keep")
    script = "rm nope.txt\nfrobnicate\ncd \"unterminated\nget missing.bin\nget keep.txt\n"
    status, out, err = run_script(server.url, script, home, tmp_path)
    assert status == 1
    assert "550" in err
    assert "frobnicate: no such command" in err
    assert 'no closing "' in err
    assert "FAILED  missing.bin" in err
    assert (tmp_path / "keep.txt").read_bytes() == b"keep"  # the last line still ran
    assert not (tmp_path / "missing.bin").exists()


def test_script_background_failure_sets_the_status(server, tmp_path, home):
    status, out, err = run_script(server.url, "get nothing.here &\n", home, tmp_path)
    assert status == 1
    assert re.search(r"^\[1\] FAILED +nothing\.here: ", err, re.M), err


def test_open_with_netrc_and_close(server, tmp_path, home):
    (server.root / "n.txt").write_bytes(b"netrc")
    (home / ".netrc").write_text(f"machine {HOST}\n login {USER}\n password {PASSWORD}\n")
    (home / ".netrc").chmod(0o600)
    port = server.url.rsplit(":", 1)[1]
    status, out, err = run_script(f"{HOST}:{port}", "get n.txt\nstatus\nclose\nls\nstatus\n", home,
                                  tmp_path)
    assert (tmp_path / "n.txt").read_bytes() == b"netrc"
    assert f"user:        {USER}" in out
    assert "server:      not connected" in out
    assert "not connected (open URL first)" in err
    assert status == 1  # the ls after close


def test_last_line_without_newline_and_no_quit(server, tmp_path, home):
    status, out, err = run_script(server.url, "pwd", home, tmp_path)
    assert status == 0, err
    assert out == "/\n"


# ---- on a terminal -------------------------------------------------------------------------------


class Terminal:
    """muxftp on a pseudo-terminal that is its controlling terminal (so Ctrl-C is SIGINT)."""

    def __init__(self, args: list[str], home: Path, cwd: Path, cols: int = 100):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child
            try:
                os.chdir(cwd)
                env = client_env(home)
                env["TERM"] = "xterm"
                os.execve(MUXFTP, [MUXFTP, *args], env)
            finally:
                os._exit(127)
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, cols, 0, 0))
        self.out = b""
        self.status = None

    def read_until(self, pattern: bytes, seconds: float = 20.0) -> bytes:
        """Reads until `pattern` (a regex) appears in what came since the last call."""
        start = len(self.out)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if re.search(pattern, self.out[start:]):
                return self.out[start:]
            r, _, _ = select.select([self.fd], [], [], 0.1)
            if r:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                self.out += chunk
        raise AssertionError(f"no {pattern!r} in {self.out[start:]!r}")

    def type(self, keys: bytes):
        os.write(self.fd, keys)

    def wait(self, seconds: float = 20.0) -> int:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(status)
                text = self.out.decode("utf-8", "replace")
                for m in SANITIZER_MARKERS:
                    assert m not in text, text
                return self.status
            r, _, _ = select.select([self.fd], [], [], 0.1)
            if r:
                try:
                    self.out += os.read(self.fd, 65536)
                except OSError:
                    pass
        raise AssertionError("muxftp did not exit")

    def close(self):
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except OSError:
                pass
        os.close(self.fd)


PROMPT = rb"muxftp 127\.0\.0\.1:[/~][^\r\n>]*> $"


def history_lines(home: Path) -> list[str]:
    """~/.muxftp_history as libedit writes it (a header line, then vis(3)-encoded lines)."""
    text = (home / ".muxftp_history").read_text()
    return [l.replace("\\040", " ") for l in text.splitlines()[1:]]


class EditingScreen(Screen):
    """The progress board's screen model plus the cursor moves libedit makes."""

    CSI = re.compile(rb"\x1b\[(\??)(\d*)([A-Za-z])")

    def feed(self, data: bytes) -> None:
        # libedit positions the cursor with ESC[nG (column) and moves with ESC[nC/ESC[nD; turn
        # them into spaces/backspaces the base model understands, then let it do the rest.
        out = b""
        i = 0
        while i < len(data):
            m = self.CSI.match(data, i)
            if m and m.group(3) in (b"G", b"C", b"D") and not m.group(1):
                n = int(m.group(2) or b"1")
                super().feed(out)
                out = b""
                if m.group(3) == b"G":
                    self.col = n - 1
                elif m.group(3) == b"C":
                    self.col += n
                else:
                    self.col = max(0, self.col - n)
                i = m.end()
                continue
            if data[i] == 0x08:  # backspace
                super().feed(out)
                out = b""
                self.col = max(0, self.col - 1)
                i += 1
                continue
            out += data[i:i + 1]
            i += 1
        super().feed(out)


@pytest.mark.time_limit(90)
def test_terminal_editing_history_and_a_background_get(make_pyftpd, tmp_path, home):
    srv = make_pyftpd(rate=300_000)  # a 2.4 MB file takes several seconds
    big = os.urandom(2_400_000)
    (srv.root / "big.bin").write_bytes(big)
    (srv.root / "small.txt").write_bytes(b"small\n")
    work = tmp_path / "work"
    work.mkdir()
    term = Terminal([srv.url], home, work)
    try:
        term.read_until(PROMPT)
        # line editing: a typo, a backspace, Enter
        term.type(b"pwdd\x7f\r")
        assert b"\r\n/\r\n" in term.read_until(PROMPT)
        # history: up-arrow brings pwd back
        term.type(b"\x1b[A\r")
        assert b"pwd\r\n/\r\n" in term.read_until(PROMPT)
        # a background get, and commands answered while it runs
        term.type(b"get big.bin &\r")
        assert b"[1] get big.bin" in term.read_until(PROMPT)
        term.type(b"pwd\r")
        term.read_until(PROMPT)
        for _ in range(50):  # until the transfer has started and knows the size
            term.type(b"jobs\r")
            jobs = term.read_until(PROMPT)
            if re.search(rb"\[1\] get big\.bin +\[=*>? *\] +\d+%", jobs):
                break
            time.sleep(0.1)
        assert re.search(rb"\[1\] get big\.bin +\[=*>? *\] +\d+%", jobs), jobs
        term.type(b"ls\r")
        listing = term.read_until(PROMPT)
        assert b"small.txt" in listing
        # the summary line appears above the prompt when the transfer ends, with a half-typed
        # line drawn again below it
        term.type(b"he")
        summary = term.read_until(rb"\[1\] done +big\.bin[^\r\n]*\r\n" + PROMPT[:-1] + rb"he")
        assert b"\x1b[J" in summary
        term.type(b"lp get\r")
        assert b"usage: get REMOTE" in term.read_until(PROMPT)
        term.type(b"quit\r")
        assert term.wait() == 0
        lflag = termios.tcgetattr(term.fd)[3]  # libedit gave the terminal its modes back
        assert lflag & termios.ECHO and lflag & termios.ICANON and lflag & termios.ISIG
    finally:
        term.close()
    assert (work / "big.bin").read_bytes() == big
    screen = EditingScreen()
    screen.feed(term.out.replace(b"\r\n", b"\n"))
    text = screen.text()
    assert any(l.startswith("muxftp 127.0.0.1:/> pwd") and not l.endswith("pwdd") for l in text)
    assert any(re.match(r"\[1\] done +big\.bin ", l) for l in text), text
    assert text[-1] == "muxftp 127.0.0.1:/> quit", text
    assert screen.cursor_visible
    assert "get big.bin &" in history_lines(home) and "quit" in history_lines(home)


@pytest.mark.time_limit(60)
def test_terminal_password_prompt_ctrl_c_and_ctrl_d(muxftpd, tmp_path, home):
    url = muxftpd.url.replace(f"{USER}:{PASSWORD}@", f"{USER}@")
    term = Terminal([url], home, tmp_path)
    try:
        term.read_until(rb"Password for alice@127\.0\.0\.1: $")
        term.type(PASSWORD.encode() + b"\r")
        after = term.read_until(PROMPT)
        assert PASSWORD.encode() not in term.out  # never echoed
        assert b"as alice" in after
        # Ctrl-C drops the half-typed line and gives a fresh prompt
        term.type(b"rm everything")
        term.read_until(rb"rm everything")
        term.type(b"\x03")
        term.read_until(rb"\^C\r\n" + PROMPT)
        term.type(b"pwd\r")
        assert b"\r\n/\r\n" in term.read_until(PROMPT)
        # user: asks again, unechoed
        term.type(b"user alice\r")
        term.read_until(rb"Password for alice@127\.0\.0\.1: $")
        term.type(b"wrong\r")
        assert re.search(rb"muxftp: [^\r\n]*login[^\r\n]*\r\n", term.read_until(PROMPT))
        assert b"wrong" not in term.out
        # Ctrl-D on an empty line leaves, the terminal back in its normal mode
        term.type(b"\x04")
        assert term.wait() == 0
        lflag = termios.tcgetattr(term.fd)[3]
        assert lflag & termios.ECHO and lflag & termios.ICANON and lflag & termios.ISIG
    finally:
        term.close()
    history = history_lines(home)
    assert "pwd" in history and "user alice" in history
    assert not any("everything" in h or "wrong" in h for h in history), history
