#!/usr/bin/env bash
# Makes a self-signed certificate for localhost in DIR (cert.pem, key.pem) unless one is there,
# so that `make run` serves FTPS out of the box. Clients must be told to trust it (curl
# --cacert DIR/cert.pem, or compare the SHA-256 fingerprint muxftpd prints at start).
set -euo pipefail
dir=${1:?usage: self-signed-cert.sh DIR}
[ -s "$dir/cert.pem" ] && [ -s "$dir/key.pem" ] && exit 0
mkdir -p "$dir"
umask 077
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 825 \
  -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" \
  -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null
echo "self-signed-cert.sh: made $dir/cert.pem (self-signed, for localhost)"
