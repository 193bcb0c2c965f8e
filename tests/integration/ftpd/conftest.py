"""Fixtures for the muxftpd integration tests.

`make_server(**options)` starts a muxftpd in a fresh root under the test's tmp_path (options:
io, threads, users, extra command-line flags) and stops it at teardown: the test fails if the
server died on its own, did not stop on SIGTERM with status 0, wrote a sanitizer report to
stderr, or if any reply it sent contained the real path of the test's directory.

`server` is a default server (epoll, one loop) for tests that need nothing special.

Every test runs under a wall-clock limit (SIGALRM; default 60 s, `@pytest.mark.time_limit(s)`
to change it), since pytest-timeout may not be installed.
"""
from __future__ import annotations

import signal
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ftpd_support import FtpServer  # noqa: E402

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


@pytest.fixture
def make_server(tmp_path):
    servers: list[FtpServer] = []
    counter = [0]

    def start(**options) -> FtpServer:
        counter[0] += 1
        workdir = tmp_path / f"srv{counter[0]}" if counter[0] > 1 else tmp_path
        workdir.mkdir(parents=True, exist_ok=True)
        srv = FtpServer(workdir, **options)
        servers.append(srv)
        return srv.start()

    yield start

    problems: list[str] = []
    for srv in servers:
        problems += srv.stop()
        secret = str(tmp_path)
        leaked = [line for line in srv.transcript if secret in line]
        if leaked:
            problems.append(f"replies revealed the server's real path: {leaked[:3]!r}")
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
def server(make_server) -> FtpServer:
    return make_server()
