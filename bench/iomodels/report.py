#!/usr/bin/env python3
"""Turns the results of bench/iomodels/lab.py (JSON lines) into docs/iomodels/REPORT.md and its
PNG plots (gnuplot). Every figure and every verdict in the report is computed from that file, so
a report can be regenerated from saved results:

    python3 bench/iomodels/report.py bench/results/iomodels-<date>.jsonl [OUT_DIR]

OUT_DIR defaults to docs/iomodels. Each point was measured several times (the lab's REPEATS):
tables print the median with its spread (±: every sample lies within that much of the median),
plots draw the median with min-max error bars, and the verdicts compare medians. Results of
single runs (no samples) still load, as one sample per point.
"""
from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODEL_ORDER = ["io-blocking", "io-threads", "io-fork", "io-nonblocking", "io-select", "io-poll",
               "io-epoll", "io-epoll-et", "io-sigio", "io-uring", "io-selectors"]


def load(path: Path):
    meta, end, active, idle, res = {}, {}, {}, {}, {}
    for line in path.read_text().splitlines():
        r = json.loads(line)
        exp = r.get("exp")
        if exp == "meta":
            meta = r
        elif exp == "end":
            end = r
        elif exp == "active":
            active.setdefault(r["model"], {})[r["connections"]] = r
        elif exp == "idle":
            idle.setdefault(r["model"], {})[r["idle"]] = r
        elif exp == "resources":
            res[r["model"]] = r
    return meta, end, active, idle, res


def ok(r) -> bool:
    return bool(r) and not r.get("skipped") and not r.get("failed")


def fmt(x, digits=0) -> str:
    if x is None:
        return "—"
    if digits == 0:
        return f"{x:,.0f}"
    return f"{x:,.{digits}f}"


def models_in(*tables) -> list[str]:
    seen = set().union(*[t.keys() for t in tables])
    return [m for m in MODEL_ORDER if m in seen] + sorted(seen - set(MODEL_ORDER))


# --- derived figures ----------------------------------------------------------------------------

def values(r, field) -> list[float]:
    """field over the point's samples (its repeats; a single-run record is its own sample).
    'cpu_us_per_msg' is server CPU per message, derived sample by sample."""
    out = []
    for s in r.get("samples") or [r]:
        if not s.get("messages"):
            continue
        if field == "cpu_us_per_msg":
            out.append(s["server_cpu_s"] / s["messages"] * 1e6)
        elif s.get(field) is not None:
            out.append(s[field])
    return out


def stat(table, model, key, field):
    """(median, min, max) of field at a point; None unless the point was measured cleanly."""
    r = table.get(model, {}).get(key)
    v = values(r, field) if ok(r) else []
    return (statistics.median(v), min(v), max(v)) if v else None


def median(table, model, key, field):
    st = stat(table, model, key, field)
    return st[0] if st else None


def spread(st) -> str:
    """' ±N%': the largest distance of a sample from the median; empty for a single sample."""
    med, lo, hi = st
    if lo == hi or med == 0:
        return ""
    return f" ±{max(hi - med, med - lo) / med:.0%}"


def rate(active, model, c):
    return median(active, model, c, "msgs_per_sec")


def p99(active, model, c):
    return median(active, model, c, "p99_us")


def cpu_per_msg(table, model, key):
    return median(table, model, key, "cpu_us_per_msg")


def per_1000(res, model, field):
    """Memory (MiB) the server gained holding 1,000 connections (each echoed one byte)."""
    r = res.get(model)
    if not r or "loaded" not in r or not r.get("held"):
        return None
    return (r["loaded"][field] - r["base"][field]) / 1024 * 1000 / r["held"]


def idle_points(idle, model):
    return sorted(n for n, r in idle.get(model, {}).items() if ok(r))


def idle_growth(idle, model):
    """(cpu/msg at the largest idle count measured) / (cpu/msg with no idle connection)."""
    pts = idle_points(idle, model)
    if len(pts) < 2 or pts[0] != 0:
        return None, None, None
    a, b = cpu_per_msg(idle, model, 0), cpu_per_msg(idle, model, pts[-1])
    if not a or not b:
        return None, None, None
    return b / a, pts[-1], (a, b)


# --- plots --------------------------------------------------------------------------------------

def plot(out_dir: Path, active, idle, res) -> list[str]:
    if shutil.which("gnuplot") is None:
        return []
    tmp = Path(tempfile.mkdtemp(prefix="iomodels-plot-"))
    made = []
    try:
        models = models_in(active, idle)

        def series(name, table, field, keys, x=lambda k: k):
            """One data file per model: x, median, min, max of field at each measured key."""
            files = []
            for m in models:
                rows = [(x(k), st) for k in keys(m) if (st := stat(table, m, k, field))]
                if not rows:
                    continue
                f = tmp / f"{name}-{m}.dat"
                f.write_text("".join(f"{x} {med} {lo} {hi}\n" for x, (med, lo, hi) in rows))
                files.append((m, f))
            return files

        def lines(files):  # the median, with the samples' min-max as error bars
            # A model keeps its line type (colour and marker) in every plot.
            return ", ".join(f"'{f}' using 1:2:3:4 with yerrorlines lt {models.index(m) + 1} "
                             f"title '{m}'" for m, f in files)

        head = "set terminal pngcairo size 900,560 font 'Sans,10'\nset grid\nset key outside right\n"
        jobs = []
        def counts(m):
            return sorted(active.get(m, {}))

        thr = series("thr", active, "msgs_per_sec", counts)
        if thr:
            jobs.append(("throughput.png", "set logscale x\nset xlabel 'active connections'\n"
                         "set ylabel 'messages/s (64 B ping-pong)'\n"
                         "set title 'Throughput vs active connections (median, min-max)'\n",
                         lines(thr)))
        lat = series("p99", active, "p99_us", counts)
        if lat:
            jobs.append(("p99.png", "set logscale xy\nset xlabel 'active connections'\n"
                         "set ylabel 'p99 round trip (us)'\n"
                         "set title 'p99 latency vs active connections (median, min-max)'\n",
                         lines(lat)))
        cost = series("idle", idle, "cpu_us_per_msg", lambda m: idle_points(idle, m),
                      x=lambda n: max(n, 1))
        if cost:
            jobs.append(("idle_cost.png", "set logscale xy\nset xlabel 'idle connections "
                         "(0 plotted at 1)'\nset ylabel 'server CPU per message (us)'\n"
                         "set title '10 active clients + idle connections: server CPU per "
                         "message (median, min-max)'\n", lines(cost)))
        mem = [(m, per_1000(res, m, "pss_kib")) for m in models_in(res)]
        mem = [(m, v) for m, v in mem if v is not None]
        if mem:
            f = tmp / "mem.dat"
            f.write_text("".join(f"{i} {max(v, 0.01):.3f} {m}\n" for i, (m, v) in enumerate(mem)))
            jobs.append(("memory.png", "set logscale y\nset style fill solid 0.6\nunset key\n"
                         "set boxwidth 0.7\nset ylabel 'MiB (PSS) per 1,000 connections'\n"
                         "set title 'Server memory per 1,000 connections (sum over processes)'\n"
                         "set xtics rotate by -30\nset yrange [0.01:*]\n",
                         f"'{f}' using 1:2:xtic(3) with boxes"))
        for png, settings, plot_cmd in jobs:
            script = f"{head}set output '{out_dir / png}'\n{settings}plot {plot_cmd}\n"
            run = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True)
            if run.returncode == 0:
                made.append(png)
            else:
                print(f"report: gnuplot failed for {png}: {run.stderr}", file=sys.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return made


# --- the seeds' claims --------------------------------------------------------------------------

def claims(active, idle, res, meta):
    """(claim, verdict, deciding figure) rows; a claim without data says so."""
    out = []

    def add(claim, verdict, evidence):
        out.append((claim, verdict, evidence))

    # select's cap
    probe = idle.get("io-select", {})
    cap = next((r for r in probe.values() if r.get("refused")), None)
    if cap:
        add("select is capped at FD_SETSIZE = 1024 descriptors", "confirmed",
            f"holding {cap['held']:,} connections, io-select had to close {cap['refused']:,} "
            f"(every one that got a descriptor >= 1024); the rest were served")
    else:
        add("select is capped at FD_SETSIZE = 1024 descriptors", "not measured",
            "no cap probe in these results")

    def growth_claim(claim, model, expect_growth):
        g, n, ab = idle_growth(idle, model)
        if g is None:
            return add(claim, "not measured", f"no idle series for {model}")
        grows = g >= 1.5
        flat = g <= 1.3
        if expect_growth:
            verdict = "confirmed" if grows else ("refuted" if flat else "nuanced")
        else:
            verdict = "confirmed" if flat else ("refuted" if grows else "nuanced")
        add(claim, verdict, f"{model}: server CPU per message {ab[0]:.1f} us with 0 idle "
            f"connections, {ab[1]:.1f} us with {n:,} ({g:.1f}x)")

    growth_claim("select copies and scans the whole descriptor set on every call: its cost "
                 "grows with the descriptors watched", "io-select", True)
    poll_refused = max((r.get("refused", 0) for r in idle.get("io-poll", {}).values()),
                       default=None)
    g, n, _ = idle_growth(idle, "io-poll")
    if g is not None:
        verdict = "confirmed" if g >= 1.5 and poll_refused == 0 else (
            "nuanced" if poll_refused == 0 else "refuted")
        add("poll has no descriptor cap, but still scans every descriptor on every call",
            verdict, f"io-poll held {n:,} idle connections with {poll_refused} refused; server "
            f"CPU per message grew {g:.1f}x from 0 to {n:,} idle")
    else:
        add("poll has no descriptor cap, but still scans every descriptor on every call",
            "not measured", "no idle series for io-poll")
    growth_claim("epoll returns only the ready descriptors: its cost does not depend on how "
                 "many idle ones it watches", "io-epoll", False)
    growth_claim("(io_uring, the asynchronous model, likewise)", "io-uring", False)

    # few connections: threads + blocking vs multiplexing
    rows = []
    better = []
    for c in (1, 10):
        t = rate(active, "io-threads", c)
        mux = {m: rate(active, m, c) for m in ("io-select", "io-epoll")}
        if t and all(mux.values()):
            best = max(mux.values())
            better.append(t >= 0.9 * best)
            rows.append(f"{c} conn: threads {t:,.0f} msg/s p99 {fmt(p99(active, 'io-threads', c))}"
                        f" us vs select {mux['io-select']:,.0f} / epoll {mux['io-epoll']:,.0f}"
                        f" msg/s p99 {fmt(p99(active, 'io-select', c))} / "
                        f"{fmt(p99(active, 'io-epoll', c))} us")
    if rows:
        verdict = "confirmed" if all(better) else ("refuted" if not any(better) else "nuanced")
        add("with few connections, select/epoll is not faster than threads + blocking IO",
            verdict, "; ".join(rows) + " (threads within 10% of the best counts as 'not slower')")
    else:
        add("with few connections, select/epoll is not faster than threads + blocking IO",
            "not measured", "")

    # two system calls vs one
    one = ("io-blocking", "io-select", "io-epoll")
    cpu1, rate1 = [cpu_per_msg(active, m, 1) for m in one], [rate(active, m, 1) for m in one]
    if all(cpu1) and all(rate1):
        cb, cs, ce = cpu1
        verdict = "confirmed" if cb < min(cs, ce) else "refuted"
        add("multiplexing needs two system calls per read (select + recv) where blocking IO needs"
            " one, so it is not faster for one connection", verdict,
            f"1 connection, server CPU per message: blocking {cb:.1f} us, select {cs:.1f} us, "
            f"epoll {ce:.1f} us; msg/s {rate1[0]:,.0f} / {rate1[1]:,.0f} / {rate1[2]:,.0f}")

    # many connections
    top = max((c for c in meta.get("active", []) if rate(active, "io-epoll", c)), default=None)
    if top:
        ep, th, fk = (rate(active, m, top) for m in ("io-epoll", "io-threads", "io-fork"))
        mem_e, mem_t, mem_f = (per_1000(res, m, "pss_kib") for m in
                               ("io-epoll", "io-threads", "io-fork"))
        parts = [f"{top:,} connections: epoll {ep:,.0f} msg/s"]
        if th:
            parts.append(f"threads {th:,.0f}")
        if fk:
            parts.append(f"fork {fk:,.0f}")
        faster = all(x is None or ep >= 0.9 * x for x in (th, fk))
        lighter = mem_e is not None and all(x is None or x > 3 * mem_e for x in (mem_t, mem_f))
        if mem_e is not None:
            parts.append(f"memory per 1,000 connections: epoll {mem_e:.2f} MiB, threads "
                         f"{fmt(mem_t, 1)} MiB, fork {fmt(mem_f, 1)} MiB (PSS)")
        verdict = "confirmed" if faster and lighter else ("nuanced" if faster or lighter
                                                          else "refuted")
        add("multiplexing wins by serving many connections with one thread, at a small "
            "system cost (no process/thread per client)", verdict, "; ".join(parts))

    # busy polling
    r = res.get("io-nonblocking")
    if r:
        frac = r["idle_cpu_s_no_clients"] / r["seconds"]
        others = [res[m]["idle_cpu_s_no_clients"] / res[m]["seconds"] for m in res
                  if m != "io-nonblocking"]
        g, n, ab = idle_growth(idle, "io-nonblocking")
        ev = (f"with no client at all io-nonblocking used {frac:.0%} of a core (the other models "
              f"at most {max(others, default=0):.0%})")
        if g is not None:
            ev += (f"; with {n:,} idle connections its CPU per message grew {g:.0f}x "
                   f"({ab[0]:.1f} -> {ab[1]:.1f} us): every round asks every socket")
        add("non-blocking busy polling burns CPU, and its response time suffers",
            "confirmed" if frac >= 0.8 else "refuted", ev)

    # processes and threads cost memory
    mf, me, mt = (per_1000(res, m, "pss_kib") for m in ("io-fork", "io-epoll", "io-threads"))
    rf = per_1000(res, "io-fork", "rss_kib")
    if mf is not None and me is not None:
        setup = res["io-fork"].get("setup_cpu_s")
        add("a process per connection is expensive (memory, process switches)",
            "confirmed" if mf >= 10 * max(me, 0.01) else "nuanced",
            f"1,000 connections: io-fork +{mf:.1f} MiB PSS (+{rf:.0f} MiB if RSS is summed, "
            f"shared pages counted in every process), io-epoll +{me:.2f} MiB; forking and "
            f"serving them took {setup} s of CPU vs {res['io-epoll'].get('setup_cpu_s')} s")
    if mt is not None and me is not None:
        add("a thread per connection occupies system resources with many connections",
            "confirmed" if mt >= 3 * max(me, 0.01) else "nuanced",
            f"1,000 connections: io-threads +{mt:.1f} MiB PSS "
            f"({res['io-threads']['loaded']['threads']:,} threads), io-epoll +{me:.2f} MiB")

    # edge vs level
    rows, diffs = [], []
    for c in (100, 1000, 5000):
        lt, et = rate(active, "io-epoll", c), rate(active, "io-epoll-et", c)
        if lt and et:
            diffs.append(et / lt)
            rows.append(f"{c:,} conn: ET {et:,.0f} vs LT {lt:,.0f} msg/s")
    if diffs:
        verdict = ("confirmed" if min(diffs) > 1.05 else
                   "refuted" if max(diffs) < 0.95 else "nuanced")
        add("in theory edge-triggered epoll performs better than level-triggered", verdict,
            "; ".join(rows) + " (within 5% counts as no measurable difference)")

    # asynchronous is the most efficient
    rows, ratios = [], []
    for c in (100, 1000, 5000):
        u, e = rate(active, "io-uring", c), rate(active, "io-epoll", c)
        if u and e:
            ratios.append(u / e)
            rows.append(f"{c:,} conn: io_uring {u:,.0f} vs epoll {e:,.0f} msg/s")
    if ratios:
        verdict = ("confirmed" if min(ratios) > 1.05 else
                   "refuted" if max(ratios) < 0.95 else "nuanced")
        add("asynchronous IO is the most efficient model (nothing blocks)", verdict,
            "; ".join(rows))

    # signal-driven IO
    s1, e1 = rate(active, "io-sigio", 1000), rate(active, "io-epoll", 1000)
    if s1 and e1:
        add("signal-driven IO is rarely used in practice", "nuanced",
            f"it works and scales here ({s1:,.0f} msg/s at 1,000 connections vs epoll "
            f"{e1:,.0f}), but only with Linux's F_SETSIG real-time signals, and a program must "
            f"handle signal-queue overflow by polling everything: more care than epoll for no "
            f"gain")
    return out


# --- the report ---------------------------------------------------------------------------------

def write_report(path: Path, out_dir: Path) -> Path:
    meta, end, active, idle, res = load(path)
    out_dir.mkdir(parents=True, exist_ok=True)
    pngs = plot(out_dir, active, idle, res)
    L = []
    L.append("# The IO models, measured\n")
    L.append("Generated by `make iomodels-report` (bench/iomodels/lab.py, then report.py) from "
             f"`{path.name}`; every figure and every verdict below is computed from that run. "
             "The programs are the seeds' example servers in examples/iomodels/, one per IO "
             "model, all echoing 64-byte messages (echo-load ping-pong: each connection sends a "
             "message and waits for its echo).\n")
    L.append(f"- machine: {meta.get('cpu')}, {meta.get('cores')} cores, kernel "
             f"{meta.get('kernel')}; server pinned to cpu 0, load (echo-load, idle holder) to "
             f"cpu 1: {'yes' if meta.get('pinned') else 'no (one core)'}")
    repeats = meta.get("repeats", 1)
    if repeats > 1:
        L.append(f"- {meta.get('seconds')} s per measurement, each point measured {repeats} times "
                 f"on the same server: tables give the median and its spread (±: every sample "
                 f"lies within that much of the median), plots the median with min–max error "
                 f"bars, and the verdicts compare medians; run took {end.get('elapsed_s', '?')} s")
    else:
        L.append(f"- {meta.get('seconds')} s per measurement; one run per point (no repetition: "
                 f"differences under ~10% are noise); run took {end.get('elapsed_s', '?')} s")
    L.append(f"- load average before / after: {' '.join(meta.get('loadavg', []))} / "
             f"{' '.join(end.get('loadavg', []))} (other work on the machine shows up as noise)\n")

    # 1. active
    counts = meta.get("active", [])
    L.append("## 1. Throughput and p99 latency vs active connections\n")
    if "throughput.png" in pngs:
        L.append("![throughput](throughput.png)\n\n![p99](p99.png)\n")
    med = " (medians ± spread)" if repeats > 1 else ""
    L.append(f"messages/s, and p99 round trip in µs in brackets{med}; — = not run (reason "
             "below).\n")
    L.append("| model | " + " | ".join(f"{c:,} conn" for c in counts) + " |")
    L.append("|---|" + "---:|" * len(counts))
    notes = {}
    for m in models_in(active):
        cells = []
        for c in counts:
            r = active[m].get(c)
            if ok(r):
                thr, lat = stat(active, m, c, "msgs_per_sec"), stat(active, m, c, "p99_us")
                cells.append(f"{thr[0]:,.0f}{spread(thr)} ({lat[0]:,.0f}{spread(lat)})")
            elif r and r.get("skipped"):
                cells.append("—")
                notes[m] = r.get("reason", "")
            elif r and r.get("messages"):  # ran, but some connections failed
                cells.append(f"{r['msgs_per_sec']:,.0f} ({r['p99_us']:,.0f}), "
                             f"{r['errors']:,} conn failed")
                notes.setdefault(m, f"at {c:,}: {r.get('reason', '')} (echo-load gives a "
                                 f"connection {15} s to be accepted and echo once)")
            elif r:
                cells.append("failed")
                notes.setdefault(m, r.get("reason", ""))
            else:
                cells.append("")
        L.append(f"| {m} | " + " | ".join(cells) + " |")
    L.append("")
    for m, why in notes.items():
        L.append(f"- {m}: {why}")
    L.append("")

    # 2. idle
    idle_counts = meta.get("idle", [])
    L.append("## 2. Cost vs idle connections (10 active clients + N idle)\n")
    L.append(f"Server CPU time per message (µs{'; median ± spread' if med else ''}), with "
             "messages/s in brackets. "
             "The idle connections are open but silent, so any growth is what the model pays "
             "per watched descriptor on every wait.\n")
    if "idle_cost.png" in pngs:
        L.append("![idle cost](idle_cost.png)\n")
    L.append("| model | " + " | ".join(f"{n:,} idle" for n in idle_counts) + " |")
    L.append("|---|" + "---:|" * len(idle_counts))
    notes = {}
    for m in models_in(idle):
        cells = []
        for n in idle_counts:
            r = idle[m].get(n)
            if ok(r):
                cost = stat(idle, m, n, "cpu_us_per_msg")
                cells.append(f"{cost[0]:.1f}{spread(cost)} ({rate(idle, m, n):,.0f})")
            elif r and r.get("refused"):
                cells.append(f"cap: {r['refused']:,} of {r['held']:,} closed")
                notes[m] = r.get("reason", "")
            elif r and r.get("skipped"):
                cells.append("—")
                notes[m] = r.get("reason", "")
            elif r:
                cells.append("failed")
                notes.setdefault(m, r.get("reason", ""))
            else:
                cells.append("—")
        L.append(f"| {m} | " + " | ".join(cells) + " |")
    L.append("")
    for m, why in notes.items():
        L.append(f"- {m}: {why}")
    L.append("")

    # 3. resources
    L.append("## 3. Resources\n")
    L.append("Each server freshly started; 1,000 connections opened and each echoes one byte "
             "(so per-connection buffers, stacks and processes exist). Memory is summed over "
             "the server's processes from /proc: RSS counts shared pages once per process, PSS "
             "splits them (the fair total for io-fork). CPU is user + system seconds of the "
             "server (with its children).\n")
    if "memory.png" in pngs:
        L.append("![memory](memory.png)\n")
    L.append("| model | RSS +MiB / 1,000 conn | PSS +MiB / 1,000 conn | processes / threads "
             "| CPU s: accept + echo 1,000 conn | CPU share idle, no client | CPU share, 1,000 "
             "idle conn |")
    L.append("|---|---:|---:|---:|---:|---:|---:|")
    for m in models_in(res):
        r = res[m]
        secs = r["seconds"]
        if "loaded" in r:
            L.append(f"| {m} | {per_1000(res, m, 'rss_kib'):.2f} | {per_1000(res, m, 'pss_kib'):.2f}"
                     f" | {r['loaded']['procs']:,} / {r['loaded']['threads']:,} | "
                     f"{r['setup_cpu_s']:.2f} | {r['idle_cpu_s_no_clients'] / secs:.0%} | "
                     f"{r['idle_cpu_s_1000_idle'] / secs:.0%} |")
        else:
            L.append(f"| {m} | — | — | — | — | {r['idle_cpu_s_no_clients'] / secs:.0%} | — |")
    L.append("")
    if "io-blocking" in res:
        L.append(f"- io-blocking: {res['io-blocking'].get('reason', '')}\n")

    # 4. claims
    L.append("## 4. The seeds' claims, checked\n")
    L.append("| claim (seeds) | verdict | deciding figure |")
    L.append("|---|---|---|")
    for claim, verdict, ev in claims(active, idle, res, meta):
        L.append(f"| {claim} | **{verdict}** | {ev} |")
    L.append("")
    L.append("Verdict rules (in bench/iomodels/report.py), applied to the medians: cost growth "
             "≥ 1.5x counts as 'grows', ≤ 1.3x as 'flat', in between is nuanced; throughput "
             "within 10% is 'not faster'; ET/LT and uring/epoll within 5% are 'no measurable "
             "difference'.\n")
    report = out_dir / "REPORT.md"
    report.write_text("\n".join(L))
    return report


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    out_dir = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "docs" / "iomodels"
    report = write_report(Path(sys.argv[1]), out_dir)
    print(f"report: {report}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
