"""The PROXY protocol (v1 and v2) on muxftpd's listeners, spoken by raw sockets: the header
names the client, which every check then applies to; bad, untrusted, slow and split headers."""
from __future__ import annotations

import time

import pytest

from ftpd_support import HOST, connect_data, parse_227, wait_until
from proxy_support import ProxiedControl, list_over, start_fails, v1, v2, v2_local, write_config

TRUSTED = "127.0.0.1/32"


@pytest.fixture
def proxied(make_server, tmp_path):
    def start(mode: str = "required", extra_toml: str = "", **options):
        config = write_config(tmp_path / "proxy.toml",
                              f'proxy_protocol = "{mode}"\n'
                              f'proxy_trusted_networks = ["{TRUSTED}"]\n'
                              f'proxy_header_timeout = 2\n{extra_toml}')
        return make_server(extra=["--config", str(config)] + options.pop("extra", []),
                           **options)
    return start


def client_of(c: ProxiedControl) -> str:
    """The client address the server sees, from STAT."""
    code, text = c.cmd("STAT")
    assert code == 211, text
    for line in text.splitlines():
        if "Connected to" in line:
            return line.split("Connected to")[1].strip()
    raise AssertionError(text)


@pytest.mark.parametrize("version", [1, 2])
def test_header_names_the_client(proxied, tmp_path, version):
    xferlog = tmp_path / "xferlog"
    srv = proxied(extra=["--xferlog", str(xferlog)])
    (srv.root / "f.txt").write_bytes(b"hello")
    make = v1 if version == 1 else v2
    with ProxiedControl(srv.port, srv.transcript, make("127.0.0.2", HOST, 40000, srv.port)) as c:
        assert c.reply()[0] == 220
        c.login()
        assert client_of(c) == "127.0.0.2"
        # The passive peer check is about the client named by the header: a data connection
        # from 127.0.0.2 is taken, one from the balancer's 127.0.0.1 is not.
        code, text = c.cmd("PASV")
        assert code == 227, text
        _, port = parse_227(text)
        stranger = connect_data(port)
        list_over(c, connect_data(port, source="127.0.0.2"), b"LIST")
        stranger.settimeout(5)
        assert stranger.recv(10) == b""  # closed by the server
        stranger.close()
        code, text = c.cmd("PASV")
        data = connect_data(parse_227(text)[1], source="127.0.0.2")
        c.send(b"RETR f.txt\r\n")
        assert c.reply()[0] == 150
        assert data.recv(100) == b"hello"
        data.close()
        assert c.reply()[0] == 226
        # PORT/EPRT must name the client's address, not the balancer's.
        assert c.cmd("PORT 127,0,0,1,200,10")[0] != 200
        assert c.cmd("PORT 127,0,0,2,200,10")[0] == 200
    assert "refused passive data connection from 127.0.0.1" in srv.stderr_text()
    assert "127.0.0.2" in srv.stderr_text()  # the session log names the client
    assert wait_until(lambda: xferlog.exists() and "f.txt" in xferlog.read_text())
    assert " 127.0.0.2 " in xferlog.read_text()


def test_v2_with_tlvs_and_local(proxied):
    srv = proxied()
    tlv = b"\x04\x00\x03abc"  # PP2_TYPE_NOOP
    with ProxiedControl(srv.port, srv.transcript,
                        v2("127.0.0.3", HOST, 1234, srv.port, tlv)) as c:
        assert c.reply()[0] == 220
        c.login()
        assert client_of(c) == "127.0.0.3"
    # LOCAL (the balancer's own health check): the connection's own address stands.
    with ProxiedControl(srv.port, srv.transcript, v2_local()) as c:
        assert c.reply()[0] == 220
        c.login()
        assert client_of(c) == "127.0.0.1"
    with ProxiedControl(srv.port, srv.transcript, b"PROXY UNKNOWN\r\n") as c:
        assert c.reply()[0] == 220


@pytest.mark.parametrize("garbage", [
    b"GET / HTTP/1.0\r\n\r\n",
    b"PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n",
    b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n",
    b"PROXY UNKNOWN " + b"x" * 120 + b"\r\n",
    b"\r\n\r\n\x00\r\nQUIT\n\x21\x11\xff\xff" + b"\x00" * 64,
    b"USER alice\r\n",
])
def test_garbage_closes_without_banner(proxied, garbage):
    srv = proxied()
    with ProxiedControl(srv.port, srv.transcript, garbage) as c:
        assert c.closed_by_server(5)
        assert c.buf == b""
    assert srv.alive()


def test_untrusted_source_is_closed(proxied):
    srv = proxied()
    # 127.0.0.3 is not a trusted balancer: its header is a protocol error.
    with ProxiedControl(srv.port, srv.transcript, v1("10.9.9.9", HOST, 1, srv.port),
                        source="127.0.0.3") as c:
        assert c.closed_by_server(5)
        assert c.buf == b""
    assert "untrusted" in srv.stderr_text()


def test_header_split_across_packets(proxied):
    srv = proxied()
    header = v2("127.0.0.2", HOST, 5555, srv.port)
    pieces = [header[:5], header[5:14], header[14:20], header[20:]]
    with ProxiedControl(srv.port, srv.transcript, pieces=pieces, pause=0.15) as c:
        assert c.reply()[0] == 220
        c.login()
        assert client_of(c) == "127.0.0.2"
    line = v1("127.0.0.3", HOST, 5555, srv.port)
    with ProxiedControl(srv.port, srv.transcript, pieces=[line[:7], line[7:30], line[30:]],
                        pause=0.15) as c:
        assert c.reply()[0] == 220
        c.login()
        assert client_of(c) == "127.0.0.3"


def test_slow_or_missing_header_times_out(proxied):
    srv = proxied()
    for first in [b"", b"PROXY TCP4 127.0.0.2"]:
        start = time.monotonic()
        with ProxiedControl(srv.port, srv.transcript, first) as c:
            assert c.closed_by_server(6)
            assert c.buf == b""
        assert 1.5 < time.monotonic() - start < 5
    assert srv.alive()


def test_optional_mode(proxied):
    srv = proxied("optional")
    with ProxiedControl(srv.port, srv.transcript, v1("127.0.0.2", HOST, 1, srv.port)) as c:
        assert c.reply()[0] == 220
        c.login()
        assert client_of(c) == "127.0.0.2"
    # No header: the banner after the header timeout, and the connection's own address.
    with ProxiedControl(srv.port, srv.transcript, None) as c:
        assert c.reply(timeout=5)[0] == 220
        c.login()
        assert client_of(c) == "127.0.0.1"
    # An untrusted client without a header is served at once.
    with ProxiedControl(srv.port, srv.transcript, None, source="127.0.0.3") as c:
        assert c.reply(timeout=1)[0] == 220


def test_per_ip_limits_and_bans_apply_to_the_real_client(proxied):
    srv = proxied(extra_toml="max_sessions_per_ip = 1\nmax_login_failures = 2\n"
                             "ban_seconds = 60\n")
    first = ProxiedControl(srv.port, srv.transcript, v1("127.0.0.2", HOST, 1, srv.port))
    assert first.reply()[0] == 220
    # The same client through the balancer: over its limit; another client is not.
    with ProxiedControl(srv.port, srv.transcript, v1("127.0.0.2", HOST, 2, srv.port)) as c:
        assert c.reply()[0] == 421
    with ProxiedControl(srv.port, srv.transcript, v1("127.0.0.3", HOST, 3, srv.port)) as c:
        assert c.reply()[0] == 220
        c.expect("USER alice", 331)
        c.cmd("PASS wrong")
        c.expect("USER alice", 331)
        c.cmd("PASS wrong")
    first.close()
    # 127.0.0.3 is banned; 127.0.0.2 (behind the same balancer address) is not.
    time.sleep(0.3)
    with ProxiedControl(srv.port, srv.transcript, v1("127.0.0.3", HOST, 4, srv.port)) as c:
        code, text = c.reply()
        assert code == 421, text
    with ProxiedControl(srv.port, srv.transcript, v1("127.0.0.2", HOST, 5, srv.port)) as c:
        assert c.reply()[0] == 220
        c.login()


def test_bad_keys_are_refused_at_start(tmp_path):
    err = start_fails(tmp_path, 'proxy_protocol = "required"\n')
    assert "proxy_trusted_networks" in err
    err = start_fails(tmp_path, 'proxy_protocol = "sometimes"\n')
    assert "proxy_protocol" in err
    err = start_fails(tmp_path, 'proxy_protocol = "required"\n'
                                'proxy_trusted_networks = ["127.0.0.1/8"]\n')
    assert "proxy_trusted_networks" in err and "127.0.0.1/8" in err
    err = start_fails(tmp_path, '[proxy_protocol]\n"10.0.0.1:21" = "required"\n')
    assert "proxy_protocol" in err and "10.0.0.1:21" in err
    err = start_fails(tmp_path, 'proxy_header_timeout = 0\n')
    assert "proxy_header_timeout" in err


def test_per_listener_mode(make_server, tmp_path):
    # Keys after a [table] belong to it: the plain keys come first.
    config = write_config(tmp_path / "p.toml", 'proxy_trusted_networks = "127.0.0.1"\n'
                          '[proxy_protocol]\n"127.0.0.1:0" = "required"\n')
    srv = make_server(extra=["--config", str(config)])
    with ProxiedControl(srv.port, srv.transcript, v1("127.0.0.2", HOST, 1, srv.port)) as c:
        assert c.reply()[0] == 220
        c.login()
        assert client_of(c) == "127.0.0.2"
