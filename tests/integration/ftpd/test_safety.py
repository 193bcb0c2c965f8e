"""Safety rules of muxftpd. Each test would fail if the rule it names were not enforced."""
from __future__ import annotations

import errno
import ftplib
import io
import os
import socket
import time
from pathlib import Path

import pytest

from ftpd_support import (
    BACKENDS, FOREIGN_HOST, HOST, RO_PASSWORD, RO_USER, TEMP_PREFIX, USER,
    connect_data, parse_227, pseudo_random_bytes, recv_all, rst_close, temp_files, wait_until,
)

MiB = 1024 * 1024
OLD = b"old content that must survive\n" * 1000


def code_of(e) -> int:
    return int(str(e)[:3])


def expect_code(code: int, func, *args):
    with pytest.raises(ftplib.Error) as info:
        func(*args)
    assert code_of(info.value) == code, str(info.value)


def snapshot(path: Path) -> dict[str, tuple]:
    """Names, types, contents and mtimes of a tree (symlinks not followed)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(path):
        for n in dirnames + filenames:
            p = Path(dirpath) / n
            st = p.lstat()
            content = p.read_bytes() if p.is_file() and not p.is_symlink() else None
            out[str(p.relative_to(path))] = (st.st_mode, st.st_mtime_ns, content)
    return out


# --- interrupted uploads never damage the old file --------------------------------------------

def _start_upload(srv, name: str, first: bytes):
    """STOR in progress: returns (control, data socket) after `first` reached the temporary."""
    c = srv.raw(login=True)
    assert c.cmd("TYPE I")[0] == 200
    data = c.pasv()
    assert c.cmd(f"STOR {name}")[0] == 150
    data.sendall(first)
    assert wait_until(lambda: [p.stat().st_size for p in temp_files(srv.root)] == [len(first)]
                      if temp_files(srv.root) else False, timeout=5), "no upload temporary seen"
    return c, data


def test_upload_in_progress_is_invisible_and_old_file_intact(server):
    (server.root / "f.bin").write_bytes(OLD)
    c, data = _start_upload(server, "f.bin", b"N" * 100_000)
    try:
        temps = temp_files(server.root)
        assert len(temps) == 1 and temps[0].name.startswith(TEMP_PREFIX)
        assert (server.root / "f.bin").read_bytes() == OLD  # not written in place
        other = server.ftp()
        assert other.nlst() == ["f.bin"]
        lines: list[str] = []
        other.retrlines("LIST", lines.append)
        assert len(lines) == 1 and lines[0].endswith(" f.bin")
        assert [name for name, _ in other.mlsd()] == ["f.bin"]
        assert TEMP_PREFIX not in other.sendcmd("STAT /")
        other.voidcmd("TYPE I")
        got = io.BytesIO()
        other.retrbinary("RETR f.bin", got.write)
        assert got.getvalue() == OLD
        other.quit()
        data.sendall(b"N" * 100_000)
        data.close()
        assert c.reply()[0] == 226
        assert (server.root / "f.bin").read_bytes() == b"N" * 200_000
        assert temp_files(server.root) == []
    finally:
        c.close()


def test_upload_reset_mid_transfer_keeps_old_file(server):
    (server.root / "f.bin").write_bytes(OLD)
    c, data = _start_upload(server, "f.bin", pseudo_random_bytes(MiB, seed=1))
    rst_close(data)  # the client dies: a reset, not an end of file
    code, text = c.reply(5)
    assert code in (426, 451), text
    assert (server.root / "f.bin").read_bytes() == OLD
    assert wait_until(lambda: temp_files(server.root) == [], timeout=5)
    assert c.cmd("NOOP")[0] == 200
    names: list[str] = []
    data = c.pasv()
    assert c.cmd("NLST")[0] == 150
    names = recv_all(data).decode().split()
    assert c.reply()[0] == 226
    assert names == ["f.bin"]
    c.close()


def test_upload_with_control_connection_dropped_keeps_old_file(server):
    (server.root / "f.bin").write_bytes(OLD)
    c, data = _start_upload(server, "f.bin", pseudo_random_bytes(MiB, seed=2))
    c.close()  # the client went away; the data connection is still open
    assert wait_until(lambda: temp_files(server.root) == [], timeout=5)
    assert (server.root / "f.bin").read_bytes() == OLD
    data.close()


@pytest.mark.time_limit(20)
def test_stalled_upload_times_out_and_keeps_old_file(make_server):
    srv = make_server(extra=["--data-timeout", "1"])
    (srv.root / "f.bin").write_bytes(OLD)
    c, data = _start_upload(srv, "f.bin", pseudo_random_bytes(MiB, seed=3))
    t0 = time.monotonic()
    code, text = c.reply(8)  # the client sends nothing more
    assert code == 426 and "timed out" in text.lower(), text
    assert time.monotonic() - t0 < 4
    assert (srv.root / "f.bin").read_bytes() == OLD
    assert temp_files(srv.root) == []
    data.close()
    c.close()


@pytest.mark.time_limit(20)
def test_sigterm_during_upload_removes_temporary(make_server):
    srv = make_server(extra=["--shutdown-grace", "0"])  # no time to finish: the upload is cut
    (srv.root / "f.bin").write_bytes(OLD)
    c, data = _start_upload(srv, "f.bin", pseudo_random_bytes(MiB, seed=4))
    srv.expect_exit = True
    assert srv.terminate(timeout=10) == 0
    assert (srv.root / "f.bin").read_bytes() == OLD
    assert temp_files(srv.root) == []
    data.close()
    c.close()


# --- path confinement ------------------------------------------------------------------------

@pytest.fixture
def jail(server, tmp_path):
    """root/ is served; outside/ beside it holds a secret. Links inside root point out."""
    outside = tmp_path / "outside"
    (outside / "dir").mkdir(parents=True)
    (outside / "secret.txt").write_bytes(b"TOP SECRET")
    root = server.root
    (root / "sub").mkdir()
    (root / "sub" / "inner.txt").write_bytes(b"inner")
    (root / "abs_link").symlink_to(outside)  # absolute
    (root / "rel_link").symlink_to(Path("..") / "outside")  # relative, climbs out
    (root / "file_link").symlink_to(outside / "secret.txt")
    (root / "inside_link").symlink_to("sub")  # stays inside: allowed
    return server, outside


def _no_secret(server, outside, before):
    assert snapshot(outside) == before, "something outside the root changed"


def test_dotdot_cannot_climb_out(jail):
    server, outside = jail
    before = snapshot(outside)
    ftp = server.ftp()
    assert ftp.sendcmd("CWD ../../../..").startswith("250")
    assert ftp.pwd() == "/"
    ftp.cwd("sub")
    ftp.cwd("../../../..")
    assert ftp.pwd() == "/"
    root_names = sorted(ftp.nlst())
    assert root_names == sorted(p.name for p in server.root.iterdir())
    assert sorted(ftp.nlst("../..")) == root_names
    assert sorted(ftp.nlst("sub/../../../")) == root_names
    ftp.voidcmd("TYPE I")
    sink = io.BytesIO()
    for path in ["../outside/secret.txt", "../../outside/secret.txt",
                 "sub/../../outside/secret.txt", "../../../../../../../../etc/passwd",
                 "..\\outside\\secret.txt"]:
        expect_code(550, ftp.retrbinary, f"RETR {path}", sink.write)
        expect_code(550, ftp.sendcmd, f"SIZE {path}")
    assert sink.getvalue() == b""
    expect_code(550, ftp.storbinary, "STOR ../outside/new.txt", io.BytesIO(b"x"))
    expect_code(550, ftp.mkd, "../outside/newdir")
    expect_code(550, ftp.delete, "../outside/secret.txt")
    ftp.sendcmd("RNFR sub/inner.txt")
    expect_code(550, ftp.sendcmd, "RNTO ../outside/stolen.txt")
    _no_secret(server, outside, before)


def test_absolute_real_paths_are_virtual(jail):
    server, outside = jail
    before = snapshot(outside)
    ftp = server.ftp()
    ftp.voidcmd("TYPE I")
    real = str(outside / "secret.txt")
    expect_code(550, ftp.retrbinary, f"RETR {real}", lambda b: None)
    expect_code(550, ftp.cwd, str(outside))
    expect_code(550, ftp.cwd, "/etc")
    expect_code(550, ftp.nlst, str(outside))
    expect_code(550, ftp.storbinary, f"STOR {outside}/new.txt", io.BytesIO(b"x"))
    expect_code(550, ftp.sendcmd, f"MDTM {real}")
    assert ftp.pwd() == "/"
    _no_secret(server, outside, before)


@pytest.mark.parametrize("link", ["abs_link", "rel_link"])
def test_directory_symlink_pointing_outside(jail, link):
    server, outside = jail
    before = snapshot(outside)
    ftp = server.ftp()
    ftp.voidcmd("TYPE I")
    secret = f"{link}/secret.txt"
    expect_code(550, ftp.cwd, link)
    expect_code(550, ftp.retrbinary, f"RETR {secret}", lambda b: None)
    for cmd in ["LIST", "NLST", "MLSD"]:
        expect_code(550, ftp.retrlines, f"{cmd} {link}", lambda line: None)
    expect_code(550, ftp.retrlines, f"LIST {secret}", lambda line: None)
    expect_code(550, ftp.sendcmd, f"STAT {link}")
    for cmd in ["SIZE", "MDTM", "MLST", "DELE", "RNFR"]:
        expect_code(550, ftp.sendcmd, f"{cmd} {secret}")
    expect_code(550, ftp.sendcmd, f"MFMT 20000101000000 {secret}")
    expect_code(550, ftp.storbinary, f"STOR {link}/new.txt", io.BytesIO(b"x"))
    expect_code(550, ftp.storbinary, f"APPE {secret}", io.BytesIO(b"x"))
    expect_code(550, ftp.storbinary, f"STOR {secret}", io.BytesIO(b"x"))
    expect_code(550, ftp.mkd, f"{link}/newdir")
    expect_code(550, ftp.rmd, f"{link}/dir")
    ftp.sendcmd("RNFR sub/inner.txt")
    expect_code(550, ftp.sendcmd, f"RNTO {link}/moved.txt")
    _no_secret(server, outside, before)
    assert (server.root / "sub" / "inner.txt").exists()


def test_file_symlink_pointing_outside(jail):
    server, outside = jail
    before = snapshot(outside)
    ftp = server.ftp()
    ftp.voidcmd("TYPE I")
    expect_code(550, ftp.retrbinary, "RETR file_link", lambda b: None)
    expect_code(550, ftp.sendcmd, "SIZE file_link")
    expect_code(550, ftp.storbinary, "APPE file_link", io.BytesIO(b"appended"))
    expect_code(550, ftp.storbinary, "STOR file_link", io.BytesIO(b"resumed"), 8192, None, 3)
    _no_secret(server, outside, before)
    # A plain STOR replaces the link itself (rename over it), never the file it points to.
    ftp.storbinary("STOR file_link", io.BytesIO(b"new regular file"))
    assert not (server.root / "file_link").is_symlink()
    assert (server.root / "file_link").read_bytes() == b"new regular file"
    _no_secret(server, outside, before)
    # DELE of a link removes the link only.
    (server.root / "link2").symlink_to(outside / "secret.txt")
    ftp.delete("link2")
    assert not os.path.lexists(server.root / "link2")
    _no_secret(server, outside, before)


def test_symlink_inside_root_is_followed(jail):
    server, _ = jail
    ftp = server.ftp()
    ftp.voidcmd("TYPE I")
    got = io.BytesIO()
    ftp.retrbinary("RETR inside_link/inner.txt", got.write)
    assert got.getvalue() == b"inner"
    ftp.cwd("inside_link")
    assert ftp.pwd() == "/inside_link"


def test_listings_show_links_but_not_their_targets(jail, tmp_path):
    server, outside = jail
    ftp = server.ftp()
    lines: list[str] = []
    ftp.retrlines("LIST", lines.append)
    links = {line.split()[-1]: line for line in lines if line.startswith("l")}
    assert set(links) == {"abs_link", "rel_link", "file_link", "inside_link"}
    mlsd = dict(ftp.mlsd())
    assert mlsd["abs_link"]["type"] == "OS.unix=symlink"
    text = "\n".join(lines) + repr(mlsd) + ftp.sendcmd("STAT /")
    for leak in [str(tmp_path), "outside", "->"]:
        assert leak not in text


def test_nul_bytes_in_paths_refused(server):
    (server.root / "a").write_bytes(b"a")
    before = sorted(os.listdir(server.root))
    with server.raw(login=True) as c:
        for line in [b"MKD x\x00y", b"CWD \x00", b"DELE a\x00", b"RNFR a\x00b",
                     b"SIZE a\x00/../../etc/passwd"]:
            code, text = c.cmd(line)
            assert code in (500, 501, 550, 553), (line, text)
        data = c.pasv()
        code, _ = c.cmd(b"STOR evil\x00name")
        assert code in (500, 501, 550, 553)
        data.close()
        assert c.cmd("NOOP")[0] == 200
    assert sorted(os.listdir(server.root)) == before


def test_overlong_component_refused(server):
    ftp = server.ftp()
    long = "n" * 300
    for cmd in ["MKD", "CWD", "DELE", "RNFR", "SIZE", "MDTM", "RMD", "MLST"]:
        expect_code(553, ftp.sendcmd, f"{cmd} {long}")
    expect_code(553, ftp.sendcmd, f"MKD ok/{long}/x")
    ftp.voidcmd("TYPE I")
    expect_code(553, ftp.storbinary, f"STOR {long}", io.BytesIO(b"x"))
    expect_code(553, ftp.retrbinary, f"RETR {long}", lambda b: None)
    assert list(server.root.iterdir()) == []
    # 255 bytes (NAME_MAX) is still a valid name.
    assert ftp.mkd("m" * 255) == "/" + "m" * 255


def test_overlong_path_refused(server):
    # A tree deeper than PATH_MAX on disk, made with relative operations.
    names = [f"{i:02d}" + "d" * 198 for i in range(25)]  # 25 * 201 bytes > 5000
    fd = os.open(server.root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for n in names:
            os.mkdir(n, dir_fd=fd)
            nfd = os.open(n, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = nfd
    finally:
        os.close(fd)
    ftp = server.ftp()
    depth = 0
    for n in names:
        try:
            ftp.cwd(n)
        except ftplib.error_perm as e:
            assert code_of(e) == 553, str(e)
            break
        depth += 1
    assert depth == 20, depth  # 20 * 201 = 4020 bytes; one more is past the 4096 limit
    assert len(ftp.pwd()) == 4020
    expect_code(553, ftp.mkd, "x" * 100)
    expect_code(553, ftp.sendcmd, "SIZE " + "y" * 100)
    # An absolute path of 5000 bytes does not even fit in a command line (limit 4096).
    with server.raw(login=True) as c:
        code, _ = c.cmd("CWD /" + "/".join(names))
        assert code in (500, 553)
        assert c.cmd("NOOP")[0] == 200


# --- data connections only with the client, never elsewhere ------------------------------------

def test_port_and_eprt_to_other_host_or_low_port_refused(server):
    (server.root / "f").write_bytes(b"payload")
    victim = socket.socket()
    victim.bind((FOREIGN_HOST, 0))
    victim.listen(4)
    victim.settimeout(0.5)
    vport = victim.getsockname()[1]
    try:
        with server.raw(login=True) as c:
            port_arg = "127,0,0,2,%d,%d" % (vport >> 8, vport & 255)
            assert c.cmd(f"PORT {port_arg}")[0] == 500
            assert c.cmd("RETR f")[0] == 425  # the refused PORT left no data set-up
            assert c.cmd(f"EPRT |1|{FOREIGN_HOST}|{vport}|")[0] == 500
            assert c.cmd("RETR f")[0] == 425
            assert c.cmd("PORT 127,0,0,1,0,21")[0] == 500  # port 21 < 1024
            assert c.cmd("PORT 127,0,0,1,3,255")[0] == 500  # port 1023
            assert c.cmd(f"EPRT |1|{HOST}|1023|")[0] == 500
            assert c.cmd("PORT 10,0,0,1,100,100")[0] == 500
            assert c.cmd("PORT 127,0,0,1,4,0")[0] == 200  # 1024 and our own address: fine
            assert c.cmd(f"EPRT |1|{HOST}|1024|")[0] == 200
        with pytest.raises(socket.timeout):
            victim.accept()  # nothing ever connected to the other host
    finally:
        victim.close()


@pytest.mark.time_limit(20)
def test_passive_connection_from_other_host_refused(make_server):
    srv = make_server(extra=["--data-timeout", "1"])
    (srv.root / "f").write_bytes(b"secret payload")
    with srv.raw(login=True) as c:
        code, text = c.cmd("PASV")
        assert code == 227
        _, port = parse_227(text)
        intruder = connect_data(port, source=FOREIGN_HOST)
        c.send(b"RETR f\r\n")
        t0 = time.monotonic()
        code, text = c.reply(6)
        assert code == 425, text
        assert time.monotonic() - t0 < 4
        # The intruder's connection was closed without a byte of the file.
        try:
            assert recv_all(intruder, timeout=3) == b""
        except ConnectionError:
            pass
        intruder.close()
        assert c.cmd("NOOP")[0] == 200


def test_passive_intruder_does_not_steal_the_transfer(server):
    data = pseudo_random_bytes(200_000, seed=9)
    (server.root / "f").write_bytes(data)
    with server.raw(login=True) as c:
        assert c.cmd("TYPE I")[0] == 200
        code, text = c.cmd("PASV")
        _, port = parse_227(text)
        intruder = connect_data(port, source=FOREIGN_HOST)
        time.sleep(0.05)
        legit = connect_data(port)
        assert c.cmd("RETR f")[0] == 150
        assert recv_all(legit) == data
        assert c.reply()[0] == 226
        try:
            assert recv_all(intruder, timeout=3) == b""
        except ConnectionError:
            pass
        intruder.close()
        legit.close()


# --- timeouts --------------------------------------------------------------------------------

@pytest.mark.time_limit(20)
def test_idle_timeout(make_server):
    srv = make_server(extra=["--idle-timeout", "1"])
    with srv.raw(login=True) as c:
        for _ in range(4):  # activity keeps the session alive past the timeout
            time.sleep(0.4)
            assert c.cmd("NOOP")[0] == 200
        t0 = time.monotonic()
        code, text = c.reply(5)
        assert code == 421, text
        assert 0.5 < time.monotonic() - t0 < 4
        assert c.closed_by_server(3)


@pytest.mark.time_limit(20)
def test_idle_timeout_does_not_cut_a_running_transfer(make_server):
    srv = make_server(extra=["--idle-timeout", "1"])
    data = pseudo_random_bytes(6 * MiB, seed=10)
    (srv.root / "big").write_bytes(data)
    with srv.raw(login=True) as c:
        assert c.cmd("TYPE I")[0] == 200
        sock = c.pasv(rcvbuf=32 * 1024)
        assert c.cmd("RETR big")[0] == 150
        got = bytearray()
        t0 = time.monotonic()
        sock.settimeout(5)
        while len(got) < len(data) and time.monotonic() - t0 < 15:
            chunk = sock.recv(64 * 1024)
            if not chunk:
                break
            got += chunk
            if time.monotonic() - t0 < 2.5:
                time.sleep(0.03)  # slowly for 2.5 s, then at full speed
        sock.close()
        assert time.monotonic() - t0 > 2.0
        assert bytes(got) == data
        assert c.reply(5)[0] == 226
        assert c.reply(5)[0] == 421  # and the idle timeout applies again afterwards


@pytest.mark.time_limit(20)
def test_data_connection_setup_timeout(make_server):
    srv = make_server(extra=["--data-timeout", "1"])
    (srv.root / "f").write_bytes(b"x")
    with srv.raw(login=True) as c:
        c.cmd("PASV")
        t0 = time.monotonic()
        c.send(b"RETR f\r\n")  # and never connect
        code, text = c.reply(6)
        assert code == 425, text
        assert time.monotonic() - t0 < 4
        c.cmd("EPSV")
        c.send(b"STOR new\r\n")
        assert c.reply(6)[0] == 425
        # The temporary goes right after the reply (the 425 is sent first).
        assert wait_until(lambda: temp_files(srv.root) == [], timeout=3)
        assert not (srv.root / "new").exists()
        # Active mode towards a port where nobody listens.
        s = socket.socket()
        s.bind((HOST, 0))
        closed_port = s.getsockname()[1]
        s.close()
        assert c.cmd("PORT 127,0,0,1,%d,%d" % (closed_port >> 8, closed_port & 255))[0] == 200
        c.send(b"RETR f\r\n")
        assert c.reply(6)[0] == 425
        assert c.cmd("NOOP")[0] == 200


@pytest.mark.time_limit(20)
def test_stalled_download_times_out(make_server):
    srv = make_server(extra=["--data-timeout", "1"])
    (srv.root / "big").write_bytes(pseudo_random_bytes(32 * MiB, seed=11))
    with srv.raw(login=True) as c:
        assert c.cmd("TYPE I")[0] == 200
        sock = c.pasv(rcvbuf=32 * 1024)
        assert c.cmd("RETR big")[0] == 150
        t0 = time.monotonic()
        code, text = c.reply(10)  # the client never reads
        assert code == 426 and "timed out" in text.lower(), text
        assert time.monotonic() - t0 < 6
        sock.close()
        assert c.cmd("NOOP")[0] == 200


# --- command line length ----------------------------------------------------------------------

def test_overlong_command_line(server):
    with server.raw(login=True) as c:
        c.send(b"X" * 10_000 + b"\r\n")
        code, text = c.reply()
        assert code == 500 and "too long" in text.lower()
        assert c.cmd("NOOP")[0] == 200  # exactly one reply for the long line, then normal
        # The limit is 4096 bytes of text: exactly that passes, one more does not.
        assert c.cmd("NOOP " + "a" * 4091)[0] == 200
        assert c.cmd("NOOP " + "a" * 4092)[0] == 500
        assert c.cmd("PWD")[0] == 257


@pytest.mark.time_limit(40)
def test_endless_line_keeps_memory_bounded(server):
    other = server.raw(login=True)
    flood = server.raw(login=True)
    try:
        rss_before = server.rss_kib()
        chunk = b"G" * 65536
        sent = 0
        t0 = time.monotonic()
        while sent < 5 * MiB and time.monotonic() - t0 < 20:
            flood.sock.settimeout(10)
            flood.sock.sendall(chunk)
            sent += len(chunk)
            if sent % MiB == 0:
                assert other.cmd("NOOP", timeout=2)[0] == 200
        assert sent >= 5 * MiB
        assert other.cmd("NOOP", timeout=2)[0] == 200
        assert server.alive()
        growth = server.rss_kib() - rss_before
        assert growth < 16 * 1024, f"server grew by {growth} KiB while buffering one line"
        flood.send(b"\r\nNOOP\r\n")
        assert flood.reply(5)[0] == 500  # the line was too long (reported once)
        assert flood.reply(5)[0] == 200  # and the session goes on
    finally:
        other.close()
        flood.close()


# --- transfer log -----------------------------------------------------------------------------

def _xferlog_fields(line: str) -> dict:
    parts = line.split()
    # weekday month day time year | seconds host bytes path type _ direction r user ftp 0 * c/i
    tail = parts[-9:]
    return {"seconds": parts[5], "host": parts[6], "bytes": int(parts[7]),
            "path": " ".join(parts[8:-9]), "type": tail[0], "direction": tail[2],
            "access": tail[3], "user": tail[4], "service": tail[5], "status": tail[8]}


@pytest.mark.time_limit(30)
def test_xferlog(make_server, tmp_path):
    log = tmp_path / "xfer.log"
    srv = make_server(extra=["--xferlog", str(log)])
    (srv.root / "down.bin").write_bytes(b"D" * 5000)
    (srv.root / "text.txt").write_bytes(b"a\nb\n")
    (srv.root / "big").write_bytes(pseudo_random_bytes(24 * MiB, seed=12))
    ftp = srv.ftp()
    ftp.voidcmd("TYPE I")
    ftp.storbinary("STOR up.bin", io.BytesIO(b"U" * 1234))
    ftp.retrbinary("RETR down.bin", lambda b: None)
    ftp.retrlines("RETR text.txt", lambda line: None)  # ASCII
    ftp.retrlines("LIST", lambda line: None)  # a listing is not a file transfer
    ftp.quit()
    ro = srv.ftp(RO_USER, RO_PASSWORD)
    ro.retrbinary("RETR down.bin", lambda b: None, rest=1000)
    ro.quit()
    with srv.raw(login=True) as c:  # an aborted download
        assert c.cmd("TYPE I")[0] == 200
        sock = c.pasv(rcvbuf=32 * 1024)
        assert c.cmd("RETR big")[0] == 150
        sock.recv(1024)
        c.send(b"ABOR\r\n")
        assert c.reply(5)[0] == 426 and c.reply(5)[0] == 226
        sock.close()
    assert wait_until(lambda: log.exists() and len(log.read_text().splitlines()) >= 5, 5)
    entries = [_xferlog_fields(line) for line in log.read_text().splitlines()]
    assert len(entries) == 5, entries
    up, down, text, ro_down, aborted = entries
    assert (up["direction"], up["bytes"], up["path"], up["user"], up["status"], up["type"]) == \
        ("i", 1234, "/up.bin", USER, "c", "b")
    assert (down["direction"], down["bytes"], down["path"], down["status"]) == \
        ("o", 5000, "/down.bin", "c")
    assert (text["type"], text["path"], text["status"]) == ("a", "/text.txt", "c")
    assert text["bytes"] == 4  # bytes read from the file
    assert (ro_down["user"], ro_down["bytes"], ro_down["status"]) == (RO_USER, 4000, "c")
    assert (aborted["direction"], aborted["path"], aborted["status"]) == ("o", "/big", "i")
    assert 0 < aborted["bytes"] < 24 * MiB
    for e in entries:
        assert e["host"] == HOST and e["access"] == "r" and e["service"] == "ftp"
        assert int(e["seconds"]) >= 1


# --- permissions ------------------------------------------------------------------------------

def test_read_only_user(server):
    (server.root / "f.txt").write_bytes(b"readable")
    (server.root / "d").mkdir()
    before = snapshot(server.root)
    ftp = server.ftp(RO_USER, RO_PASSWORD)
    ftp.voidcmd("TYPE I")
    for cmd in ["STOR new.txt", "STOR f.txt", "APPE f.txt", "STOU"]:
        expect_code(550, ftp.storbinary, cmd, io.BytesIO(b"x"))
    for cmd in ["DELE f.txt", "MKD newdir", "RMD d", "RNFR f.txt",
                "MFMT 20000101000000 f.txt"]:
        expect_code(550, ftp.sendcmd, cmd)
    assert snapshot(server.root) == before
    # Reading is allowed.
    assert sorted(ftp.nlst()) == ["d", "f.txt"]
    lines: list[str] = []
    ftp.retrlines("LIST", lines.append)
    assert len(lines) == 2
    assert dict(ftp.mlsd())["f.txt"]["size"] == "8"
    got = io.BytesIO()
    ftp.retrbinary("RETR f.txt", got.write)
    assert got.getvalue() == b"readable"
    assert ftp.size("f.txt") == 8
    ftp.cwd("d")
    assert ftp.pwd() == "/d"


@pytest.mark.parametrize("missing,action", [
    ("l", "list"), ("r", "read"), ("w", "write"), ("d", "delete"), ("n", "rename"),
    ("m", "mkdir"),
])
def test_each_permission_letter_is_enforced(make_server, missing, action):
    perms = "lrwdnm".replace(missing, "")
    srv = make_server(users=[f"u:pw:{perms}"])
    (srv.root / "f.txt").write_bytes(b"file")
    (srv.root / "d").mkdir()
    ftp = srv.ftp("u", "pw")
    ftp.voidcmd("TYPE I")
    attempts = {
        "list": lambda: ftp.nlst(),
        "read": lambda: ftp.retrbinary("RETR f.txt", lambda b: None),
        "write": lambda: ftp.storbinary("STOR g.txt", io.BytesIO(b"x")),
        "delete": lambda: ftp.delete("f.txt"),
        "rename": lambda: ftp.sendcmd("RNFR f.txt"),
        "mkdir": lambda: ftp.mkd("e"),
    }
    before = snapshot(srv.root)
    expect_code(550, attempts.pop(action))
    assert snapshot(srv.root) == before
    for name, attempt in attempts.items():  # everything else is allowed
        if name == "delete":
            continue  # would remove the file the others use
        attempt()


# --- regressions: server bugs this suite found ------------------------------------------------

@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.time_limit(20)
def test_upload_whose_last_segment_carries_fin(make_server, backend):
    srv = make_server(io=backend)
    with srv.raw(login=True) as c:
        assert c.cmd("TYPE I")[0] == 200
        data = c.pasv()
        assert c.cmd("STOR f.bin")[0] == 150
        time.sleep(0.1)  # the server now waits for data
        # Corked: the payload and the FIN leave in one segment (as a busy client's often do).
        data.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
        data.sendall(b"z" * 1000)
        data.shutdown(socket.SHUT_WR)
        try:
            code, text = c.reply(3)
        finally:
            data.close()
        assert code == 226, text
    assert (srv.root / "f.bin").read_bytes() == b"z" * 1000


def _unblock_fifo(path: Path) -> None:
    """Opens the FIFO for writing and closes it, releasing a reader blocked in open()."""
    for _ in range(100):
        try:
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as e:
            if e.errno != errno.ENXIO:  # ENXIO: no reader yet
                raise
            time.sleep(0.05)
            continue
        os.close(fd)
        return


@pytest.mark.time_limit(20)
def test_retr_of_a_fifo_does_not_hang(server):
    fifo = server.root / "fifo"
    os.mkfifo(fifo)
    try:
        with server.raw(login=True) as c:
            c.cmd("PASV")
            c.send(b"RETR fifo\r\n")
            code, text = c.reply(3)
            assert code == 550, text
    finally:
        _unblock_fifo(fifo)


# --- names of the server's own ----------------------------------------------------------------

def test_upload_temporary_prefix_is_refused_to_clients(make_server):
    """Names that begin with the temporaries' prefix are the server's: a directory or file made
    under one would be hidden from listings and the quota walk, and the start-up sweep would
    delete such a file. Every way to make, reach or rename one is refused with 553."""
    srv = make_server(extra=["--quota-bytes", "1M"])
    (srv.root / "plain.txt").write_bytes(b"plain")
    before = sorted(p.relative_to(srv.root) for p in srv.root.rglob("*"))
    hidden = TEMP_PREFIX + "x"
    with srv.raw(login=True) as c:
        assert c.cmd("TYPE I")[0] == 200
        assert c.cmd(f"MKD {hidden}")[0] == 553
        assert c.cmd(f"MKD sub/{hidden}")[0] == 553
        for verb in ("STOR", "APPE"):
            for name in (TEMP_PREFIX + "notes", f"{hidden}/f"):
                data = c.pasv()
                code, text = c.cmd(f"{verb} {name}")
                data.close()
                assert code == 553, (verb, name, text)
        assert c.cmd(f"CWD {hidden}")[0] == 553
        assert c.cmd(f"RETR {TEMP_PREFIX}notes")[0] == 553
        assert c.cmd("RNFR plain.txt")[0] == 350
        assert c.cmd(f"RNTO {TEMP_PREFIX}notes")[0] == 553
        assert c.cmd(f"DELE {TEMP_PREFIX}notes")[0] == 553
        assert c.cmd("NOOP")[0] == 200
    after = sorted(p.relative_to(srv.root) for p in srv.root.rglob("*"))
    assert after == before, "nothing made, renamed or removed"
    assert (srv.root / "plain.txt").read_bytes() == b"plain"


# --- listings that are never read -------------------------------------------------------------

@pytest.mark.time_limit(40)
def test_stalled_listing_times_out(make_server):
    """A client that opens a listing of a big directory and never reads it: the idle timeout
    does not run during a transfer, so the data timeout must cut the listing, as it cuts a
    download."""
    srv = make_server(extra=["--data-timeout", "1"])
    big = srv.root / "big"
    big.mkdir()
    for i in range(20000):  # LIST text of several MB: more than the sockets' buffers hold
        (big / (f"{i:06d}-" + "n" * 150)).touch()
    with srv.raw(login=True) as c:
        sock = c.pasv(rcvbuf=4096)
        assert c.cmd("LIST big")[0] == 150
        code, text = c.reply(20)  # the client never reads
        assert code == 426, text
        sock.close()
        assert c.cmd("NOOP")[0] == 200
        # A listing read normally still works.
        data = c.pasv()
        assert c.cmd("NLST big")[0] == 150
        names = recv_all(data).decode().split("\r\n")
        assert c.reply()[0] == 226
        assert len([n for n in names if n]) == 20000
