"""Load generator for bench/ftp.sh: one measurement per run, one JSON object on stdout.

    ftp_load.py get      --port P --path big.bin  --expect-bytes N       # curl RETR, MB/s
    ftp_load.py put      --port P --path up.bin   --file LOCAL           # curl STOR, MB/s
    ftp_load.py many-get --port P --path small.bin --clients 100 ...     # ftp-load retr
    ftp_load.py logins   --port P --count 500                            # ftp-load, logins/s
    ftp_load.py idle     --port P --count 1000 --server-pid PID          # PSS per idle session
    ftp_load.py list     --port P --path dir --command LIST|MLSD         # ms per listing

Single transfers go through curl; the logins and many-get rows through ftp-load (apps/ftp_load:
C++, raw epoll, independent of muxio; $FTP_LOAD or --ftp-load), whose CPU per login and per MB is
a small fraction of the servers'. The idle row uses a single-threaded selectors (epoll) client
written here: it measures the server's memory, not a rate. Every result carries wall_s, load_cpu_s (this process and its curl
children) and, given --server-pid, server_cpu_s (user + system of the whole process tree under
that pid, reaped children included), so the table can tell which side was the bottleneck.
Everything is bounded by --timeout.
"""
import argparse
import errno
import json
import os
import re
import resource
import selectors
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

CLK_TCK = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------- process tree of the server


def _proc_stat(pid):
    """(ppid, utime+stime+cutime+cstime ticks) of pid, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
    except OSError:
        return None
    fields = s[s.rindex(")") + 2:].split()
    # fields[0] is state (field 3); utime is field 14 -> index 11.
    return int(fields[1]), sum(int(x) for x in fields[11:15])


def process_tree(root):
    """root and all its descendants, as {pid: ticks}."""
    stats = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = _proc_stat(int(name))
            if st is not None:
                stats[int(name)] = st
    children = {}
    for pid, (ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    tree, todo = {}, [root]
    while todo:
        pid = todo.pop()
        if pid in stats and pid not in tree:
            tree[pid] = stats[pid][1]
            todo.extend(children.get(pid, ()))
    return tree


def server_cpu_ticks(root):
    """CPU ticks of the tree. A reaped child's time is in its parent's cutime/cstime, so each
    process is counted once whether it is alive, a zombie, or gone."""
    return sum(process_tree(root).values()) if root else 0


def tree_memory_kib(root):
    """(PSS, RSS, process count) summed over the tree, from /proc/PID/smaps_rollup."""
    pss = rss = n = 0
    for pid in process_tree(root):
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                text = f.read()
        except OSError:
            continue
        m = re.search(r"^Pss:\s+(\d+) kB", text, re.M)
        r = re.search(r"^Rss:\s+(\d+) kB", text, re.M)
        if m and r:
            pss += int(m.group(1))
            rss += int(r.group(1))
            n += 1
    return pss, rss, n


def kernel_kib():
    """KernelStack + PageTables from /proc/meminfo: what a process or thread costs the kernel
    besides its own pages. System-wide, so other work on the machine adds noise."""
    total = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith(("KernelStack:", "PageTables:")):
                total += int(line.split()[1])
    return total


def listen_counters():
    """TcpExt ListenOverflows and SyncookiesSent (system-wide) from /proc/net/netstat."""
    with open("/proc/net/netstat") as f:
        lines = f.read().splitlines()
    for names, values in zip(lines[::2], lines[1::2]):
        if names.startswith("TcpExt:"):
            table = dict(zip(names.split()[1:], (int(v) for v in values.split()[1:])))
            return table.get("ListenOverflows", 0), table.get("SyncookiesSent", 0)
    return 0, 0


class Meter:
    """Wall time, load CPU (self + waited-for children) and server CPU over a phase."""

    def __init__(self, server_pid):
        self.server_pid = server_pid

    def __enter__(self):
        self.t0 = time.monotonic()
        self.cpu0 = self._load_cpu()
        self.srv0 = server_cpu_ticks(self.server_pid)
        self.net0 = listen_counters()
        return self

    def __exit__(self, *exc):
        self.wall = time.monotonic() - self.t0
        self.load_cpu = self._load_cpu() - self.cpu0
        self.server_cpu = (server_cpu_ticks(self.server_pid) - self.srv0) / CLK_TCK
        self.net = [b - a for a, b in zip(self.net0, listen_counters())]
        return False

    @staticmethod
    def _load_cpu():
        s = resource.getrusage(resource.RUSAGE_SELF)
        c = resource.getrusage(resource.RUSAGE_CHILDREN)
        return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime

    def fields(self):
        out = {"wall_s": round(self.wall, 4), "load_cpu_s": round(self.load_cpu, 3)}
        if self.server_pid:
            out["server_cpu_s"] = round(self.server_cpu, 3)
        out["listen_overflows"], out["syncookies_sent"] = self.net
        return out


# ---------------------------------------------------------------- FTP replies


class ReplyParser:
    """Feeds bytes, yields complete replies as (code, text); handles multi-line replies."""

    def __init__(self):
        self.buf = b""
        self.multi = None  # code of an open multi-line reply
        self.lines = []

    def feed(self, data):
        self.buf += data
        replies = []
        while True:
            i = self.buf.find(b"\n")
            if i < 0:
                if len(self.buf) > 65536:
                    raise ValueError("reply line longer than 64 KiB")
                return replies
            line = self.buf[:i].rstrip(b"\r").decode("utf-8", "replace")
            self.buf = self.buf[i + 1:]
            self.lines.append(line)
            code = line[:3]
            if self.multi is None:
                if len(line) >= 4 and code.isdigit() and line[3] == "-":
                    self.multi = code
                    continue
                if not (len(line) >= 3 and code.isdigit()):
                    raise ValueError(f"malformed reply line {line!r}")
            elif not (line.startswith(self.multi) and line[3:4] in (" ", "")):
                continue
            replies.append((int(code if self.multi is None else self.multi),
                            "\n".join(self.lines)))
            self.multi, self.lines = None, []


# ---------------------------------------------------------------- many control connections


class Session:
    """One control connection walking a script of (command, expected first digit)."""

    __slots__ = ("sock", "steps", "parser", "out", "t0", "t_done", "error", "done", "events")

    def __init__(self, steps):
        self.steps = list(steps)
        self.parser = ReplyParser()
        self.out = b""
        self.t0 = self.t_done = None
        self.error = None
        self.done = False
        self.sock = None
        self.events = 0


def run_sessions(args, n, steps, parallel, deadline, keep_open=False):
    """Runs n sessions through steps with at most `parallel` in progress at once. Returns the
    list of Sessions; with keep_open, finished sessions keep their sockets open.

    A session that has no greeting --greeting-timeout seconds after its connect is given up as
    lost: when a listen queue overflows, Linux answers with SYN cookies and then drops the
    client's ACK, so the client believes it is connected while the server never hears of it
    (a real FTP client waits for the banner until its own timeout)."""
    sel = selectors.DefaultSelector()
    pending = [Session(steps) for _ in range(n)]
    started = 0
    active = 0
    next_check = time.monotonic() + 0.5

    def set_events(s, ev):
        if ev == s.events:
            return
        if s.events == 0:
            sel.register(s.sock, ev, s)
        elif ev == 0:
            sel.unregister(s.sock)
        else:
            sel.modify(s.sock, ev, s)
        s.events = ev

    def finish(s, error=None):
        nonlocal active
        s.error = error
        s.done = True
        s.t_done = time.monotonic()
        active -= 1
        set_events(s, 0)
        if error is not None or not keep_open:
            s.sock.close()

    def start(s):
        nonlocal active
        active += 1
        s.t0 = time.monotonic()
        s.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.sock.setblocking(False)
        rc = s.sock.connect_ex((args.host, args.port))
        if rc not in (0, errno.EINPROGRESS):
            finish(s, f"connect: {os.strerror(rc)}")
            return
        set_events(s, selectors.EVENT_READ)

    def send_next(s):
        """Sends the command of the current step, if it has one."""
        cmd = s.steps[0][0]
        if cmd is not None:
            s.out += cmd.encode() + b"\r\n"
            flush(s)

    def flush(s):
        try:
            sent = s.sock.send(s.out)
        except BlockingIOError:
            sent = 0
        s.out = s.out[sent:]
        set_events(s, selectors.EVENT_READ | (selectors.EVENT_WRITE if s.out else 0))

    # The first step has no command: it waits for the 220 greeting.
    while started < n or active > 0:
        while started < n and active < parallel:
            start(pending[started])
            started += 1
        now = time.monotonic()
        left = deadline - now
        if left <= 0:
            break
        if now >= next_check:  # greetings overdue: lost in an overflowing listen queue
            next_check = now + 0.5
            for s in pending[:started]:
                if not s.done and s.steps is not None and len(s.steps) == len(steps) and \
                        now - s.t0 > args.greeting_timeout:
                    finish(s, f"no greeting within {args.greeting_timeout:g} s (lost)")
        for key, mask in sel.select(timeout=min(left, 1.0)):
            s = key.data
            if s.done:
                continue
            if mask & selectors.EVENT_WRITE and s.out:
                try:
                    flush(s)
                except OSError as e:
                    finish(s, f"send: {e.strerror}")
                    continue
            if not mask & selectors.EVENT_READ:
                continue
            try:
                data = s.sock.recv(65536)
            except BlockingIOError:
                continue
            except OSError as e:
                finish(s, f"recv: {e.strerror}")
                continue
            if not data:
                finish(s, f"closed by server while waiting for step {s.steps[0][0] or 'greeting'}")
                continue
            try:
                replies = s.parser.feed(data)
            except ValueError as e:
                finish(s, str(e))
                continue
            for code, text in replies:
                if s.done:
                    break
                cmd, want = s.steps[0]
                if str(code)[0] != want:
                    # 1yz is a preliminary reply: wait for the next one.
                    if str(code)[0] == "1":
                        continue
                    what = cmd.split()[0] if cmd else "greeting"
                    finish(s, f"{what}: {text.splitlines()[-1][:80]}")
                    break
                s.steps.pop(0)
                if not s.steps:
                    finish(s)
                    break
                send_next(s)
    for s in pending:
        if not s.done:
            if s.sock is not None:
                s.sock.close()
            s.done, s.error = True, "timeout" if s.t0 is not None else "not started (timeout)"
    sel.close()
    return pending


def error_summary(sessions):
    counts = {}
    for s in sessions:
        if s.error is not None:
            counts[s.error] = counts.get(s.error, 0) + 1
    return "; ".join(f"{n}x {e}" for e, n in sorted(counts.items(), key=lambda kv: -kv[1])[:3])


def login_steps(args):
    return [(None, "2"), (f"USER {args.user}", "3"), (f"PASS {args.password}", "2")]


def run_ftp_load(args, mode_args):
    """ftp-load (apps/ftp_load, C++, raw epoll): the many-connection rows' load, so that they
    measure the servers and not this interpreter. Its JSON, plus this process's meter fields."""
    tls = ["--tls"] if os.environ.get("FTP_TLS") == "1" else []
    argv = [args.ftp_load, f"{args.host}:{args.port}", "--user", args.user, "--password-env",
            "FTP_PASSWORD", "--json", "--threads", "1", "--timeout",
            f"{args.greeting_timeout:g}", *tls, *mode_args]
    env = dict(os.environ, FTP_PASSWORD=args.password)
    with Meter(args.server_pid) as m:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=args.timeout + 30,
                              env=env)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        raise RuntimeError(f"ftp-load exit {proc.returncode}: {proc.stderr.strip()[-300:]}")
    return json.loads(lines[-1]), m


def failure_summary(failures):
    return "; ".join(f"{n}x {reason}" for reason, n in
                     sorted(failures.items(), key=lambda kv: -kv[1])[:3])


def cmd_logins(args):
    # A burst: every login starts at once, each client logs in once (connect to 230), then QUITs.
    r, m = run_ftp_load(args, ["--mode", "login", "--clients", str(args.count), "--rounds", "1",
                               "--seconds", "0"])
    ok = r["ops"]
    out = {"count": args.count, "ok_logins": ok, "failed_logins": args.count - ok}
    out.update(m.fields())
    out["load_generator"] = "ftp-load"
    if ok:
        out["span_s"] = round(r["seconds"], 4)
        out["logins_per_s"] = round(ok / max(r["seconds"], 1e-9), 1)
        out["p50_s"] = round(r["p50_ms"] / 1000, 4)
        out["p99_s"] = round(r["p99_ms"] / 1000, 4)
    if ok < args.count:
        # Lost logins are reported next to the rate; only a row with no login at all failed.
        out["error"] = failure_summary(r["failures"])
        out["failed"] = not ok
    return out


def cmd_idle(args):
    if not args.server_pid:
        return {"failed": True, "error": "idle needs --server-pid"}
    time.sleep(args.settle)
    pss0, rss0, procs0 = tree_memory_kib(args.server_pid)
    kern0 = kernel_kib()
    deadline = time.monotonic() + args.timeout
    with Meter(args.server_pid) as m:
        sessions = run_sessions(args, args.count, login_steps(args), args.parallel, deadline,
                                keep_open=True)
    ok = [s for s in sessions if s.error is None]
    time.sleep(args.settle)  # let forking servers finish their post-login set-up
    pss1, rss1, procs1 = tree_memory_kib(args.server_pid)
    kern1 = kernel_kib()
    # Still logged in? A server that dropped idle sessions must not look cheap.
    alive = 0
    for s in ok:
        try:
            data = s.sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
            alive += 1 if data != b"" else 0
        except BlockingIOError:
            alive += 1
        except OSError:
            pass
    for s in ok:
        try:
            s.sock.send(b"QUIT\r\n")
        except OSError:
            pass
        s.sock.close()
    out = {"count": args.count, "ok_sessions": len(ok), "alive_at_measure": alive,
           "pss_before_kib": pss0, "pss_after_kib": pss1, "rss_before_kib": rss0,
           "rss_after_kib": rss1, "processes_before": procs0, "processes_after": procs1,
           "kernel_stack_pagetables_delta_kib": kern1 - kern0}
    out.update(m.fields())
    if ok:
        out["pss_kib_per_session"] = round((pss1 - pss0) / len(ok), 1)
        out["rss_kib_per_session"] = round((rss1 - rss0) / len(ok), 1)
        out["kernel_kib_per_session"] = round((kern1 - kern0) / len(ok), 1)
    if len(ok) < args.count or alive < len(ok):
        out["failed"] = True
        out["error"] = error_summary(sessions) or f"only {alive} of {len(ok)} still connected"
    return out


# ---------------------------------------------------------------- one blocking client


class Client:
    def __init__(self, args):
        self.args = args
        self.sock = socket.create_connection((args.host, args.port), timeout=args.timeout)
        self.parser = ReplyParser()
        self.queue = []

    def reply(self):
        while not self.queue:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("control connection closed by server")
            self.queue.extend(self.parser.feed(data))
        return self.queue.pop(0)

    def cmd(self, line, want):
        if line is not None:
            self.sock.sendall(line.encode() + b"\r\n")
        code, text = self.reply()
        if str(code)[0] != want:
            raise RuntimeError(f"{(line or 'greeting').split()[0]}: {text.splitlines()[-1][:80]}")
        return code, text

    def login(self):
        for cmd, want in login_steps(self.args):
            self.cmd(cmd, want)

    def passive(self):
        """A connected data socket, via EPSV or, failing that, PASV."""
        self.sock.sendall(b"EPSV\r\n")
        code, text = self.reply()
        if code == 229:
            port = int(re.search(r"\(\|\|\|(\d+)\|\)", text).group(1))
        else:
            _, text = self.cmd("PASV", "2")
            nums = re.search(r"(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)", text).groups()
            port = int(nums[4]) * 256 + int(nums[5])
        return socket.create_connection((self.args.host, port), timeout=self.args.timeout)

    def listing(self, command):
        """Runs one LIST/MLSD; returns (bytes, lines)."""
        data = self.passive()
        self.sock.sendall(f"{command}\r\n".encode())
        code, text = self.reply()
        if code >= 300:
            data.close()
            raise RuntimeError(f"{command.split()[0]}: {text.splitlines()[-1][:80]}")
        buf = bytearray(1 << 20)
        total = lines = 0
        while True:
            n = data.recv_into(buf)
            if n == 0:
                break
            total += n
            lines += buf.count(b"\n", 0, n)
        data.close()
        if code < 200:
            code, text = self.reply()
        if code >= 300:
            raise RuntimeError(f"{command.split()[0]}: {text.splitlines()[-1][:80]}")
        return total, lines


def cmd_list(args):
    cmd = f"{args.command} {args.path}"
    try:
        c = Client(args)
        c.login()
        c.listing(cmd)  # warm-up: directory in the dentry cache, code paths faulted in
        times = []
        with Meter(args.server_pid) as m:
            for _ in range(args.repeat):
                t0 = time.monotonic()
                size, lines = c.listing(cmd)
                times.append(time.monotonic() - t0)
        try:
            c.cmd("QUIT", "2")
        except (OSError, RuntimeError):
            pass
    except (OSError, RuntimeError, ConnectionError, AttributeError) as e:
        return {"failed": True, "error": str(e) or type(e).__name__}
    out = {"command": args.command, "repeat": args.repeat, "bytes": size, "lines": lines,
           "median_ms": round(statistics.median(times) * 1000, 2),
           "min_ms": round(min(times) * 1000, 2)}
    out.update(m.fields())
    if lines < args.expect_entries:
        out["failed"] = True
        out["error"] = f"{lines} lines, expected at least {args.expect_entries}"
    return out


# ---------------------------------------------------------------- curl transfers


def url(args, path):
    auth = f"{urllib.parse.quote(args.user, safe='')}:{urllib.parse.quote(args.password, safe='')}"
    return f"ftp://{auth}@{args.host}:{args.port}/{path}"


def run_curl(argv, timeout):
    # FTP_TLS=1 (bench/ftp.sh TLS=1): FTPS, explicit AUTH TLS with protected data connections;
    # the certificate is the run's self-signed one.
    tls = ["--ssl-reqd", "--insecure"] if os.environ.get("FTP_TLS") == "1" else []
    try:
        p = subprocess.run(["curl", "-sS", "--max-time", str(timeout)] + tls + argv,
                           capture_output=True, text=True, timeout=timeout + 10)
    except subprocess.TimeoutExpired:
        return None, "curl did not finish in time"
    err = p.stderr.strip()
    return p.stdout, err.splitlines()[-1] if err else f"exit {p.returncode}"


def cmd_get(args):
    with Meter(args.server_pid) as m:
        out, err = run_curl(["-o", "/dev/null", "-w", "%{size_download} %{speed_download} "
                             "%{exitcode}", url(args, args.path)], args.timeout)
    return curl_result(m, out, err, args.expect_bytes)


def cmd_put(args):
    with Meter(args.server_pid) as m:
        out, err = run_curl(["-T", args.file, "-w", "%{size_upload} %{speed_upload} %{exitcode}",
                             url(args, args.path)], args.timeout)
    r = curl_result(m, out, err, os.path.getsize(args.file))
    if args.verify_file and not r.get("failed"):
        try:
            got = os.path.getsize(args.verify_file)
        except OSError:
            got = -1
        if got != os.path.getsize(args.file):
            r.update(failed=True, error=f"uploaded file has {got} bytes on the server")
    return r


def curl_result(m, out, err, expect):
    r = m.fields()
    try:
        size, speed, code = out.split()
        size, speed, code = int(float(size)), float(speed), int(code)
    except (AttributeError, ValueError):
        r.update(failed=True, error=f"curl: {err}")
        return r
    r.update(bytes=size, mb_per_s=round(speed / 1e6, 1), curl_exit=code)
    if code != 0 or size != expect:
        r.update(failed=True, error=f"curl exit {code}, {size} of {expect} bytes: {err}")
    return r


def cmd_many_get(args):
    # Every client logs in first; then all RETR at once (one round each), so the row measures
    # transfers; p50/p99 are per transfer (the RETR command to its 226).
    r, m = run_ftp_load(args, ["--mode", "retr", "--path", args.path, "--clients",
                               str(args.clients), "--rounds", "1", "--seconds", "0"])
    out = m.fields()
    ok = r["ops"]
    bad = args.clients - ok
    out.update(clients=args.clients, ok_transfers=ok, failed_transfers=bad, bytes=r["bytes"],
               load_generator="ftp-load")
    if ok:
        out.update(aggregate_mb_per_s=round(r["bytes"] / 1e6 / max(r["seconds"], 1e-9), 1),
                   max_ok_s=round(r["max_ms"] / 1000, 3),
                   p50_s=round(r["p50_ms"] / 1000, 3), p99_s=round(r["p99_ms"] / 1000, 3))
        if bad:
            out["span_s"] = round(r["seconds"], 3)
    if bad:
        out.update(error=f"{bad} of {args.clients} transfers failed "
                         f"({failure_summary(r['failures'])})", failed=not ok)
    return out


# ---------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("mode", choices=["get", "put", "many-get", "logins", "idle", "list"])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--user", default="muxbench")
    ap.add_argument("--password", default=os.environ.get("FTP_PASSWORD", ""))
    ap.add_argument("--server-pid", type=int, default=0, help="root of the server's process tree")
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--path", default="")
    ap.add_argument("--file", help="put: local file to upload")
    ap.add_argument("--verify-file", help="put: where the upload lands, to check its size")
    ap.add_argument("--expect-bytes", type=int, default=-1)
    ap.add_argument("--clients", type=int, default=100)
    ap.add_argument("--count", type=int, default=500)
    ap.add_argument("--parallel", type=int, default=16, help="idle: logins in flight at once")
    ap.add_argument("--greeting-timeout", type=float, default=10,
                    help="logins/idle: seconds to wait for the 220 before counting a connection "
                    "lost; many-get: for the 220 and the login")
    ap.add_argument("--settle", type=float, default=1.0, help="idle: seconds before measuring")
    ap.add_argument("--ftp-load", default=os.environ.get("FTP_LOAD", "build/bin/ftp-load"),
                    help="the ftp-load binary (logins and many-get rows)")
    ap.add_argument("--command", default="LIST")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--expect-entries", type=int, default=0)
    args = ap.parse_args()
    fn = {"get": cmd_get, "put": cmd_put, "many-get": cmd_many_get, "logins": cmd_logins,
          "idle": cmd_idle, "list": cmd_list}[args.mode]
    try:
        result = fn(args)
    except Exception as e:  # one JSON line whatever happens: the caller records "failed"
        result = {"failed": True, "error": f"{type(e).__name__}: {e}"}
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
