"""Prometheus metrics and health (metrics_listen): the exposition format parsed strictly, the
counters moved by real logins, transfers and failures, /healthz through a drain, the HTTP
listener's refusals, and a real Prometheus scraping the server."""
from __future__ import annotations

import json
import math
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from ftpd_support import HOST, MUXFTPD, PASSWORD, USER, wait_until

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE_RE = re.compile(rf"^({NAME})(?:\{{((?:{LABEL})(?:,{LABEL})*)?\}})? (\S+)$")
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')


def parse_value(text: str) -> float:
    if text in ("+Inf", "-Inf", "NaN"):
        return float(text.replace("Inf", "inf").replace("NaN", "nan"))
    assert re.fullmatch(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?", text), text
    return float(text)


def parse_exposition(text: str) -> dict[tuple[str, tuple], float]:
    """Text format 0.0.4, strictly: HELP then TYPE before a family's samples, every sample of a
    declared family (histograms: _bucket/_sum/_count), no duplicate series, newline at the end."""
    assert text.endswith("\n")
    samples: dict[tuple[str, tuple], float] = {}
    types: dict[str, str] = {}
    helped: set[str] = set()
    current = None
    for line in text.splitlines():
        assert line, "empty line"
        if line.startswith("# HELP "):
            name = line.split(" ")[2]
            assert re.fullmatch(NAME, name) and name not in helped, line
            helped.add(name)
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert name in helped and name not in types, line
            assert kind in ("counter", "gauge", "histogram", "summary", "untyped")
            types[name] = kind
            current = name
            continue
        assert not line.startswith("#"), line
        m = SAMPLE_RE.match(line)
        assert m, f"bad sample line {line!r}"
        name, labels_text, value = m.groups()
        family = name
        if types.get(current) == "histogram":
            family = re.sub(r"_(bucket|sum|count)$", "", name)
        assert family == current, f"{name} outside its family ({current})"
        labels = tuple(LABEL_RE.findall(labels_text or ""))
        key = (name, labels)
        assert key not in samples, f"duplicate series {line!r}"
        v = parse_value(value)
        if types[current] == "counter":
            assert name.endswith("_total") and v >= 0 and not math.isnan(v), line
        samples[key] = v
    return samples


def get(url: str, method: str = "GET") -> tuple[int, dict, str]:
    req = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


def metrics_server(make_server, **kw):
    extra = kw.pop("extra", []) + ["--metrics-listen", f"{HOST}:0"]
    srv = make_server(extra=extra, **kw)
    m = srv.wait_stdout(r"^muxftpd: metrics on http://(\S+)/metrics$")
    return srv, f"http://{m.group(1)}"


def scrape(base: str) -> dict:
    status, headers, body = get(base + "/metrics")
    assert status == 200
    assert headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    return parse_exposition(body)


def value(samples: dict, name: str, **labels) -> float:
    key = (name, tuple(sorted(labels.items())))
    for (n, ls), v in samples.items():
        if n == name and tuple(sorted(ls)) == key[1]:
            return v
    raise KeyError(key)


def test_every_metric_is_there_and_well_formed(make_server):
    srv, base = metrics_server(make_server, threads=2)
    s = scrape(base)
    for name in ["muxftpd_sessions", "muxftpd_sessions_total", "muxftpd_offload_queue_length",
                 "process_open_fds", "process_max_fds",
                 "muxftpd_transfer_duration_seconds_count",
                 "muxftpd_transfer_duration_seconds_sum"]:
        value(s, name)
    value(s, "muxftpd_transfer_duration_seconds_bucket", le="+Inf")
    value(s, "muxftpd_error_replies_total", **{"class": "5xx"})
    value(s, "muxftpd_connections_refused_total", reason="banned")
    for loop in ("0", "1"):
        value(s, "muxftpd_loop_lag_seconds", loop=loop)
        assert 0 <= value(s, "muxftpd_loop_busy_ratio", loop=loop) <= 1
    assert value(s, "process_open_fds") > 3


def test_counters_follow_logins_transfers_and_failures(make_server):
    srv, base = metrics_server(make_server, threads=2)
    before = scrape(base)
    data = b"x" * 100_000
    f = srv.ftp()
    f.storbinary("STOR up.bin", __import__("io").BytesIO(data))
    got = bytearray()
    f.retrbinary("RETR up.bin", got.extend)
    assert bytes(got) == data
    try:
        f.sendcmd("RETR missing.bin")
    except Exception:
        pass
    during = scrape(base)
    assert value(during, "muxftpd_sessions") == 1
    f.quit()
    bad = srv.raw()
    bad.send(f"USER {USER}\r\n")
    bad.reply()
    bad.send("PASS wrong\r\n")
    code, _ = bad.reply()
    assert code == 530
    bad.close()
    assert wait_until(lambda: value(scrape(base), "muxftpd_sessions") == 0)
    after = scrape(base)

    def moved(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("muxftpd_sessions_total") == 2
    assert moved("muxftpd_logins_total", result="ok") == 1
    assert moved("muxftpd_logins_total", result="failed") == 1
    assert moved("muxftpd_sessions_ended_total", outcome="quit") == 1
    assert moved("muxftpd_transfers_total", direction="upload", result="complete") == 1
    assert moved("muxftpd_transfers_total", direction="download", result="complete") == 1
    assert moved("muxftpd_transfer_bytes_total", direction="upload", result="complete") == len(data)
    assert moved("muxftpd_transfer_bytes_total", direction="download",
                 result="complete") == len(data)
    assert moved("muxftpd_transfer_duration_seconds_count") == 2
    assert value(after, "muxftpd_transfer_duration_seconds_bucket", le="+Inf") == \
        value(after, "muxftpd_transfer_duration_seconds_count")
    assert moved("muxftpd_error_replies_total", **{"class": "5xx"}) >= 1  # 530
    assert moved("muxftpd_error_replies_total", **{"class": "4xx"}) >= 1  # RETR without PASV


def raw_http(port: int, request: bytes) -> bytes:
    with socket.create_connection((HOST, port), timeout=10) as s:
        s.sendall(request)
        out = b""
        while chunk := s.recv(65536):
            out += chunk
    return out


def test_http_listener_refuses_what_it_does_not_serve(make_server):
    srv, base = metrics_server(make_server)
    port = int(base.rsplit(":", 1)[1])
    assert get(base + "/nothing")[0] == 404
    status, headers, _ = get(base + "/metrics", method="POST")
    assert status == 405 and headers["Allow"] == "GET, HEAD"
    assert raw_http(port, b"GARBAGE\r\n\r\n").startswith(b"HTTP/1.1 400 ")
    assert raw_http(port, b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 10000 +
                    b"\r\n\r\n").startswith(b"HTTP/1.1 431 ")
    head = raw_http(port, b"HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ") and head.endswith(b"\r\n\r\n")
    assert b"Connection: close" in head
    # A client that says nothing is answered 408 after the request timeout, and meanwhile
    # the listener serves others.
    with socket.create_connection((HOST, port), timeout=10) as idle:
        idle.sendall(b"GET /met")
        assert get(base + "/healthz")[0] == 200
        assert idle.recv(100).startswith(b"HTTP/1.1 408 ")
    assert srv.alive()


def test_healthz_says_503_while_draining(make_server):
    srv, base = metrics_server(make_server, extra=["--shutdown-grace", "10"])
    assert get(base + "/healthz") == (200, get(base + "/healthz")[1], "ok\n")
    f = srv.ftp()
    f.voidcmd("TYPE I")
    # A slow transfer keeps the server draining: a download paced by a small window.
    (srv.root / "big.bin").write_bytes(b"y" * (8 << 20))
    sock = f.transfercmd("RETR big.bin")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    srv.proc.send_signal(__import__("signal").SIGTERM)
    assert wait_until(lambda: get(base + "/healthz")[0] == 503, timeout=5)
    s = scrape(base)
    assert value(s, "muxftpd_draining") == 1
    sock.close()  # the transfer fails, the session ends, and so does the drain
    f.sock.close()
    srv.expect_exit = True
    srv.proc.wait(timeout=20)
    assert srv.proc.returncode == 0


def refused_start(tmp_path, *flags: str) -> str:
    """Runs muxftpd with flags that must be refused at start: exit status 2; returns stderr."""
    (tmp_path / "root").mkdir(exist_ok=True)
    r = subprocess.run([MUXFTPD, "--listen", f"{HOST}:0", "--root", str(tmp_path / "root"),
                        "--user", f"{USER}:{PASSWORD}", *flags],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0, r.stdout
    return r.stderr


def test_a_remote_metrics_address_needs_the_flag(make_server, tmp_path):
    err = refused_start(tmp_path, "--metrics-listen", "0.0.0.0:0")
    assert "metrics_listen" in err and "loopback" in err
    srv = make_server(extra=["--metrics-listen", "0.0.0.0:0", "--metrics-allow-remote"])
    srv.wait_stdout(r"metrics on http://0\.0\.0\.0:\d+/metrics")


def test_config_keys_are_checked(tmp_path):
    for text, key in [('metrics_listen = 9100', "metrics_listen"),
                      ('metrics_listen = "nohost"', "metrics_listen"),
                      ('metrics_allow_remote = "yes"', "metrics_allow_remote"),
                      ('log_format = "xml"', "log_format")]:
        cfg = tmp_path / "bad.toml"
        cfg.write_text(text + "\n")
        assert key in refused_start(tmp_path, "--config", str(cfg)), text


@pytest.mark.time_limit(120)
@pytest.mark.skipif(shutil.which("prometheus") is None, reason="Debian package prometheus")
def test_a_real_prometheus_scrapes_the_server(make_server, tmp_path):
    srv, base = metrics_server(make_server)
    srv.ftp().quit()
    target = base.removeprefix("http://")
    with socket.socket() as s:
        s.bind((HOST, 0))
        web_port = s.getsockname()[1]
    config = tmp_path / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                      "scrape_configs:\n  - job_name: muxftpd\n"
                      f"    static_configs:\n      - targets: ['{target}']\n")
    log = open(tmp_path / "prometheus.log", "wb")
    prom = subprocess.Popen(["prometheus", f"--config.file={config}",
                             f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                             f"--web.listen-address={HOST}:{web_port}"],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        api = f"http://{HOST}:{web_port}/api/v1/query?query="

        def query(q: str):
            try:
                status, _, body = get(api + urllib.request.quote(q))
            except OSError:
                return None
            if status != 200:
                return None
            result = json.loads(body)["data"]["result"]
            return result or None

        assert wait_until(lambda: query('up{job="muxftpd"}') is not None, timeout=60,
                          interval=0.5), (tmp_path / "prometheus.log").read_text()[-3000:]
        assert query('up{job="muxftpd"}')[0]["value"][1] == "1"
        assert wait_until(lambda: query("muxftpd_sessions_total") is not None, timeout=30,
                          interval=0.5)
        assert float(query("muxftpd_sessions_total")[0]["value"][1]) >= 1
        ok = query('muxftpd_logins_total{result="ok"}')
        assert ok and float(ok[0]["value"][1]) >= 1
    finally:
        prom.terminate()
        prom.wait(timeout=30)
        log.close()
