#!/usr/bin/env bash
# Installs the Debian packages that building, testing and benchmarking muxio need.
# Idempotent and quiet when everything is already present; uses apt-get only.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  clang clang-format
  libclang-rt-dev # libFuzzer's runtime for the default clang (make fuzz, make test)
  libgtest-dev libgmock-dev libbenchmark-dev
  libfmt-dev libcli11-dev libspdlog-dev libtomlplusplus-dev
  libsodium-dev libcrypt-dev libssl-dev openssl zlib1g-dev
  libedit-dev # muxftp's shell: line editing and history (BSD licence)
  libsqlite3-dev libpq-dev # muxftpd's database user stores
  postgresql # test_user_stores: a throwaway cluster (initdb, pg_ctl) started by the test
  liburing-dev
  libuv1-dev libevent-dev
  python3 python3-pytest curl lftp rclone haproxy
  tnftp ncftp aria2 wget # more FTP clients for the interop tests (test_more_clients.py)
  strace # test_faults: which descriptors an upload fsyncs
  prometheus # test_metrics: a real Prometheus scrapes muxftpd
  systemd # test_systemd: systemd-socket-activate
  gnuplot-nox # the IO-models report's plots (bench/iomodels)
  # benchmark anchors (bench/ftp.sh); pure-ftpd conflicts with vsftpd in Debian, so bench/ftp.sh
  # fetches it with `apt-get download` and unpacks it instead of installing it
  vsftpd python3-pyftpdlib python3-openssl
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps.sh: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
