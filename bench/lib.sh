# Shared by the benchmark scripts (sourced): stopping a server with everything it forked, and
# picking a port nobody listens on. The caller defines log() and the globals srv_pid and port.

# The pids of a process and all its descendants (one ps: forking servers have thousands).
tree_pids() {
  ps -e -o pid=,ppid= | awk -v root="$1" '
    { kids[$2] = kids[$2] " " $1 }
    END {
      todo[1] = root; n = 1
      while (n > 0) {
        p = todo[n--]; print p
        k = split(kids[p], c, " ")
        for (i = 1; i <= k; i++) todo[++n] = c[i]
      }
    }'
}

# SIGTERM, up to 3 s for a clean exit, then SIGKILL for the server and whatever it left behind
# (forking servers leave their session processes when the listener goes).
stop_server() {
  [ -n "$srv_pid" ] || return 0
  local pids p
  pids=$(tree_pids "$srv_pid")
  kill -TERM "$srv_pid" 2>/dev/null || true
  for _ in $(seq 30); do
    kill -0 "$srv_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$srv_pid" 2>/dev/null && log "server did not exit within 3 s of SIGTERM; killing it"
  for p in $pids; do kill -KILL "$p" 2>/dev/null || true; done
  wait "$srv_pid" 2>/dev/null || true
  srv_pid=""
}

port_accepts() { timeout 1 bash -c ": >/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

# Moves $port past ports something else already listens on (a stale server would be measured).
next_free_port() {
  port=$((port + 1))
  local tries=0
  while port_accepts "$port"; do
    port=$((port + 1))
    tries=$((tries + 1))
    [ "$tries" -lt 50 ] || return 1
  done
}
