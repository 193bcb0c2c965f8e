"""The muxftpd cluster (issue #13) on the test bed of cluster_support.py: two nodes sharing one
root and one PostgreSQL user store, behind a real HAProxy sending PROXY v2.

Proved here, with real clients (ftplib, curl): 50 clients through the balancer land on both
nodes, each node saw the client's own address, and each client's download went through the
passive range of the node that answered it; a file uploaded through one node downloads from the
other with the same sha256; a user added to the database while the nodes run logs in on both at
once; after kill -9 of a node, every upload it acknowledged with 226 is intact, its unfinished
upload is neither visible to the other node's listings nor present under its final name, its cut
download resumes on the other node, and HAProxy's health check sends every new client to the
survivor; restarted, the killed node removes only its own stale temporaries, never the upload
the other node is writing.

Other tests build on the same bed: `from cluster_support import cluster_postgres, make_cluster`.
"""
from __future__ import annotations

import ftplib
import hashlib
import io
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from cluster_support import (CLIENT_HOSTS, cluster_postgres, make_cluster,  # noqa: F401
                             unavailable)
from ftpd_support import TEMP_PREFIX, pseudo_random_bytes, wait_until

CURL = shutil.which("curl")
KIB = 1024

_why = unavailable()
pytestmark = [pytest.mark.skipif(_why is not None, reason=f"cluster bed: {_why}")]


@pytest.fixture
def bed(make_cluster):
    return make_cluster()


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def retr(f, name: str) -> bytes:
    chunks: list[bytes] = []
    f.retrbinary(f"RETR {name}", chunks.append)
    return b"".join(chunks)


def curl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CURL, "-sS", "--max-time", "30", *args], capture_output=True,
                          timeout=60)


@pytest.mark.time_limit(60)
def test_fifty_clients_through_the_balancer_land_on_both_nodes(bed):
    clients = 50
    sessions: list = [None] * clients
    errors: list[str] = []
    shared = pseudo_random_bytes(64 * KIB, seed=50)
    (bed.root / "shared.bin").write_bytes(shared)

    def one(k: int) -> None:
        try:
            f = bed.ftp(source=CLIENT_HOSTS[k % len(CLIENT_HOSTS)])
            assert f.pwd() == "/"
            # A data connection too: through the passive range of the node that answered.
            assert digest(retr(f, "shared.bin")) == digest(shared)
            sessions[k] = f
        except Exception as e:  # noqa: BLE001 - collected, the test fails with it
            errors.append(f"client {k}: {e!r}")

    # Ten at a time, all 50 then held open together.
    for start in range(0, clients, 10):
        threads = [threading.Thread(target=one, args=(k,)) for k in range(start, start + 10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=40)
    assert not errors, errors[:5]
    assert all(s is not None for s in sessions)
    per_node = [0] * len(bed.nodes)
    for f in sessions:
        node = bed.node_of(f)
        per_node[node] += 1
        # The node that greeted the client logged the client's own address (the PROXY
        # header's), not HAProxy's; the other node never saw it.
        assert bed.served_by(bed.client_address(f)) == [node]
    for f in sessions:
        f.quit()
    assert sum(per_node) == clients
    assert all(n > 0 for n in per_node), per_node


@pytest.mark.time_limit(60)
@pytest.mark.skipif(CURL is None, reason="curl not installed")
def test_an_upload_on_one_node_downloads_from_the_other(bed, tmp_path):
    # ftplib straight to each node (a PROXY v2 header by hand): what one stores, the other serves.
    sessions = [bed.node_ftp(0), bed.node_ftp(1)]
    assert [bed.node_of(f) for f in sessions] == [0, 1]
    for i, f in enumerate(sessions):
        data = pseudo_random_bytes((1 << 20) + i, seed=13 + i)
        assert f.storbinary(f"STOR from-node{i + 1}.bin", io.BytesIO(data)).startswith("226")
        assert digest(retr(sessions[1 - i], f"from-node{i + 1}.bin")) == digest(data)
    # curl through the balancer: each upload lands on one node (its log names curl's address and
    # port), and the other node serves it back; until each node took one.
    uploaded_on: set[int] = set()
    uploads: dict[str, str] = {}
    for k in range(8):
        if uploaded_on == {0, 1}:
            break
        data = pseudo_random_bytes(700 * KIB + k, seed=40 + k)
        src = tmp_path / f"curl-{k}.bin"
        src.write_bytes(data)
        p = curl("--interface", CLIENT_HOSTS[k % 2], "-w", "%{local_port}", "-T", str(src),
                 bed.url(path=f"curl-{k}.bin"))
        assert p.returncode == 0, p.stderr
        served = bed.served_by((CLIENT_HOSTS[k % 2], int(p.stdout)))
        assert len(served) == 1, (p.stdout, served)
        node = served[0]
        uploaded_on.add(node)
        assert digest(retr(sessions[1 - node], f"curl-{k}.bin")) == digest(data)
        uploads[f"curl-{k}.bin"] = digest(data)
    assert uploaded_on == {0, 1}
    # And curl downloads each through the balancer, whichever node answers.
    for k, (name, want) in enumerate(uploads.items()):
        p = curl("--interface", CLIENT_HOSTS[k % 2], bed.url(path=name))
        assert p.returncode == 0, p.stderr
        assert digest(p.stdout) == want
    for f in sessions:
        f.quit()


@pytest.mark.time_limit(60)
def test_a_user_added_while_the_nodes_run_logs_in_on_both_at_once(bed):
    import ftplib
    for i in range(len(bed.nodes)):
        with pytest.raises(ftplib.error_perm, match="^530"):
            bed.node_ftp(i, "dora", "pw-dora")
    bed.add_user("dora", "pw-dora", "--home", "dora", "--permissions", "all")
    (bed.root / "dora").mkdir()

    def login(i: int):
        # The "no such user" answer is cached for cache_seconds: bounded retries.
        last: Exception | None = None
        for _ in range(20):
            try:
                return bed.node_ftp(i, "dora", "pw-dora")
            except ftplib.error_perm as e:
                last = e
                threading.Event().wait(bed.cache_seconds / 2)
        raise AssertionError(f"dora never logged in on node {i}: {last}")

    sessions = [login(i) for i in range(len(bed.nodes))]
    # Both logged in at the same time; each uploads, and each sees the other's file.
    payloads = {}
    for i, f in enumerate(sessions):
        payloads[i] = pseudo_random_bytes(64 * KIB, seed=100 + i)
        assert f.storbinary(f"STOR by-node{i + 1}.bin",
                            io.BytesIO(payloads[i])).startswith("226")
    for i, f in enumerate(sessions):
        names = set(f.nlst())
        assert {"by-node1.bin", "by-node2.bin"} <= names, names
        j = 1 - i
        assert digest(retr(f, f"by-node{j + 1}.bin")) == digest(payloads[j])
    for f in sessions:
        f.quit()
    assert (bed.root / "dora" / "by-node2.bin").read_bytes() == payloads[1]


def node_temporaries(root: Path, name: str) -> list[Path]:
    return sorted(p for p in root.rglob(f"{TEMP_PREFIX}{name}.*"))


@pytest.mark.time_limit(90)
def test_kill_9_of_a_node_loses_no_committed_file_and_clients_move_to_the_survivor(bed):
    # Uploads through node1 acknowledged with 226.
    committed: dict[str, str] = {}
    one = bed.node_ftp(0)
    for k, size in enumerate((0, 1, 4 * KIB, 300 * KIB, 2 << 20)):
        data = pseudo_random_bytes(size, seed=200 + k)
        name = f"committed-{k}.bin"
        assert one.storbinary(f"STOR {name}", io.BytesIO(data)).startswith("226")
        committed[name] = digest(data)
    # One more, unfinished when node1 dies: written under node1's temporary name.
    one.voidcmd("TYPE I")
    conn = one.transfercmd("STOR unfinished.bin")
    conn.sendall(pseudo_random_bytes(512 * KIB, seed=299))
    assert wait_until(lambda: node_temporaries(bed.root, "node1"), timeout=10), \
        "node1's upload temporary never appeared"
    # And a download from node1, half read when node1 dies (the client resumes it on node2).
    reader = bed.node_ftp(0)
    reader.voidcmd("TYPE I")
    down = reader.transfercmd("RETR committed-4.bin")
    head = b""
    while len(head) < 512 * KIB:
        chunk = down.recv(512 * KIB - len(head))
        assert chunk, "the download ended early"
        head += chunk
    # A session on node1 through the balancer, too.
    through = None
    for _ in range(4):
        f = bed.ftp()
        if bed.node_of(f) == 0:
            through = f
            break
        f.quit()
    assert through is not None

    bed.kill_node(0)
    for c in (conn, one, down, reader, through):
        c.close()

    # Every acknowledged upload is whole, on disk and through node2.
    two = bed.node_ftp(1)
    for name, want in committed.items():
        assert digest((bed.root / name).read_bytes()) == want, name
        assert digest(retr(two, name)) == want, name
    # The cut download resumes on node2 (REST) into the whole file.
    tail: list[bytes] = []
    two.retrbinary("RETR committed-4.bin", tail.append, rest=len(head))
    assert digest(head + b"".join(tail)) == committed["committed-4.bin"]
    # The unfinished upload: no final name, and node2 lists nothing of it.
    assert not (bed.root / "unfinished.bin").exists()
    assert node_temporaries(bed.root, "node1"), "the temporary stays until node1 restarts"
    names = set(two.nlst())
    assert set(committed) <= names
    assert "unfinished.bin" not in names
    assert not [n for n in names if TEMP_PREFIX in n], names
    lines: list[str] = []
    two.retrlines("LIST -a", lines.append)
    assert not [line for line in lines if TEMP_PREFIX in line or "unfinished" in line], lines
    mlsd = [name for name, _ in two.mlsd()]
    assert not [n for n in mlsd if TEMP_PREFIX in n or n == "unfinished.bin"], mlsd
    two.quit()

    # HAProxy's health check takes node1 out; then every new client lands on node2.
    bed.wait_server_state(0, "DOWN", timeout=20)
    for k in range(10):
        f = bed.ftp(source=CLIENT_HOSTS[k % 2])
        assert bed.node_of(f) == 1
        assert f.size("committed-4.bin") == 2 << 20
        f.quit()
    with pytest.raises(OSError):
        bed.node_ftp(0)


@pytest.mark.time_limit(90)
def test_a_restarted_node_removes_only_its_own_stale_temporaries(bed):
    # node1 dies in the middle of an upload.
    one = bed.node_ftp(0)
    one.voidcmd("TYPE I")
    conn = one.transfercmd("STOR stale.bin")
    conn.sendall(pseudo_random_bytes(256 * KIB, seed=300))
    assert wait_until(lambda: node_temporaries(bed.root, "node1"), timeout=10)
    bed.kill_node(0)
    conn.close()
    one.close()
    # Meanwhile node2 is in the middle of one of its own.
    two = bed.node_ftp(1)
    data = pseudo_random_bytes(1 << 20, seed=301)
    two.voidcmd("TYPE I")
    conn2 = two.transfercmd("STOR live.bin")
    conn2.sendall(data[:300 * KIB])
    assert wait_until(lambda: node_temporaries(bed.root, "node2"), timeout=10)
    live_temp = node_temporaries(bed.root, "node2")

    bed.restart_node(0)
    assert node_temporaries(bed.root, "node1") == [], "node1 swept its own temporary"
    assert node_temporaries(bed.root, "node2") == live_temp, "node2's upload left alone"
    conn2.sendall(data[300 * KIB:])
    conn2.close()
    assert two.voidresp().startswith("226")
    assert digest((bed.root / "live.bin").read_bytes()) == digest(data)
    assert not (bed.root / "stale.bin").exists()
    two.quit()
    # Back in the balancer: clients land on both nodes again.
    seen = set()
    for k in range(8):
        f = bed.ftp(source=CLIENT_HOSTS[k % 2])
        seen.add(bed.node_of(f))
        f.quit()
        if seen == {0, 1}:
            break
    assert seen == {0, 1}


@pytest.mark.time_limit(60)
def test_a_client_cannot_make_a_file_that_a_node_sweeps_away(bed):
    f = bed.node_ftp(1)
    name = f"{TEMP_PREFIX}node1.keep"
    try:
        reply = f.storbinary(f"STOR {name}", io.BytesIO(b"user data"))
    except Exception as e:  # noqa: BLE001 - refused: what a fixed server does
        reply = str(e)
    f.quit()
    if reply.startswith("226"):
        # Acknowledged: it must then be the client's file like any other.
        bed.kill_node(0)
        bed.restart_node(0)
        assert (bed.root / name).exists(), "an acknowledged upload was deleted by node1's sweep"
    else:
        assert reply[:1] == "5", reply


# -- limits that hold for the cluster (src/ftpd/cluster_ledger.hpp) -----------------------------

@pytest.mark.time_limit(90)
def test_session_limit_and_quota_hold_through_the_balancer(bed):
    """A user allowed 2 sessions and 300 KiB: through the balancer the sessions land on both
    nodes, and neither node alone sees the user at a limit, yet the third session is refused
    and so is the upload that would pass the quota, whichever node takes it."""
    bed.add_user("bounded", "pw-bounded", "--max-sessions", "2", "--quota-bytes",
                 str(300 * KIB))
    a = bed.ftp("bounded", "pw-bounded")
    b = bed.ftp("bounded", "pw-bounded")
    assert {bed.node_of(a), bed.node_of(b)} == {0, 1}, "round robin: one on each node"
    for _ in range(2):  # whichever node the balancer picks
        f = bed.ftp(None)
        with pytest.raises(ftplib.error_temp, match="^421"):
            f.login("bounded", "pw-bounded")
        f.close()
    first = pseudo_random_bytes(200 * KIB, seed=21)
    assert a.storbinary("STOR first.bin", io.BytesIO(first)).startswith("226")
    with pytest.raises(ftplib.error_perm, match="^552"):
        b.storbinary("STOR second.bin", io.BytesIO(pseudo_random_bytes(200 * KIB, seed=22)))
    assert retr(b, "first.bin") == first
    assert "second.bin" not in b.nlst()
    a.quit()
    # The place a gave back is free on either node.
    assert wait_until(lambda: _logs_in(bed, "bounded", "pw-bounded"), timeout=10)
    b.quit()


def _logs_in(bed, user: str, password: str) -> bool:
    try:
        bed.ftp(user, password).quit()
        return True
    except ftplib.all_errors:
        return False
