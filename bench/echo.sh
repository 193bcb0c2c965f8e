#!/usr/bin/env bash
# Echo benchmark: every muxio backend against three anchor servers, same loads, same machine.
#
#   bash bench/echo.sh                 # SECONDS=5 per load
#   SECONDS=2 bash bench/echo.sh       # shorter
#
# Environment: SECONDS (per load, default 5), BIN_DIR (default build/bin; when left at the
# default, missing binaries are built with `make build`), PORT_BASE (default 17400), LOADS
# (default "1x64 100x64 1000x64 100x16384", CONNECTIONSxBYTES), CONNECT_TIMEOUT (default 10),
# LOAD_THREADS (default 1; echo-load threads, pinned to cpus 1..LOAD_THREADS), ROUNDS (default 3:
# every server runs every load ROUNDS times, servers interleaved, and the table shows medians),
# ONLY (a regex of server names to run, e.g. 'epoll').
#
# Reading the table: one ping-pong message costs the load generator a send and a recv, about
# what it costs the cheapest server, so with one load thread raw-epoll-echo and echo-load are
# both CPU-bound from ~100 connections on. Ratios below 1 are real; ratios near or above 1 mean
# "as fast as one load core can tell". With spare cores, raise LOAD_THREADS to lift that cap.
#
# Progress goes to stderr; a markdown table (msgs/s and the ratio to raw-epoll-echo of the same
# run) goes to stdout for docs/BENCHMARKS.md; raw results go to bench/results/echo-<date>.jsonl.

# SECONDS is bash's own "seconds since start" counter, so read the caller's value from the
# environment before anything else, and never use $SECONDS below.
duration=$(printenv SECONDS || echo 5)
set -euo pipefail

cd "$(dirname "$0")/.."
BIN_DIR=${BIN_DIR:-build/bin}
PORT_BASE=${PORT_BASE:-17400}
LOADS=${LOADS:-"1x64 100x64 1000x64 100x16384"}
CONNECT_TIMEOUT=${CONNECT_TIMEOUT:-10}
LOAD_THREADS=${LOAD_THREADS:-1}
ROUNDS=${ROUNDS:-3}
ONLY=${ONLY:-} # an extended regex: run only the servers whose name matches
PY=/usr/bin/python3 # not a pyenv shim: the system interpreter is always there on Debian

# name | binary | arguments before --listen
SERVERS=(
  "muxio-select|echo-server|--io select"
  "muxio-poll|echo-server|--io poll"
  "muxio-epoll|echo-server|--io epoll"
  "muxio-epoll-et|echo-server|--io epoll-et"
  "muxio-sigio|echo-server|--io sigio"
  "muxio-uring|echo-server|--io uring"
  "raw-epoll-echo|raw-epoll-echo|"
  "libuv-echo|libuv-echo|"
  "libevent-echo|libevent-echo|"
)
BASELINE=raw-epoll-echo

log() { printf 'echo.sh: %s\n' "$*" >&2; }

if ! [[ $duration =~ ^[0-9]+$ ]] || [ "$duration" -lt 1 ]; then
  log "SECONDS must be a positive integer, got '$duration'"
  exit 2
fi

if [ "$BIN_DIR" = build/bin ] && ! [ -x build/bin/echo-load ]; then
  log "build/bin/echo-load missing, running make build"
  make build >&2
fi
if ! [ -x "$BIN_DIR/echo-load" ]; then
  log "$BIN_DIR/echo-load not found"
  exit 1
fi

if ! [[ $LOAD_THREADS =~ ^[1-9][0-9]*$ ]]; then
  log "LOAD_THREADS must be a positive integer, got '$LOAD_THREADS'"
  exit 2
fi

# Server on cpu 0, load generator on cpu 1 (..LOAD_THREADS), so they never share a core.
srv_pin=()
load_pin=()
load_cpus=1
[ "$LOAD_THREADS" -eq 1 ] || load_cpus="1-$LOAD_THREADS"
if [ "$(nproc)" -gt "$LOAD_THREADS" ] && taskset -c "0,$load_cpus" true 2>/dev/null; then
  srv_pin=(taskset -c 0)
  load_pin=(taskset -c "$load_cpus")
fi

stamp=$(date +%Y%m%d-%H%M%S)
mkdir -p bench/results
results="bench/results/echo-$stamp.jsonl"
tmp=$(mktemp -d)
: >"$results"

# Upper bound for one echo-load run: connect phase + window + drain + slack.
load_budget=$((CONNECT_TIMEOUT + duration + 15))
n_loads=$(wc -w <<<"$LOADS")
# A server lives at most as long as all its loads could take; kill is still the normal end.
server_budget=$(((load_budget + 2) * n_loads + 30))

srv_pid=""
start_error=""
port=$PORT_BASE
# Other work on the machine shows up as noise in every cell; the table records how busy it was.
loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg)

source bench/lib.sh # (the script has cd-ed to the repository root)
trap 'stop_server; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

# start_server LOG BINARY ARGS... ; sets srv_pid, or returns non-zero with the reason in
# $start_error if the server does not accept connections within 5 s.
start_server() {
  local logfile=$1 bin=$2 rc
  shift 2
  start_error=""
  if ! next_free_port; then
    start_error="no free port near $port"
    return 1
  fi
  "${srv_pin[@]}" timeout "$server_budget" "$BIN_DIR/$bin" "$@" --listen "127.0.0.1:$port" \
    >"$logfile" 2>&1 &
  srv_pid=$!
  for _ in $(seq 50); do
    if ! kill -0 "$srv_pid" 2>/dev/null; then
      rc=0
      wait "$srv_pid" 2>/dev/null || rc=$?
      srv_pid=""
      start_error="exited with status $rc: $(tail -n 3 "$logfile" | tr '\n' ' ')"
      return 1
    fi
    port_accepts "$port" && return 0
    sleep 0.1
  done
  stop_server
  start_error="127.0.0.1:$port did not accept connections within 5 s"
  return 1
}

# CPU ticks (user + system) the server has used so far. srv_pid is `timeout`; the server is its
# child.
server_cpu_ticks() {
  local pid
  pid=$(pgrep -P "$srv_pid" | head -n 1 || true)
  [ -n "$pid" ] || pid=$srv_pid
  awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$pid/stat" 2>/dev/null || echo 0
}

# run_load NAME LOAD ; appends one JSON line to $results.
run_load() {
  local name=$1 load=$2
  local conns=${load%x*} size=${load#*x} out rc=0 ticks_before ticks_after
  ticks_before=$(server_cpu_ticks)
  out=$(timeout "$load_budget" "${load_pin[@]}" "$BIN_DIR/echo-load" \
    --connect "127.0.0.1:$port" --connections "$conns" --size "$size" \
    --seconds "$duration" --connect-timeout "$CONNECT_TIMEOUT" --threads "$LOAD_THREADS" \
    --json 2>>"$tmp/load.log") || rc=$?
  ticks_after=$(server_cpu_ticks)
  local cpu_s
  cpu_s=$(awk -v a="$ticks_before" -v b="$ticks_after" -v hz="$(getconf CLK_TCK)" \
    'BEGIN { printf "%.3f", (b - a) / hz }')
  local head="{\"date\":\"$stamp\",\"server\":\"$name\",\"load\":\"$load\",\"exit\":$rc"
  head="$head,\"round\":$round,\"server_cpu_s\":$cpu_s"
  if [[ $out == \{* ]]; then
    echo "$head,${out#\{}" >>"$results"
    log "$name $load: $out"
  else
    echo "$head,\"failed\":true}" >>"$results"
    log "$name $load: echo-load failed (exit $rc): $(tail -n 2 "$tmp/load.log" | tr '\n' ' ')"
  fi
}

skipped=()
for round in $(seq "$ROUNDS"); do
log "round $round of $ROUNDS"
for entry in "${SERVERS[@]}"; do
  IFS='|' read -r name bin args <<<"$entry"
  if [ -n "$ONLY" ] && ! [[ $name =~ $ONLY ]]; then continue; fi
  if ! [ -x "$BIN_DIR/$bin" ]; then
    log "skip $name: $BIN_DIR/$bin not built"
    [ "$round" -gt 1 ] || skipped+=("$name (not built)")
    continue
  fi
  # shellcheck disable=SC2086 # $args is a short list of words on purpose
  if ! start_server "$tmp/$name.log" "$bin" $args; then
    log "skip $name: did not start: $start_error"
    [ "$round" -gt 1 ] || skipped+=("$name (did not start)")
    continue
  fi
  log "$name listening on 127.0.0.1:$port"
  for load in $LOADS; do
    if [ -z "$srv_pid" ] || ! kill -0 "$srv_pid" 2>/dev/null; then
      log "$name died; restarting it for $load"
      # shellcheck disable=SC2086
      start_server "$tmp/$name.log" "$bin" $args || log "$name: restart failed: $start_error"
    fi
    if [ -n "$srv_pid" ]; then
      run_load "$name" "$load"
    else
      echo "{\"date\":\"$stamp\",\"server\":\"$name\",\"load\":\"$load\",\"failed\":true}" >>"$results"
    fi
    sleep 0.5 # let the server reap the closed connections before the next load
  done
  stop_server
done
done

log "raw results: $results"

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//' || true)
pinning=$([ ${#srv_pin[@]} -gt 0 ] && echo "server cpu 0, load cpu $load_cpus" || echo "not pinned")
skipped_list=$(printf '%s; ' "${skipped[@]+"${skipped[@]}"}")
"$PY" - "$results" "$BASELINE" "$duration" "$cpu" "$(uname -r)" "$pinning" "$LOADS" \
  "${skipped_list%; }" "$loadavg_start" "$LOAD_THREADS" <<'EOF'
"""Turns the JSON lines of one run into a markdown table: msgs/s and ratio to the baseline."""
import json
import sys

path, baseline, seconds, cpu, kernel, pinning, loads, skipped, loadavg, load_threads = sys.argv[1:11]
loads = loads.split()
runs = {}  # server -> load -> [results of every round], in run order
for line in open(path):
    r = json.loads(line)
    runs.setdefault(r["server"], {}).setdefault(r["load"], []).append(r)


def median_run(results):
    """The round with the median msgs/s; a failed round counts as the lowest."""
    ordered = sorted(results, key=lambda r: -1 if r.get("failed") else r["msgs_per_sec"])
    return ordered[len(ordered) // 2]


rows = {s: {l: median_run(rs) for l, rs in loads_.items()} for s, loads_ in runs.items()}
rounds = max((len(rs) for ls in runs.values() for rs in ls.values()), default=0)


def rate(r):
    return None if r is None or r.get("failed") else r["msgs_per_sec"]


def cell(r, base):
    value = rate(r)
    if value is None:
        return "failed"
    text = f"{value:.0f}"
    if base:
        text += f" ({value / base:.2f}x)"
    notes = []
    if r["errors"]:
        notes.append(f"{r['errors']} err")
    if r["mismatches"]:
        notes.append(f"{r['mismatches']} MISMATCH")
    return text + (" " + ", ".join(notes) if notes else "")


def label(load):
    conns, size = load.split("x")
    return f"{conns} conn x {size} B"


print(f"Echo ping-pong, msgs/s (ratio to {baseline}), {seconds} s per load, "
      f"median of {rounds} round(s)")
print()
print(f"- CPU: {cpu}; kernel {kernel}; {pinning}; single-threaded servers; "
      f"{load_threads} echo-load thread(s)")
print(f"- load average before the run: {loadavg}")
if skipped:
    print(f"- skipped: {skipped}")
print()
print("| server | " + " | ".join(label(l) for l in loads) + " |")
print("|---|" + "---:|" * len(loads))
base = rows.get(baseline, {})
for server, results in rows.items():
    cells = [cell(results.get(l), rate(base.get(l))) for l in loads]
    print(f"| {server} | " + " | ".join(cells) + " |")


def efficiency(r):
    """Messages per second of server CPU (user + system): what the server pays per message.
    With one load thread the load generator, not the server, caps msgs/s; this does not."""
    if rate(r) is None or not r.get("server_cpu_s"):
        return None
    return r["messages"] / r["server_cpu_s"]


print()
print(f"Server efficiency, messages per server CPU-second (ratio to {baseline}; higher is better;")
print("the connect and drain phases are charged too, equally for every server)")
print()
print("| server | " + " | ".join(label(l) for l in loads) + " |")
print("|---|" + "---:|" * len(loads))
for server, results in rows.items():
    cells = []
    for l in loads:
        value, b = efficiency(results.get(l)), efficiency(base.get(l))
        cells.append("n/a" if value is None else
                     f"{value:.0f}" + (f" ({value / b:.2f}x)" if b else ""))
    print(f"| {server} | " + " | ".join(cells) + " |")
EOF
