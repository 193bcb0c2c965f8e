"""What the nodes of a cluster share in PostgreSQL (src/ftpd/cluster_ledger.hpp): two muxftpd
nodes, named node1 and node2, serving one root with one PostgreSQL user store (a throwaway
cluster started here, see postgres_support.py). Each test talks to each node directly; the
balanced set-up with HAProxy is test_cluster.py's.

Proved here: a user's session limit counts the sessions of both nodes, and a place given back on
one node (QUIT, or the node killed and started again) is free on the other; login failures from
one address on one node count on the other, whose next login from that address is refused as
banned while other addresses log in; a byte quota and a file quota hold across nodes, for
uploads one after the other and for one upload running while the other node is asked; a node
that leaves gives back its places; without a node name nothing is shared.
"""
from __future__ import annotations

import ftplib
import io
import threading
import time

import pytest

from ftpd_support import HOST, pseudo_random_bytes, wait_until
from postgres_support import PostgresCluster, muxftpd_admin

pytestmark = pytest.mark.time_limit(120)

KIB = 1024
PASSWORD = "cluster-secret"


class Cluster:
    def __init__(self, postgres: PostgresCluster, make_server, tmp_path):
        self.spec = "postgresql:" + postgres.conninfo()
        self.make_server = make_server
        self.root = tmp_path / "shared-root"
        self.root.mkdir()
        self.nodes: dict[str, object] = {}

    def add_user(self, name: str, *flags: str) -> None:
        muxftpd_admin("user", "add", name, "--store", self.spec, *flags, password=PASSWORD)

    def start(self, name: str | None, *extra: str):
        node_flags = ["--node-name", name] if name else []
        srv = self.make_server(users=[], root=self.root, extra=[
            "--user-store", self.spec, "--user-cache-seconds", "0", "--user-store-timeout", "3",
            *node_flags, *extra])
        self.nodes[name or "unnamed"] = srv
        return srv


@pytest.fixture
def cluster(postgres, make_server, tmp_path):
    return Cluster(postgres, make_server, tmp_path)


def connect(srv, source: str | None = None) -> ftplib.FTP:
    f = ftplib.FTP()
    f.connect(HOST, srv.port, timeout=20, source_address=(source, 0) if source else None)
    return f


def login(srv, user: str, password: str = PASSWORD, source: str | None = None) -> ftplib.FTP:
    f = connect(srv, source)
    f.login(user, password)
    return f


def login_reply(srv, user: str, password: str = PASSWORD, source: str | None = None) -> str:
    """The reply that ends a login: 230, or the refusal (at connect, for a known ban)."""
    f = ftplib.FTP()
    try:
        f.connect(HOST, srv.port, timeout=20, source_address=(source, 0) if source else None)
        return f.login(user, password)
    except ftplib.all_errors as e:
        return str(e)
    finally:
        f.close()


def unique(prefix: str) -> str:
    return f"{prefix}{time.monotonic_ns() % 10**9}"


# -- session limits -------------------------------------------------------------------------

def test_session_limit_counts_the_sessions_of_both_nodes(cluster):
    user = unique("limited")
    cluster.add_user(user, "--max-sessions", "2")
    n1, n2 = cluster.start("node1"), cluster.start("node2")
    a = login(n1, user)
    b = login(n2, user)
    # Each node alone holds one session: only the shared count says the user is at the limit.
    reply = login_reply(n1, user)
    assert reply.startswith("421"), reply
    reply = login_reply(n2, user)
    assert reply.startswith("421"), reply
    # A place given back on node1 is free on node2 (the release is posted: a bounded wait).
    a.quit()
    assert wait_until(lambda: login_reply(n2, user).startswith("230"), timeout=10)
    b.quit()


def test_global_per_user_limit_is_shared_too(cluster):
    user = unique("globallimit")
    cluster.add_user(user)
    n1 = cluster.start("node1", "--max-sessions-per-user", "1")
    n2 = cluster.start("node2", "--max-sessions-per-user", "1")
    a = login(n1, user)
    reply = login_reply(n2, user)
    assert reply.startswith("421"), reply
    a.quit()
    assert wait_until(lambda: login_reply(n2, user).startswith("230"), timeout=10)


def test_a_killed_node_started_again_gives_back_its_places(cluster):
    user = unique("crashy")
    cluster.add_user(user, "--max-sessions", "1")
    n1, n2 = cluster.start("node1"), cluster.start("node2")
    held = login(n1, user)
    assert login_reply(n2, user).startswith("421")
    n1.crash()  # kill -9: no goodbye to the database
    held.close()
    # The same node, started again, drops what its earlier run held.
    cluster.start("node1")
    assert login_reply(n2, user).startswith("230")


def test_a_node_that_stops_gives_back_its_places(cluster):
    user = unique("leaver")
    cluster.add_user(user, "--max-sessions", "1")
    n1, n2 = cluster.start("node1"), cluster.start("node2")
    held = login(n1, user)
    assert login_reply(n2, user).startswith("421")
    n1.expect_exit = True
    held.close()
    assert n1.terminate() == 0
    assert login_reply(n2, user).startswith("230")


def test_without_node_names_nothing_is_shared(cluster):
    user = unique("alone")
    cluster.add_user(user, "--max-sessions", "1")
    n1, n2 = cluster.start(None), cluster.start(None)
    a = login(n1, user)
    b = login(n2, user)  # each node counts its own session only
    assert "node_name" in n1.stderr_text()
    a.quit()
    b.quit()


# -- bans -------------------------------------------------------------------------------------

def test_failures_on_one_node_ban_the_address_on_the_other(cluster):
    user = unique("target")
    cluster.add_user(user)
    limits = ["--max-login-failures", "3", "--ban-seconds", "60"]
    n1, n2 = cluster.start("node1", *limits), cluster.start("node2", *limits)
    attacker, bystander = "127.0.0.2", "127.0.0.3"
    # Two failures on node1 and one on node2: neither node saw three.
    for srv in (n1, n1):
        assert login_reply(srv, user, "wrong", source=attacker).startswith("530")
    reply = login_reply(n2, user, "wrong", source=attacker)
    assert reply.startswith("421"), reply  # the third failure of the cluster bans
    # Banned on both nodes, even with the right password: node2 refuses the connection (it
    # banned the address itself), node1 the login (it learns of the ban from the ledger).
    for srv in (n1, n2):
        reply = login_reply(srv, user, source=attacker)
        assert reply.startswith("421") and "failed logins" in reply, reply
    # Another address is not affected.
    assert login_reply(n1, user, source=bystander).startswith("230")
    assert login_reply(n2, user, source=bystander).startswith("230")


# -- quotas -----------------------------------------------------------------------------------

def store(srv, user: str, name: str, data: bytes) -> str:
    f = login(srv, user)
    try:
        return f.storbinary(f"STOR {name}", io.BytesIO(data))
    except ftplib.error_perm as e:
        return str(e)
    finally:
        f.close()


def test_byte_quota_holds_across_nodes(cluster):
    user = unique("quota")
    cluster.add_user(user, "--home", user, "--quota-bytes", str(300 * KIB))
    (cluster.root / user).mkdir()
    n1, n2 = cluster.start("node1"), cluster.start("node2")
    assert store(n1, user, "a.bin", pseudo_random_bytes(200 * KIB, seed=1)).startswith("226")
    # node2 has never seen this user's usage: the ledger has it.
    reply = store(n2, user, "b.bin", pseudo_random_bytes(200 * KIB, seed=2))
    assert reply.startswith("552"), reply
    assert not (cluster.root / user / "b.bin").exists()
    # Freed on node2, usable on node1.
    f = login(n2, user)
    f.delete("a.bin")
    f.quit()
    assert store(n1, user, "c.bin", pseudo_random_bytes(250 * KIB, seed=3)).startswith("226")
    total = sum(p.stat().st_size for p in (cluster.root / user).iterdir() if p.is_file())
    assert total <= 300 * KIB


def test_file_quota_holds_across_nodes(cluster):
    user = unique("files")
    cluster.add_user(user, "--home", user, "--quota-files", "2")
    (cluster.root / user).mkdir()
    n1, n2 = cluster.start("node1"), cluster.start("node2")
    assert store(n1, user, "1.txt", b"one").startswith("226")
    assert store(n2, user, "2.txt", b"two").startswith("226")
    reply = store(n1, user, "3.txt", b"three")
    assert reply.startswith("552"), reply
    reply = store(n2, user, "4.txt", b"four")
    assert reply.startswith("552"), reply
    # Replacing a file takes no new slot.
    assert store(n2, user, "1.txt", b"one again").startswith("226")
    assert sorted(p.name for p in (cluster.root / user).iterdir()) == ["1.txt", "2.txt"]


def test_an_upload_in_progress_on_one_node_holds_its_bytes_against_the_other(cluster):
    user = unique("racer")
    # Uploads paced at 100 KiB/s: the first is still running when the second node is asked.
    cluster.add_user(user, "--home", user, "--quota-bytes", str(400 * KIB), "--upload-rate",
                     str(100 * KIB))
    (cluster.root / user).mkdir()
    n1, n2 = cluster.start("node1"), cluster.start("node2")
    first = pseudo_random_bytes(300 * KIB, seed=4)
    replies: dict[str, str] = {}

    def slow_upload() -> None:
        replies["first"] = store(n1, user, "first.bin", first)

    t = threading.Thread(target=slow_upload)
    t.start()
    try:
        # Wait until node1's upload holds its lease (its temporary exists), then ask node2.
        assert wait_until(lambda: any(p.name.startswith(".muxftpd-upload-node1")
                                      for p in (cluster.root / user).iterdir()), timeout=10)
        replies["second"] = store(n2, user, "second.bin", pseudo_random_bytes(300 * KIB, seed=5))
    finally:
        t.join(timeout=60)
    assert replies["first"].startswith("226"), replies
    assert replies["second"].startswith("552"), replies
    assert (cluster.root / user / "first.bin").read_bytes() == first
    assert not (cluster.root / user / "second.bin").exists()
