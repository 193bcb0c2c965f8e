"""HASH (draft-bryan-ftpext-hash-02: SHA-256 by default, SHA-1, MD5, CRC32, chosen with OPTS
HASH) and the legacy XSHA256, XSHA1, XMD5 and XCRC, checked against Python's hashlib and zlib on
files that take several of the server's 1 MiB chunks."""
from __future__ import annotations

import ftplib
import hashlib
import zlib

import pytest

from ftpd_support import pseudo_random_bytes


def code_of(exc) -> int:
    return int(str(exc)[:3])


def crc32_hex(data: bytes) -> str:
    return f"{zlib.crc32(data):08x}"


@pytest.fixture
def data(server):
    content = pseudo_random_bytes(3 * (1 << 20) + 12345, seed=42)
    (server.root / "big file.bin").write_bytes(content)
    (server.root / "dir").mkdir()
    return content


def test_feat_lists_hash_with_the_default_marked(server):
    ftp = server.ftp()
    assert " HASH SHA-256*;SHA-1;MD5;CRC32" in ftp.sendcmd("FEAT").splitlines()


def test_hash_answers_the_digest_of_the_whole_file(server, data):
    ftp = server.ftp()
    resp = ftp.sendcmd("HASH big file.bin")
    assert resp == (f"213 SHA-256 0-{len(data)} {hashlib.sha256(data).hexdigest()} "
                    "big file.bin")
    for name, expected in [("SHA-1", hashlib.sha1(data).hexdigest()),
                           ("md5", hashlib.md5(data).hexdigest()),
                           ("CRC32", crc32_hex(data))]:
        assert ftp.sendcmd("OPTS HASH " + name) == "200 " + name.upper()
        resp = ftp.sendcmd("HASH big file.bin")
        assert resp.split(" ")[3] == expected, (name, resp)
    assert ftp.sendcmd("OPTS HASH") == "200 CRC32"
    assert " HASH SHA-256;SHA-1;MD5;CRC32*" in ftp.sendcmd("FEAT").splitlines()
    with pytest.raises(ftplib.error_perm) as info:
        ftp.sendcmd("OPTS HASH SHA-512")
    assert code_of(info.value) == 504
    assert ftp.sendcmd("OPTS HASH") == "200 CRC32", "a refused choice changes nothing"


def test_legacy_commands_and_ranges(server, data):
    ftp = server.ftp()
    assert ftp.sendcmd("XSHA256 big file.bin") == "250 " + hashlib.sha256(data).hexdigest()
    assert ftp.sendcmd("XSHA1 big file.bin") == "250 " + hashlib.sha1(data).hexdigest()
    assert ftp.sendcmd("XMD5 big file.bin") == "250 " + hashlib.md5(data).hexdigest()
    assert ftp.sendcmd("XCRC big file.bin") == "250 " + crc32_hex(data)
    part = data[1000:2_500_000]
    assert ftp.sendcmd('XMD5 "big file.bin" 1000 2500000') == "250 " + hashlib.md5(part).hexdigest()
    tail = data[3_000_000:]
    assert ftp.sendcmd('XCRC "big file.bin" 3000000') == "250 " + crc32_hex(tail)
    # An end past the file's end is the file's end.
    assert ftp.sendcmd('XCRC "big file.bin" 3000000 999999999') == "250 " + crc32_hex(tail)
    for bad in ['XMD5 "big file.bin" x', 'XMD5 "big file.bin', 'XMD5 "big file.bin" 5 y']:
        with pytest.raises(ftplib.error_perm) as info:
            ftp.sendcmd(bad)
        assert code_of(info.value) == 501, bad
    with pytest.raises(ftplib.error_perm) as info:
        ftp.sendcmd('XMD5 "big file.bin" 99999999')
    assert code_of(info.value) == 501


def test_what_cannot_be_hashed_is_refused_and_the_session_goes_on(server, data):
    ftp = server.ftp()
    for arg, code in [("dir", 550), ("missing.bin", 550), ("../../etc/passwd", 550)]:
        with pytest.raises(ftplib.error_perm) as info:
            ftp.sendcmd("HASH " + arg)
        assert code_of(info.value) == code, arg
    empty = server.root / "empty"
    empty.touch()
    assert ftp.sendcmd("HASH empty") == (f"213 SHA-256 0-0 {hashlib.sha256(b'').hexdigest()} "
                                         "empty")
    assert ftp.sendcmd("NOOP").startswith("200")


def test_hash_needs_a_login(server, data):
    ftp = server.ftp(user=None)
    with pytest.raises(ftplib.error_perm) as info:
        ftp.sendcmd("HASH big file.bin")
    assert code_of(info.value) == 530
