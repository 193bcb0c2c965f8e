"""LIST and NLST with wildcards (`NLST *.bin`, `LIST sub/report-??.txt`), as vsftpd takes them,
so that tnftp's `mget *.bin` and ncftpget's 'dir/*.bin' fetch files; and OPTS MLST's fact
selection (RFC 3659 §7.9). Driven by ftplib, with the names it gets back fetched as they are."""
from __future__ import annotations

import ftplib
import io

import pytest


def code_of(exc) -> int:
    return int(str(exc)[:3])


def nlst(ftp: ftplib.FTP, arg: str) -> list[str]:
    lines: list[str] = []
    ftp.retrlines("NLST " + arg, lines.append)
    return lines


def listing(ftp: ftplib.FTP, arg: str) -> list[str]:
    lines: list[str] = []
    ftp.retrlines("LIST " + arg, lines.append)
    return lines


def make_tree(root):
    for name in ["a.bin", "b.bin", "c.txt", ".hidden.bin", "report-01.txt", "report-2.txt"]:
        (root / name).write_bytes(name.encode() * 3)
    sub = root / "sub"
    sub.mkdir()
    for name in ["x.bin", "y.bin", "z.txt"]:
        (sub / name).write_bytes(b"sub/" + name.encode())


def test_nlst_and_list_take_a_pattern_in_the_last_component(server):
    make_tree(server.root)
    ftp = server.ftp()
    assert sorted(nlst(ftp, "*.bin")) == ["a.bin", "b.bin"]
    assert sorted(nlst(ftp, "report-??.txt")) == ["report-01.txt"]
    assert sorted(nlst(ftp, "[ab].*")) == ["a.bin", "b.bin"]
    assert sorted(nlst(ftp, ".*.bin")) == [".hidden.bin"], "hidden names need a leading '.'"
    lines = listing(ftp, "*.txt")
    assert len(lines) == 3 and all(line.startswith("-rw") for line in lines), lines
    assert sorted(line.split()[-1] for line in lines) == ["c.txt", "report-01.txt",
                                                          "report-2.txt"]
    # ls-style options before the pattern are taken as LIST takes them.
    assert len(listing(ftp, "-la *.bin")) == 2


def test_names_come_back_as_the_client_wrote_them_and_can_be_fetched(server):
    make_tree(server.root)
    ftp = server.ftp()
    names = sorted(nlst(ftp, "sub/*.bin"))
    assert names == ["sub/x.bin", "sub/y.bin"]
    for name in names:  # what tnftp's mget does with them
        got = io.BytesIO()
        ftp.retrbinary("RETR " + name, got.write)
        assert got.getvalue() == b"sub/" + name.split("/")[1].encode()
    ftp.cwd("sub")
    assert sorted(nlst(ftp, "/sub/*.txt")) == ["/sub/z.txt"]
    assert sorted(nlst(ftp, "../*.bin")) == ["../a.bin", "../b.bin"]


def test_refusals_are_clear_and_nothing_escapes_the_root(server):
    make_tree(server.root)
    (server.root.parent / "outside.bin").write_bytes(b"secret")
    ftp = server.ftp()
    with pytest.raises(ftplib.error_perm) as info:
        nlst(ftp, "*.nothing")
    assert code_of(info.value) == 550 and "No files match" in str(info.value)
    with pytest.raises(ftplib.error_perm) as info:
        nlst(ftp, "s*/x.bin")
    assert code_of(info.value) == 550 and "last path component" in str(info.value)
    # ".." above the root is the root: only the root's own names, never the directory above.
    names = nlst(ftp, "../../*.bin")
    assert sorted(n.rsplit("/", 1)[-1] for n in names) == ["a.bin", "b.bin"]
    assert not any("outside" in n for n in names)
    # RFC 3659: MLSD takes no wildcards; the pattern is a (missing) name.
    with pytest.raises(ftplib.error_perm) as info:
        ftp.retrlines("MLSD *.bin", lambda _: None)
    assert code_of(info.value) == 550
    assert ftp.sendcmd("NOOP").startswith("200")


def test_a_pattern_matching_too_many_names_is_refused(server):
    many = server.root / "many"
    many.mkdir()
    for i in range(10001):
        (many / f"f{i}").touch()
    ftp = server.ftp()
    with pytest.raises(ftplib.error_perm) as info:
        nlst(ftp, "many/f*")
    assert code_of(info.value) == 550 and "More than 10000" in str(info.value)
    assert len(nlst(ftp, "many/f1???")) == 1000  # f1000..f1999: under the cap, served


def test_a_pattern_built_to_backtrack_is_answered(server):
    (server.root / ("a" * 200)).touch()
    ftp = server.ftp()
    with pytest.raises(ftplib.error_perm) as info:
        nlst(ftp, "*a" * 60 + "b")
    assert code_of(info.value) == 550
    assert nlst(ftp, "*a" * 60) == ["a" * 200]


def test_opts_mlst_selects_the_facts_of_mlst_and_mlsd(server):
    make_tree(server.root)
    ftp = server.ftp()
    assert ftp.sendcmd("OPTS MLST size;Type;nonsense;") == "200 MLST OPTS type;size;"
    feat = ftp.sendcmd("FEAT")
    assert " MLST type*;size*;modify;perm;unique;" in feat.splitlines()
    lines: list[str] = []
    ftp.retrlines("MLSD sub", lines.append)
    assert sorted(lines) == ["type=file;size=9; x.bin", "type=file;size=9; y.bin",
                             "type=file;size=9; z.txt"]
    assert ftp.sendcmd("MLST c.txt").splitlines()[1] == " type=file;size=15; /c.txt"
    assert ftp.sendcmd("OPTS MLST") == "200 MLST OPTS "
    assert ftp.sendcmd("MLST c.txt").splitlines()[1] == "  /c.txt"
    assert ftp.sendcmd("OPTS MLST type;size;modify;perm;unique;").startswith("200")
    assert "perm=" in ftp.sendcmd("MLST c.txt")
