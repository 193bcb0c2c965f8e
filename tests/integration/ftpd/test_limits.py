"""Resource limits and brute-force defence of muxftpd: session limits (total, per address, per
user), growing delays after failed logins, bans, and the login deadline against slowloris
clients. Each test would fail without the rule it names. Every wait is bounded; the only
timings asserted are lower bounds of delays the server is meant to add."""
from __future__ import annotations

import select
import signal
import socket
import time

import pytest

from ftpd_support import (
    BACKENDS, FOREIGN_HOST, HOST, PASSWORD, RO_PASSWORD, RO_USER, TIMEOUT, USER, RawControl,
    wait_until,
)


def connect(srv, source: str | None = None) -> tuple[RawControl, int, str]:
    """A control connection and its first reply (220, or 421 when refused)."""
    c = RawControl(srv.port, srv.transcript, source=source)
    code, text = c.reply()
    return c, code, text


def greeted(srv, source: str | None = None) -> bool:
    """True when a new connection gets 220 (it is closed again at once)."""
    c, code, _ = connect(srv, source)
    c.close()
    return code == 220


def expect_refused(srv, phrase: str, source: str | None = None) -> None:
    c, code, text = connect(srv, source)
    with c:
        assert code == 421, text
        assert phrase in text, text
        assert c.closed_by_server(), "a refused connection is closed at once"


def has_reply_pending(c: RawControl) -> bool:
    if b"\n" in c.buf:
        return True
    readable, _, _ = select.select([c.sock], [], [], 0)
    return bool(readable)


# -- session limits ----------------------------------------------------------------------------

@pytest.mark.time_limit(60)
@pytest.mark.parametrize("backend", BACKENDS)
def test_per_address_limit_refuses_with_421_and_serves_everyone_else(make_server, backend):
    srv = make_server(io=backend, threads=2, extra=["--max-sessions-per-ip", "3"])
    held = [srv.raw() for _ in range(3)]  # two loops: the count is shared
    try:
        expect_refused(srv, "Too many connections from your address")
        expect_refused(srv, "Too many connections from your address")
        # The sessions already in, and other addresses, are served as before.
        held[0].login()
        assert held[0].cmd("NOOP")[0] == 200
        with srv.raw(source=FOREIGN_HOST) as other:
            other.login(RO_USER, RO_PASSWORD)
            assert other.cmd("PWD")[0] == 257
        # A session that ends, however it ends, gives its place back.
        assert held[0].cmd("QUIT")[0] == 221
        held[1].close()
        assert wait_until(lambda: greeted(srv), timeout=5)
    finally:
        for c in held:
            c.close()


@pytest.mark.time_limit(60)
def test_total_limit_refuses_with_421_until_a_session_ends(make_server):
    srv = make_server(extra=["--max-sessions", "2"])
    a = srv.raw(login=True)
    b = srv.raw(source=FOREIGN_HOST)
    try:
        expect_refused(srv, "Too many users connected")
        expect_refused(srv, "Too many users connected", source=FOREIGN_HOST)
        assert a.cmd("NOOP")[0] == 200
        b.close()
        assert wait_until(lambda: greeted(srv, source=FOREIGN_HOST), timeout=5)
    finally:
        a.close()
        b.close()


@pytest.mark.time_limit(60)
def test_per_user_limit_answers_pass_with_421(make_server):
    srv = make_server(extra=["--max-sessions-per-user", "2"])
    first = srv.raw(login=True)
    second = srv.raw(login=True)
    try:
        with srv.raw() as third:
            # A wrong password learns nothing about the user's sessions.
            third.expect(f"USER {USER}", 331)
            third.expect("PASS wrong", 530)
            third.expect(f"USER {USER}", 331)
            code, text = third.cmd(f"PASS {PASSWORD}")
            assert (code, text) == (421, "421 Too many sessions for this user."), text
            assert third.closed_by_server()
        with srv.raw() as bob:
            bob.login(RO_USER, RO_PASSWORD)  # other users are not counted with alice
        assert first.cmd("NOOP")[0] == 200
        assert first.cmd("QUIT")[0] == 221

        def alice_logs_in() -> bool:
            with srv.raw() as c:
                c.expect(f"USER {USER}", 331)
                code, _ = c.cmd(f"PASS {PASSWORD}")
                return code == 230

        assert wait_until(alice_logs_in, timeout=5), "the place of the session that quit"
    finally:
        first.close()
        second.close()


# -- failed logins -----------------------------------------------------------------------------

@pytest.mark.time_limit(60)
def test_failed_logins_are_answered_later_and_later_without_stalling_others(make_server):
    srv = make_server(threads=1)  # one loop: the delays must not block it
    with srv.raw() as guesser, srv.raw(login=True) as worker:
        guesser.expect(f"USER {USER}", 331)
        t0 = time.monotonic()
        guesser.expect("PASS guess1", 530)
        first = time.monotonic() - t0
        guesser.expect(f"USER {USER}", 331)
        t0 = time.monotonic()
        guesser.expect("PASS guess2", 530)
        second = time.monotonic() - t0
        assert first >= 0.95, f"first failure answered after {first:.2f} s"
        assert second >= 1.95, f"second failure answered after {second:.2f} s"

        guesser.expect(f"USER {USER}", 331)
        t0 = time.monotonic()
        guesser.send(b"PASS guess3\r\n")  # answered 4 s later
        assert worker.cmd("NOOP")[0] == 200
        assert worker.cmd("PWD")[0] == 257
        assert not has_reply_pending(guesser), "others are served while a failure waits"
        assert guesser.reply()[0] == 530
        third = time.monotonic() - t0
        assert third >= 3.95, f"third failure answered after {third:.2f} s"


@pytest.mark.time_limit(60)
def test_repeated_failures_ban_the_address_for_a_while(make_server):
    srv = make_server(threads=2, extra=["--max-login-failures", "3", "--ban-seconds", "10"])
    logged_in = srv.raw(login=True)  # sessions opened before the ban
    waiting = srv.raw()
    try:
        with srv.raw() as guesser:
            guesser.expect(f"USER {USER}", 331)
            guesser.expect("PASS guess1", 530)
            guesser.expect(f"USER {USER}", 331)
            guesser.expect("PASS guess2", 530)
            guesser.expect(f"USER {USER}", 331)
            code, text = guesser.cmd("PASS guess3")
            assert code == 421 and "Too many failed logins" in text, text
            assert guesser.closed_by_server()
        expect_refused(srv, "Too many failed logins")
        # An open session gets no more guesses, not even the right one...
        waiting.expect(f"USER {USER}", 331)
        code, text = waiting.cmd(f"PASS {PASSWORD}")
        assert code == 421 and "Too many failed logins" in text, text
        assert waiting.closed_by_server()
        # ...while a session logged in before the ban, and other addresses, go on.
        assert logged_in.cmd("NOOP")[0] == 200
        with srv.raw(login=True, source=FOREIGN_HOST) as other:
            assert other.cmd("NOOP")[0] == 200
        # The ban ends after ban_seconds.
        assert wait_until(lambda: greeted(srv), timeout=20, interval=0.5)
        with srv.raw(login=True) as back:
            assert back.cmd("NOOP")[0] == 200
    finally:
        logged_in.close()
        waiting.close()


# -- login deadline (slowloris) ----------------------------------------------------------------

def trickle_until_closed(c: RawControl, pieces: list[bytes], interval: float,
                         limit: float) -> tuple[list[str], float]:
    """Sends the pieces in turn, one every `interval` seconds, reading replies, until the server
    closes the connection; returns the reply lines and when that happened (fails after `limit`
    seconds)."""
    lines = []
    t0 = time.monotonic()
    i = 0
    while time.monotonic() - t0 < limit:
        try:
            c.send(pieces[i % len(pieces)])
        except OSError:
            return lines, time.monotonic() - t0  # closed (reset) meanwhile
        i += 1
        deadline = time.monotonic() + interval
        while (left := deadline - time.monotonic()) > 0:
            readable, _, _ = select.select([c.sock], [], [], left)
            if not readable:
                break
            try:
                chunk = c.sock.recv(4096)
            except ConnectionError:
                return lines, time.monotonic() - t0
            if not chunk:
                return lines, time.monotonic() - t0
            c.buf += chunk
            while b"\n" in c.buf:
                line, c.buf = c.buf.split(b"\n", 1)
                lines.append(line.decode().rstrip("\r"))
    raise AssertionError(f"still connected after {limit} s of trickling; replies {lines}")


@pytest.mark.time_limit(60)
def test_one_byte_at_a_time_does_not_stretch_the_login_timeout(make_server):
    srv = make_server(extra=["--login-timeout", "2"])
    with srv.raw() as c:
        lines, closed_after = trickle_until_closed(c, [bytes([b]) for b in b"NOOPX"], 0.3, 12)
        assert len(lines) == 1 and lines[0].startswith("421 Login timeout"), lines
        assert closed_after >= 1.5


@pytest.mark.time_limit(60)
def test_commands_without_login_do_not_stretch_the_login_timeout(make_server):
    srv = make_server(extra=["--login-timeout", "2"])
    with srv.raw() as c:
        lines, _ = trickle_until_closed(c, [b"NOOP\r\n", b"USER nobody\r\n"], 0.3, 12)
        assert lines[-1].startswith("421 Login timeout"), lines
        assert {line[:3] for line in lines[:-1]} == {"200", "331"}, lines


@pytest.mark.time_limit(60)
def test_login_timeout_does_not_apply_after_login(make_server):
    srv = make_server(extra=["--login-timeout", "1"])
    with srv.raw(login=True) as c:
        time.sleep(2.0)
        assert c.cmd("NOOP")[0] == 200


@pytest.mark.time_limit(90)
def test_idle_connections_cannot_exhaust_the_server(make_server):
    srv = make_server(threads=2, extra=["--max-sessions-per-ip", "20", "--max-sessions", "30",
                                        "--login-timeout", "3"])
    idle = []
    refused = 0
    try:
        for _ in range(40):  # a flood from one address that never logs in
            c, code, _ = connect(srv)
            if code == 220:
                idle.append(c)
            else:
                assert code == 421
                refused += 1
                c.close()
        assert (len(idle), refused) == (20, 20)
        # Someone else logs in meanwhile.
        with srv.raw(login=True, source=FOREIGN_HOST) as other:
            assert other.cmd("PWD")[0] == 257
        # The login deadline clears the flood; then its address is served again.
        for c in idle:
            code, text = c.reply(timeout=15)
            assert code == 421 and "Login timeout" in text, text
            assert c.closed_by_server()
        assert wait_until(lambda: greeted(srv), timeout=5)
        with srv.raw(login=True) as again:
            assert again.cmd("NOOP")[0] == 200
    finally:
        for c in idle:
            c.close()


# -- clients that never read their replies -----------------------------------------------------

def flood_without_reading(srv, login: bool) -> socket.socket:
    """A control connection that pipelines commands and never reads a reply. Its buffers are
    small, so the replies soon fill its receive buffer and the server's send buffer: commands are
    sent until the server has stopped taking them for a second, i.e. until it is stuck writing a
    reply. FEAT (allowed before login) has a long reply: the buffers fill sooner than with NOOP."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    s.settimeout(TIMEOUT)
    s.connect((HOST, srv.port))
    greeting = s.recv(4096)
    assert greeting.startswith(b"220"), greeting
    if login:
        s.sendall(f"USER {USER}\r\nPASS {PASSWORD}\r\n".encode())
        got = b""
        while b"230 " not in got:
            chunk = s.recv(4096)
            assert chunk, got
            got += chunk
    s.setblocking(False)
    flood = b"NOOP\r\nFEAT\r\n" * 500
    deadline = time.monotonic() + 30
    stuck_since = None
    while time.monotonic() < deadline:
        try:
            s.send(flood)
            stuck_since = None
        except BlockingIOError:
            now = time.monotonic()
            if stuck_since is None:
                stuck_since = now
            elif now - stuck_since > 1.0:
                return s
            select.select([], [s], [], 0.1)
    raise AssertionError("the server went on taking commands without its replies being read")


def dropped_by_server(s: socket.socket, timeout: float) -> bool:
    """True when the server drops the connection within timeout while the client still does not
    read: its close resets the connection (the commands it holds are unread), and a send fails.
    The client goes on pipelining commands with long replies: on loopback the kernel may grow the
    server's send buffer to megabytes (seen on io_uring), and a server that can still queue its
    replies there is not stuck yet; the flood fills it, and then the write bound must cut."""
    flood = b"FEAT\r\n" * 200
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            s.send(flood)
        except BlockingIOError:
            pass
        except OSError:  # ECONNRESET, EPIPE
            return True
        time.sleep(0.2)
    return False


@pytest.mark.time_limit(60)
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_client_that_never_reads_is_cut_at_the_login_timeout(make_server, backend):
    srv = make_server(io=backend, extra=["--login-timeout", "5"])
    s = flood_without_reading(srv, login=False)
    try:
        # Usually the server is stuck in a reply by now and the write bound ends it; on a slow
        # machine it may still be working through the flood, and the check before each command
        # ends it: at the same deadline either way.
        assert dropped_by_server(s, 20), "a session that never logged in outlived its deadline"
        with srv.raw(login=True) as other:  # and the server goes on
            assert other.cmd("NOOP")[0] == 200
    finally:
        s.close()


@pytest.mark.time_limit(60)
@pytest.mark.parametrize("backend", ["epoll", "uring"])
def test_a_logged_in_client_that_never_reads_is_cut_at_the_idle_timeout(make_server, backend):
    srv = make_server(io=backend, extra=["--idle-timeout", "5"])
    s = flood_without_reading(srv, login=True)
    try:
        assert dropped_by_server(s, 20), "a session whose replies are not read never ended"
        assert wait_until(lambda: "reply not read in time" in srv.stderr_text(), timeout=5)
    finally:
        s.close()


@pytest.mark.time_limit(60)
@pytest.mark.parametrize("backend", ["epoll", "uring"])
def test_sigterm_ends_sessions_stuck_in_a_reply(make_server, backend):
    """At SIGTERM the goodbye (421) is a shielded reply: to clients that never read, it could
    not be written, and nothing could interrupt it. The grace period bounds it."""
    srv = make_server(io=backend, threads=2, extra=["--shutdown-grace", "2"])
    stuck = [flood_without_reading(srv, login=i % 2 == 0) for i in range(4)]
    try:
        srv.expect_exit = True
        srv.proc.send_signal(signal.SIGTERM)
        assert srv.proc.wait(timeout=30) == 0
        log = srv.stderr_text()
        assert log.count(": connected") == log.count(": disconnected") == 4, log
    finally:
        for s in stuck:
            s.close()
