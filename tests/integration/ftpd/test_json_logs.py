"""log_format = "json": every line the server logs is one JSON object; sessions' events
(connect, login, transfer, error, disconnect) carry their fields; control characters and bytes
that are not UTF-8 from clients are escaped (with a KEY_hex field for the raw bytes)."""
from __future__ import annotations

import io
import json

from ftpd_support import PASSWORD, USER, wait_until


def events(srv) -> list[dict]:
    lines = srv.stderr_text().splitlines()
    assert lines
    return [json.loads(line) for line in lines]  # every line, or the test fails here


def test_every_line_is_json_with_session_events(make_server, tmp_path):
    srv = make_server(extra=["--log-format", "json"])
    f = srv.ftp()
    f.storbinary("STOR a.bin", io.BytesIO(b"z" * 1000))
    try:
        f.sendcmd("DELE nothing-here")
    except Exception:
        pass
    f.quit()
    raw = srv.raw()
    # A user name with a control character and a byte that is not UTF-8.
    raw.send(b"USER ev\x01il\xff\r\n")
    raw.reply()
    raw.send(b"PASS nope\r\n")
    assert raw.reply()[0] == 530
    raw.close()
    assert wait_until(lambda: sum(e.get("event") == "disconnect" for e in events(srv)) == 2)
    evs = events(srv)
    for e in evs:
        assert {"time", "level", "event"} <= e.keys()
    by = {}
    for e in evs:
        by.setdefault(e["event"], []).append(e)
    assert {"connect", "login", "transfer", "error", "disconnect", "log"} <= by.keys()
    ok = [e for e in by["login"] if e["result"] == "ok"][0]
    assert ok["user"] == USER and ok["client"].startswith("127.0.0.1:")
    assert isinstance(ok["session"], int)
    t = by["transfer"][0]
    assert (t["path"], t["bytes"], t["direction"], t["result"]) == \
        ("/a.bin", 1000, "upload", "complete")
    assert t["duration"] >= 0 and t["user"] == USER
    assert any(e["code"] == 550 for e in by["error"])
    failed = [e for e in by["login"] if e["result"] == "failed"][0]
    # The control character comes through escaped (the server drops the byte that is not
    # UTF-8 from command lines; json_log's unit test covers KEY_hex).
    assert failed["user"].startswith("ev\x01il")
    assert all("duration" in e for e in by["disconnect"])


def test_config_file_sets_json(make_server, tmp_path):
    cfg = tmp_path / "json.toml"
    cfg.write_text('log_format = "json"\n')
    srv = make_server(extra=["--config", str(cfg)])
    srv.ftp().quit()
    assert wait_until(lambda: any(e["event"] == "disconnect" for e in events(srv)))


def test_text_stays_the_default(make_server):
    srv = make_server()
    srv.ftp(USER, PASSWORD).quit()
    assert wait_until(lambda: "disconnected" in srv.stderr_text())
    assert not srv.stderr_text().lstrip().startswith("{")
