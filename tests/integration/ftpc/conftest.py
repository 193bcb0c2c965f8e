"""Fixtures for the muxftp tests: `server` is parametrised over our muxftpd and pyftpdlib, so
every client test runs against both; `muxftpd` and `pyftpd` give one of them. Each test has a
wall-clock limit (SIGALRM; @pytest.mark.time_limit(s) to change the default 60 s).
"""
from __future__ import annotations

import signal
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ftpc_support import FtpServer, PyFtpd  # noqa: E402

DEFAULT_TIME_LIMIT = 60


class TimeLimitExceeded(Exception):
    pass


def pytest_configure(config):
    config.addinivalue_line("markers", "time_limit(seconds): wall-clock limit for one test")


@pytest.fixture(autouse=True)
def _time_limit(request):
    marker = request.node.get_closest_marker("time_limit")
    limit = marker.args[0] if marker else DEFAULT_TIME_LIMIT

    def on_alarm(signum, frame):
        raise TimeLimitExceeded(f"test exceeded its {limit} s time limit")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class Target:
    """A server under test: its root directory and base URL."""

    def __init__(self, kind: str, root: Path, url: str, server=None):
        self.kind = kind
        self.root = root
        self.url = url
        self.server = server  # the PyFtpd, for tests that look at what it saw


@pytest.fixture
def home(tmp_path) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    return h


@pytest.fixture
def muxftpd(tmp_path):
    srv = FtpServer(tmp_path / "muxftpd")
    (tmp_path / "muxftpd").mkdir(exist_ok=True)
    srv.start()
    yield Target("muxftpd", srv.root, srv.url())
    problems = srv.stop()
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
def make_pyftpd(tmp_path):
    servers = []

    def start(**options) -> Target:
        root = tmp_path / f"pyftpd{len(servers)}"
        s = PyFtpd(root, **options)
        servers.append(s)
        return Target("pyftpdlib", root, s.url(), server=s)

    yield start
    for s in servers:
        s.stop()


@pytest.fixture(params=["muxftpd", "pyftpdlib"])
def server(request, tmp_path):
    if request.param == "muxftpd":
        return request.getfixturevalue("muxftpd")
    return request.getfixturevalue("make_pyftpd")()
