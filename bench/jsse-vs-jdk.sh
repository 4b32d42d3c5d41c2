#!/usr/bin/env bash
# The Keyway JSSE provider (keyway-jsse) against the JDK's own (SunJSSE) under real Java clients and servers
# (issue 18): the JDK's HttpClient doing HTTPS GETs to a local Jetty 12, requests/s with a new connection per
# request and with keep-alive, and Netty's SslHandler echo throughput, Keyway vs JSSE in one run. Runs
# dev.keyway.bench.JsseLoad (keyway-bench; `JsseLoad --help` and its javadoc say more) and checks the targets:
#   new connections:  keyway/jsse requests/s >= 1.20
#   keep-alive:       keyway/jsse requests/s >= 1.00
# for each server scenario measured (the targets are about the client's provider: scenario "jsse", where both
# clients talk to the same SunJSSE server, is the one they are judged on; "same", each client against a server
# of its own provider, is reported next to it). Netty's echo ratio is printed, with no target.
#
#   bench/jsse-vs-jdk.sh [--seconds N] [--warmup N] [--repeat R] [--concurrency N] [--server LIST] [--mode M]
#                        [--mib N] [--warmup-mib N] [--suite S] [--no-netty] [--no-http]
#
#   --seconds N      length of each HttpClient run (default 10)
#   --warmup N       HttpClient warm-up per provider and mode, seconds (default 5)
#   --repeat R       runs per provider, median reported (default 3); runs alternate keyway/jsse, the first
#                    provider alternating
#   --concurrency N  requests in flight (default 8)
#   --server LIST    server scenarios, comma-separated: jsse, keyway, same (default jsse,same)
#   --mode M         new, keepalive or both (default both)
#   --mib N          MiB echoed per Netty run (default 256)
#   --warmup-mib N   MiB echoed per provider before the Netty runs (default 512: less leaves the JIT still
#                    compiling through the first runs)
#   --suite S        the only TLS cipher suite the clients offer (default: each provider's own list)
#   --no-netty, --no-http   skip that part
#
# Environment: SKIP_BUILD=1 (use keyway-bench/target as it is); MVN (default ./mvnw); JAVA_HOME (run with
# $JAVA_HOME/bin/java, client and server JVM alike; the build uses the same JDK unless BUILD_JAVA_HOME is set);
# JAVA_OPTS (options for the client JVM, e.g. -XX:StartFlightRecording=filename=client.jfr,settings=profile);
# SERVER_JAVA_OPTS (options for the Jetty server JVM).
#
# The build is offline (-o): `./mvnw -B -q -o package -DskipTests -pl keyway-bench -am` (never install).
# Exit status: 0 when every request and echo succeeded and the checks held (a MISS is a result, not a
# failure), 1 otherwise, 2 on a usage error. The server JVM is stopped on exit.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
NAME="jsse-vs-jdk.sh"

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'; }
die() { echo "$NAME: $*" >&2; exit 2; }

SECS=10 WARMUP=5 REPEAT=3 CONC=8 SERVER=jsse,same MODE=both MIB=256 WARMUP_MIB=512 SUITE="" NETTY=1 HTTP=1
while (($#)); do
    case "$1" in
        -h | --help) usage; exit 0 ;;
        --no-netty) NETTY=0; shift ;;
        --no-http) HTTP=0; shift ;;
        --seconds | --warmup | --repeat | --concurrency | --server | --mode | --mib | --warmup-mib | --suite)
            (($# >= 2)) || die "$1 needs a value (see --help)"
            case "$1" in
                --seconds) SECS="$2" ;;
                --warmup) WARMUP="$2" ;;
                --repeat) REPEAT="$2" ;;
                --concurrency) CONC="$2" ;;
                --server) SERVER="$2" ;;
                --mode) MODE="$2" ;;
                --mib) MIB="$2" ;;
                --warmup-mib) WARMUP_MIB="$2" ;;
                --suite) SUITE="$2" ;;
            esac
            shift 2
            ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
done
for pair in "--seconds=$SECS" "--repeat=$REPEAT" "--concurrency=$CONC" "--mib=$MIB"; do
    [[ "${pair#*=}" =~ ^[1-9][0-9]*$ ]] || die "${pair%%=*} must be a positive whole number, not '${pair#*=}'"
done
[[ "$WARMUP" =~ ^[0-9]+$ ]] || die "--warmup must be a whole number, not '$WARMUP'"
[[ "$WARMUP_MIB" =~ ^[0-9]+$ ]] || die "--warmup-mib must be a whole number, not '$WARMUP_MIB'"
((HTTP || NETTY)) || die "--no-http and --no-netty leave nothing to run"

JAVA=java
[[ -n "${JAVA_HOME:-}" ]] && JAVA="$JAVA_HOME/bin/java"
read -r -a MVN_CMD <<<"${MVN:-./mvnw}"
read -r -a JAVA_OPTS_ARR <<<"${JAVA_OPTS:-}"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/keyway-jsse-bench.XXXXXX")"
PID=""
cleanup() {
    if [[ -n "$PID" ]] && kill -0 "$PID" 2>/dev/null; then
        kill "$PID" 2>/dev/null || true # its shutdown hook stops the server JVM
        wait "$PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    echo "building keyway-bench (and what it needs), offline ..."
    if [[ -n "${BUILD_JAVA_HOME:-}" ]]; then
        JAVA_HOME="$BUILD_JAVA_HOME" "${MVN_CMD[@]}" -B -q -o package -DskipTests -pl keyway-bench -am
    else
        "${MVN_CMD[@]}" -B -q -o package -DskipTests -pl keyway-bench -am
    fi
fi
[[ -f keyway-bench/target/classes/dev/keyway/bench/JsseLoad.class ]] \
    || { echo "$NAME: keyway-bench/target has no JsseLoad: build it (drop SKIP_BUILD)" >&2; exit 1; }
# A private copy: a rebuild in the tree during the run does not swap classes under the JVMs.
mkdir -p "$WORK/cp"
cp -r keyway-bench/target/classes "$WORK/cp/classes"
cp -r keyway-bench/target/lib "$WORK/cp/lib"

echo "java:    $JAVA ($("$JAVA" -version 2>&1 | head -n 1))  JAVA_OPTS=${JAVA_OPTS:-<unset>}  SERVER_JAVA_OPTS=${SERVER_JAVA_OPTS:-<unset>}"
echo "machine: $(nproc) CPUs; load average before: $(cut -d' ' -f1-3 /proc/loadavg); $(date -u '+%Y-%m-%d %H:%M UTC')"
echo

COMMAND=all
((HTTP && !NETTY)) && COMMAND=http
((NETTY && !HTTP)) && COMMAND=netty
ARGS=("$COMMAND" --seconds "$SECS" --warmup "$WARMUP" --repeat "$REPEAT" --concurrency "$CONC" --server "$SERVER" --mode "$MODE" --mib "$MIB" --warmup-mib "$WARMUP_MIB")
[[ -n "$SUITE" ]] && ARGS+=(--suite "$SUITE")
[[ -n "${SERVER_JAVA_OPTS:-}" ]] && ARGS+=(--server-jvm-opts "$SERVER_JAVA_OPTS")
BENCH=("$JAVA" "${JAVA_OPTS_ARR[@]+"${JAVA_OPTS_ARR[@]}"}" -cp "$WORK/cp/classes:$WORK/cp/lib/*" dev.keyway.bench.JsseLoad "${ARGS[@]}")
echo "\$ ${BENCH[*]}" | sed "s#$WORK#\$WORK#g"
STATUS=0
"${BENCH[@]}" | tee "$WORK/out.txt" &
PID=$!
wait "$PID" || STATUS=$?
PID=""
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

# RESULT http server=S mode=M keyway=K jsse=J ratio=R  /  RESULT netty keyway=K jsse=J ratio=R
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"; }
verdict() { awk -v v="$1" -v lim="$2" 'BEGIN { print (v + 0 >= lim ? "MET" : "MISSED") }'; }
printf '%-34s %10s %10s %12s   %s\n' "" keyway jsse keyway/jsse target
while read -r line; do
    if [[ "$line" == "RESULT http "* ]]; then
        mode="$(field "$line" mode)"
        limit=1.00
        [[ "$mode" == new ]] && limit=1.20
        label="requests/s, $mode, server $(field "$line" server)"
        printf '%-34s %10s %10s %12s   >= %s %s\n' "$label" "$(field "$line" keyway)" "$(field "$line" jsse)" "$(field "$line" ratio)" \
            "$limit" "$(verdict "$(field "$line" ratio)" "$limit")"
    elif [[ "$line" == "RESULT netty "* ]]; then
        printf '%-34s %10s %10s %12s   (none)\n' "Netty echo MB/s" "$(field "$line" keyway)" "$(field "$line" jsse)" "$(field "$line" ratio)"
    fi
done < <(grep '^RESULT ' "$WORK/out.txt")
echo "(requests/s: median of $REPEAT runs of ${SECS} s, $CONC in flight; server scenario 'jsse': both clients against the"
echo " SunJSSE connector; 'same': each client against a connector of its own provider; 'keyway': both against Keyway's)"
((STATUS == 0)) || echo "$NAME: JsseLoad exited with status $STATUS (errors or a failed check; see above)" >&2
exit $((STATUS == 0 ? 0 : 1))
