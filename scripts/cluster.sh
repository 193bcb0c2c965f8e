#!/usr/bin/env bash
# `make cluster`: the cluster test bed of tests/integration/ftpd/test_cluster.py, in the
# foreground for a person: a throwaway PostgreSQL with the accounts, two muxftpd nodes on one
# shared root, HAProxy in front sending PROXY v2 (tests/integration/ftpd/cluster_support.py).
# Prints where to connect, a user and its password; Ctrl-C tears it all down.
#
#   scripts/cluster.sh [BIN_DIR] [--port 2121] [--nodes 2] [--root DIR] [--user NAME]
set -euo pipefail
cd "$(dirname "$0")/.."
bin_dir=build/bin
if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then
  bin_dir=$1
  shift
fi
if [ ! -x "$bin_dir/muxftpd" ]; then
  echo "cluster.sh: no $bin_dir/muxftpd (run make build, or make cluster)" >&2
  exit 1
fi
MUXFTPD=$(realpath "$bin_dir/muxftpd")
export MUXFTPD
exec /usr/bin/python3 tests/integration/ftpd/cluster_support.py "$@"
