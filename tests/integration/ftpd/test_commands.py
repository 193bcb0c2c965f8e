"""Every command of muxftpd, driven by Python's ftplib (and by hand where ftplib is too polite),
with reply codes checked exactly and reply texts loosely."""
from __future__ import annotations

import calendar
import ftplib
import io
import os
import re
import socket
import time

import pytest

from ftpd_support import (
    HOST, PASSWORD, RO_PASSWORD, RO_USER, TEMP_PREFIX, USER, parse_227,
    parse_229, pseudo_random_bytes, recv_all, transfer,
)

LS_LINE = re.compile(
    r"^(?P<type>[-dlpscb])(?P<perm>[-rwxsStT]{9}) +(?P<nlink>\d+) +(?P<owner>\S+) +"
    r"(?P<group>\S+) +(?P<size>\d+) (?P<month>[A-Z][a-z]{2}) +(?P<day>\d{1,2}) +"
    r"(?P<time>\d{2}:\d{2}|\d{4}) (?P<name>.+)$"
)


def code_of(exc_or_resp) -> int:
    return int(str(exc_or_resp)[:3])


def expect_error(code: int, func, *args):
    with pytest.raises(ftplib.Error) as info:
        func(*args)
    assert code_of(info.value) == code, str(info.value)
    return str(info.value)


def put(root, name: str, data: bytes):
    p = root / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    return p


# --- login --------------------------------------------------------------------------------------

def test_greeting_login_and_quit(server):
    ftp = server.ftp(user=None)
    assert ftp.welcome.startswith("220 ")
    assert ftp.sendcmd(f"USER {USER}").startswith("331")
    assert ftp.sendcmd(f"PASS {PASSWORD}").startswith("230")
    assert ftp.sendcmd("PASS again").startswith("230")  # already logged in
    expect_error(530, ftp.sendcmd, "USER other")  # no user change on a logged-in session
    assert ftp.quit().startswith("221")


def test_quit_closes_connection(server):
    with server.raw(login=True) as c:
        assert c.cmd("QUIT")[0] == 221
        assert c.closed_by_server(5.0)


def test_bad_password_then_good(server):
    ftp = server.ftp(user=None)
    ftp.sendcmd(f"USER {USER}")
    t0 = time.monotonic()
    expect_error(530, ftp.sendcmd, "PASS wrong")
    assert 0.9 <= time.monotonic() - t0 < 5  # failures are slowed down (password guessing)
    # Still logged out; a second attempt with the right password works.
    expect_error(530, ftp.sendcmd, "PWD")
    assert ftp.login(USER, PASSWORD).startswith("230")


def test_unknown_user_and_pass_before_user(server):
    ftp = server.ftp(user=None)
    expect_error(503, ftp.sendcmd, "PASS whatever")
    expect_error(501, ftp.sendcmd, "USER")
    ftp.sendcmd("USER nobody-here")
    expect_error(530, ftp.sendcmd, "PASS x")
    # The failed PASS consumed the USER: PASS alone is out of sequence again.
    expect_error(503, ftp.sendcmd, "PASS x")


def test_anonymous_login_is_read_only(make_server):
    srv = make_server(extra=["--anonymous"])
    put(srv.root, "pub.txt", b"public")
    for name in ["anonymous", "ftp"]:
        ftp = srv.ftp(name, "guest@example.org")
        assert ftp.nlst() == ["pub.txt"]
        out = io.BytesIO()
        ftp.retrbinary("RETR pub.txt", out.write)
        assert out.getvalue() == b"public"
        expect_error(550, ftp.storbinary, "STOR x", io.BytesIO(b"x"))
        expect_error(550, ftp.mkd, "d")
        expect_error(550, ftp.delete, "pub.txt")
        ftp.quit()
    assert sorted(os.listdir(srv.root)) == ["pub.txt"]


def test_anonymous_refused_unless_enabled(server):
    ftp = server.ftp(user=None)
    ftp.sendcmd("USER anonymous")
    expect_error(530, ftp.sendcmd, "PASS guest@example.org")


def test_commands_before_login(server):
    """Everything that touches files or data connections needs a login (530); the harmless
    informational commands do not."""
    needs_login = ["PWD", "XPWD", "CWD /", "XCWD /", "CDUP", "XCUP", "MKD d", "XMKD d", "RMD d",
                   "XRMD d", "DELE f", "RNFR f", "RNTO g", "SIZE f", "MDTM f",
                   "MFMT 20200101000000 f", "MLST", "STAT /", "TYPE I", "MODE S", "STRU F",
                   "ALLO 10", "REST 0", "PASV", "EPSV", "PORT 127,0,0,1,4,1",
                   "EPRT |1|127.0.0.1|1025|", "LIST", "NLST", "MLSD", "RETR f", "STOR f",
                   "STOU", "APPE f", "ABOR"]
    with server.raw() as c:
        for cmd in needs_login:
            code, text = c.cmd(cmd)
            assert code == 530, f"{cmd}: {text}"
        for cmd, code in [("NOOP", 200), ("SYST", 215), ("FEAT", 211), ("HELP", 214),
                          ("STAT", 211), ("OPTS UTF8 ON", 200)]:
            got, text = c.cmd(cmd)
            assert got == code, f"{cmd}: {text}"
    assert not any(server.root.iterdir()), "nothing may be created before login"


# --- informational commands ---------------------------------------------------------------------

def test_noop_syst_feat_opts_help(server):
    ftp = server.ftp()
    assert ftp.sendcmd("NOOP").startswith("200")
    assert ftp.sendcmd("SYST") == "215 UNIX Type: L8"
    feat = ftp.sendcmd("FEAT")
    assert feat.startswith("211-") and feat.splitlines()[-1].startswith("211 ")
    features = {line.split()[0] for line in feat.splitlines()[1:-1]}
    for f in ["EPRT", "EPSV", "MDTM", "MFMT", "MLST", "PASV", "REST", "SIZE", "UTF8"]:
        assert f in features, feat
    assert all(line.startswith(" ") for line in feat.splitlines()[1:-1])
    mlst = [line for line in feat.splitlines() if line.strip().startswith("MLST")][0]
    for fact in ["type*", "size*", "modify*", "perm*", "unique*"]:
        assert fact in mlst
    assert ftp.sendcmd("OPTS UTF8 ON").startswith("200")
    assert ftp.sendcmd("opts utf8 on").startswith("200")
    assert ftp.sendcmd("OPTS MLST type;size;").startswith("200")
    expect_error(501, ftp.sendcmd, "OPTS FROBNICATE")
    help_text = ftp.sendcmd("HELP")
    assert help_text.startswith("214-") and help_text.splitlines()[-1].startswith("214 ")
    for verb in ["RETR", "STOR", "EPSV", "MLSD", "XPWD"]:
        assert verb in help_text


def test_stat(server):
    put(server.root, "f.txt", b"12345")
    (server.root / "sub").mkdir()
    ftp = server.ftp()
    status = ftp.sendcmd("STAT")
    assert status.startswith("211-") and status.splitlines()[-1].startswith("211 ")
    assert USER in status and "ASCII" in status
    ftp.voidcmd("TYPE I")
    assert "BINARY" in ftp.sendcmd("STAT")
    listing = ftp.sendcmd("STAT /")
    assert listing.startswith("213-") and listing.splitlines()[-1].startswith("213 ")
    body = [line.strip() for line in listing.splitlines()[1:-1]]
    parsed = {LS_LINE.match(line).group("name"): LS_LINE.match(line) for line in body}
    assert set(parsed) == {"f.txt", "sub"}
    assert parsed["f.txt"].group("size") == "5" and parsed["sub"].group("type") == "d"
    one = ftp.sendcmd("STAT f.txt")
    assert one.startswith("213-") and "f.txt" in one
    expect_error(550, ftp.sendcmd, "STAT /missing")


def test_unknown_and_obsolete_commands(server):
    with server.raw(login=True) as c:
        assert c.cmd("FOO")[0] == 500
        assert c.cmd("XYZZY123 arg")[0] == 500
        assert c.cmd("TOOLONGVERB")[0] == 500  # verbs have at most 8 letters
        assert c.cmd("NO-OP")[0] == 500
        assert c.cmd("SITE CHMOD 777 x")[0] == 502
        assert c.cmd("ACCT x")[0] == 502
        assert c.cmd("REIN")[0] == 502
        # An empty line gets no reply at all: the next reply is NOOP's.
        c.send(b"\r\n")
        assert c.cmd("noop")[0] == 200  # verbs are case-insensitive
        # Telnet IAC sequences are stripped (IAC IP, IAC DM before the command).
        c.send(b"\xff\xf4\xff\xf2NOOP\r\n")
        assert c.reply()[0] == 200


def test_pipelined_commands_answered_in_order(server):
    with server.raw(login=True) as c:
        c.send(b"NOOP\r\nSYST\r\nPWD\r\nTYPE X\r\nNOOP\r\n")
        codes = [c.reply()[0] for _ in range(5)]
        assert codes == [200, 215, 257, 504, 200]


# --- directories ----------------------------------------------------------------------------------

def test_pwd_cwd_cdup_and_x_aliases(server):
    (server.root / "a" / "b").mkdir(parents=True)
    put(server.root, "file.txt", b"x")
    ftp = server.ftp()
    assert ftp.pwd() == "/"
    assert ftp.sendcmd("CWD a").startswith("250")
    assert ftp.pwd() == "/a"
    assert ftp.sendcmd("XCWD b").startswith("250")
    assert ftp.sendcmd("XPWD").startswith('257 "/a/b"')
    assert ftp.sendcmd("CDUP").startswith(("200", "250"))
    assert ftp.pwd() == "/a"
    assert ftp.sendcmd("XCUP").startswith(("200", "250"))
    assert ftp.pwd() == "/"
    assert ftp.sendcmd("CDUP").startswith(("200", "250"))  # at the root: stays there
    assert ftp.pwd() == "/"
    ftp.cwd("/a/b")
    ftp.cwd("../../a/./b/..")
    assert ftp.pwd() == "/a"
    assert ftp.sendcmd("CWD").startswith("250")  # no argument: the root
    assert ftp.pwd() == "/"
    expect_error(550, ftp.cwd, "missing")
    expect_error(550, ftp.cwd, "file.txt")
    assert ftp.pwd() == "/"


def test_mkd_rmd_and_x_aliases(server):
    ftp = server.ftp()
    assert ftp.mkd("d1") == "/d1"
    assert (server.root / "d1").is_dir()
    resp = ftp.sendcmd("XMKD d1/inner")
    assert resp.startswith('257 "/d1/inner"')
    expect_error(550, ftp.mkd, "d1")  # exists
    expect_error(550, ftp.mkd, "nope/deeper")  # parent missing
    expect_error(550, ftp.rmd, "d1")  # not empty
    assert ftp.sendcmd("XRMD d1/inner").startswith("250")
    assert ftp.sendcmd("RMD d1").startswith("250")
    assert not (server.root / "d1").exists()
    expect_error(550, ftp.rmd, "d1")
    put(server.root, "f", b"")
    expect_error(550, ftp.rmd, "f")  # not a directory
    expect_error(550, ftp.rmd, "/")


def test_mkd_reply_quotes_double_quotes(server):
    ftp = server.ftp()
    resp = ftp.sendcmd('MKD say "hi"')
    assert resp.startswith('257 "/say ""hi"""'), resp
    assert ftplib.parse257(resp) == '/say "hi"'
    assert (server.root / 'say "hi"').is_dir()
    ftp.cwd('say "hi"')
    assert ftp.pwd() == '/say "hi"'


def test_dele(server):
    put(server.root, "f.txt", b"data")
    (server.root / "d").mkdir()
    ftp = server.ftp()
    assert ftp.delete("f.txt").startswith("250")
    assert not (server.root / "f.txt").exists()
    expect_error(550, ftp.delete, "f.txt")
    expect_error(550, ftp.delete, "d")  # a directory is not deleted by DELE
    assert (server.root / "d").is_dir()


def test_rnfr_rnto(server):
    put(server.root, "old.txt", b"content")
    (server.root / "dir").mkdir()
    ftp = server.ftp()
    assert ftp.sendcmd("RNFR old.txt").startswith("350")
    assert ftp.sendcmd("RNTO dir/new.txt").startswith("250")
    assert (server.root / "dir" / "new.txt").read_bytes() == b"content"
    assert not (server.root / "old.txt").exists()
    # RNTO without RNFR, and RNTO after an intervening command.
    expect_error(503, ftp.sendcmd, "RNTO x")
    ftp.sendcmd("RNFR dir/new.txt")
    ftp.sendcmd("NOOP")
    expect_error(503, ftp.sendcmd, "RNTO x")
    expect_error(550, ftp.sendcmd, "RNFR missing")
    # Directories rename too.
    ftp.sendcmd("RNFR dir")
    ftp.sendcmd("RNTO dir2")
    assert (server.root / "dir2" / "new.txt").exists()


def test_failed_rnfr_disarms_previous_rnfr(server):
    put(server.root, "a.txt", b"a")
    ftp = server.ftp()
    ftp.sendcmd("RNFR a.txt")
    expect_error(550, ftp.sendcmd, "RNFR missing.txt")
    # The client's RNFR failed, so there is nothing to rename: RNTO must be refused (503).
    try:
        ftp.sendcmd("RNTO b.txt")
    except ftplib.error_perm as e:
        assert code_of(e) == 503
    assert (server.root / "a.txt").exists() and not (server.root / "b.txt").exists()


# --- transfer parameters --------------------------------------------------------------------------

def test_type_mode_stru_allo(server):
    ftp = server.ftp()
    for arg in ["A", "I", "a", "i", "L 8", "A N"]:
        assert ftp.sendcmd(f"TYPE {arg}").startswith("200"), arg
    expect_error(504, ftp.sendcmd, "TYPE E")
    expect_error(504, ftp.sendcmd, "TYPE X")
    expect_error(501, ftp.sendcmd, "TYPE")
    assert ftp.sendcmd("MODE S").startswith("200")
    expect_error(504, ftp.sendcmd, "MODE B")
    expect_error(504, ftp.sendcmd, "MODE C")
    assert ftp.sendcmd("STRU F").startswith("200")
    expect_error(504, ftp.sendcmd, "STRU R")
    expect_error(504, ftp.sendcmd, "STRU P")
    assert ftp.sendcmd("ALLO 1000").startswith("202")


def test_pasv_epsv_replies(server):
    ftp = server.ftp()
    host, port = parse_227(ftp.sendcmd("PASV"))
    assert host == HOST and 1024 <= port <= 65535
    assert 1024 <= parse_229(ftp.sendcmd("EPSV")) <= 65535
    assert parse_229(ftp.sendcmd("EPSV 1")) > 0
    expect_error(522, ftp.sendcmd, "EPSV 2")  # IPv6 on an IPv4 control connection
    expect_error(501, ftp.sendcmd, "PORT 1,2,3")
    expect_error(501, ftp.sendcmd, "PORT 127,0,0,1,300,1")
    expect_error(522, ftp.sendcmd, "EPRT |3|127.0.0.1|2000|")
    expect_error(522, ftp.sendcmd, "EPRT garbage")


def test_epsv_all_refuses_pasv_port_eprt(server):
    put(server.root, "f.bin", b"payload")
    ftp = server.ftp()
    ftp.voidcmd("TYPE I")
    assert ftp.sendcmd("EPSV ALL").startswith("200")
    expect_error(501, ftp.sendcmd, "PASV")
    expect_error(501, ftp.sendcmd, "PORT 127,0,0,1,4,1")
    expect_error(501, ftp.sendcmd, f"EPRT |1|{HOST}|1025|")
    assert transfer(ftp, "RETR f.bin", "epsv") == b"payload"


@pytest.mark.parametrize("mode", ["pasv", "epsv", "port", "eprt"])
def test_transfers_in_every_data_mode(server, mode):
    data = pseudo_random_bytes(300_000, seed=7)
    put(server.root, "down.bin", data)
    ftp = server.ftp()
    ftp.voidcmd("TYPE I")
    assert transfer(ftp, "RETR down.bin", mode) == data
    transfer(ftp, "STOR up.bin", mode, upload=data[::-1])
    assert (server.root / "up.bin").read_bytes() == data[::-1]
    names = transfer(ftp, "NLST", mode).decode().split("\r\n")
    assert sorted(n for n in names if n) == ["down.bin", "up.bin"]


def test_transfer_without_data_setup_is_425(server):
    put(server.root, "f", b"x")
    with server.raw(login=True) as c:
        assert c.cmd("RETR f")[0] == 425
        assert c.cmd("STOR g")[0] == 425
        assert c.cmd("LIST")[0] == 425
    assert not (server.root / "g").exists()


# --- listings -------------------------------------------------------------------------------------

def _listing_fixture(root):
    put(root, "small.txt", b"hello")
    put(root, "big.bin", b"\0" * 123456)
    (root / "subdir").mkdir()
    put(root, "subdir/inner.txt", b"in")
    old = put(root, "old.txt", b"o")
    when = calendar.timegm((2000, 6, 15, 12, 0, 0))
    os.utime(old, (when, when))
    # A leftover upload temporary: never listed.
    put(root, TEMP_PREFIX + "leftover", b"partial")


def test_list_parses_as_ls_lines(server):
    _listing_fixture(server.root)
    ftp = server.ftp()
    lines: list[str] = []
    assert ftp.retrlines("LIST", lines.append).startswith("226")
    entries = {}
    for line in lines:
        m = LS_LINE.match(line)
        assert m, f"not an ls -l line: {line!r}"
        entries[m.group("name")] = m
    assert set(entries) == {"small.txt", "big.bin", "subdir", "old.txt"}
    assert entries["small.txt"].group("type") == "-"
    assert entries["small.txt"].group("size") == "5"
    assert entries["big.bin"].group("size") == "123456"
    assert entries["subdir"].group("type") == "d"
    assert entries["small.txt"].group("perm") == "rw-r--r--"
    assert re.fullmatch(r"\d{2}:\d{2}", entries["small.txt"].group("time"))
    old = entries["old.txt"]
    assert (old.group("month"), old.group("day"), old.group("time")) == ("Jun", "15", "2000")
    # Options are ignored, paths and single files work.
    lines2: list[str] = []
    ftp.retrlines("LIST -la", lines2.append)
    assert {LS_LINE.match(x).group("name") for x in lines2} == set(entries)
    lines3: list[str] = []
    ftp.retrlines("LIST -l subdir", lines3.append)
    assert [LS_LINE.match(x).group("name") for x in lines3] == ["inner.txt"]
    lines4: list[str] = []
    ftp.retrlines("LIST small.txt", lines4.append)
    assert len(lines4) == 1 and LS_LINE.match(lines4[0]).group("name") == "small.txt"
    expect_error(550, ftp.retrlines, "LIST missing", lambda _: None)


def test_nlst(server):
    _listing_fixture(server.root)
    ftp = server.ftp()
    assert sorted(ftp.nlst()) == ["big.bin", "old.txt", "small.txt", "subdir"]
    assert ftp.nlst("subdir") == ["inner.txt"]
    assert ftp.nlst("subdir/inner.txt") == ["/subdir/inner.txt"]
    expect_error(550, ftp.nlst, "missing")


def _facts(line: str) -> tuple[dict[str, str], str]:
    facts_text, name = line.split(" ", 1)
    facts = {}
    for fact in facts_text.split(";"):
        if fact:
            k, v = fact.split("=", 1)
            facts[k.lower()] = v
    return facts, name


def test_mlsd_facts(server):
    _listing_fixture(server.root)
    ftp = server.ftp()
    lines: list[str] = []
    assert ftp.retrlines("MLSD", lines.append).startswith("226")
    entries = dict((name, facts) for facts, name in map(_facts, lines))
    assert set(entries) == {"small.txt", "big.bin", "subdir", "old.txt"}
    small, sub, old = entries["small.txt"], entries["subdir"], entries["old.txt"]
    assert small["type"] == "file" and small["size"] == "5"
    assert entries["big.bin"]["size"] == "123456"
    assert sub["type"] == "dir" and "size" not in sub
    assert old["modify"] == "20000615120000"
    st = (server.root / "small.txt").stat()
    assert small["modify"] == time.strftime("%Y%m%d%H%M%S", time.gmtime(st.st_mtime))
    assert small["perm"] == "rawdf"
    assert sub["perm"] == "elcmdpf"
    uniques = [f["unique"] for f in entries.values()]
    assert len(set(uniques)) == len(uniques) and all(uniques)
    # ftplib's own MLSD parser agrees.
    parsed = dict(ftp.mlsd("subdir"))
    assert parsed["inner.txt"]["type"] == "file" and parsed["inner.txt"]["size"] == "2"
    expect_error(501, ftp.retrlines, "MLSD small.txt", lambda _: None)
    expect_error(550, ftp.retrlines, "MLSD missing", lambda _: None)


def test_mlsd_perm_for_read_only_user(server):
    _listing_fixture(server.root)
    ftp = server.ftp(RO_USER, RO_PASSWORD)
    entries = dict(ftp.mlsd())
    assert entries["small.txt"]["perm"] == "r"
    assert entries["subdir"]["perm"] == "el"


def test_mlst(server):
    put(server.root, "f.txt", b"12345678")
    ftp = server.ftp()
    resp = ftp.sendcmd("MLST f.txt")
    lines = resp.splitlines()
    assert lines[0].startswith("250-") and lines[-1].startswith("250 ")
    assert len(lines) == 3 and lines[1].startswith(" ")
    facts, name = _facts(lines[1][1:])
    assert name == "/f.txt"
    assert facts["type"] == "file" and facts["size"] == "8" and facts["perm"] == "rawdf"
    assert re.fullmatch(r"\d{14}", facts["modify"]) and facts["unique"]
    root_facts, root_name = _facts(ftp.sendcmd("MLST").splitlines()[1][1:])
    assert root_facts["type"] == "dir" and root_name == "/"
    expect_error(550, ftp.sendcmd, "MLST missing")


def test_size_mdtm_mfmt(server):
    p = put(server.root, "f.bin", b"x" * 4321)
    (server.root / "d").mkdir()
    ftp = server.ftp()
    ftp.voidcmd("TYPE I")
    assert ftp.sendcmd("SIZE f.bin") == "213 4321"
    assert ftp.size("f.bin") == 4321
    expect_error(550, ftp.sendcmd, "SIZE d")
    expect_error(550, ftp.sendcmd, "SIZE missing")
    expected = time.strftime("%Y%m%d%H%M%S", time.gmtime(p.stat().st_mtime))
    assert ftp.sendcmd("MDTM f.bin") == f"213 {expected}"
    expect_error(550, ftp.sendcmd, "MDTM missing")
    resp = ftp.sendcmd("MFMT 20200102030405 f.bin")
    assert resp.startswith("213") and "20200102030405" in resp
    assert p.stat().st_mtime == calendar.timegm((2020, 1, 2, 3, 4, 5))
    assert ftp.sendcmd("MDTM f.bin") == "213 20200102030405"
    expect_error(501, ftp.sendcmd, "MFMT notadate f.bin")
    expect_error(501, ftp.sendcmd, "MFMT 20200102030405")
    expect_error(550, ftp.sendcmd, "MFMT 20200102030405 missing")


# --- transfers ------------------------------------------------------------------------------------

def test_retr_stor_binary_roundtrip(server):
    data = pseudo_random_bytes(1_500_000, seed=1) + b"\r\n\n\r\0\xff"
    ftp = server.ftp()
    assert ftp.storbinary("STOR bin.dat", io.BytesIO(data)).startswith("226")
    assert (server.root / "bin.dat").read_bytes() == data
    out = io.BytesIO()
    assert ftp.retrbinary("RETR bin.dat", out.write).startswith("226")
    assert out.getvalue() == data
    # Empty files both ways.
    ftp.storbinary("STOR empty", io.BytesIO(b""))
    assert (server.root / "empty").read_bytes() == b""
    out = io.BytesIO()
    ftp.retrbinary("RETR empty", out.write)
    assert out.getvalue() == b""
    expect_error(550, ftp.retrbinary, "RETR missing", out.write)
    (server.root / "dir").mkdir()
    expect_error(550, ftp.retrbinary, "RETR dir", out.write)
    expect_error(550, ftp.storbinary, "STOR dir", io.BytesIO(b"x"))
    expect_error(550, ftp.storbinary, "STOR nodir/f", io.BytesIO(b"x"))


def test_stor_replaces_existing_file(server):
    put(server.root, "f.txt", b"a much longer old content " * 100)
    ftp = server.ftp()
    ftp.storbinary("STOR f.txt", io.BytesIO(b"short"))
    assert (server.root / "f.txt").read_bytes() == b"short"
    assert not any(p.name.startswith(TEMP_PREFIX) for p in server.root.iterdir())


def test_ascii_download_converts_lf_to_crlf(server):
    disk = b"one\ntwo\r\nthree\rfour\n\nend"
    put(server.root, "t.txt", disk)
    with server.raw(login=True) as c:
        # A new session starts in ASCII (RFC 959's default), without any TYPE command.
        data = c.pasv()
        assert c.cmd("RETR t.txt")[0] == 150
        wire = recv_all(data)
        data.close()
        assert c.reply()[0] == 226
    assert wire == b"one\r\ntwo\r\nthree\rfour\r\n\r\nend"


def test_ascii_download_large_with_crlf_across_buffer_boundary(server):
    # The server converts in 256 KiB blocks: put a CRLF pair right across a block boundary.
    block = 256 * 1024
    body = bytearray(pseudo_random_bytes(3 * block, seed=3).replace(b"\r", b"x"))
    body[block - 1:block + 1] = b"\r\n"
    body[2 * block - 1] = ord("\n")
    disk = bytes(body)
    put(server.root, "t.txt", disk)
    ftp = server.ftp()
    ftp.voidcmd("TYPE A")
    wire = transfer(ftp, "RETR t.txt")
    assert wire == re.sub(rb"(?<!\r)\n", b"\r\n", disk)


def test_ascii_upload_converts_crlf_to_lf(server):
    with server.raw(login=True) as c:
        assert c.cmd("TYPE A")[0] == 200
        data = c.pasv()
        assert c.cmd("STOR t.txt")[0] == 150
        # A CR at the end of one segment and its LF in the next is still one line end.
        data.sendall(b"a\r\nb\rc\r")
        time.sleep(0.05)
        data.sendall(b"\n\r\nlast\r")
        data.close()
        assert c.reply()[0] == 226
    assert (server.root / "t.txt").read_bytes() == b"a\nb\rc\n\nlast\r"


def test_ascii_roundtrip_via_ftplib(server):
    text = "".join(f"line {i} of text\n" for i in range(5000)).encode()
    put(server.root, "in.txt", text)
    ftp = server.ftp()
    lines: list[str] = []
    ftp.retrlines("RETR in.txt", lines.append)  # ftplib checks the CRLF line ends
    assert "\n".join(lines).encode() + b"\n" == text
    ftp.storlines("STOR out.txt", io.BytesIO(text))  # ftplib sends CRLF
    assert (server.root / "out.txt").read_bytes() == text


def test_rest_retr(server):
    data = pseudo_random_bytes(200_000, seed=2)
    put(server.root, "f.bin", data)
    ftp = server.ftp()
    ftp.voidcmd("TYPE I")
    for offset in [0, 1, 65536, 199_999, 200_000]:
        assert transfer(ftp, "RETR f.bin", rest=offset) == data[offset:]
    out = io.BytesIO()
    ftp.retrbinary("RETR f.bin", out.write, rest=150_000)  # ftplib's way
    assert out.getvalue() == data[150_000:]
    ftp.sendcmd("REST 200001")
    expect_error(554, ftp.retrbinary, "RETR f.bin", out.write)
    expect_error(501, ftp.sendcmd, "REST abc")
    expect_error(501, ftp.sendcmd, "REST -5")
    expect_error(501, ftp.sendcmd, "REST")


def test_rest_stor_resumes_upload(server):
    full = pseudo_random_bytes(500_000, seed=4)
    ftp = server.ftp()
    ftp.voidcmd("TYPE I")
    # A partial upload is on the server; the client asks its size and sends the rest.
    put(server.root, "f.bin", full[:123_457])
    offset = ftp.size("f.bin")
    assert offset == 123_457
    ftp.storbinary("STOR f.bin", io.BytesIO(full[offset:]), rest=offset)
    assert (server.root / "f.bin").read_bytes() == full
    # Resuming at an offset below the current size discards what follows the offset.
    put(server.root, "g.bin", full[:1000] + b"GARBAGE" * 10)
    ftp.storbinary("STOR g.bin", io.BytesIO(full[1000:]), rest=1000)
    assert (server.root / "g.bin").read_bytes() == full
    # Past the end of the file: refused, file untouched.
    ftp.sendcmd("REST 999999999")
    expect_error(554, ftp.storbinary, "STOR f.bin", io.BytesIO(b"x"))
    assert (server.root / "f.bin").read_bytes() == full
    ftp.sendcmd("REST 10")
    expect_error(550, ftp.storbinary, "STOR missing.bin", io.BytesIO(b"x"))


def test_rest_does_not_outlive_a_failed_transfer(server):
    put(server.root, "existing.txt", b"0123456789")
    ftp = server.ftp()
    ftp.voidcmd("TYPE I")
    ftp.sendcmd("REST 4")
    expect_error(550, ftp.retrbinary, "RETR missing.txt", lambda b: None)
    ftp.storbinary("STOR existing.txt", io.BytesIO(b"NEW"))  # a plain upload: replace
    assert (server.root / "existing.txt").read_bytes() == b"NEW"


def test_appe(server):
    put(server.root, "log.txt", b"first\n")
    ftp = server.ftp()
    ftp.voidcmd("TYPE I")
    assert ftp.storbinary("APPE log.txt", io.BytesIO(b"second\n")).startswith("226")
    ftp.storbinary("APPE log.txt", io.BytesIO(b"third\n"))
    assert (server.root / "log.txt").read_bytes() == b"first\nsecond\nthird\n"
    ftp.storbinary("APPE new.txt", io.BytesIO(b"created"))
    assert (server.root / "new.txt").read_bytes() == b"created"


def _stou(c, payload: bytes) -> tuple[int, str]:
    data = c.pasv()
    code, text = c.cmd("STOU")
    if code != 150:
        data.close()
        return code, text
    data.sendall(payload)
    data.close()
    end, _ = c.reply()
    assert end == 226
    return code, text


def test_stou(server):
    with server.raw(login=True) as c:
        assert c.cmd("TYPE I")[0] == 200
        code, text = _stou(c, b"unique content")
        assert code == 150
        m = re.search(r"FILE: (\S+)", text)
        assert m, text
        name = m.group(1).lstrip("/")
        assert (server.root / name).read_bytes() == b"unique content"


def test_stou_in_a_row_gets_distinct_names(server):
    # Four STOUs within well under two seconds: at least two share a second, so with the bug
    # this fails every time (never an accidental pass).
    with server.raw(login=True) as c:
        assert c.cmd("TYPE I")[0] == 200
        t0 = time.monotonic()
        results = [_stou(c, b"content %d" % i) for i in range(4)]
        assert time.monotonic() - t0 < 2
        assert [code for code, _ in results] == [150] * 4, results
        assert len({text for _, text in results}) == 4


def test_abor_without_transfer(server):
    with server.raw(login=True) as c:
        assert c.cmd("ABOR")[0] == 225
        c.pasv().close()
        assert c.cmd("ABOR")[0] == 225  # also forgets the PASV set-up
        assert c.cmd("RETR x")[0] in (425, 550)


def test_abor_running_download(server):
    put(server.root, "big.bin", pseudo_random_bytes(24 << 20, seed=5))
    with server.raw(login=True) as c:
        assert c.cmd("TYPE I")[0] == 200
        data = c.pasv(rcvbuf=65536)
        assert c.cmd("RETR big.bin")[0] == 150
        assert len(data.recv(65536)) > 0
        t0 = time.monotonic()
        c.send(b"ABOR\r\n")
        assert c.reply(5)[0] == 426
        assert c.reply(5)[0] == 226
        assert time.monotonic() - t0 < 3
        data.close()
        assert c.cmd("NOOP")[0] == 200
        # The session can transfer again.
        put(server.root, "small", b"small file")
        data = c.pasv()
        assert c.cmd("RETR small")[0] == 150
        assert recv_all(data) == b"small file"
        assert c.reply()[0] == 226


def test_abor_before_data_connection(server):
    put(server.root, "f", b"x")
    with server.raw(login=True) as c:
        code, text = c.cmd("PASV")
        assert code == 227
        # No 150 comes until the data connection opens, and the client never opens it.
        c.send(b"RETR f\r\n")
        time.sleep(0.1)
        c.send(b"ABOR\r\n")
        codes = [c.reply(5)[0], c.reply(5)[0]]
        assert codes == [426, 226]
        assert c.cmd("NOOP")[0] == 200


@pytest.mark.time_limit(20)
def test_ftplib_abort_with_urgent_data(server):
    put(server.root, "big.bin", pseudo_random_bytes(24 << 20, seed=6))
    ftp = server.ftp(timeout=3)
    ftp.voidcmd("TYPE I")
    conn = ftp.transfercmd("RETR big.bin")
    try:
        conn.settimeout(3)
        conn.recv(65536)
        resp = ftp.abort()  # sends "ABOR\r\n" with MSG_OOB
        assert resp[:3] in ("426", "226")
    finally:
        conn.close()


def test_quit_during_transfer_waits_for_it(server):
    data = pseudo_random_bytes(8 << 20, seed=8)
    put(server.root, "big.bin", data)
    with server.raw(login=True) as c:
        assert c.cmd("TYPE I")[0] == 200
        sock = c.pasv(rcvbuf=65536)
        assert c.cmd("RETR big.bin")[0] == 150
        c.send(b"QUIT\r\n")  # while the download runs: it finishes first
        assert recv_all(sock) == data
        sock.close()
        assert c.reply()[0] == 226
        assert c.reply()[0] == 221
        assert c.closed_by_server()


def _free_port_pair() -> int:
    for base in range(41000, 60000, 97):
        socks = []
        try:
            for port in (base, base + 1):
                s = socket.socket()
                socks.append(s)
                s.bind((HOST, port))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    pytest.skip("no two consecutive free ports")


def test_passive_port_range(make_server):
    low = _free_port_pair()
    srv = make_server(extra=["--passive-ports", f"{low}-{low + 1}"])
    put(srv.root, "f", b"data")
    a, b, c = srv.ftp(), srv.ftp(), srv.ftp()
    ports = {parse_227(a.sendcmd("PASV"))[1], parse_229(b.sendcmd("EPSV"))}
    assert ports == {low, low + 1}
    expect_error(425, c.sendcmd, "PASV")  # the range is used up
    a.sendcmd("ABOR")  # frees a's listener
    assert parse_227(c.sendcmd("PASV"))[1] in (low, low + 1)
    c.voidcmd("TYPE I")
    out = io.BytesIO()
    c.retrbinary("RETR f", out.write)
    assert out.getvalue() == b"data"


def test_utf8_file_names(server):
    ftp = server.ftp()
    ftp.sendcmd("OPTS UTF8 ON")
    ftp.voidcmd("TYPE I")
    names = ["日本語.txt", "Ünïcödé ümlaut.bin", "emoji 🎉.dat"]
    for i, name in enumerate(names):
        ftp.storbinary(f"STOR {name}", io.BytesIO(name.encode() * (i + 1)))
    ftp.mkd("каталог")
    ftp.storbinary("STOR каталог/файл.txt", io.BytesIO(b"inner"))
    on_disk = sorted(os.listdir(os.fsencode(server.root)))
    assert on_disk == sorted(n.encode() for n in names + ["каталог"])
    assert sorted(ftp.nlst()) == sorted(names + ["каталог"])
    listed = []
    ftp.retrlines("LIST", listed.append)
    assert sorted(LS_LINE.match(x).group("name") for x in listed) == sorted(names + ["каталог"])
    assert sorted(name for name, _ in ftp.mlsd()) == sorted(names + ["каталог"])
    for i, name in enumerate(names):
        out = io.BytesIO()
        ftp.retrbinary(f"RETR {name}", out.write)
        assert out.getvalue() == name.encode() * (i + 1)
    ftp.cwd("каталог")
    assert ftp.pwd() == "/каталог"
    assert ftp.size("файл.txt") == 5
    ftp.rename("файл.txt", "переименован.txt")
    assert (server.root / "каталог" / "переименован.txt").read_bytes() == b"inner"


def test_name_with_newline_is_listed_on_one_line(server):
    # A name with CR/LF must not split a LIST or MLSD line (it would fake another entry).
    put(server.root, "evil\r\nname", b"x")
    put(server.root, "plain", b"y")
    ftp = server.ftp()
    lines: list[str] = []
    ftp.retrlines("LIST", lines.append)
    assert len(lines) == 2 and all(LS_LINE.match(x) for x in lines)
    lines = []
    ftp.retrlines("MLSD", lines.append)
    assert len(lines) == 2 and all("type=" in x for x in lines)


def test_nlst_name_with_newline_is_one_entry(server):
    put(server.root, "evil\r\nname", b"x")
    put(server.root, "plain", b"y")
    ftp = server.ftp()
    assert len(ftp.nlst()) == 2


def _closed_port() -> int:
    s = socket.socket()
    s.bind((HOST, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _port_arg(port: int) -> str:
    return "127,0,0,1,%d,%d" % (port >> 8, port & 255)


def test_rest_stor_that_never_starts_keeps_the_whole_file(server):
    """REST + STOR overwrites from the offset; until data comes, the file must stay whole: the
    data connection may never open (425), or the client aborts before it does."""
    content = pseudo_random_bytes(50_000, seed=71)
    put(server.root, "r.bin", content)
    with server.raw(login=True) as c:
        assert c.cmd("TYPE I")[0] == 200
        # Active mode towards a port where nobody listens: 425.
        assert c.cmd("PORT " + _port_arg(_closed_port()))[0] == 200
        assert c.cmd("REST 100")[0] == 350
        c.send(b"STOR r.bin\r\n")
        code, text = c.reply()
        assert code == 425, text
        assert (server.root / "r.bin").read_bytes() == content
        # Passive, never connected, aborted: 426 then 226.
        assert c.cmd("PASV")[0] == 227
        assert c.cmd("REST 100")[0] == 350
        c.send(b"STOR r.bin\r\n")
        time.sleep(0.1)
        c.send(b"ABOR\r\n")
        assert [c.reply()[0], c.reply()[0]] == [426, 226]
        assert (server.root / "r.bin").read_bytes() == content
        # A resume that completes ends the file where its data ends.
        data = c.pasv()
        assert c.cmd("REST 100")[0] == 350
        assert c.cmd("STOR r.bin")[0] == 150
        data.sendall(b"new tail")
        data.close()
        assert c.reply()[0] == 226
    assert (server.root / "r.bin").read_bytes() == content[:100] + b"new tail"


def test_stou_that_fails_leaves_no_file(server):
    """STOU makes a name for the upload; when no complete upload arrives under it (no data
    connection, an abort mid-way), the name goes again."""
    before = sorted(os.listdir(server.root))
    with server.raw(login=True) as c:
        assert c.cmd("TYPE I")[0] == 200
        assert c.cmd("PORT " + _port_arg(_closed_port()))[0] == 200
        c.send(b"STOU\r\n")
        code, text = c.reply()
        assert code == 425, text
        # Aborted mid-way.
        data = c.pasv()
        code, text = c.cmd("STOU")
        assert code == 150, text
        name = re.search(r"FILE: (\S+)", text).group(1).lstrip("/")
        data.sendall(b"part of an upload")
        for _ in range(200):  # the bytes are on the server before the abort
            if (server.root / name).exists() and (server.root / name).stat().st_size == 17:
                break
            time.sleep(0.02)
        c.send(b"ABOR\r\n")
        assert [c.reply()[0], c.reply()[0]] == [426, 226]
        data.close()
        assert c.cmd("NOOP")[0] == 200
    # Removed right after the replies.
    for _ in range(150):
        if sorted(os.listdir(server.root)) == before:
            break
        time.sleep(0.02)
    assert sorted(os.listdir(server.root)) == before
