"""muxftp against muxftpd and pyftpdlib: parallel get/put with SHA-256, glob, ls/mkdir/mv/rm,
segmented get, mirror both ways, active mode, netrc, and failures that leave the rest done."""
from __future__ import annotations

import json
import os
import shutil

import pytest

from ftpc_support import make_files, run_muxftp, sha256, tree_sums, USER, PASSWORD, HOST


@pytest.mark.time_limit(120)
def test_parallel_put_then_get_glob(server, tmp_path, home):
    src = tmp_path / "src"
    sums = make_files(src, 24)
    files = [str(src / n) for n in sorted(sums)]
    up = run_muxftp(["-j", "6", "--json", "put", *files, server.url + "/up/"], home)
    # the directory does not exist yet on either server: put fails, mkdir, then put
    assert up.returncode == 1
    assert run_muxftp(["mkdir", server.url + "/up"], home).returncode == 0
    up = run_muxftp(["-j", "6", "--json", "put", *files, server.url + "/up/"], home)
    assert up.returncode == 0, up.stderr.decode()
    summary = json.loads(up.stdout)
    assert len(summary["files"]) == 24
    assert all(f["status"] == "done" for f in summary["files"])
    assert {n: sha256(server.root / "up" / n) for n in sums} == sums

    out = tmp_path / "out"
    got = run_muxftp(["get", "-j", "6", "--json", server.url + "/up/*.bin", "-o", str(out)], home)
    assert got.returncode == 0, got.stderr.decode()
    assert {p.name: sha256(p) for p in out.iterdir()} == sums
    summary = json.loads(got.stdout)
    assert sum(f["bytes"] for f in summary["files"]) == sum(
        (src / n).stat().st_size for n in sums)


def test_ls_mkdir_mv_rm(server, tmp_path, home):
    (server.root / "a.txt").write_bytes(b"hello")
    assert run_muxftp(["mkdir", server.url + "/d%20ir"], home).returncode == 0
    assert (server.root / "d ir").is_dir()
    ls = run_muxftp(["ls", server.url + "/"], home)
    assert ls.returncode == 0
    lines = ls.stdout.decode().splitlines()
    assert any(l.endswith(" a.txt") and l.split()[0] == "5" for l in lines), lines
    assert any(l.endswith(" d ir/") for l in lines), lines
    assert run_muxftp(["mv", server.url + "/a.txt", "b.txt"], home).returncode == 0
    assert (server.root / "b.txt").read_bytes() == b"hello"
    assert run_muxftp(["rm", server.url + "/b.txt"], home).returncode == 0
    assert not (server.root / "b.txt").exists()
    assert run_muxftp(["rm", server.url + "/d%20ir"], home).returncode == 0
    assert not (server.root / "d ir").exists()
    missing = run_muxftp(["rm", server.url + "/nope"], home)
    assert missing.returncode == 1
    assert b"550" in missing.stderr


def test_ls_rm_mkdir_take_several_urls(server, tmp_path, home):
    url = server.url
    assert run_muxftp(["mkdir", url + "/one", url + "/two", url + "/three"], home).returncode == 0
    assert all((server.root / d).is_dir() for d in ["one", "two", "three"])
    (server.root / "one" / "x.txt").write_bytes(b"x")
    (server.root / "two" / "y.txt").write_bytes(b"y")
    ls = run_muxftp(["ls", url + "/one", url + "/two"], home)
    assert ls.returncode == 0, ls.stderr
    out = ls.stdout.decode()
    assert " x.txt" in out and " y.txt" in out, out
    # A failure in the middle is reported, and the others are still done.
    rm = run_muxftp(["rm", url + "/one/x.txt", url + "/missing", url + "/two/y.txt"], home)
    assert rm.returncode == 1
    assert b"missing" in rm.stderr and b"550" in rm.stderr
    assert not (server.root / "one" / "x.txt").exists()
    assert not (server.root / "two" / "y.txt").exists()


def test_failed_file_does_not_stop_the_others(server, tmp_path, home):
    sums = make_files(server.root, 5, seed=3)
    urls = [server.url + "/" + n for n in sorted(sums)]
    urls.insert(2, server.url + "/missing.bin")
    out = tmp_path / "out"
    r = run_muxftp(["get", "-j", "2", *urls, "-o", str(out), "--json"], home)
    assert r.returncode == 1
    assert {p.name: sha256(p) for p in out.iterdir()} == sums  # no empty missing.bin either
    failed = [f for f in json.loads(r.stdout)["files"] if f["status"] == "failed"]
    assert [f["remote"] for f in failed] == ["missing.bin"]
    assert failed[0]["attempts"] == 1  # 550 is not retried
    assert b"FAILED  missing.bin" in r.stderr


def test_segmented_get(server, tmp_path, home):
    data = bytes(range(256)) * 12_000 + b"tail"
    (server.root / "big.bin").write_bytes(data)
    out = tmp_path / "out"
    r = run_muxftp(["get", "--segments", "4", server.url + "/big.bin", "-o", str(out), "--json"],
                   home)
    assert r.returncode == 0, r.stderr.decode()
    assert (out / "big.bin").read_bytes() == data
    files = json.loads(r.stdout)["files"]
    assert len(files) == 4
    assert sum(f["bytes"] for f in files) == len(data)


@pytest.mark.time_limit(120)
def test_mirror_both_ways(server, tmp_path, home):
    tree = server.root / "tree"
    make_files(tree, 6, seed=5, max_size=50_000)
    make_files(tree / "sub" / "deeper", 3, seed=6, max_size=50_000, prefix="g")
    (tree / "emptydir").mkdir()
    local = tmp_path / "mirror"
    r = run_muxftp(["--json", "mirror", server.url + "/tree", str(local)], home)
    assert r.returncode == 0, r.stderr.decode()
    assert tree_sums(local) == tree_sums(tree)
    assert (local / "emptydir").is_dir()
    again = run_muxftp(["--json", "mirror", server.url + "/tree", str(local)], home)
    assert again.returncode == 0
    assert json.loads(again.stdout)["files"] == []  # identical by size and mtime: skipped

    (local / "extra.txt").write_bytes(b"only here")
    r = run_muxftp(["mirror", "--delete", server.url + "/tree", str(local)], home)
    assert r.returncode == 0
    assert not (local / "extra.txt").exists()

    # reverse: local tree to a new remote directory, then once more (nothing to send)
    r = run_muxftp(["--json", "mirror", "--reverse", str(local), server.url + "/copy"], home)
    assert r.returncode == 0, r.stderr.decode()
    assert tree_sums(server.root / "copy") == tree_sums(local)
    again = run_muxftp(["--json", "mirror", "--reverse", str(local), server.url + "/copy"], home)
    assert again.returncode == 0
    assert json.loads(again.stdout)["files"] == []
    (server.root / "copy" / "stale.bin").write_bytes(b"x")
    r = run_muxftp(["mirror", "--reverse", "--delete", str(local), server.url + "/copy"], home)
    assert r.returncode == 0
    assert not (server.root / "copy" / "stale.bin").exists()


def test_active_mode(server, tmp_path, home):
    sums = make_files(server.root, 3, seed=9)
    out = tmp_path / "out"
    r = run_muxftp(["--active", "get", server.url + "/f*.bin", "-o", str(out)], home)
    assert r.returncode == 0, r.stderr.decode()
    assert {p.name: sha256(p) for p in out.iterdir()} == sums


def test_netrc_credentials(server, tmp_path, home):
    (server.root / "n.txt").write_bytes(b"netrc")
    (home / ".netrc").write_text(f"machine {HOST}\n login {USER}\n password {PASSWORD}\n")
    (home / ".netrc").chmod(0o600)
    port = server.url.rsplit(":", 1)[1]
    out = tmp_path / "out"
    r = run_muxftp(["get", f"ftp://{HOST}:{port}/n.txt", "-o", str(out)], home)
    assert r.returncode == 0, r.stderr.decode()
    assert (out / "n.txt").read_bytes() == b"netrc"


def test_bad_password_fails_cleanly(server, tmp_path, home):
    port = server.url.rsplit(":", 1)[1]
    r = run_muxftp(["ls", f"ftp://{USER}:wrong@{HOST}:{port}/"], home, timeout=60)
    assert r.returncode == 1
    assert b"login refused" in r.stderr


def test_list_without_mlsd(make_pyftpd, tmp_path, home):
    srv = make_pyftpd(mlst=False)
    sums = make_files(srv.root, 4, seed=11)
    (srv.root / "with space.bin").write_bytes(b"spaced")
    out = tmp_path / "out"
    r = run_muxftp(["get", srv.url + "/*.bin", "-o", str(out)], home)
    assert r.returncode == 0, r.stderr.decode()
    sums["with space.bin"] = sha256(srv.root / "with space.bin")
    assert {p.name: sha256(p) for p in out.iterdir()} == sums


def test_verify_uses_hash_where_the_server_has_it_else_size(server, tmp_path, home):
    sums = make_files(server.root, 3, seed=11)
    urls = [server.url + "/" + n for n in sorted(sums)]
    out = tmp_path / "out"
    r = run_muxftp(["--json", "--verify", "get", *urls, "-o", str(out)], home)
    assert r.returncode == 0, r.stderr.decode()
    files = json.loads(r.stdout)["files"]
    expected = "SHA-256" if server.kind == "muxftpd" else "SIZE"  # pyftpdlib has no HASH
    assert [f["verified_by"] for f in files] == [expected] * 3, files
    up = tmp_path / "up.bin"
    up.write_bytes(os.urandom(300_000))
    r = run_muxftp(["--verify", "--progress=lines", "put", str(up), server.url + "/"], home)
    assert r.returncode == 0, r.stderr.decode()
    assert f"verified by {expected}".encode() in r.stderr, r.stderr


def test_verify_reports_a_copy_that_differs(make_pyftpd, tmp_path, home):
    srv = make_pyftpd(size_bias=1)  # its SIZE says one byte more than the file holds
    up = tmp_path / "up.bin"
    up.write_bytes(os.urandom(100_000))
    r = run_muxftp(["--verify", "--progress=lines", "put", str(up), srv.url + "/"], home)
    assert r.returncode == 1
    assert b"differs" in r.stderr, r.stderr
    plain = run_muxftp(["--progress=lines", "put", str(up), srv.url + "/"], home)
    assert plain.returncode == 0, "without --verify the lie goes unnoticed"
