"""Fixtures for the muxftpd integration tests.

`make_server(**options)` starts a muxftpd in a fresh root under the test's tmp_path (options:
io, threads, users, extra command-line flags) and stops it at teardown: the test fails if the
server died on its own, did not stop on SIGTERM with status 0, wrote a sanitizer report to
stderr, or if any reply it sent contained the real path of the test's directory.

`server` is a default server (epoll, one loop) for tests that need nothing special;
`backend_server` is parametrised over every IO backend (select, poll, epoll, epoll-et).
The binary is $MUXFTPD (default /work/main/build-dev/bin/muxftpd).

Every test runs under a wall-clock limit (SIGALRM; default 60 s, `@pytest.mark.time_limit(s)`
to change it), since pytest-timeout may not be installed.
"""
from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ftpd_support import BACKENDS, FtpServer  # noqa: E402
from postgres_support import PostgresCluster, started_postgres  # noqa: E402

DEFAULT_TIME_LIMIT = 60


class TimeLimitExceeded(Exception):
    pass


def pytest_addoption(parser):
    try:
        parser.addoption("--timeout", type=float, default=None,
                         help="default per-test wall-clock limit in seconds (SIGALRM); tests "
                              "marked time_limit keep theirs")
    except ValueError:
        pass  # pytest-timeout is installed and owns --timeout


def pytest_configure(config):
    config.addinivalue_line("markers", "time_limit(seconds): wall-clock limit for one test")


@pytest.fixture(autouse=True)
def _time_limit(request):
    marker = request.node.get_closest_marker("time_limit")
    option = request.config.getoption("--timeout", default=None)
    limit = marker.args[0] if marker else (float(option) if option else DEFAULT_TIME_LIMIT)

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
        remove_big_files(srv.root)
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


def remove_big_files(root: Path, limit: int = 1 << 20) -> None:
    """pytest keeps the tmp directories of the last runs: drop the megabytes, keep the rest
    (small files and the server's stderr) for looking into failures."""
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            p = Path(dirpath) / name
            try:
                if p.is_file() and not p.is_symlink() and p.stat().st_size > limit:
                    p.unlink()
            except OSError:
                pass


@pytest.fixture
def server(make_server) -> FtpServer:
    """A default server: epoll, one loop, users alice (all permissions) and bob (ro)."""
    return make_server()


@pytest.fixture(params=BACKENDS)
def backend_server(request, make_server) -> FtpServer:
    """One server per IO backend (two loops), for tests parametrised over backends."""
    return make_server(io=request.param, threads=2)


@pytest.fixture(scope="module")
def postgres():
    """A throwaway PostgreSQL with muxftpd's schema, one per test module (postgres_support)."""
    why = PostgresCluster.available()
    if why:
        pytest.skip(f"no throwaway PostgreSQL here: {why}")
    with started_postgres() as cluster:
        yield cluster
