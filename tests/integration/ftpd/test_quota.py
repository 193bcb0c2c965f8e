"""Per-user quotas (bytes and files): an upload past the quota gets 552 and leaves nothing
behind (the earlier file under that name intact, an APPE cut back to its old size); files that
were already in the home count; a delete frees quota; two parallel uploads cannot together pass
it; other users are not affected.
"""
from __future__ import annotations

import ftplib
import io
import threading

import pytest

import subprocess

from ftpd_support import MUXFTPD, TEMP_PREFIX, pseudo_random_bytes

KIB = 1024


def leftovers(root):
    return [p.name for p in root.rglob("*") if p.name.startswith(TEMP_PREFIX)]


def test_byte_quota_refuses_and_removes_the_upload(make_server):
    srv = make_server(extra=["--quota-bytes", "1M"])
    (srv.root / "old.bin").write_bytes(b"o" * 300 * KIB)  # already there: counts
    f = srv.ftp()
    first = pseudo_random_bytes(500 * KIB, seed=61)
    f.storbinary("STOR a.bin", io.BytesIO(first))
    (srv.root / "b.bin").write_bytes(b"previous content")
    with pytest.raises(ftplib.error_perm, match="^552"):
        f.storbinary("STOR b.bin", io.BytesIO(pseudo_random_bytes(400 * KIB, seed=62)))
    assert (srv.root / "b.bin").read_bytes() == b"previous content", "old file untouched"
    assert (srv.root / "a.bin").read_bytes() == first
    assert leftovers(srv.root) == []
    assert f.voidcmd("NOOP").startswith("200"), "the session carries on"
    # A delete frees quota: the same upload now fits.
    f.delete("old.bin")
    f.storbinary("STOR b.bin", io.BytesIO(pseudo_random_bytes(400 * KIB, seed=62)))
    assert (srv.root / "b.bin").stat().st_size == 400 * KIB
    f.quit()


def test_replacing_a_file_counts_only_the_difference(make_server):
    srv = make_server(extra=["--quota-bytes", "1M"])
    (srv.root / "big.bin").write_bytes(b"x" * 900 * KIB)
    f = srv.ftp()
    new = pseudo_random_bytes(950 * KIB, seed=63)
    f.storbinary("STOR big.bin", io.BytesIO(new))  # 950 KiB replaces 900 KiB: fits in 1 MiB
    assert (srv.root / "big.bin").read_bytes() == new
    f.quit()


def test_append_past_the_quota_is_cut_back(make_server):
    srv = make_server(extra=["--quota-bytes", "512K"])
    base = pseudo_random_bytes(300 * KIB, seed=64)
    (srv.root / "log.bin").write_bytes(base)
    f = srv.ftp()
    with pytest.raises(ftplib.error_perm, match="^552"):
        f.storbinary("APPE log.bin", io.BytesIO(pseudo_random_bytes(300 * KIB, seed=65)))
    assert (srv.root / "log.bin").read_bytes() == base
    f.storbinary("APPE log.bin", io.BytesIO(b"tail"))
    assert (srv.root / "log.bin").read_bytes() == base + b"tail"
    f.quit()


def test_file_quota(make_server):
    srv = make_server(extra=["--quota-files", "3"])
    f = srv.ftp()
    for i in range(3):
        f.storbinary(f"STOR f{i}", io.BytesIO(b"x"))
    with pytest.raises(ftplib.error_perm, match="^552"):
        f.storbinary("STOR f3", io.BytesIO(b"x"))
    assert not (srv.root / "f3").exists()
    f.storbinary("STOR f1", io.BytesIO(b"replaced"))  # an existing name takes no new slot
    assert (srv.root / "f1").read_bytes() == b"replaced"
    f.delete("f0")
    f.storbinary("STOR f3", io.BytesIO(b"x"))
    f.quit()


def test_parallel_uploads_cannot_pass_the_quota_together(make_server):
    srv = make_server(extra=["--quota-bytes", "1M"], threads=2)
    results: dict[int, str] = {}

    def upload(i: int) -> None:
        f = srv.ftp()
        try:
            f.storbinary(f"STOR p{i}.bin", io.BytesIO(pseudo_random_bytes(700 * KIB, seed=70 + i)))
            results[i] = "ok"
        except ftplib.error_perm as e:
            results[i] = str(e)[:3]
        finally:
            f.close()

    threads = [threading.Thread(target=upload, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(results.values()).count("ok") <= 1, results
    assert "552" in results.values(), results
    stored = sum(p.stat().st_size for p in srv.root.glob("p*.bin"))
    assert stored <= 1024 * KIB
    assert leftovers(srv.root) == []


def users_file_with_homes(path, users: dict[str, str]) -> None:
    """NAME:HASH:PERMS:HOME lines made with `muxftpd passwd`, each user in ROOT/NAME."""
    for name, password in users.items():
        subprocess.run([MUXFTPD, "passwd", str(path), name], input=password + "\n", text=True,
                       check=True, capture_output=True, timeout=30)
    lines = []
    for line in path.read_text().splitlines():
        name, hashed, perms, _home = line.split(":", 3)
        lines.append(f"{name}:{hashed}:{perms}:{name}")  # relative to the server root
    path.write_text("\n".join(lines) + "\n")


def test_quota_is_per_user(make_server, tmp_path):
    users = tmp_path / "users"
    users_file_with_homes(users, {"alice": "s3cret", "carol": "pw"})
    srv = make_server(users=[], extra=["--quota-files", "1", "--users-file", str(users)])
    (srv.root / "alice").mkdir()
    (srv.root / "carol").mkdir()
    a = srv.ftp("alice", "s3cret")
    a.storbinary("STOR one", io.BytesIO(b"x"))
    with pytest.raises(ftplib.error_perm, match="^552"):
        a.storbinary("STOR two", io.BytesIO(b"x"))
    c = srv.ftp("carol", "pw")
    c.storbinary("STOR one", io.BytesIO(b"x"))  # carol's own home and count
    a.quit()
    c.quit()


def _reply_pending(c) -> bool:
    import select
    if c.buf:
        return True
    readable, _, _ = select.select([c.sock], [], [], 0)
    return bool(readable)


@pytest.mark.time_limit(60)
def test_aborted_appends_count_against_the_quota(make_server):
    """An APPE cut short keeps what arrived (for a REST to resume), and those bytes count: APPE
    and ABOR again and again must not pass the quota (it did until the next walk, 5 minutes)."""
    from ftpd_support import wait_until
    srv = make_server(extra=["--quota-bytes", "100K"])
    target = srv.root / "log.bin"
    chunk = pseudo_random_bytes(60 * KIB, seed=66)
    refused = []
    with srv.raw(login=True) as c:
        assert c.cmd("TYPE I")[0] == 200
        for attempt in range(4):
            before = target.stat().st_size if target.exists() else 0
            data = c.pasv()
            code, text = c.cmd("APPE log.bin")
            if code == 552:  # refused before it starts: the kept bytes fill the quota
                refused.append((attempt, text))
                data.close()
                break
            assert code == 150, text
            try:
                data.sendall(chunk)
            except OSError:
                pass  # the server stopped reading: its 552 follows
            # Either the whole chunk is written (then it is aborted mid-way, as a client cut
            # short would be), or the quota stops it.
            assert wait_until(
                lambda: _reply_pending(c) or target.stat().st_size >= before + len(chunk),
                timeout=10), "neither written nor refused"
            if _reply_pending(c):
                code, text = c.reply()
                assert code == 552, text
                refused.append((attempt, text))
                data.close()
                break
            c.send(b"ABOR\r\n")
            assert [c.reply()[0], c.reply()[0]] == [426, 226]
            data.close()
        assert c.cmd("NOOP")[0] == 200
    size = target.stat().st_size
    assert refused, f"{size} bytes kept by aborted APPEs, never refused by a 100 KiB quota"
    assert size <= 100 * KIB, size
    assert target.read_bytes() == chunk * (size // len(chunk)), "only whole kept chunks"
