#!/usr/bin/env bash
# FTP server benchmark: muxftpd against vsftpd, pure-ftpd, ProFTPD and pyftpdlib, same loads, same
# files, same password hash, same machine.
#
#   bash bench/ftp.sh                          # everything, SIZE_MB=1024, ROUNDS=3
#   SIZE_MB=16 ROUNDS=1 bash bench/ftp.sh      # a quick look
#   ONLY='muxftpd$|vsftpd' TESTS='logins idle' bash bench/ftp.sh
#
# Rows (TESTS, default all of "retr stor many logins idle list mlsd"):
#   retr    one client RETR of a SIZE_MB file (curl), MB/s (10^6 bytes/s)
#   stor    one client STOR of a SIZE_MB file (curl), MB/s
#   many    MANY_CLIENTS clients log in, then at once each RETR a MANY_MB file (ftp-load):
#           aggregate MB/s and the p99 of the per-transfer time (RETR to 226)
#   logins  LOGINS concurrent connect + USER/PASS + QUIT (ftp-load, one login each), logins/s
#   idle    IDLE_SESSIONS control connections logged in and left idle: the growth of the
#           server's PSS (summed over its whole process tree, from /proc/PID/smaps_rollup)
#           divided by the sessions, KiB/session
#   list    LIST of a LIST_ENTRIES-entry directory, ms per listing (median of LIST_REPEAT)
#   mlsd    MLSD of the same directory
#
# Environment: SIZE_MB (1024), MANY_CLIENTS (100), MANY_MB (10), LOGINS (500),
# IDLE_SESSIONS (1000), LIST_ENTRIES (10000), LIST_REPEAT (5), ROUNDS (3: every server runs
# every row ROUNDS times, servers interleaved; the table shows medians), ONLY (an extended regex
# of server names to run), TESTS (rows to run), MUX_THREADS (muxftpd --threads, 1), MUX_IO
# (muxftpd --io, epoll; uring makes the kernel do the transfers: splice, file writes), TLS (1:
# FTPS, explicit AUTH TLS with protected data connections, for muxftpd, vsftpd and proftpd and
# the rows retr, stor, many; default 0), MUX_FSYNC
# (0: muxftpd's fsync_uploads off like the anchors, which never fsync; 1: on), BIN_DIR (default
# build/bin; when left at the default, a missing muxftpd is built with `make build`), PORT_BASE
# (17600; control ports), PASV_BASE (20000; each server gets its own 500 passive ports, below
# the ephemeral range), DATA_DIR (/var/tmp/muxftpd-bench-data: the test files, created once from
# /dev/urandom and kept for the next run; delete it to get the disk space back), PKG_DIR
# (/var/tmp/muxftpd-bench-pkgs: pure-ftpd and proftpd unpacked there, see below).
#
# Servers, each started fresh for every row, on its own port, with its own temporary config and
# root directory (hard links to the same files), pinned to cpu 0; load on cpu 1:
#   muxftpd           --users-file with the $6$ hash, --threads MUX_THREADS (as shipped: one
#                     process, event loop(s) + a 4-thread offload pool for disk and hashing);
#                     runs as muxbench
#   vsftpd            3.0.3 as Debian ships it: a process per session (plus a privileged
#                     helper); local user muxbench through PAM (pam_unix, /etc/shadow)
#   pure-ftpd         1.0.50 (privsep): a process per session; a virtual user in a puredb in the
#                     temp dir, mapped to muxbench's uid
#   proftpd           1.3.8 (Debian's proftpd-core, + mod_tls from proftpd-mod-crypto for TLS=1):
#                     standalone, a process per session, started as root, serving as muxbench;
#                     an AuthUserFile in the temp dir (passwd format: the $6$ hash, muxbench's
#                     uid/gid, home = the root, DefaultRoot there), not PAM; no DNS/ident
#                     lookups; DelayEngine off (mod_delay pads USER/PASS against timing attacks;
#                     the others do not); sendfile on as by default; logs only to the temp dir
#   pyftpdlib         FTPServer (one process, one thread, epoll), bench/ftp_pyftpdlib_server.py;
#                     runs as muxbench
#   muxftpd-plain     logins row only: --user muxbench:PASSWORD (plain text in memory, no hash):
#                     what muxftpd's protocol path costs without the hash
#   muxftpd-argon2id  logins row only, and only when ONLY names it: a `muxftpd passwd` argon2id
#                     hash (64 MiB, ~0.15 s per login on one core: LOGINS take minutes)
# Every server but muxftpd-plain/-argon2id checks the same $6$ sha512-crypt hash (5000 rounds) of
# the same password, so a login costs each of them the same hash.
#
# Benchmark-only system changes, made idempotently by this script (it runs as root):
#   - user `muxbench` (no home, shell /usr/sbin/nologin, so no shell logins; home "/" because
#     vsftpd changes to it before its local_root), whose password is set to PASSWORD
#     (default muxbench-only-pw) as a $6$ hash on every run;
#   - /etc/pam.d/muxbench-ftp: pam_unix auth/account for vsftpd (Debian's own vsftpd PAM file
#     requires a login shell in /etc/shells);
#   - vsftpd, pure-ftpd and proftpd-core conflict in Debian (all provide ftp-server), so vsftpd
#     is installed (scripts/deps.sh) and pure-ftpd and proftpd-core (+ proftpd-mod-crypto, and
#     the libraries of theirs that are not installed: libhiredis, libmemcached, ...) are fetched
#     with `apt-get download` and unpacked into PKG_DIR with dpkg-deb -x (no maintainer scripts,
#     no service); proftpd finds its libraries there through LD_LIBRARY_PATH, set for it alone.
# To undo: userdel muxbench; rm /etc/pam.d/muxbench-ftp; rm -rf DATA_DIR PKG_DIR.
#
# Reading the table:
#   - "N of M lost": connections that overflowed the server's listen backlog (pure-ftpd listens
#     with 9, vsftpd 32, pyftpdlib 100, proftpd 128, muxftpd 1024). Linux answers the excess with SYN cookies
#     and drops the client's ACK while the accept queue is full, so the client believes it is
#     connected and the server never hears of it: the client gives up after 10 s without a
#     greeting (15 s for greeting + login in `many`). Rates are over the connections that got
#     through; a percentile that lands on a lost one shows as "> 15.00".
#   - Memory is user-space PSS. A process per session also costs the kernel a stack and page
#     tables (listed below the table, from /proc/meminfo, system-wide and noisy).
#   - On a VM, fork/exit and page faults cost more than on bare metal, which weighs on the
#     process-per-session anchors in `logins` and `many`.
#   - The second table says which side was busy: the server is pinned to one core, so ~1.00 for
#     the server means the server bounds the row, ~1.00 for the load generator means the
#     generator does: such a cell is marked ">=" (or "<=" for times), the server could do more.
#
# Progress goes to stderr; markdown tables (figures with the ratio muxftpd/anchor, then the CPU
# each side used, which tells the bottleneck) go to stdout for docs; raw results go to
# bench/results/ftp-<date>.jsonl.

set -euo pipefail

cd "$(dirname "$0")/.."
BIN_DIR=${BIN_DIR:-build/bin}
SIZE_MB=${SIZE_MB:-1024}
MANY_CLIENTS=${MANY_CLIENTS:-100}
MANY_MB=${MANY_MB:-10}
LOGINS=${LOGINS:-500}
IDLE_SESSIONS=${IDLE_SESSIONS:-1000}
LIST_ENTRIES=${LIST_ENTRIES:-10000}
LIST_REPEAT=${LIST_REPEAT:-5}
ROUNDS=${ROUNDS:-3}
ONLY=${ONLY:-} # an extended regex: run only the servers whose name matches
TESTS=${TESTS:-"retr stor many logins idle list mlsd"}
MUX_THREADS=${MUX_THREADS:-1}
MUX_IO=${MUX_IO:-epoll}
TLS=${TLS:-0}
MUX_FSYNC=${MUX_FSYNC:-0}
PORT_BASE=${PORT_BASE:-17600}
PASV_BASE=${PASV_BASE:-20000}
DATA_DIR=${DATA_DIR:-/var/tmp/muxftpd-bench-data}
PKG_DIR=${PKG_DIR:-/var/tmp/muxftpd-bench-pkgs}
PASSWORD=${PASSWORD:-muxbench-only-pw}
BENCH_USER=muxbench
PY=/usr/bin/python3 # not a pyenv shim: the system interpreter has python3-pyftpdlib
LOAD="$PY bench/ftp_load.py"
export FTP_LOAD=${FTP_LOAD:-$BIN_DIR/ftp-load} # apps/ftp_load: the logins and many rows

# name | kind | rows ("all" or a list) | opt-in (run only when ONLY names it)
SERVERS=(
  "muxftpd|muxftpd|all|"
  "vsftpd|vsftpd|all|"
  "pure-ftpd|pure-ftpd|all|"
  "proftpd|proftpd|all|"
  "pyftpdlib|pyftpdlib|all|"
  "muxftpd-plain|muxftpd-plain|logins|"
  "muxftpd-argon2id|muxftpd-argon2id|logins|opt-in"
)
BASELINE=muxftpd

log() { printf 'ftp.sh: %s\n' "$*" >&2; }

# FTPS: every control and data connection in TLS (AUTH TLS, PROT P; curl --ssl-reqd), with a
# self-signed certificate made for the run; the bulk rows only, and the servers set up for it.
TLS_SERVERS='muxftpd|vsftpd|proftpd'
TLS_TESTS='retr stor many'
case $TLS in
  0) ;;
  1)
    for t in $TESTS; do
      if [[ " $TLS_TESTS " != *" $t "* ]]; then
        printf 'ftp.sh: TLS=1 measures only the rows %s (its clients for the others speak plain FTP)\n' "$TLS_TESTS" >&2
        exit 2
      fi
    done
    ;;
  *)
    printf 'ftp.sh: TLS must be 0 or 1, got %s\n' "$TLS" >&2
    exit 2
    ;;
esac
case $MUX_IO in
  select | poll | epoll | epoll-et | sigio | uring) ;;
  *)
    printf 'ftp.sh: MUX_IO must be a muxio backend (select poll epoll epoll-et sigio uring), got %s\n' "$MUX_IO" >&2
    exit 2
    ;;
esac
for knob in SIZE_MB MANY_CLIENTS MANY_MB LOGINS IDLE_SESSIONS LIST_ENTRIES LIST_REPEAT ROUNDS \
  MUX_THREADS PORT_BASE PASV_BASE; do
  if ! [[ ${!knob} =~ ^[1-9][0-9]*$ ]]; then
    log "$knob must be a positive integer, got '${!knob}'"
    exit 2
  fi
done
for t in $TESTS; do
  case $t in retr | stor | many | logins | idle | list | mlsd) ;; *)
    log "unknown test '$t' in TESTS"
    exit 2
    ;;
  esac
done
if [ "$(id -u)" -ne 0 ]; then
  log "run as root: the anchors need a system user and vsftpd/pure-ftpd/proftpd start as root"
  exit 2
fi

# ------------------------------------------------------------------ tools and anchors

if [ "$BIN_DIR" = build/bin ] && ! { [ -x build/bin/muxftpd ] && [ -x build/bin/ftp-load ]; }; then
  log "build/bin/muxftpd or ftp-load missing, running make build"
  make build >&2
fi
[ -x "$BIN_DIR/muxftpd" ] || log "$BIN_DIR/muxftpd not found: muxftpd rows will be skipped"

if ! command -v vsftpd >/dev/null || ! command -v curl >/dev/null ||
  ! "$PY" -c 'import pyftpdlib' 2>/dev/null; then
  log "vsftpd, curl or python3-pyftpdlib missing, running scripts/deps.sh"
  bash scripts/deps.sh >&2 || log "scripts/deps.sh failed; servers it did not install are skipped"
fi

# pure-ftpd: the installed one if there is one (then vsftpd is not), else the unpacked package.
PUREFTPD=$(command -v pure-ftpd || true)
if [ -z "$PUREFTPD" ]; then
  PUREFTPD=$PKG_DIR/pure-ftpd/usr/sbin/pure-ftpd
  if ! [ -x "$PUREFTPD" ]; then
    log "unpacking Debian's pure-ftpd into $PKG_DIR (it conflicts with vsftpd, so not installed)"
    mkdir -p "$PKG_DIR"
    (cd "$PKG_DIR" && rm -f pure-ftpd_*.deb &&
      timeout 120 apt-get download -o APT::Sandbox::User=root pure-ftpd >&2 &&
      rm -rf pure-ftpd && dpkg-deb -x pure-ftpd_*.deb pure-ftpd) ||
      log "could not fetch pure-ftpd (apt-get update first?): pure-ftpd will be skipped"
  fi
fi

# proftpd: likewise (proftpd-core conflicts with ftp-server too), with proftpd-mod-crypto for
# mod_tls, and those of their shared libraries that are not installed, unpacked next to them and
# found through LD_LIBRARY_PATH by proftpd alone (PROFTPD_LIBS).
PROFTPD=$(command -v proftpd || true)
PROFTPD_MODS=/usr/lib/proftpd
PROFTPD_LIBS=""
if [ -z "$PROFTPD" ]; then
  PROFTPD=$PKG_DIR/proftpd/usr/sbin/proftpd
  PROFTPD_MODS=$PKG_DIR/proftpd/usr/lib/proftpd
  if ! [ -x "$PROFTPD" ]; then
    log "unpacking Debian's proftpd-core into $PKG_DIR (it conflicts with vsftpd, so not installed)"
    pft_pkgs=(proftpd-core proftpd-mod-crypto)
    for p in libhiredis0.14 libmemcached11 libmemcachedutil2 libhashkit2 libpcre2-posix3; do
      dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q ' installed$' || pft_pkgs+=("$p")
    done
    mkdir -p "$PKG_DIR/proftpd-debs"
    (cd "$PKG_DIR/proftpd-debs" && rm -f ./*.deb &&
      timeout 120 apt-get download -o APT::Sandbox::User=root "${pft_pkgs[@]}" >&2 &&
      rm -rf ../proftpd ../proftpd.part &&
      for deb in ./*.deb; do dpkg-deb -x "$deb" ../proftpd.part || exit 1; done &&
      mv ../proftpd.part ../proftpd) ||
      log "could not fetch proftpd (apt-get update first?): proftpd will be skipped"
  fi
  if [ -x "$PROFTPD" ]; then
    PROFTPD_LIBS=$(find "$PKG_DIR/proftpd/usr/lib" -mindepth 1 -maxdepth 1 -type d \
      -name '*-linux-*' | paste -sd:)
    if LD_LIBRARY_PATH=$PROFTPD_LIBS ldd "$PROFTPD" "$PROFTPD_MODS/mod_tls.so" 2>/dev/null |
      grep 'not found' >&2; then
      log "proftpd misses the shared libraries above (rm -rf $PKG_DIR/proftpd to fetch again)"
    fi
  fi
fi
# mod_tls is a module of its own (proftpd-mod-crypto): the TLS=1 rows need it.
proftpd_tls() { [ -f "$PROFTPD_MODS/mod_tls.so" ]; }

# Many sessions: the servers inherit this limit, the load generator too.
need_fds=$((IDLE_SESSIONS * 3 + LOGINS * 3 + 1000))
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt "$need_fds" ]; then
  ulimit -Hn "$need_fds" 2>/dev/null || log "RLIMIT_NOFILE hard limit $hard < $need_fds"
fi
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
max_clients=$((IDLE_SESSIONS > LOGINS ? IDLE_SESSIONS : LOGINS))
max_clients=$((max_clients + 1000 > 2000 ? max_clients + 1000 : 2000))

# ------------------------------------------------------------------ benchmark user

pw_hash=$(openssl passwd -6 -salt muxbenchbench "$PASSWORD")
if ! id "$BENCH_USER" >/dev/null 2>&1; then
  log "creating benchmark-only user $BENCH_USER (no home, no login shell)"
  useradd --no-create-home --home-dir / --shell /usr/sbin/nologin \
    --comment "muxftpd bench/ftp.sh only" "$BENCH_USER"
fi
usermod --home / --password "$pw_hash" "$BENCH_USER"
bench_uid=$(id -u "$BENCH_USER")
bench_gid=$(id -g "$BENCH_USER")
pam_file=/etc/pam.d/muxbench-ftp
pam_text='# muxftpd bench/ftp.sh only: the password of the benchmark user muxbench, for vsftpd
auth     required pam_unix.so
account  required pam_unix.so
session  required pam_permit.so
password required pam_deny.so'
[ "$(cat "$pam_file" 2>/dev/null)" = "$pam_text" ] || printf '%s\n' "$pam_text" >"$pam_file"
as_bench=(setpriv --reuid="$bench_uid" --regid="$bench_gid" --clear-groups)

# ------------------------------------------------------------------ files, made once

mkdir -p "$DATA_DIR"
chmod 755 "$DATA_DIR"
# make_file NAME MB: random bytes, reused while the size is right.
make_file() {
  local f=$DATA_DIR/$1 bytes=$(($2 * 1048576))
  [ "$(stat -c %s "$f" 2>/dev/null || echo -1)" = "$bytes" ] && return 0
  log "creating $f ($2 MiB from /dev/urandom)"
  rm -f "$f" "$f.part"
  timeout 600 dd if=/dev/urandom of="$f.part" bs=1M count="$2" status=none
  chmod 644 "$f.part"
  mv "$f.part" "$f"
}
make_file "big-${SIZE_MB}M.bin" "$SIZE_MB"
make_file "small-${MANY_MB}M.bin" "$MANY_MB"
list_dir=$DATA_DIR/dir-$LIST_ENTRIES
if [ "$(find "$list_dir" -maxdepth 1 -type f 2>/dev/null | wc -l)" != "$LIST_ENTRIES" ]; then
  log "creating $list_dir ($LIST_ENTRIES empty files)"
  rm -rf "$list_dir" "$list_dir.part"
  mkdir -p "$list_dir.part"
  (cd "$list_dir.part" && seq -f 'entry-%06g.dat' 0 $((LIST_ENTRIES - 1)) | xargs touch)
  chmod 755 "$list_dir.part"
  mv "$list_dir.part" "$list_dir"
fi

stamp=$(date +%Y%m%d-%H%M%S)
mkdir -p bench/results
results="bench/results/ftp-$stamp.jsonl"
: >"$results"
# Next to DATA_DIR, so that server roots can be hard links to the files.
tmp=$(mktemp -d "$(dirname "$DATA_DIR")/muxftpd-bench.XXXXXX")
chmod 711 "$tmp" # servers running as muxbench reach their own files, not the others'

mux_tls=()
if [ "$TLS" = 1 ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
    -keyout "$tmp/tls.key" -out "$tmp/tls.crt" 2>/dev/null
  # muxftpd runs as muxbench; vsftpd and proftpd read them as root.
  chown "$BENCH_USER:" "$tmp/tls.key" "$tmp/tls.crt"
  chmod 600 "$tmp/tls.key"
  # Client scope: curl --parallel shares one session cache across its transfers (vsftpd's
  # require_ssl_reuse accepts any session of the server, which is wider still).
  mux_tls=(--tls required --tls-cert "$tmp/tls.crt" --tls-key "$tmp/tls.key"
    --tls-reuse-scope client)
  export FTP_TLS=1 # bench/ftp_load.py: curl --ssl-reqd
fi

# Server on cpu 0, load generator on cpu 1, so they never share a core.
srv_pin=()
load_pin=()
if [ "$(nproc)" -gt 1 ] && taskset -c 0,1 true 2>/dev/null; then
  srv_pin=(taskset -c 0)
  load_pin=(taskset -c 1)
fi

# Upper bounds: transfers assume at least 10 MB/s; a login at most 0.5 s of one core.
xfer_budget=$((30 + SIZE_MB / 10))
many_budget=$((30 + MANY_CLIENTS * MANY_MB / 10))
login_budget=$((60 + LOGINS / 2))
idle_budget=$((60 + IDLE_SESSIONS / 10))
list_budget=$((60 + LIST_ENTRIES * LIST_REPEAT / 1000))
server_budget=$((xfer_budget + many_budget + login_budget + idle_budget + list_budget + 60))

srv_pid=""
start_error=""
port=$PORT_BASE
loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg)

source bench/lib.sh # (the script has cd-ed to the repository root)
trap 'stop_server; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------------ per-server set-up

# setup_server NAME KIND INDEX: writes the server's config and root under $tmp/NAME (once).
setup_server() {
  local name=$1 kind=$2 idx=$3 dir=$tmp/$1
  [ -d "$dir" ] && return 0
  mkdir -p "$dir/root"
  ln "$DATA_DIR/big-${SIZE_MB}M.bin" "$dir/root/big.bin"
  ln "$DATA_DIR/small-${MANY_MB}M.bin" "$dir/root/small.bin"
  cp -al "$list_dir" "$dir/root/dir"
  chown "$BENCH_USER:" "$dir/root"
  pasv_low=$((PASV_BASE + idx * 500))
  pasv_high=$((pasv_low + 499))
  echo "$pasv_low $pasv_high" >"$dir/pasv"
  case $kind in
    muxftpd*)
      # Every load comes from 127.0.0.1: session limits as vsftpd's max_clients/max_per_ip.
      printf 'fsync_uploads = %s\nmax_sessions = %s\nmax_sessions_per_ip = %s\n' \
        "$([ "$MUX_FSYNC" = 1 ] && echo true || echo false)" "$max_clients" "$max_clients" \
        >"$dir/muxftpd.toml"
      if [ "$kind" = muxftpd-argon2id ]; then
        printf '%s\n' "$PASSWORD" | "$BIN_DIR/muxftpd" passwd "$dir/users" "$BENCH_USER" \
          2>/dev/null
      else
        printf '%s:%s:all:\n' "$BENCH_USER" "$pw_hash" >"$dir/users"
      fi
      chown "$BENCH_USER:" "$dir/muxftpd.toml" "$dir/users"
      chmod 600 "$dir/users"
      ;;
    vsftpd)
      mkdir -p "$dir/empty"
      chmod 755 "$dir/empty"
      cat >"$dir/vsftpd.conf" <<EOF
listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port=PORT
background=NO
anonymous_enable=NO
local_enable=YES
write_enable=YES
local_umask=022
local_root=$dir/root
chroot_local_user=YES
allow_writeable_chroot=YES
pasv_enable=YES
pasv_min_port=$pasv_low
pasv_max_port=$pasv_high
connect_from_port_20=NO
max_clients=$max_clients
max_per_ip=$max_clients
pam_service_name=muxbench-ftp
secure_chroot_dir=$dir/empty
xferlog_enable=NO
syslog_enable=NO
vsftpd_log_file=$dir/vsftpd.log
seccomp_sandbox=NO
EOF
      if [ "$TLS" = 1 ]; then
        # vsftpd's own FTPS: TLS for logins and data, session reuse required (its default).
        cat >>"$dir/vsftpd.conf" <<EOF
ssl_enable=YES
rsa_cert_file=$tmp/tls.crt
rsa_private_key_file=$tmp/tls.key
force_local_logins_ssl=YES
force_local_data_ssl=YES
ssl_sslv2=NO
ssl_sslv3=NO
ssl_tlsv1=NO
ssl_ciphers=HIGH
EOF
      fi
      chmod 600 "$dir/vsftpd.conf"
      ;;
    pure-ftpd)
      # A virtual user: NAME:HASH:UID:GID:GECOS:HOME (/./: chrooted) and 12 empty limits.
      printf '%s:%s:%s:%s::%s/./::::::::::::\n' "$BENCH_USER" "$pw_hash" "$bench_uid" \
        "$bench_gid" "$dir/root" >"$dir/pureftpd.passwd"
      chmod 600 "$dir/pureftpd.passwd"
      "$(dirname "$PUREFTPD")/../bin/pure-pw" mkdb "$dir/pureftpd.pdb" \
        -f "$dir/pureftpd.passwd" >/dev/null 2>&1 ||
        pure-pw mkdb "$dir/pureftpd.pdb" -f "$dir/pureftpd.passwd" >/dev/null
      ;;
    proftpd)
      # AuthUserFile (passwd format, the same $6$ hash, muxbench's uid/gid, home = the root) and
      # nothing else: no PAM, no /etc/passwd. DelayEngine off: mod_delay pads USER and PASS to
      # the usual login time against timing attacks (the others do not; with it on, 50 logins
      # ran at ~35/s with the server half idle). UseSendfile and the TLS session reuse that
      # mod_tls requires on data connections stay at their defaults (on). SystemLog: 3 lines a
      # session into the temp dir.
      local group
      group=$(id -gn "$BENCH_USER")
      printf '%s:%s:%s:%s::%s:/usr/sbin/nologin\n' "$BENCH_USER" "$pw_hash" "$bench_uid" \
        "$bench_gid" "$dir/root" >"$dir/proftpd.passwd"
      printf '%s:x:%s:\n' "$group" "$bench_gid" >"$dir/proftpd.group"
      chmod 600 "$dir/proftpd.passwd" "$dir/proftpd.group"
      cat >"$dir/proftpd.conf" <<EOF
ServerType standalone
ServerName "bench/ftp.sh proftpd"
UseIPv6 off
DefaultAddress 127.0.0.1
SocketBindTight on
Port PORT
User $BENCH_USER
Group $group
Umask 022
AllowOverwrite on
MaxInstances $max_clients
PassivePorts $pasv_low $pasv_high
UseReverseDNS off
<IfModule mod_ident.c>
  IdentLookups off
</IfModule>
AuthOrder mod_auth_file.c
AuthUserFile $dir/proftpd.passwd
AuthGroupFile $dir/proftpd.group
RequireValidShell off
DefaultRoot ~
ScoreboardFile $dir/proftpd.scoreboard
PidFile $dir/proftpd.pid
DelayTable $dir/proftpd.delay
DelayEngine off
SystemLog $dir/proftpd.log
TransferLog NONE
WtmpLog off
ControlsEngine off
ModulePath $PROFTPD_MODS
EOF
      if [ "$TLS" = 1 ]; then
        # mod_tls: TLS for logins and data (TLSRequired on), session reuse required (default).
        cat >>"$dir/proftpd.conf" <<EOF
LoadModule mod_tls.c
TLSEngine on
TLSRequired on
TLSRSACertificateFile $tmp/tls.crt
TLSRSACertificateKeyFile $tmp/tls.key
TLSProtocol TLSv1.2 TLSv1.3
TLSCipherSuite HIGH
TLSVerifyClient off
TLSLog $dir/tls.log
EOF
      fi
      chmod 600 "$dir/proftpd.conf"
      ;;
  esac
}

# server_cmd NAME KIND PORT: prints the command line (one word a line).
server_cmd() {
  local name=$1 kind=$2 p=$3 dir=$tmp/$1 low high
  read -r low high <"$dir/pasv"
  case $kind in
    muxftpd | muxftpd-argon2id)
      printf '%s\n' "${as_bench[@]}" "$BIN_DIR/muxftpd" --config "$dir/muxftpd.toml" \
        --listen "127.0.0.1:$p" --root "$dir/root" --users-file "$dir/users" \
        --threads "$MUX_THREADS" --io "$MUX_IO" --passive-ports "$low-$high" --log-level warn \
        "${mux_tls[@]}"
      ;;
    muxftpd-plain)
      printf '%s\n' "${as_bench[@]}" "$BIN_DIR/muxftpd" --config "$dir/muxftpd.toml" \
        --listen "127.0.0.1:$p" --root "$dir/root" --user "$BENCH_USER:$PASSWORD:all" \
        --threads "$MUX_THREADS" --io "$MUX_IO" --passive-ports "$low-$high" --log-level warn
      ;;
    vsftpd)
      sed -i "s/^listen_port=.*/listen_port=$p/" "$dir/vsftpd.conf"
      printf '%s\n' vsftpd "$dir/vsftpd.conf"
      ;;
    pure-ftpd)
      # -E no anonymous, -H no DNS, -A chroot, -c/-C max clients (per IP), -p passive ports,
      # -L LIST limit (files:depth, default 10000:5), -f none: no syslog, -I idle minutes.
      printf '%s\n' "$PUREFTPD" -S "127.0.0.1,$p" -l "puredb:$dir/pureftpd.pdb" -E -H -A \
        -c "$max_clients" -C "$max_clients" -p "$low:$high" -L "$((LIST_ENTRIES * 10)):5" \
        -f none -I 15
      ;;
    proftpd)
      # -n: in the foreground; starts as root, serves as User/Group muxbench.
      sed -i "s/^Port .*/Port $p/" "$dir/proftpd.conf"
      [ -z "$PROFTPD_LIBS" ] || printf '%s\n' env "LD_LIBRARY_PATH=$PROFTPD_LIBS"
      printf '%s\n' "$PROFTPD" -n -c "$dir/proftpd.conf"
      ;;
    pyftpdlib)
      printf '%s\n' "${as_bench[@]}" "$PY" bench/ftp_pyftpdlib_server.py --port "$p" \
        --root "$dir/root" --user "$BENCH_USER" --hash "$pw_hash" --passive-ports "$low-$high" \
        --max-cons "$max_clients"
      ;;
  esac
}

# server_ready KIND: can it run here?
server_ready() {
  case $1 in
    muxftpd*) [ -x "$BIN_DIR/muxftpd" ] ;;
    vsftpd) command -v vsftpd >/dev/null ;;
    pure-ftpd) [ -x "$PUREFTPD" ] ;;
    proftpd) [ -x "$PROFTPD" ] && { [ "$TLS" = 0 ] || proftpd_tls; } ;;
    pyftpdlib) "$PY" -c 'import pyftpdlib' 2>/dev/null ;;
  esac
}

# describe KIND: JSON fields saying which password hash and worker model the server has.
describe() {
  local hash=sha512-crypt model
  case $1 in
    muxftpd) model="one process, $MUX_THREADS $MUX_IO loop(s) + offload pool" ;;
    muxftpd-plain) model="one process, $MUX_THREADS $MUX_IO loop(s) + offload pool" hash=plain-in-memory ;;
    muxftpd-argon2id) model="one process, $MUX_THREADS $MUX_IO loop(s) + offload pool" hash=argon2id ;;
    vsftpd) model="process per session (+ privileged helper), PAM" ;;
    pure-ftpd) model="process per session (privsep), puredb" ;;
    proftpd) model="process per session, AuthUserFile" ;;
    pyftpdlib) model="FTPServer, one process, one thread" ;;
  esac
  printf '"hash":"%s","model":"%s"' "$hash" "$model"
}

# start_server NAME KIND; sets srv_pid (the `timeout` wrapper; the server is its child), or
# returns non-zero with the reason in $start_error if nothing accepts connections within 5 s.
start_server() {
  local name=$1 kind=$2 rc cmd
  start_error=""
  if ! next_free_port; then
    start_error="no free port near $port"
    return 1
  fi
  mapfile -t cmd < <(server_cmd "$name" "$kind" "$port")
  "${srv_pin[@]}" timeout "$server_budget" "${cmd[@]}" >>"$tmp/$name/server.log" 2>&1 &
  srv_pid=$!
  for _ in $(seq 50); do
    if ! kill -0 "$srv_pid" 2>/dev/null; then
      rc=0
      wait "$srv_pid" 2>/dev/null || rc=$?
      srv_pid=""
      start_error="exited with status $rc: $(tail -n 3 "$tmp/$name/server.log" | tr '\n' ' ')"
      return 1
    fi
    port_accepts "$port" && return 0
    sleep 0.1
  done
  stop_server
  start_error="127.0.0.1:$port did not accept connections within 5 s"
  return 1
}

# run_test NAME KIND TEST: one row against the running server; appends one JSON line.
run_test() {
  local name=$1 kind=$2 test=$3 root=$tmp/$1/root out rc=0 budget args=()
  case $test in
    retr)
      budget=$xfer_budget
      args=(get --path big.bin --expect-bytes $((SIZE_MB * 1048576)))
      ;;
    stor)
      budget=$xfer_budget
      rm -f "$root/upload.bin"
      timeout 120 sync || true # nobody starts with someone else's dirty pages
      args=(put --path upload.bin --file "$DATA_DIR/big-${SIZE_MB}M.bin"
        --verify-file "$root/upload.bin")
      ;;
    many)
      budget=$many_budget
      args=(many-get --path small.bin --clients "$MANY_CLIENTS" --greeting-timeout 15
        --expect-bytes $((MANY_MB * 1048576)))
      ;;
    logins)
      budget=$login_budget
      [[ $name == *argon2id ]] && budget=$((60 + LOGINS))
      args=(logins --count "$LOGINS")
      ;;
    idle)
      budget=$idle_budget
      args=(idle --count "$IDLE_SESSIONS" --parallel 16)
      ;;
    list | mlsd)
      budget=$list_budget
      args=(list --path dir --command "${test^^}" --repeat "$LIST_REPEAT"
        --expect-entries "$LIST_ENTRIES")
      ;;
  esac
  # shellcheck disable=SC2086 # $LOAD is an interpreter and a script
  out=$(FTP_PASSWORD=$PASSWORD timeout $((budget + 20)) "${load_pin[@]}" $LOAD "${args[@]}" \
    --port "$port" --user "$BENCH_USER" --server-pid "$srv_pid" --timeout "$budget" \
    2>>"$tmp/load.log") || rc=$?
  rm -f "$root/upload.bin"
  local head="{\"date\":\"$stamp\",\"server\":\"$name\",\"test\":\"$test\",\"round\":$round"
  head="$head,\"exit\":$rc,\"size_mb\":$SIZE_MB,$(describe "$kind")"
  if [[ $out == \{* ]]; then
    echo "$head,${out#\{}" >>"$results"
    log "$name $test: $out"
  else
    echo "$head,\"failed\":true,\"error\":\"load generator exit $rc\"}" >>"$results"
    log "$name $test: load generator failed (exit $rc): $(tail -n 2 "$tmp/load.log" | tr '\n' ' ')"
  fi
}

# ------------------------------------------------------------------ the runs

skipped=()
idx=0
for round in $(seq "$ROUNDS"); do
  log "round $round of $ROUNDS"
  idx=0
  for entry in "${SERVERS[@]}"; do
    IFS='|' read -r name kind rows optin <<<"$entry"
    idx=$((idx + 1))
    if [ -n "$ONLY" ] && ! [[ $name =~ $ONLY ]]; then continue; fi
    if [ -n "$optin" ] && [ -z "$ONLY" ]; then continue; fi
    if [ "$TLS" = 1 ] && ! [[ $name =~ ^($TLS_SERVERS)$ ]]; then
      [ "$round" -gt 1 ] || skipped+=("$name (not set up for TLS here)")
      continue
    fi
    if ! server_ready "$kind"; then
      log "skip $name: not installed"
      [ "$round" -gt 1 ] || skipped+=("$name (not installed)")
      continue
    fi
    setup_server "$name" "$kind" "$idx"
    [ "$rows" = all ] && rows=$TESTS
    for test in $TESTS; do
      [[ " $rows " == *" $test "* ]] || continue
      if ! start_server "$name" "$kind"; then
        log "$name $test: did not start: $start_error"
        printf '{"date":"%s","server":"%s","test":"%s","round":%s,"failed":true,%s}\n' \
          "$stamp" "$name" "$test" "$round" '"error":"did not start"' >>"$results"
        continue
      fi
      run_test "$name" "$kind" "$test"
      if ! kill -0 "$srv_pid" 2>/dev/null; then
        log "$name died during $test: $(tail -n 3 "$tmp/$name/server.log" | tr '\n' ' ')"
      fi
      stop_server
      sleep 0.3
    done
  done
done

log "raw results: $results"

# ------------------------------------------------------------------ the tables

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//' || true)
pinning=$([ ${#srv_pin[@]} -gt 0 ] && echo "server cpu 0, load cpu 1" || echo "not pinned")
skipped_list=$(printf '%s; ' "${skipped[@]+"${skipped[@]}"}")
versions="vsftpd $(dpkg-query -W -f='${Version}' vsftpd 2>/dev/null || echo '?'); $(
)pure-ftpd $("$PUREFTPD" --help 2>&1 | head -n 1 | awk '{print $2}' || echo '?'); $(
)proftpd $(env LD_LIBRARY_PATH="$PROFTPD_LIBS" "$PROFTPD" -v 2>/dev/null | awk '{print $3}' ||
  echo '?')$(if proftpd_tls; then echo ' + mod_tls'; fi); $(
)pyftpdlib $("$PY" -c 'import pyftpdlib; print(pyftpdlib.__ver__)' 2>/dev/null || echo '?'); $(
)muxftpd $(grep -m1 '^CMAKE_BUILD_TYPE' "$BIN_DIR/../CMakeCache.txt" 2>/dev/null | cut -d= -f2 ||
  echo '?') build"
"$PY" - "$results" "$BASELINE" "$cpu" "$(uname -r)" "$pinning" "${skipped_list%; }" \
  "$loadavg_start" "$SIZE_MB" "$MANY_CLIENTS" "$MANY_MB" "$LOGINS" "$IDLE_SESSIONS" \
  "$LIST_ENTRIES" "$LIST_REPEAT" "$MUX_THREADS" "$MUX_FSYNC" "$versions" "$TESTS" <<'EOF'
"""Turns the JSON lines of one run into markdown tables: medians over the rounds, with the ratio
muxftpd/anchor in every anchor's cell."""
import json
import statistics
import sys

(path, baseline, cpu, kernel, pinning, skipped, loadavg, size_mb, many_clients, many_mb, logins,
 idle, entries, repeat, mux_threads, mux_fsync, versions, tests) = sys.argv[1:19]
tests = tests.split()
runs = {}  # server -> test -> [results of every round], in run order
for line in open(path):
    r = json.loads(line)
    runs.setdefault(r["server"], {}).setdefault(r["test"], []).append(r)
servers = list(runs)

# test, metric, label, unit, higher is better, decimals
ROWS = [
    ("retr", "mb_per_s", f"RETR {size_mb} MiB, 1 client", "MB/s", True, 0),
    ("stor", "mb_per_s", f"STOR {size_mb} MiB, 1 client", "MB/s", True, 0),
    ("many", "aggregate_mb_per_s", f"{many_clients} clients x RETR {many_mb} MiB, aggregate",
     "MB/s", True, 0),
    ("many", "p99_s", f"{many_clients} clients x RETR {many_mb} MiB, p99 completion", "s",
     False, 2),
    ("logins", "logins_per_s", f"{logins} concurrent connect+login+quit", "logins/s", True, 0),
    ("idle", "pss_kib_per_session", f"memory per idle session at {idle} (PSS)", "KiB", False, 1),
    ("list", "median_ms", f"LIST of {entries} entries", "ms", False, 1),
    ("mlsd", "median_ms", f"MLSD of {entries} entries", "ms", False, 1),
]


def median_of(results, metric):
    """(median over the rounds that worked, rounds that failed, first error)."""
    good = [r[metric] for r in results if not r.get("failed") and metric in r]
    bad = [r for r in results if r.get("failed") or metric not in r]
    err = bad[0].get("error", "") if bad else ""
    return (statistics.median(good) if good else None), len(bad), err


def busy(r, key):
    """Fraction of the row's time that one side's core was busy."""
    return r[key] / r.get("span_s", r["wall_s"]) if r.get("wall_s") and key in r else None


def load_bound(results):
    """The load generator's core was (nearly) saturated in the median round."""
    values = [busy(r, "load_cpu_s") for r in results if not r.get("failed")]
    values = [v for v in values if v is not None]
    return bool(values) and statistics.median(values) >= 0.9


def fmt(v, decimals):
    return f"{v:,.{decimals}f}"


rounds = max((len(rs) for ts in runs.values() for rs in ts.values()), default=0)
print(f"FTP servers, median of {rounds} round(s); each anchor cell: figure (muxftpd/anchor: "
      "above 1 muxftpd's figure is higher, below 1 lower; each row says which is better)")
print()
print(f"- CPU: {cpu}; kernel {kernel}; {pinning}; load average before the run: {loadavg}")
print(f"- {versions}; muxftpd --threads {mux_threads} (+ its 4-thread offload pool), "
      f"fsync_uploads {'on' if mux_fsync == '1' else 'off (the anchors never fsync)'}")
print("- worker model as shipped: muxftpd one process; vsftpd, pure-ftpd and proftpd a process "
      "per session (see processes/session below); pyftpdlib FTPServer, one process, one thread")
print("- password: the same $6$ sha512-crypt hash everywhere (muxftpd --users-file; vsftpd PAM "
      "pam_unix + /etc/shadow; pure-ftpd puredb, crypt(3); proftpd AuthUserFile, crypt(3); "
      "pyftpdlib crypt(3) authorizer); "
      "muxftpd-plain: plain text in memory (--user); muxftpd-argon2id: `muxftpd passwd`")
print("- files: hot in the page cache (made once); RETR/LIST read from memory, STOR writes "
      "to the page cache")
if skipped:
    print(f"- skipped: {skipped}")
print()
print("| row | " + " | ".join(servers) + " |")
print("|---|" + "---:|" * len(servers))
for test, metric, label, unit, higher, dec in ROWS:
    if test not in tests or not any(test in runs[s] for s in servers):
        continue
    base, _, _ = median_of(runs.get(baseline, {}).get(test, []), metric)
    cells = []
    for s in servers:
        results = runs[s].get(test)
        if not results:
            cells.append("—")
            continue
        v, nbad, err = median_of(results, metric)
        if v is None:
            cells.append("failed" + (f" ({err[:60]})" if err else ""))
            continue
        text = fmt(v, dec)
        if load_bound(results):
            text = (">= " if higher else "<= ") + text
        if any(r.get(metric.replace("_s", "_lower_bound")) for r in results) and \
                metric.endswith("_s"):
            text = "> " + text  # some round's percentile fell on a lost transfer
        if not s.startswith(baseline) and base is not None and v:
            text += f" ({base / v:.2f}x)"
        if nbad:
            text += f" ({nbad}/{len(results)} failed)"
        lost = max((r.get("failed_logins", r.get("failed_transfers", 0)) for r in results
                    if not r.get("failed")), default=0)
        if lost:
            total = results[0].get("count", results[0].get("clients"))
            text += f" ({lost} of {total} lost)"
        cells.append(text)
    better = "higher" if higher else "lower"
    print(f"| {label}, {unit} ({better} is better) | " + " | ".join(cells) + " |")

# Who bounds each row: the busy fraction of each side's core during the measured phase.
print()
print("CPU busy during each row, server (cpu 0) / load generator (cpu 1), as a fraction of the "
      "row's wall time; ~1.00 marks the side that bounds the row (the load generator is curl for "
      "retr/stor/many, a Python selectors client for logins/idle, a Python client for lists)")
print()
print("| row | " + " | ".join(servers) + " |")
print("|---|" + "---:|" * len(servers))
for test in tests:
    cells = []
    for s in servers:
        results = [r for r in runs[s].get(test, []) if not r.get("failed")]
        results = [r for r in results if r.get("wall_s") and "server_cpu_s" in r]
        if not results:
            cells.append("—")
            continue
        # span_s: the time in which the work got done, without the wait for lost connections.
        srv = statistics.median(busy(r, "server_cpu_s") for r in results)
        load = statistics.median(busy(r, "load_cpu_s") for r in results)
        cells.append(f"{srv:.2f} / {load:.2f}")
    print(f"| {test} | " + " | ".join(cells) + " |")

lost_notes = []
for s in servers:
    for r in runs[s].get("logins", []) + runs[s].get("many", []):
        if r.get("failed_logins") or r.get("failed_transfers"):
            lost_notes.append(f"{s} {r['test']} round {r['round']}: {r.get('error', '')} "
                              f"(listen queue "
                              f"overflows {r.get('listen_overflows')}, SYN cookies sent "
                              f"{r.get('syncookies_sent')}, system-wide)")
if lost_notes:
    print()
    print("Lost logins and transfers: connections that never got a greeting within 10 s "
          "(logins) or a greeting and login within 15 s (many: curl exit 28), because the server's "
          "listen backlog overflowed (backlogs: pure-ftpd 9, vsftpd 32, pyftpdlib 100, "
          "proftpd 128, muxftpd 1024) and Linux then drops the client's SYN-cookie ACK:")
    print()
    for n in lost_notes:
        print(f"- {n}")

extra = []
for s in servers:
    for r in runs[s].get("idle", []):
        if r.get("ok_sessions"):
            per = (r["processes_after"] - r["processes_before"]) / r["ok_sessions"]
            kern = r.get("kernel_kib_per_session")
            extra.append(f"{s}: {per:.1f} processes/session, RSS "
                         f"{r.get('rss_kib_per_session', 0):.1f} KiB/session, kernel stacks + "
                         f"page tables ~{kern:.0f} KiB/session")
            break
if extra:
    print()
    print("Idle sessions, first round (kernel figures are system-wide deltas, noisy):")
    print()
    for e in extra:
        print(f"- {e}")
EOF
