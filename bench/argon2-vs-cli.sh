#!/usr/bin/env bash
# Keyway's lane-parallel Argon2id against the reference `argon2` CLI, same parameters
# (Argon2id, m = 2^16 KiB, t = 3, p = 4, 32-byte tag), and prints the ratio keyway/cli.
#
#   bench/argon2-vs-cli.sh [RUNS]        RUNS defaults to 10
#
# Environment: ARGON2 (CLI path), WARMUP (JVM warm-up runs, default 5), SKIP_BUILD=1 (reuse
# keyway-core/target as is), BC=1 (also time Bouncy Castle's sequential generator), MVN.
#
# The CLI is timed wall-clock per process, so each sample includes its exec and fresh page
# faults for 64 MiB; Keyway is timed inside one warmed-up JVM (JIT compiled, heap already
# mapped). That is the comparison the target is stated in, but it is not perfectly like for like.
set -euo pipefail

RUNS="${1:-10}"
WARMUP="${WARMUP:-5}"
M_LOG2=16
T=3
P=4
L=32
PASSWORD='correct horse battery staple'
SALT='keyway-bench-salt'

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

ARGON2="${ARGON2:-$(command -v argon2 || true)}"
if [[ -z "$ARGON2" || ! -x "$ARGON2" ]]; then
    echo "argon2 CLI not installed: apt-get install argon2" >&2
    exit 2
fi
if [[ -z "${MVN:-}" ]]; then
    if [[ -x ./mvnw ]]; then MVN=./mvnw; else MVN=mvn; fi
fi

CP_FILE="$(mktemp)"
trap 'rm -f "$CP_FILE"' EXIT
# -f on the module's own pom: builds keyway-core alone, without needing the sibling modules.
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    "$MVN" -q -f keyway-core/pom.xml test-compile
fi
"$MVN" -q -f keyway-core/pom.xml dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$CP_FILE" >/dev/null
CP="keyway-core/target/classes:keyway-core/target/test-classes:$(cat "$CP_FILE")"

now_ns() { date +%s%N; }

echo "argon2 CLI: $ARGON2 -id -m $M_LOG2 -t $T -p $P -l $L, $RUNS runs (after 1 discarded run)"
cli_hash="$(printf '%s' "$PASSWORD" | "$ARGON2" "$SALT" -id -m "$M_LOG2" -t "$T" -p "$P" -l "$L" -r)"
cli_total_ns=0
for ((i = 0; i < RUNS; i++)); do
    start="$(now_ns)"
    printf '%s' "$PASSWORD" | "$ARGON2" "$SALT" -id -m "$M_LOG2" -t "$T" -p "$P" -l "$L" -r >/dev/null
    end="$(now_ns)"
    cli_total_ns=$((cli_total_ns + end - start))
done
cli_mean_ms="$(awk -v ns="$cli_total_ns" -v n="$RUNS" 'BEGIN { printf "%.1f", ns / n / 1e6 }')"

echo "keyway Argon2id: one JVM, $WARMUP warm-up runs, then $RUNS timed runs"
extra=()
if [[ "${BC:-0}" == 1 ]]; then extra+=(--bc); fi
java_out="$(java -cp "$CP" dev.keyway.core.kdf.Argon2Timing --runs "$RUNS" --warmup "$WARMUP" \
    --m $((1 << M_LOG2)) --t "$T" --p "$P" --l "$L" --password "$PASSWORD" --salt "$SALT" ${extra[@]+"${extra[@]}"})"
value() { printf '%s\n' "$java_out" | sed -n "s/^$1=//p"; }
keyway_mean_ms="$(value keyway_mean_ms)"
keyway_hash="$(value keyway_hash)"

if [[ "$keyway_hash" != "$cli_hash" ]]; then
    echo "MISMATCH: cli=$cli_hash keyway=$keyway_hash" >&2
    exit 1
fi

echo "hash (identical):   $cli_hash"
echo "cli mean ms:        $cli_mean_ms"
echo "keyway mean ms:     $keyway_mean_ms (min $(value keyway_min_ms), max $(value keyway_max_ms))"
if [[ "${BC:-0}" == 1 ]]; then
    echo "bouncycastle mean:  $(value bouncycastle_mean_ms) ms (sequential lanes, for reference)"
fi
echo "ratio keyway/cli:   $(awk -v k="$keyway_mean_ms" -v c="$cli_mean_ms" 'BEGIN { printf "%.2f", k / c }')"
