#!/usr/bin/env python3
"""The IO-models lab: runs every examples/iomodels server under the same loads and records the
figures that bench/iomodels/report.py turns into docs/iomodels/REPORT.md and its plots.

    make iomodels-report                      # everything (about 12 minutes on 2 cores)
    SECONDS=1 REPEATS=1 ACTIVE="1 10" IDLE="0 1000" MODELS="io-epoll io-poll" \
        REPORT_DIR=/tmp/iomodels python3 bench/iomodels/lab.py

Three experiments, each server pinned to cpu 0 and the load (echo-load, the idle holder) to
cpu 1, 64-byte ping-pong messages:
  active     msgs/s and p99 round trip vs active connections (ACTIVE, default 1 10 100 1000 5000)
  idle       10 active connections plus IDLE idle ones (default 0 100 1000 5000 10000): server
             CPU per message shows what each wait costs per descriptor
  resources  RSS/PSS and CPU seconds for 1,000 connections (each echoes one byte), and CPU
             burned in SECONDS with no client and with the 1,000 connections idle

Single runs moved 10-30% from one run to the next, so every point of the active and idle
experiments is measured REPEATS times against the same server (a fresh echo-load run, so a fresh
set of connections, each time): the record keeps every sample and the median of each figure, and
the report shows medians with their spread. A repeat that gets no message through ends the point
(repeating would only wait out the same timeout again). The resources experiment runs once: its
memory figures do not vary, and its idle CPU shares are 0% or 100%.

Timing, 2 cores, all models, defaults (SECONDS=1, REPEATS=3): a repeat costs SECONDS plus about
0.8 s of connecting, draining and settling, so the points with up to 1,000 connections take
about 5.5 s each; the 5,000-connection and 10,000-idle points take 10-60 s (io-fork and
io-nonblocking at 5,000 are the slowest, io-nonblocking's idle failures wait out echo-load's
connect timeout once each), and the resources experiment about 35 s: about 12 minutes in all,
against 9 for single runs of SECONDS=3. Keep the whole run under 15 minutes when changing these.

Environment: SECONDS (seconds per measurement, default 1; SECONDS_PER_POINT is read first),
REPEATS (measurements per point, default 3), ACTIVE, IDLE, MODELS (names, default all), BIN_DIR
(default build/bin), OUT (results file, default bench/results/iomodels-<date>.jsonl), REPORT
(1: run report.py at the end, default 1), REPORT_DIR (where report.py writes, default
docs/iomodels). Every wait and load is bounded; servers are stopped with SIGTERM (SIGKILL after
3 s).
"""
from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from idle_holder import IdleHolder, raise_fd_limit  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SECONDS = float(os.environ.get("SECONDS_PER_POINT") or os.environ.get("SECONDS") or 1)
REPEATS = max(1, int(os.environ.get("REPEATS", 3)))
BIN_DIR = Path(os.environ.get("BIN_DIR", ROOT / "build" / "bin"))
ACTIVE = [int(x) for x in os.environ.get("ACTIVE", "1 10 100 1000 5000").split()]
IDLE = [int(x) for x in os.environ.get("IDLE", "0 100 1000 5000 10000").split()]
CONNECT_TIMEOUT = 15
SIZE = 64
HOST = "127.0.0.1"

# name -> what it cannot do: the largest number of connections it serves concurrently, and
# whether the idle experiment applies. The reasons go into the report.
MODELS = {
    "io-blocking": {"max_active": 1, "idle": False,
                    "why": "serves one client at a time: a 2nd connection waits in the backlog"},
    "io-threads": {"max_active": None, "idle": True},
    "io-fork": {"max_active": None, "idle": False,
                "why": "10,000 idle processes are not run on a shared 2-core machine"},
    "io-nonblocking": {"max_active": None, "idle": True},
    "io-select": {"max_active": 1000, "idle": True, "max_idle": 1000,
                  "why": "FD_SETSIZE: descriptors >= 1024 cannot be watched"},
    "io-poll": {"max_active": None, "idle": True},
    "io-epoll": {"max_active": None, "idle": True},
    "io-epoll-et": {"max_active": None, "idle": True},
    "io-sigio": {"max_active": None, "idle": True},
    "io-uring": {"max_active": None, "idle": True},
    "io-selectors": {"max_active": None, "idle": True},
}
only = os.environ.get("MODELS", "").split()
if only:
    MODELS = {k: v for k, v in MODELS.items() if k in only}

PIN = os.cpu_count() and os.cpu_count() >= 2
SERVER_PIN = ["taskset", "-c", "0"] if PIN else []
LOAD_PIN = ["taskset", "-c", "1"] if PIN else []
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(msg: str) -> None:
    print(f"lab: {msg}", file=sys.stderr, flush=True)


# --- /proc ------------------------------------------------------------------------------------

def descendants(pid: int) -> list[int]:
    """pid and every process under it (io-fork's children)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return out


def stat_fields(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def cpu_seconds(root: int) -> float:
    """User + system CPU of the server: the root with its reaped children, plus live children."""
    total = 0
    for i, pid in enumerate(descendants(root)):
        try:
            fields = stat_fields(pid)
        except OSError:
            continue
        # fields[11..14]: utime stime cutime cstime (stat fields 14-17)
        total += int(fields[11]) + int(fields[12])
        if i == 0:
            total += int(fields[13]) + int(fields[14])
    return total / CLK_TCK


def memory_kib(root: int) -> dict:
    """Summed over the process tree: RSS (shared pages counted in every process), PSS (shared
    pages split between their users: the fair total), process and thread counts."""
    rss = pss = procs = threads = 0
    for pid in descendants(root):
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        rss += int(line.split()[1])
                    elif line.startswith("Threads:"):
                        threads += int(line.split()[1])
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1])
            procs += 1
        except OSError:
            pass
    return {"rss_kib": rss, "pss_kib": pss, "procs": procs, "threads": threads}


# --- servers and loads ------------------------------------------------------------------------

class Server:
    def __init__(self, name: str):
        self.name = name
        self.proc = subprocess.Popen(
            [*SERVER_PIN, str(BIN_DIR / name), "--listen", f"{HOST}:0"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        line = self.proc.stdout.readline().decode().strip()  # the programs print it at once
        if not line.startswith("listening on "):
            self.stop()
            raise RuntimeError(f"{name}: unexpected first line {line!r}")
        self.port = int(line.rsplit(":", 1)[1])
        self.pid = self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> str:
        """SIGTERM, up to 3 s for a clean exit, then SIGKILL to the server and its children."""
        if self.proc.poll() is None:
            kids = descendants(self.proc.pid)[1:]
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(3)
            except subprocess.TimeoutExpired:
                for pid in [self.proc.pid, *kids]:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                self.proc.wait(5)
        err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
        self.proc.stdout.close()
        self.proc.stderr.close()
        return err.strip()


def echo_load(port: int, connections: int, seconds: float) -> dict:
    cmd = [*LOAD_PIN, str(BIN_DIR / "echo-load"), "--connect", f"{HOST}:{port}",
           "--connections", str(connections), "--size", str(SIZE), "--seconds", str(seconds),
           "--connect-timeout", str(CONNECT_TIMEOUT), "--json"]
    try:
        run = subprocess.run(cmd, capture_output=True, text=True,
                             timeout=CONNECT_TIMEOUT + seconds + 20)
    except subprocess.TimeoutExpired:
        return {"failed": True, "reason": "echo-load timed out"}
    if not run.stdout.startswith("{"):
        return {"failed": True, "reason": (run.stderr.strip().splitlines() or ["no output"])[-1]}
    result = json.loads(run.stdout)
    if result["messages"] == 0 or result["mismatches"] or result["errors"]:
        result["failed"] = True
        result["reason"] = (f"{result['messages']} messages, {result['errors']} errors, "
                            f"{result['mismatches']} mismatches")
    return result


def measured_load(srv: Server, connections: int) -> dict:
    """One echo-load run with the server's CPU time and peak memory around it."""
    cpu0 = cpu_seconds(srv.pid)
    proc_result = {}
    mem_peak = {"rss_kib": 0, "pss_kib": 0, "procs": 0, "threads": 0}

    def sample():
        while "done" not in proc_result:
            m = memory_kib(srv.pid)
            for k in mem_peak:
                mem_peak[k] = max(mem_peak[k], m[k])
            time.sleep(0.5)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    result = echo_load(srv.port, connections, SECONDS)
    proc_result["done"] = True
    sampler.join(5)
    result["server_cpu_s"] = round(cpu_seconds(srv.pid) - cpu0, 3)
    result.update({f"peak_{k}": v for k, v in mem_peak.items()})
    return result


# Figures of a point that are summarised by their median over the samples; the failure counts
# take the worst sample, the peak memory the largest.
MEDIAN_KEYS = ("messages", "msgs_per_sec", "mb_per_sec", "p50_us", "p99_us", "server_cpu_s",
               "server_cpu_us_per_msg")
WORST_KEYS = ("errors", "mismatches", "peak_rss_kib", "peak_pss_kib", "peak_procs",
              "peak_threads", "refused")


def summarize(samples: list[dict]) -> dict:
    """One record for a repeated point: the median of each figure over the samples, the worst
    failure count, failed/reason from the first failed sample, and every sample."""
    for r in samples:
        if r.get("messages"):
            r["server_cpu_us_per_msg"] = round(r["server_cpu_s"] / r["messages"] * 1e6, 3)
    out = {"repeats": len(samples)}
    for key in MEDIAN_KEYS:
        values = [r[key] for r in samples if r.get(key) is not None]
        if values:
            out[key] = round(statistics.median(values), 3)
    for key in WORST_KEYS:
        values = [r[key] for r in samples if r.get(key) is not None]
        if values:
            out[key] = max(values)
    bad = next((r for r in samples if r.get("failed")), None)
    if bad:
        out["failed"], out["reason"] = True, bad.get("reason", "")
    out["samples"] = samples
    return out


def value_range(samples: list[dict], key: str) -> str:
    values = [r[key] for r in samples if r.get(key) is not None]
    return f"{min(values):,.1f}..{max(values):,.1f}" if values else "-"


# --- experiments ------------------------------------------------------------------------------

def experiment_active(out) -> None:
    for name, caps in MODELS.items():
        points = [c for c in ACTIVE if caps["max_active"] is None or c <= caps["max_active"]]
        skipped = [c for c in ACTIVE if c not in points]
        for c in skipped:
            write(out, {"exp": "active", "model": name, "connections": c, "skipped": True,
                        "reason": caps.get("why", "")})
        srv = None
        for c in points:
            samples = []
            for _ in range(REPEATS):
                if srv is None or not srv.alive():
                    if srv is not None:
                        log(f"{name} died: {srv.stop()[-200:]}; restarting")
                    srv = Server(name)
                samples.append(measured_load(srv, c))
                time.sleep(0.3)  # let the server reap the closed connections
                if not samples[-1].get("messages"):
                    break
            r = summarize(samples)
            log(f"active {name} {c}: {r.get('msgs_per_sec')} msg/s "
                f"({value_range(samples, 'msgs_per_sec')}) p99 {r.get('p99_us')} us "
                f"cpu {r.get('server_cpu_s')} s {r.get('reason', '')}")
            write(out, {"exp": "active", "model": name, "connections": c, **r})
        if srv is not None:
            srv.stop()


def experiment_idle(out) -> None:
    for name, caps in MODELS.items():
        if not caps["idle"]:
            for n in IDLE:
                write(out, {"exp": "idle", "model": name, "idle": n, "skipped": True,
                            "reason": caps.get("why", "")})
            continue
        srv = Server(name)
        holder = IdleHolder(HOST, srv.port)
        try:
            for n in IDLE:
                limit = caps.get("max_idle")
                if limit is not None and n > limit:
                    # Show the cap instead of measuring: hold n, count what the server refused.
                    held = holder.grow(n)
                    time.sleep(0.5)
                    refused = holder.closed_count()
                    log(f"idle {name} {n}: cap probe, {refused} of {held} closed by the server")
                    write(out, {"exp": "idle", "model": name, "idle": n, "skipped": True,
                                "reason": caps["why"], "held": held, "refused": refused})
                    break
                held = holder.grow(n)
                time.sleep(0.5)
                samples = []
                for _ in range(REPEATS):
                    samples.append(measured_load(srv, 10))
                    samples[-1]["refused"] = holder.closed_count()
                    if not samples[-1].get("messages"):
                        break
                r = summarize(samples)
                r["held"] = held
                log(f"idle {name} {n}: {r.get('msgs_per_sec')} msg/s, "
                    f"{r.get('server_cpu_us_per_msg')} us cpu/msg "
                    f"({value_range(samples, 'server_cpu_us_per_msg')}) {r.get('reason', '')}")
                write(out, {"exp": "idle", "model": name, "idle": n, **r})
        finally:
            holder.close()
            srv.stop()
            time.sleep(0.3)


def experiment_resources(out) -> None:
    for name in MODELS:
        srv = Server(name)
        holder = IdleHolder(HOST, srv.port)
        try:
            time.sleep(0.2)
            base = memory_kib(srv.pid)
            cpu0 = cpu_seconds(srv.pid)
            time.sleep(SECONDS)
            idle_cpu_empty = cpu_seconds(srv.pid) - cpu0
            row = {"exp": "resources", "model": name, "base": base,
                   "idle_cpu_s_no_clients": round(idle_cpu_empty, 3), "seconds": SECONDS}
            if name == "io-blocking":
                row["reason"] = MODELS[name]["why"]
            else:
                cpu1 = cpu_seconds(srv.pid)
                held = holder.grow(1000)
                answered = holder.ping_all()
                time.sleep(0.3)
                cpu2 = cpu_seconds(srv.pid)
                loaded = memory_kib(srv.pid)
                time.sleep(SECONDS)
                idle_cpu_held = cpu_seconds(srv.pid) - cpu2
                row.update({"held": held, "answered": answered, "loaded": loaded,
                            "setup_cpu_s": round(cpu2 - cpu1, 3),
                            "idle_cpu_s_1000_idle": round(idle_cpu_held, 3)})
            log(f"resources {name}: {row}")
            write(out, row)
        finally:
            holder.close()
            srv.stop()
            time.sleep(0.3)


def write(out, record: dict) -> None:
    out.write(json.dumps(record) + "\n")
    out.flush()


def main() -> int:
    missing = [n for n in [*MODELS, "echo-load"] if not (BIN_DIR / n).exists()]
    if missing:
        log(f"not built in {BIN_DIR}: {' '.join(missing)} (run make build)")
        return 1
    raise_fd_limit()
    if PIN:
        os.sched_setaffinity(0, {1})  # the idle holder runs in this process: keep it off cpu 0
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out_path = Path(os.environ.get("OUT", ROOT / "bench" / "results" / f"iomodels-{stamp}.jsonl"))
    out_path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with open(out_path, "w") as out:
        cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                    if l.startswith("model name")), "?")
        write(out, {"exp": "meta", "date": stamp, "seconds": SECONDS, "repeats": REPEATS,
                    "size": SIZE, "cpu": cpu, "cores": os.cpu_count(), "kernel": os.uname().release,
                    "pinned": bool(PIN), "loadavg": open("/proc/loadavg").read().split()[:3],
                    "active": ACTIVE, "idle": IDLE})
        for exp in (experiment_active, experiment_idle, experiment_resources):
            log(f"{exp.__name__} ({time.monotonic() - started:.0f} s so far)")
            exp(out)
        write(out, {"exp": "end", "elapsed_s": round(time.monotonic() - started, 1),
                    "loadavg": open("/proc/loadavg").read().split()[:3]})
    log(f"results: {out_path} ({time.monotonic() - started:.0f} s)")
    if os.environ.get("REPORT", "1") == "1":
        report_dir = os.environ.get("REPORT_DIR")
        return subprocess.call([sys.executable, str(Path(__file__).with_name("report.py")),
                                str(out_path), *([report_dir] if report_dir else [])])
    return 0


if __name__ == "__main__":
    sys.exit(main())
