"""Database user stores: accounts in PostgreSQL (a throwaway cluster started here, see
postgres_support.py) and SQLite, administered with `muxftpd db init` and `muxftpd user ...`.

Proved here: a user added with `muxftpd user add` logs in through ftplib and transfers; a user
added while the server runs logs in once the cache lifetime has passed; a deleted user, or an
old password, no longer logs in; per-user quota and session limits override the global ones;
with PostgreSQL stopped, or stuck behind a lock past the store timeout, a new login gets 421
while a session already logged in keeps transferring, and logins work again once it is back;
the server refuses to start on a database without the schema.
"""
from __future__ import annotations

import ftplib
import io
import os
import signal
import subprocess
import time

import pytest

from ftpd_support import HOST, MUXFTPD, pseudo_random_bytes, wait_until
from postgres_support import PostgresCluster, muxftpd_admin

KIB = 1024
CACHE_SECONDS = 1.0  # the servers' user cache lifetime in these tests


muxftpd = muxftpd_admin


def add_user(spec: str, name: str, password: str, *flags: str) -> None:
    muxftpd("user", "add", name, "--store", spec, *flags, password=password)


def login(srv, name: str, password: str) -> ftplib.FTP:
    f = ftplib.FTP()
    f.connect(HOST, srv.port, timeout=10)
    f.login(name, password)
    return f


def login_reply(srv, name: str, password: str) -> str:
    """The reply to a login, success or not (the session is closed)."""
    f = ftplib.FTP()
    f.connect(HOST, srv.port, timeout=20)
    try:
        return f.login(name, password)
    except ftplib.all_errors as e:
        return str(e)
    finally:
        f.close()


def login_until(srv, name: str, password: str, want: str, attempts: int = 8) -> str:
    """Logs in until the reply starts with `want`, waiting a cache lifetime between tries;
    returns the last reply. Bounded: each try ends within the failed-login delay."""
    reply = ""
    for _ in range(attempts):
        reply = login_reply(srv, name, password)
        if reply.startswith(want):
            return reply
        time.sleep(CACHE_SECONDS)
    return reply


def round_trip(f: ftplib.FTP, name: str, size: int, seed: int) -> None:
    data = pseudo_random_bytes(size, seed=seed)
    f.storbinary(f"STOR {name}", io.BytesIO(data))
    chunks: list[bytes] = []
    f.retrbinary(f"RETR {name}", chunks.append)
    assert b"".join(chunks) == data


def store_server(make_server, spec: str, *extra: str):
    return make_server(users=[], extra=["--user-store", spec, "--user-cache-seconds",
                                        str(CACHE_SECONDS), "--user-store-timeout", "3",
                                        "--max-login-failures", "0", *extra])


# -- PostgreSQL ------------------------------------------------------------------------------

def pg_spec(cluster: PostgresCluster) -> str:
    return "postgresql:" + cluster.conninfo()


@pytest.mark.time_limit(90)
def test_postgres_user_added_with_the_cli_logs_in_and_transfers(postgres, make_server):
    spec = pg_spec(postgres)
    add_user(spec, "pgalice", "pw-alice", "--home", "alice", "--permissions", "all")
    srv = store_server(make_server, spec)
    (srv.root / "alice").mkdir()
    f = login(srv, "pgalice", "pw-alice")
    round_trip(f, "hello.bin", 300 * KIB, seed=1)
    f.quit()
    assert (srv.root / "alice" / "hello.bin").stat().st_size == 300 * KIB, "home from the db"
    listed = muxftpd("user", "list", "--store", spec).stdout
    assert any(line.split("\t")[:3] == ["pgalice", "lrwdnm", "alice"]
               for line in listed.splitlines()), listed
    assert "$argon2id$" not in listed, "no hashes in the listing"
    assert login_reply(srv, "pgalice", "wrong").startswith("530")


@pytest.mark.time_limit(90)
def test_postgres_schema_commands(postgres):
    spec = pg_spec(postgres)
    again = muxftpd("db", "init", "--store", spec, check=False)
    assert again.returncode == 1 and "db migrate" in again.stderr, again.stderr
    migrated = muxftpd("db", "migrate", "--store", spec)
    assert "schema at version" in migrated.stderr


@pytest.mark.time_limit(90)
def test_postgres_user_added_while_running_logs_in(postgres, make_server):
    spec = pg_spec(postgres)
    srv = store_server(make_server, spec)
    assert login_reply(srv, "pglate", "pw-late").startswith("530"), "not there yet"
    add_user(spec, "pglate", "pw-late")
    reply = login_until(srv, "pglate", "pw-late", "230")
    assert reply.startswith("230"), reply


@pytest.mark.time_limit(60)
def test_sighup_forgets_cached_answers(postgres, make_server):
    spec = pg_spec(postgres)
    # A cache far longer than the test: only the reload can make the new password count.
    srv = make_server(users=[], extra=["--user-store", spec, "--user-cache-seconds", "3600",
                                       "--max-login-failures", "0"])
    add_user(spec, "pghup", "pw-before")
    assert login_reply(srv, "pghup", "pw-before").startswith("230")
    muxftpd("user", "passwd", "pghup", "--store", spec, password="pw-after")
    assert login_reply(srv, "pghup", "pw-after").startswith("530"), "the cached answer"
    srv.proc.send_signal(signal.SIGHUP)
    assert wait_until(lambda: "reload:" in srv.stderr_text(), timeout=10)
    assert login_reply(srv, "pghup", "pw-after").startswith("230")
    assert login_reply(srv, "pghup", "pw-before").startswith("530")


@pytest.mark.time_limit(120)
def test_postgres_deleted_user_and_old_password_are_refused(postgres, make_server):
    spec = pg_spec(postgres)
    add_user(spec, "pgdel", "pw-one")
    add_user(spec, "pgpass", "pw-old")
    srv = store_server(make_server, spec)
    assert login_reply(srv, "pgdel", "pw-one").startswith("230")
    assert login_reply(srv, "pgpass", "pw-old").startswith("230")
    muxftpd("user", "del", "pgdel", "--store", spec)
    muxftpd("user", "passwd", "pgpass", "--store", spec, password="pw-new")
    reply = login_until(srv, "pgdel", "pw-one", "530")
    assert reply.startswith("530"), reply
    reply = login_until(srv, "pgpass", "pw-new", "230")
    assert reply.startswith("230"), reply
    assert login_reply(srv, "pgpass", "pw-old").startswith("530")
    gone = muxftpd("user", "del", "pgdel", "--store", spec, check=False)
    assert gone.returncode == 1 and "no user" in gone.stderr


@pytest.mark.time_limit(90)
def test_postgres_per_user_quota_overrides_the_global_one(postgres, make_server):
    spec = pg_spec(postgres)
    add_user(spec, "pgsmall", "pw-small", "--home", "small", "--quota-bytes", "100K")
    add_user(spec, "pgbig", "pw-big", "--home", "big")
    srv = store_server(make_server, spec, "--quota-bytes", "10M")
    (srv.root / "small").mkdir()
    (srv.root / "big").mkdir()
    small = login(srv, "pgsmall", "pw-small")
    with pytest.raises(ftplib.error_perm, match="^552"):
        small.storbinary("STOR over.bin", io.BytesIO(pseudo_random_bytes(150 * KIB, seed=2)))
    assert not (srv.root / "small" / "over.bin").exists()
    small.storbinary("STOR fits.bin", io.BytesIO(pseudo_random_bytes(80 * KIB, seed=3)))
    small.quit()
    big = login(srv, "pgbig", "pw-big")
    round_trip(big, "over.bin", 150 * KIB, seed=2)  # the global 10M applies to this one
    big.quit()


@pytest.mark.time_limit(120)
def test_postgres_down_refuses_new_logins_but_not_running_sessions(postgres, make_server):
    spec = pg_spec(postgres)
    add_user(spec, "pgup", "pw-up")
    add_user(spec, "pgnew", "pw-new")
    srv = store_server(make_server, spec)
    running = login(srv, "pgup", "pw-up")
    round_trip(running, "before.bin", 64 * KIB, seed=4)
    postgres.stop()
    try:
        reply = login_reply(srv, "pgnew", "pw-new")
        assert reply.startswith("421") and "Service not available" in reply, reply
        # The session logged in before carries on: uploads, downloads, listings.
        round_trip(running, "during.bin", 512 * KIB, seed=5)
        assert "during.bin" in running.nlst()
    finally:
        postgres.start()
    # Back: the lookup connects again.
    reply = login_until(srv, "pgnew", "pw-new", "230")
    assert reply.startswith("230"), reply
    running.quit()
    assert "login of pgnew: postgresql:" in srv.stderr_text(), "the log says why"


# -- SQLite ----------------------------------------------------------------------------------

@pytest.mark.time_limit(90)
def test_sqlite_user_logs_in_transfers_and_appears_while_running(tmp_path, make_server):
    spec = f"sqlite:{tmp_path / 'users.db'}"
    muxftpd("db", "init", "--store", spec)
    add_user(spec, "sqalice", "pw-sq", "--quota-files", "5", "--max-sessions", "1")
    srv = store_server(make_server, spec, "--max-sessions-per-user", "10")
    f = login(srv, "sqalice", "pw-sq")
    round_trip(f, "hello.bin", 200 * KIB, seed=6)
    # The user's own max_sessions (1) wins over the global 10.
    second = login_reply(srv, "sqalice", "pw-sq")
    assert second.startswith("421") and "Too many sessions" in second, second
    f.quit()
    add_user(spec, "sqlate", "pw-late")
    reply = login_until(srv, "sqlate", "pw-late", "230")
    assert reply.startswith("230"), reply
    listed = muxftpd("user", "list", "--store", spec).stdout
    assert "sqalice\tlrwdnm\t/\t-\t-\t-\t-\t-\t5\t1" in listed, listed


@pytest.mark.time_limit(60)
def test_server_refuses_a_database_without_the_schema(tmp_path):
    spec = f"sqlite:{tmp_path / 'empty.db'}"
    import sqlite3
    sqlite3.connect(tmp_path / "empty.db").execute("CREATE TABLE x (y)").connection.close()
    root = tmp_path / "root"
    root.mkdir()
    done = subprocess.run([MUXFTPD, "--listen", f"{HOST}:0", "--root", str(root),
                           "--user-store", spec], capture_output=True, text=True, timeout=30)
    assert done.returncode == 2, done.stderr
    assert "db init" in done.stderr, done.stderr


@pytest.mark.time_limit(60)
def test_user_commands_on_a_users_file_keep_passwd_working(tmp_path):
    users = tmp_path / "users"
    muxftpd("passwd", str(users), "old", password="pw")
    add_user(f"file:{users}", "fresh", "pw2", "--permissions", "ro", "--home", "h")
    listed = muxftpd("user", "list", "--store", f"file:{users}").stdout
    assert "fresh\tlr\th" in listed and "old\tlrwdnm" in listed, listed
    refused = muxftpd("user", "add", "capped", "--store", f"file:{users}", "--quota-files", "1",
                      password="pw", check=False)
    assert refused.returncode == 1 and "database store" in refused.stderr, refused.stderr
    muxftpd("user", "del", "old", "--store", f"file:{users}")
    assert [line.split(":")[0] for line in users.read_text().splitlines()] == ["fresh"]


@pytest.mark.time_limit(90)
def test_postgres_slow_gives_421_within_the_timeout(postgres, make_server):
    """A database that answers nothing (a lock held on users) is cut off by the store
    timeout (3 s here): the login gets 421; a session already in transfers meanwhile."""
    spec = pg_spec(postgres)
    add_user(spec, "pgslowin", "pw-in")
    add_user(spec, "pgslow", "pw-slow")
    srv = store_server(make_server, spec)
    running = login(srv, "pgslowin", "pw-in")
    locker = subprocess.Popen([str(postgres.bin / "psql"), "-X", "-q", "-At", postgres.conninfo()],
                              stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        locker.stdin.write("BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE; SELECT 'locked';\n")
        locker.stdin.flush()
        assert locker.stdout.readline().strip() == "locked"
        started = time.monotonic()
        reply = login_reply(srv, "pgslow", "pw-slow")
        waited = time.monotonic() - started
        assert reply.startswith("421") and "Service not available" in reply, reply
        assert waited >= 2.5, f"answered after {waited:.1f} s: not the timeout that ended it"
        round_trip(running, "meanwhile.bin", 256 * KIB, seed=7)
    finally:
        locker.stdin.write("ROLLBACK;\n")
        locker.stdin.close()
        locker.wait(timeout=30)
    reply = login_until(srv, "pgslow", "pw-slow", "230")
    assert reply.startswith("230"), reply
    running.quit()
    assert "statement timeout" in srv.stderr_text(), "the log says why"


def postgres_processes(cluster: PostgresCluster) -> list[int]:
    """The postmaster and its children (backends, checkpointer, ...)."""
    postmaster = int((cluster.data / "postmaster.pid").read_text().split()[0])
    children = subprocess.run(["pgrep", "-P", str(postmaster)], capture_output=True, text=True)
    return [postmaster] + [int(p) for p in children.stdout.split()]


@pytest.mark.time_limit(90)
def test_postgres_that_stops_answering_gives_421_within_the_timeout(postgres, make_server):
    """A database whose processes are stopped (SIGSTOP: a paused VM, a stuck host) still has
    its connections accepted by the kernel, which acknowledges what is sent: neither
    tcp_user_timeout nor statement_timeout ends a query there. The store's own deadline does
    (3 s here, and a second): the login gets 421 and the loop keeps serving the session already in."""
    spec = pg_spec(postgres)
    add_user(spec, "pgstopin", "pw-in")
    add_user(spec, "pgstop", "pw-stop")
    srv = make_server(users=[], extra=["--user-store", spec, "--user-cache-seconds", "0",
                                       "--user-store-timeout", "3", "--user-store-connections",
                                       "1", "--max-login-failures", "0"])
    running = login(srv, "pgstopin", "pw-in")  # the store's connection is open now
    stopped = postgres_processes(postgres)
    for pid in stopped:
        os.kill(pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        reply = login_reply(srv, "pgstop", "pw-stop")
        waited = time.monotonic() - started
        assert reply.startswith("421") and "Service not available" in reply, reply
        assert waited < 20, f"answered after {waited:.1f} s"
        round_trip(running, "while-stopped.bin", 256 * KIB, seed=8)
    finally:
        for pid in stopped:
            os.kill(pid, signal.SIGCONT)
    reply = login_until(srv, "pgstop", "pw-stop", "230")
    assert reply.startswith("230"), reply
    running.quit()
    assert "no answer within" in srv.stderr_text(), "the log says why"
