#!/usr/bin/env bash
# Keyway's x25519 key unwrap (JMH) next to OpenSSL's X25519 key agreement (`openssl speed`), one core each.
#
#   bench/wrap-vs-openssl.sh [SECONDS]      SECONDS per openssl run and per JMH iteration, default 3
#
# Environment: JAVA_HOME (JDK for JMH; default java on PATH), SKIP_BUILD=1 (reuse keyway-bench/target),
# OPENSSL (default openssl on PATH).
#
# What each number counts (they are not the same operation; the table says so too):
#   openssl ecdhx25519     one X25519 scalar multiplication with fixed, pre-generated keys (EVP_PKEY_derive),
#                          C with assembly. No key generation, no KDF, no AEAD.
#   BC X25519 agreement    the same single scalar multiplication in Bouncy Castle (pure Java), via the JMH
#                          baseline KeyWrapBench.baselineX25519Agreement: the like-for-like row.
#   keyway unwrap x25519   KeyWrap.unwrap of a 32-byte AES-256-GCM key: header and recipient-id checks,
#                          HPKE base-mode open = one X25519 agreement + DHKEM/HPKE HKDF-SHA256 key schedule
#                          + ChaCha20-Poly1305 open. One of these per recipient when a file is decrypted.
#   keyway wrap x25519     KeyWrap.wrap: as above plus an ephemeral X25519 key generation (a fixed-base
#                          multiplication). Printed for completeness; openssl speed has no counterpart.
# Both sides are timed on one thread, wall clock (openssl with -elapsed; its default divides by CPU
# user time instead). On a busy machine both are low: the load average is printed before and after.
set -euo pipefail

SECONDS_PER_RUN="${1:-3}"
OPENSSL="${OPENSSL:-openssl}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if [[ "$SECONDS_PER_RUN" == "--help" || "$SECONDS_PER_RUN" == "-h" ]]; then
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
    exit 0
fi
if ! [[ "$SECONDS_PER_RUN" =~ ^[1-9][0-9]*$ ]]; then
    echo "wrap-vs-openssl.sh: SECONDS must be a positive whole number, not '$SECONDS_PER_RUN'" >&2
    exit 2
fi
command -v "$OPENSSL" >/dev/null || { echo "wrap-vs-openssl.sh: $OPENSSL not found" >&2; exit 2; }

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)   ($(nproc) CPUs)"
echo "$("$OPENSSL" version)"

# -mr prints "+F5:<n>:<bits>:<ops per second>:<seconds per op>" for ECDH.
"$OPENSSL" speed -elapsed -seconds "$SECONDS_PER_RUN" -mr ecdhx25519 >"$WORK/openssl.txt" 2>&1 || {
    cat "$WORK/openssl.txt" >&2
    echo "wrap-vs-openssl.sh: openssl speed ecdhx25519 failed" >&2
    exit 1
}
ossl_ops="$(awk -F: '/^\+F5:/ { print $4; exit }' "$WORK/openssl.txt")"
if [[ -z "$ossl_ops" ]]; then
    cat "$WORK/openssl.txt" >&2
    echo "wrap-vs-openssl.sh: could not read ops/s from openssl speed" >&2
    exit 1
fi

# One fork, one thread; warm-up 3 x 2 s, then 5 iterations of SECONDS.
bench/jmh -t 1 -f 1 -wi 3 -w 2s -i 5 -r "${SECONDS_PER_RUN}s" -p type=x25519 \
    -rf csv -rff "$WORK/jmh.csv" 'KeyWrapBench\.(unwrap|wrap|baselineX25519Agreement)$' >"$WORK/jmh.txt" 2>&1 || {
    tail -40 "$WORK/jmh.txt" >&2
    echo "wrap-vs-openssl.sh: JMH run failed" >&2
    exit 1
}
# CSV: "Benchmark","Mode","Threads","Samples","Score","Score Error (99.9%)","Unit"[,"Param: type"]
jmh_score() {
    awk -F, -v name="\"dev.keyway.bench.KeyWrapBench.$1\"" '$1 == name { print $5; exit }' "$WORK/jmh.csv"
}
jmh_error() {
    awk -F, -v name="\"dev.keyway.bench.KeyWrapBench.$1\"" '$1 == name { print $6; exit }' "$WORK/jmh.csv"
}
unwrap_ops="$(jmh_score unwrap)"
wrap_ops="$(jmh_score wrap)"
bc_ops="$(jmh_score baselineX25519Agreement)"
if [[ -z "$unwrap_ops" || -z "$bc_ops" || -z "$wrap_ops" ]]; then
    cat "$WORK/jmh.csv" >&2
    echo "wrap-vs-openssl.sh: could not read scores from JMH" >&2
    exit 1
fi

echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"
echo "java: $("${JAVA_HOME:+$JAVA_HOME/bin/}java" -version 2>&1 | head -1)"
echo
printf '%-26s %12s %12s  %s\n' "measurement" "ops/s" "openssl/x" "what one op is"
row() { # label ops error what
    awk -v l="$1" -v o="$2" -v e="$3" -v r="$ossl_ops" -v w="$4" 'BEGIN {
        err = (e == "" || e == "NaN") ? "" : sprintf(" +-%.0f", e);
        printf "%-26s %12.0f %12.2f  %s%s\n", l, o, r / o, w, (err == "" ? "" : "  (99.9% CI" err ")") }'
}
row "openssl ecdhx25519" "$ossl_ops" "" "1 X25519 scalar mult (C/asm), fixed keys"
row "BC X25519 agreement" "$bc_ops" "$(jmh_error baselineX25519Agreement)" "1 X25519 scalar mult (Bouncy Castle, Java)"
row "keyway unwrap x25519" "$unwrap_ops" "$(jmh_error unwrap)" "1 scalar mult + HPKE HKDF schedule + ChaCha20-Poly1305 open"
row "keyway wrap x25519" "$wrap_ops" "$(jmh_error wrap)" "keygen + 1 scalar mult + HKDF + seal"
echo
awk -v o="$ossl_ops" -v u="$unwrap_ops" -v b="$bc_ops" 'BEGIN {
    printf "keyway unwrap runs at %.0f%% of openssl X25519 agreement speed (%.2fx slower);\n", 100 * u / o, o / u;
    printf "of that gap, %.2fx is Bouncy Castle X25519 vs OpenSSL and %.2fx is the rest of unwrap (HKDF, AEAD, checks).\n", o / b, b / u }'
