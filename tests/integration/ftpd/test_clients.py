"""curl and lftp as independent clients of muxftpd: each runs as a subprocess with a time limit,
and the server's disk (or the client's output) is checked byte for byte."""
from __future__ import annotations

import os
import shutil
import subprocess
import urllib.parse

import pytest

from ftpd_support import HOST, PASSWORD, USER, pseudo_random_bytes

CURL = shutil.which("curl")
LFTP = shutil.which("lftp")
needs_curl = pytest.mark.skipif(CURL is None, reason="curl not installed")
needs_lftp = pytest.mark.skipif(LFTP is None, reason="lftp not installed")


# --- curl -------------------------------------------------------------------------------------

def curl(*args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    """curl -v (the protocol goes to stderr, for checking which commands were used)."""
    cmd = [CURL, "-sS", "-v", "--max-time", "20", "--connect-timeout", "5", *args]
    return subprocess.run(cmd, capture_output=True, timeout=timeout)


def sent(proc: subprocess.CompletedProcess) -> list[str]:
    """The FTP commands curl -v reports having sent."""
    lines = proc.stderr.decode("utf-8", "replace").splitlines()
    return [line[2:] for line in lines if line.startswith("> ")]


def ok(proc: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")[-3000:]
    return proc


@needs_curl
def test_curl_login_and_list(server):
    (server.root / "a.txt").write_bytes(b"aaa")
    (server.root / "sub").mkdir()
    out = ok(curl(server.url() + "/")).stdout.decode()
    lines = out.splitlines()
    assert len(lines) == 2 and all(line.split()[-1] in ("a.txt", "sub") for line in lines)
    assert any(line.startswith("d") and line.endswith(" sub") for line in lines)
    names = ok(curl("--list-only", server.url() + "/")).stdout.decode().split()
    assert sorted(names) == ["a.txt", "sub"]
    assert "NLST" in sent(ok(curl("-l", server.url() + "/")))


@needs_curl
def test_curl_bad_password(server):
    proc = curl(server.url(password="wrong") + "/")
    assert proc.returncode == 67  # CURLE_LOGIN_DENIED
    assert b"530" in proc.stderr


@needs_curl
def test_curl_upload_and_download(server, tmp_path):
    data = pseudo_random_bytes(2_000_000, seed=11)
    local = tmp_path / "local.bin"
    local.write_bytes(data)
    ok(curl("-T", str(local), server.url() + "/up.bin"))
    assert (server.root / "up.bin").read_bytes() == data
    out = tmp_path / "down.bin"
    ok(curl("-o", str(out), server.url() + "/up.bin"))
    assert out.read_bytes() == data
    # Into a subdirectory created on the way.
    ok(curl("--ftp-create-dirs", "-T", str(local), server.url() + "/new/deeper/f.bin"))
    assert (server.root / "new" / "deeper" / "f.bin").read_bytes() == data


@needs_curl
def test_curl_resume_download(server, tmp_path):
    data = pseudo_random_bytes(1_000_000, seed=12)
    (server.root / "f.bin").write_bytes(data)
    partial = tmp_path / "f.bin"
    partial.write_bytes(data[:700_000])
    proc = ok(curl("-C", "-", "-o", str(partial), server.url() + "/f.bin"))
    assert "REST 700000" in sent(proc)
    assert partial.read_bytes() == data


@needs_curl
def test_curl_resume_upload(server, tmp_path):
    data = pseudo_random_bytes(1_000_000, seed=13)
    (server.root / "f.bin").write_bytes(data[:400_000])
    local = tmp_path / "f.bin"
    local.write_bytes(data)
    proc = ok(curl("-C", "-", "-T", str(local), server.url() + "/f.bin"))
    assert any(c.startswith("SIZE") for c in sent(proc))
    assert (server.root / "f.bin").read_bytes() == data


@needs_curl
def test_curl_rename_delete_mkdir(server):
    (server.root / "a.txt").write_bytes(b"content")
    base = server.url() + "/"
    ok(curl("-o", os.devnull, "-Q", "MKD made", "-Q", "RNFR a.txt", "-Q", "RNTO made/b.txt", base))
    assert (server.root / "made" / "b.txt").read_bytes() == b"content"
    assert not (server.root / "a.txt").exists()
    ok(curl("-o", os.devnull, "-Q", "DELE made/b.txt", "-Q", "RMD made", base))
    assert not (server.root / "made").exists()
    # A failing quote command makes curl fail (and reports the server's code).
    proc = curl("-o", os.devnull, "-Q", "DELE nothing-here", base)
    assert proc.returncode == 21 and b"550" in proc.stderr  # CURLE_QUOTE_ERROR


@needs_curl
def test_curl_ascii_mode(server, tmp_path):
    (server.root / "t.txt").write_bytes(b"one\ntwo\n")
    # Download: TYPE A; the wire carries CRLF, which curl turns back into local line ends.
    for args in (["--use-ascii"], []):
        url = server.url() + "/t.txt" + ("" if args else ";type=A")
        proc = ok(curl(*args, url))
        assert "TYPE A" in sent(proc)
        assert proc.stdout.replace(b"\r\n", b"\n") == b"one\ntwo\n"
    # Upload with CRLF line ends on the wire (--crlf): LF on the server's disk.
    local = tmp_path / "u.txt"
    local.write_bytes(b"x\ny\n\nz\n")
    proc = ok(curl("--use-ascii", "--crlf", "-T", str(local), server.url() + "/u.txt"))
    assert "TYPE A" in sent(proc)
    assert (server.root / "u.txt").read_bytes() == b"x\ny\n\nz\n"
    # The same CRLF bytes in binary mode are stored as they are.
    proc = ok(curl("--crlf", "-T", str(local), server.url() + "/b.txt"))
    assert "TYPE I" in sent(proc)
    assert (server.root / "b.txt").read_bytes() == b"x\r\ny\r\n\r\nz\r\n"


@needs_curl
@pytest.mark.parametrize("flags,expected", [
    ([], "EPSV"),
    (["--ftp-pasv"], "EPSV"),
    (["--disable-epsv"], "PASV"),
    (["-P", HOST], "EPRT"),
    (["-P", HOST, "--disable-eprt"], "PORT"),
])
def test_curl_data_connection_modes(server, tmp_path, flags, expected):
    data = pseudo_random_bytes(300_000, seed=14)
    (server.root / "f.bin").write_bytes(data)
    proc = ok(curl(*flags, server.url() + "/f.bin"))
    assert proc.stdout == data
    commands = sent(proc)
    assert any(c.startswith(expected) for c in commands), commands
    for other in {"EPSV", "PASV", "EPRT", "PORT"} - {expected}:
        assert not any(c.startswith(other) for c in commands), commands
    local = tmp_path / "up.bin"
    local.write_bytes(data[::-1])
    ok(curl(*flags, "-T", str(local), server.url() + "/up.bin"))
    assert (server.root / "up.bin").read_bytes() == data[::-1]
    listing = ok(curl(*flags, server.url() + "/")).stdout.decode()
    assert "f.bin" in listing and "up.bin" in listing


@needs_curl
def test_curl_utf8_names(server, tmp_path):
    name = "日本語.txt"
    local = tmp_path / "local.txt"
    local.write_bytes("中身".encode())
    url = server.url() + "/" + urllib.parse.quote(name)
    ok(curl("-T", str(local), url))
    assert (server.root / name).read_bytes() == "中身".encode()
    assert ok(curl(url)).stdout == "中身".encode()
    assert name in ok(curl("-l", server.url() + "/")).stdout.decode()


# --- lftp -------------------------------------------------------------------------------------

def lftp(server, tmp_path, script: str, user: str = USER, password: str = PASSWORD,
         settings: str = "", timeout: float = 40) -> subprocess.CompletedProcess:
    home = tmp_path / "lftp-home"
    home.mkdir(exist_ok=True)
    cmds = ("set net:max-retries 1; set net:timeout 10; set net:reconnect-interval-base 1; "
            "set ftp:ssl-allow no; set cmd:fail-exit yes; set xfer:clobber yes; "
            f"{settings} open -u {user},{password} ftp://{HOST}:{server.port}; {script}")
    env = dict(os.environ, HOME=str(home), LC_ALL="C.UTF-8", LANG="C.UTF-8")
    env.pop("http_proxy", None)
    env.pop("ftp_proxy", None)
    return subprocess.run([LFTP, "-d", "-c", cmds], capture_output=True, timeout=timeout,
                          env=env, cwd=tmp_path)


def lftp_ok(proc: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")[-3000:]
    return proc


def lftp_sent(proc: subprocess.CompletedProcess) -> list[str]:
    text = (proc.stdout + proc.stderr).decode("utf-8", "replace")
    return [line[5:] for line in text.splitlines() if line.startswith("---> ")]


@needs_lftp
def test_lftp_login_and_list(server, tmp_path):
    (server.root / "a.txt").write_bytes(b"aaa")
    (server.root / "sub").mkdir()
    proc = lftp_ok(lftp(server, tmp_path, "ls; cls -1"))
    out = proc.stdout.decode()
    assert "a.txt" in out and "sub" in out
    commands = lftp_sent(proc)
    assert "LIST" in commands and "MLSD" in commands


@needs_lftp
def test_lftp_bad_password(server, tmp_path):
    proc = lftp(server, tmp_path, "ls", password="wrong")
    assert proc.returncode != 0
    assert b"530" in proc.stdout + proc.stderr


@needs_lftp
def test_lftp_put_get(server, tmp_path):
    data = pseudo_random_bytes(1_500_000, seed=21)
    (tmp_path / "local.bin").write_bytes(data)
    lftp_ok(lftp(server, tmp_path, f"put {tmp_path}/local.bin -o remote.bin; "
                                   f"get remote.bin -o {tmp_path}/back.bin"))
    assert (server.root / "remote.bin").read_bytes() == data
    assert (tmp_path / "back.bin").read_bytes() == data


@needs_lftp
def test_lftp_get_continue(server, tmp_path):
    data = pseudo_random_bytes(1_000_000, seed=22)
    (server.root / "f.bin").write_bytes(data)
    (tmp_path / "f.bin").write_bytes(data[:333_333])
    proc = lftp_ok(lftp(server, tmp_path, f"get -c f.bin -o {tmp_path}/f.bin"))
    assert "REST 333333" in lftp_sent(proc)
    assert (tmp_path / "f.bin").read_bytes() == data


@needs_lftp
def test_lftp_put_continue(server, tmp_path):
    data = pseudo_random_bytes(1_000_000, seed=23)
    (server.root / "f.bin").write_bytes(data[:444_444])
    (tmp_path / "f.bin").write_bytes(data)
    proc = lftp_ok(lftp(server, tmp_path, f"put -c {tmp_path}/f.bin -o f.bin"))
    commands = lftp_sent(proc)
    assert any(c.startswith(("REST 444444", "APPE")) for c in commands), commands
    assert (server.root / "f.bin").read_bytes() == data


@needs_lftp
def test_lftp_mkdir_mv_rm_rmdir(server, tmp_path):
    (server.root / "a.txt").write_bytes(b"content")
    lftp_ok(lftp(server, tmp_path, "mkdir d; mv a.txt d/b.txt"))
    assert (server.root / "d" / "b.txt").read_bytes() == b"content"
    lftp_ok(lftp(server, tmp_path, "rm d/b.txt; rmdir d"))
    assert list(server.root.iterdir()) == []
    proc = lftp(server, tmp_path, "rm not-there")
    assert proc.returncode != 0


@needs_lftp
def test_lftp_ascii_mode(server, tmp_path):
    (server.root / "t.txt").write_bytes(b"one\ntwo\n")
    (tmp_path / "u.txt").write_bytes(b"x\ny\n")
    proc = lftp_ok(lftp(server, tmp_path, f"get -a t.txt -o {tmp_path}/t.txt; "
                                          f"put -a {tmp_path}/u.txt -o u.txt"))
    # A session starts in ASCII, so lftp may skip "TYPE A": follow the type it is in.
    modes, current = {}, "A"
    for c in lftp_sent(proc):
        if c.startswith("TYPE "):
            current = c[5:]
        elif c.startswith(("RETR", "STOR")):
            modes[c.split()[0]] = current
    assert modes == {"RETR": "A", "STOR": "A"}, lftp_sent(proc)
    assert b"150 Opening ASCII mode" in proc.stdout + proc.stderr
    assert (tmp_path / "t.txt").read_bytes() == b"one\ntwo\n"
    assert (server.root / "u.txt").read_bytes() == b"x\ny\n"


@needs_lftp
@pytest.mark.parametrize("settings,expected", [
    ("set ftp:passive-mode on; set ftp:prefer-epsv no;", "PASV"),
    ("set ftp:passive-mode on; set ftp:prefer-epsv yes;", "EPSV"),
    ("set ftp:passive-mode off;", ("PORT", "EPRT")),
])
def test_lftp_data_connection_modes(server, tmp_path, settings, expected):
    data = pseudo_random_bytes(400_000, seed=24)
    (server.root / "f.bin").write_bytes(data)
    (tmp_path / "u.bin").write_bytes(data[::-1])
    proc = lftp_ok(lftp(server, tmp_path, f"get f.bin -o {tmp_path}/f.bin; "
                                          f"put {tmp_path}/u.bin -o u.bin; ls",
                        settings=settings))
    assert (tmp_path / "f.bin").read_bytes() == data
    assert (server.root / "u.bin").read_bytes() == data[::-1]
    commands = lftp_sent(proc)
    assert any(c.startswith(expected) for c in commands), commands
