"""FTP client benchmark: muxftp against lftp on the same files, the same server, in one run.

A muxftpd on 127.0.0.1 limits every data connection to RATE (its --download-rate and
--upload-rate), like a server behind a slow link does per connection. Then:

  get -j     FILES files of FILE_MB each: one at a time, then PARALLEL at once
             (muxftp get -j N; lftp mirror --parallel=N)
  put -j     the same files uploaded (muxftp put -j N; lftp mirror -R --parallel=N)
  segments   one file of BIG_MB over 1 and SEGMENTS connections
             (muxftp get --segments K; lftp pget -n K)

Every download is checked against the source's SHA-256. The table shows seconds (median of
ROUNDS), the speed-up of N connections over one, and muxftp's time over lftp's (< 1: muxftp is
faster). Run with `make bench-client` or `python3 bench/ftp_client.py`; environment: RATE (4M),
FILES (4), FILE_MB (8), BIG_MB (32), PARALLEL (4), SEGMENTS (4), ROUNDS (3), BIN_DIR (build/bin).
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN_DIR = Path(os.environ.get("BIN_DIR", ROOT / "build" / "bin"))
RATE = os.environ.get("RATE", "4M")
FILES = int(os.environ.get("FILES", "4"))
FILE_MB = int(os.environ.get("FILE_MB", "8"))
BIG_MB = int(os.environ.get("BIG_MB", "32"))
PARALLEL = int(os.environ.get("PARALLEL", "4"))
SEGMENTS = int(os.environ.get("SEGMENTS", "4"))
ROUNDS = int(os.environ.get("ROUNDS", "3"))
USER, PASSWORD = "bench", "bench-pw"
TIME_LIMIT = 600  # seconds for any one command


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def start_server(root: Path) -> tuple[subprocess.Popen, int]:
    cmd = [str(BIN_DIR / "muxftpd"), "--listen", "127.0.0.1:0", "--root", str(root),
           "--user", f"{USER}:{PASSWORD}", "--threads", "2", "--download-rate", RATE,
           "--upload-rate", RATE, "--max-sessions-per-ip", "0", "--log-level", "warn"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    m = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
    if not m:
        proc.kill()
        sys.exit(f"muxftpd did not start: {line!r}")
    return proc, int(m.group(1))


def run(cmd: list[str]) -> float:
    t0 = time.monotonic()
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                       timeout=TIME_LIMIT)
    elapsed = time.monotonic() - t0
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr[-2000:]}")
    return elapsed


def lftp(port: int, script: str) -> list[str]:
    return ["lftp", "-c", f"set net:max-retries 1; set xfer:clobber on; "
                          f"open -u {USER},{PASSWORD} ftp://127.0.0.1:{port}; {script}"]


def fresh(d: Path) -> Path:
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    return d


def verify(got: Path, want: dict[str, str]) -> None:
    for name, digest in want.items():
        if sha256(got / name) != digest:
            sys.exit(f"{got / name}: SHA-256 differs from the source")


def main() -> None:
    if not (BIN_DIR / "muxftp").exists() or not (BIN_DIR / "muxftpd").exists():
        sys.exit(f"muxftp/muxftpd not in {BIN_DIR}: run `make build` first")
    if shutil.which("lftp") is None:
        sys.exit("lftp not installed (scripts/deps.sh installs it)")
    work = Path(tempfile.mkdtemp(prefix="muxftp-bench-"))
    root = work / "root"
    (root / "set").mkdir(parents=True)
    (root / "up").mkdir()
    local_set = work / "local-set"
    local_set.mkdir()
    digests = {}
    for i in range(FILES):
        data = os.urandom(FILE_MB << 20)
        (root / "set" / f"f{i}.bin").write_bytes(data)
        (local_set / f"f{i}.bin").write_bytes(data)
        digests[f"f{i}.bin"] = hashlib.sha256(data).hexdigest()
    big = os.urandom(BIG_MB << 20)
    (root / "big.bin").write_bytes(big)
    big_digest = {"big.bin": hashlib.sha256(big).hexdigest()}
    del big
    server, port = start_server(root)
    url = f"ftp://{USER}:{PASSWORD}@127.0.0.1:{port}"
    mux = str(BIN_DIR / "muxftp")
    quiet = ["--progress", "none"]
    results: dict[tuple[str, str, int], list[float]] = {}

    def measure(case: str, tool: str, n: int, cmd: list[str], out: Path | None,
                want: dict[str, str] | None) -> None:
        t = run(cmd)
        if out is not None and want is not None:
            verify(out, want)
        results.setdefault((case, tool, n), []).append(t)
        print(f"  {case:9} {tool:7} n={n}: {t:6.2f} s", flush=True)

    try:
        for r in range(ROUNDS):
            print(f"round {r + 1}/{ROUNDS}", flush=True)
            for n in (1, PARALLEL):
                out = fresh(work / "out")
                measure("get -j", "muxftp", n,
                        [mux, "get", *quiet, "-j", str(n), "-o", str(out), f"{url}/set/*.bin"],
                        out, digests)
                out = fresh(work / "out")
                measure("get -j", "lftp", n,
                        lftp(port, f"mirror --parallel={n} set {out}"), out, digests)
                for p in (root / "up").glob("*"):
                    p.unlink()
                files = [str(p) for p in sorted(local_set.iterdir())]
                measure("put -j", "muxftp", n, [mux, "put", *quiet, "-j", str(n), *files,
                                                f"{url}/up/"], root / "up", digests)
                for p in (root / "up").glob("*"):
                    p.unlink()
                measure("put -j", "lftp", n,
                        lftp(port, f"mirror -R --parallel={n} {local_set} up"), root / "up",
                        digests)
            for k in (1, SEGMENTS):
                out = fresh(work / "out")
                measure("segments", "muxftp", k,
                        [mux, "get", *quiet, "--segments", str(k), "-o", str(out),
                         f"{url}/big.bin"], out, big_digest)
                out = fresh(work / "out")
                measure("segments", "lftp", k,
                        lftp(port, f"pget -n {k} big.bin -o {out}/big.bin"), out, big_digest)
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)

    print()
    print(f"Per-connection limit {RATE} (bytes/s, powers of 1024); {FILES} x {FILE_MB} MiB "
          f"files, one {BIG_MB} MiB file; median of {ROUNDS} round(s).")
    print()
    print("| case | tool | 1 connection (s) | N connections (s) | speed-up | muxftp / lftp |")
    print("|---|---|---:|---:|---:|---:|")
    for case, n in (("get -j", PARALLEL), ("put -j", PARALLEL), ("segments", SEGMENTS)):
        med = {(tool, k): statistics.median(results[(case, tool, k)])
               for tool in ("muxftp", "lftp") for k in (1, n)}
        for tool in ("muxftp", "lftp"):
            one, many = med[(tool, 1)], med[(tool, n)]
            ratio = f"{med[('muxftp', n)] / med[('lftp', n)]:.2f}" if tool == "muxftp" else ""
            print(f"| {case} (N={n}) | {tool} | {one:.2f} | {many:.2f} | {one / many:.2f}x | "
                  f"{ratio} |")

if __name__ == "__main__":
    main()
