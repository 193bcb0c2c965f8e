"""Passive addressing behind NAT: passive_address (an IP or a name), overrides per client
network, passive_port_offset for port-mapping NAT, passive_trusted_networks, and PASV for an
IPv6 client."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess

import pytest

from ftpd_support import (MUXFTPD, PASSWORD, USER, RawControl, connect_data, parse_227,
                          parse_229, wait_until)
from proxy_support import (finish_listing, free_port_range, list_over, start_fails,
                           write_config)


def configured(make_server, tmp_path, text: str, **options):
    config = write_config(tmp_path / "passive.toml", text)
    return make_server(extra=["--config", str(config)] + options.pop("extra", []), **options)


def login(c: RawControl) -> None:
    assert c.reply()[0] == 220
    c.login()


def pasv(c: RawControl) -> tuple[str, int]:
    code, text = c.cmd("PASV")
    assert code == 227, text
    return parse_227(text)


def test_passive_address_and_overrides(make_server, tmp_path):
    srv = configured(make_server, tmp_path,
                     'passive_address = "192.0.2.10"\n'
                     'passive_address_overrides = [\n'
                     '  { network = "127.0.0.2/32", address = "127.0.0.1" },\n'
                     '  { network = "10.0.0.0/8", address = "10.0.0.5" },\n'
                     ']\n')
    with RawControl(srv.port, srv.transcript) as c:  # from 127.0.0.1: the public address
        login(c)
        assert pasv(c)[0] == "192.0.2.10"
    with RawControl(srv.port, srv.transcript, source="127.0.0.2") as c:  # the internal one
        login(c)
        host, port = pasv(c)
        assert host == "127.0.0.1"
        list_over(c, connect_data(port, source="127.0.0.2"))
        # EPSV carries no address: unchanged.
        code, text = c.cmd("EPSV")
        assert code == 229, text
        list_over(c, connect_data(parse_229(text), source="127.0.0.2"))


def test_passive_address_by_name_and_reload(make_server, tmp_path):
    config = write_config(tmp_path / "passive.toml", 'passive_address = "localhost"\n')
    srv = make_server(extra=["--config", str(config)])
    with RawControl(srv.port, srv.transcript) as c:
        login(c)
        host, port = pasv(c)
        assert host == "127.0.0.1"
        list_over(c, connect_data(port))
    # SIGHUP reads the key again (resolved on the offload pool); new sessions get it.
    config.write_text('passive_address = "198.51.100.7"\n')
    os.kill(srv.pid(), signal.SIGHUP)

    def advertised() -> str:
        with RawControl(srv.port, srv.transcript) as c:
            login(c)
            return pasv(c)[0]
    assert wait_until(lambda: advertised() == "198.51.100.7", timeout=5)
    # A name that does not resolve keeps what was resolved before.
    config.write_text('passive_address = "no-such-host.invalid"\n')
    os.kill(srv.pid(), signal.SIGHUP)
    assert wait_until(lambda: "no-such-host.invalid" in srv.stderr_text(), timeout=10)
    assert advertised() == "198.51.100.7"


def test_passive_port_offset(make_server, tmp_path):
    low = free_port_range(10)
    srv = configured(make_server, tmp_path,
                     f'passive_ports = "{low}-{low + 9}"\npassive_port_offset = 100\n')
    with RawControl(srv.port, srv.transcript) as c:
        login(c)
        _, advertised = pasv(c)
        assert low + 100 <= advertised <= low + 109
        # A NAT would map advertised -> advertised - 100; the test plays the NAT.
        list_over(c, connect_data(advertised - 100))
        code, text = c.cmd("EPSV")
        assert code == 229
        epsv = parse_229(text)
        assert low + 100 <= epsv <= low + 109
        list_over(c, connect_data(epsv - 100))


def test_passive_trusted_networks(make_server, tmp_path):
    # By default only the client's own address may connect to its passive port.
    srv = make_server()
    with RawControl(srv.port, srv.transcript) as c:
        login(c)
        _, port = pasv(c)
        stranger = connect_data(port, source="127.0.0.3")
        c.send(b"NLST\r\n")  # the transfer accepts: the stranger is closed, the client taken
        stranger.settimeout(5)
        assert stranger.recv(10) == b""
        stranger.close()
        finish_listing(c, connect_data(port))
    # A balancer that rewrites the source address is trusted by name.
    srv2 = configured(make_server, tmp_path, 'passive_trusted_networks = ["127.0.0.3/32"]\n')
    with RawControl(srv2.port, srv2.transcript) as c:
        login(c)
        _, port = pasv(c)
        list_over(c, connect_data(port, source="127.0.0.3"))


def test_pasv_for_an_ipv6_client(tmp_path):
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    root = tmp_path / "root"
    root.mkdir()
    p = subprocess.Popen([MUXFTPD, "--listen", "[::1]:0", "--root", str(root), "--user",
                          f"{USER}:{PASSWORD}", "--passive-ports", "40000-40100"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        m = re.search(r"\[::1\]:(\d+)", p.stdout.readline())
        assert m
        s = socket.create_connection(("::1", int(m.group(1))), timeout=10)
        c = RawControl.__new__(RawControl)
        c.sock, c.buf, c.transcript = s, b"", []
        with c:
            login(c)
            code, text = c.cmd("PASV")  # RFC 2428: PASV cannot say an IPv6 address
            assert code == 522, text
            assert "EPSV" in text
            code, text = c.cmd("EPSV")
            assert code == 229, text
    finally:
        p.terminate()
        assert p.wait(timeout=10) == 0


def test_bad_passive_keys_are_refused_at_start(tmp_path):
    assert "passive_address" in start_fails(tmp_path, 'passive_address = "2001:db8::1"\n')
    assert "passive_address" in start_fails(tmp_path, 'passive_address = "no-such.invalid"\n')
    assert "passive_address" in start_fails(tmp_path, "passive_address = 5\n")
    err = start_fails(tmp_path, 'passive_address_overrides = [{ network = "10.0.0.1/8", '
                                'address = "10.0.0.5" }]\n')
    assert "passive_address_overrides" in err
    err = start_fails(tmp_path, 'passive_address_overrides = [{ network = "10.0.0.0/8" }]\n')
    assert "passive_address_overrides" in err
    assert "passive_port_offset" in start_fails(tmp_path, "passive_port_offset = 10\n")
    err = start_fails(tmp_path, 'passive_ports = "65000-65100"\npassive_port_offset = 1000\n')
    assert "passive_port_offset" in err
    err = start_fails(tmp_path, 'passive_trusted_networks = ["10.0.0.0/33"]\n')
    assert "passive_trusted_networks" in err
