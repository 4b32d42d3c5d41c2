#!/usr/bin/env bash
# Records real OpenSSL TLS connections as raw byte streams (one file per direction) plus the key log
# OpenSSL wrote, for TrafficDecryptorTest. Run from this directory; needs openssl and python3.
# The key log goes to keyway-core's test resources (tls-streams/keylog.txt), where ParsedKeyLogTest reads it
# as a real OpenSSL key log; keyway-tls's pom copies it into this module's test resources.
# Each case: openssl s_server -www behind relay.py, openssl s_client sends a request, the server answers.
set -euo pipefail
cd "$(dirname "$0")"
keylog=../../../../../keyway-core/src/test/resources/tls-streams/keylog.txt
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ec-key.pem -out ec-cert.pem -days 3650 -subj /CN=localhost 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout rsa-key.pem -out rsa-cert.pem -days 3650 -subj /CN=localhost 2>/dev/null
rm -f "$keylog"
port=24400
run() { # name cert server-flags... -- client-flags...
  local name=$1 cert=$2; shift 2
  local sflags=() cflags=()
  while [[ $1 != -- ]]; do sflags+=("$1"); shift; done; shift
  cflags=("$@")
  port=$((port + 2))
  openssl s_server -accept 127.0.0.1:$port -cert $cert-cert.pem -key $cert-key.pem -www -naccept 1 "${sflags[@]}" >/dev/null 2>&1 &
  local spid=$!
  sleep 0.5
  python3 relay.py $((port + 1)) $port "$name" &
  local rpid=$!
  sleep 0.3
  printf 'GET /%s HTTP/1.0\r\n\r\n' "$name" | timeout 10 openssl s_client -connect 127.0.0.1:$((port + 1)) -keylogfile "$keylog" -quiet -ign_eof "${cflags[@]}" > "$name.response" 2>/dev/null || true
  wait $rpid || true
  kill $spid 2>/dev/null || true
  wait $spid 2>/dev/null || true
  printf 'GET /%s HTTP/1.0\r\n\r\n' "$name" > "$name.request"
}
run tls13-aes128 ec -- -tls1_3 -ciphersuites TLS_AES_128_GCM_SHA256
run tls13-aes256 ec -- -tls1_3 -ciphersuites TLS_AES_256_GCM_SHA384
run tls13-chacha ec -- -tls1_3 -ciphersuites TLS_CHACHA20_POLY1305_SHA256
run tls13-hrr ec -groups P-256 -- -tls1_3 -groups X25519:P-256
run tls12-ecdsa-aes128gcm ec -- -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256
run tls12-rsa-aes256gcm rsa -- -tls1_2 -cipher ECDHE-RSA-AES256-GCM-SHA384
run tls12-rsa-chacha rsa -- -tls1_2 -cipher ECDHE-RSA-CHACHA20-POLY1305
run tls12-aes128sha-etm rsa -- -tls1_2 -cipher AES128-SHA
run tls12-aes128sha-mte rsa -- -tls1_2 -cipher AES128-SHA -no_etm
run tls10-aes128sha rsa -cipher 'ALL:@SECLEVEL=0' -- -tls1 -cipher 'AES128-SHA:@SECLEVEL=0' -no_etm
rm -f ec-key.pem rsa-key.pem ec-cert.pem rsa-cert.pem
ls -l
