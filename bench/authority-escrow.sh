#!/usr/bin/env bash
# Escrow load on the backup authority: a fresh authority per run (`keyway authority init --type x25519`),
# `authority serve --auto-approve` in the background, then dev.keyway.bench.EscrowLoad (keyway-bench)
# with CLIENTS concurrent clients x ESCROWS escrows each, on SQLite (the default store) and on PostgreSQL.
# Prints throughput, latency and errors per run, and checks SQLite against the target
# ">= 2,000 durable escrows/s on SQLite with p99 <= 50 ms" (and no non-2xx answer).
#
#   bench/authority-escrow.sh [--clients N] [--escrows M] [--runs R] [--warmup W] [--no-postgres]
#
#   --clients N     concurrent clients, each its own x25519 identity, thread and HTTPS client (default 32)
#   --escrows M     measured escrows per client (default 1000)
#   --runs R        runs per store, each on a fresh authority and database (default 1)
#   --warmup W      warm-up escrows per run, in total over the clients, not measured (default 500)
#   --no-postgres   SQLite only
#   --http C        the load generator's HTTP client: lean (default: one blocking keep-alive TLS socket per
#                   client, KeepAliveHttps) or jdk (java.net.http.HttpClient, which costs about as much CPU per
#                   request as the server's own work and takes it from the same 2 cores)
#
# Environment (options win): CLIENTS, ESCROWS, RUNS, WARMUP, SKIP_POSTGRES=1, HTTP_CLIENT; SKIP_BUILD=1 (reuse the
# built keyway-cli jar and keyway-bench/target); MVN (default ./mvnw); JAVA_HOME (java for server and load,
# default java on PATH); SERVER_JAVA_OPTS, LOAD_JAVA_OPTS (JVM options of each, default none);
# BENCH_DIR (parent of the work directory, default ${TMPDIR:-/tmp}: the SQLite database lives there, so
# put it on the disk you mean to measure; tmpfs makes "durable" meaningless and is warned about);
# KEEP=1 (keep the work directory: authority directories, server logs, JSON results);
# PG_HOST (127.0.0.1), PG_PORT (5432), PG_DB (test), PG_USER (postgres): the PostgreSQL server, reached
# as `psql -h PG_HOST -p PG_PORT -U PG_USER -d PG_DB` and by the authority as
# jdbc:postgresql://PG_HOST:PG_PORT/PG_DB?user=PG_USER&currentSchema=<fresh schema>; PG_PASSWORD, if
# the server wants one, goes to psql as PGPASSWORD and into that URL as &password= (visible in the process
# list while the server runs; printed masked). Each PostgreSQL run creates schema keyway_escrow_<random>
# and drops it afterwards. PostgreSQL is skipped, with the reason printed, when psql is missing or the
# server does not answer. PORT (the server's listen port, default 0: any free port).
#
# The server and EscrowLoad run from a copy of the built jars in the work directory, so a rebuild in the
# tree during the run does not swap classes under them. Exit status: 0 when every run completed with no
# errors (a MISS is a result, not a failure), 1 otherwise, 2 on a usage error.
#
# One run, per store:
#   1. keyway authority init --dir D --type x25519   (x25519: the blobs are wrapped for an X25519 recipient)
#   2. java -jar keyway-cli/target/keyway-cli.jar authority serve --dir D --listen 127.0.0.1:0 --auto-approve
#      [--db JDBC-URL]; the bound port is read from the server's log, then GET /healthz until it says ok.
#   3. EscrowLoad --url https://127.0.0.1:PORT --cacert D/tls-cert.pem --clients N --escrows M --warmup W
#      --json: enrolls N identities (auto-approved), wraps every blob (a fresh AES-256-GCM key,
#      KeyWrap.wrapForEscrow for the authority, bound to the client's name: the server opens each to check
#      it) and pre-signs every request BEFORE timing; a warm-up of W escrows on
#      the same threads and connections (not measured); then N threads send their M escrows each
#      (POST /v1/escrow), one at a time per thread, timing each request. escrows/s = 2xx answers / wall time
#      of the measured phase; latency = one request's HTTPS round trip incl. the server's durable commit.
#   4. SIGTERM to the server (it closes the store), then `keyway authority audit verify` on the database:
#      the chain must be intact and hold the start + N enrollments + every escrow answered.
#
# The machine: the load generator (N client threads, TLS, JSON) runs on the SAME machine and cores as the
# server, and for PostgreSQL also the database server. On a 2-core machine the three compete for the two
# cores, so the numbers are a floor for the server alone, not its capacity. To show the split, EscrowLoad
# reports the CPU time its own JVM and the server's JVM used during the measured phase (from /proc; the
# table's "CPU s load/server"; PostgreSQL's processes are not counted). The load average is printed
# before each run and at the end (it includes this benchmark's own threads); other work on the machine
# (a build, tests) lowers everything.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
NAME="authority-escrow.sh"

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'; }
die() { echo "$NAME: $*" >&2; exit 2; }

CLIENTS="${CLIENTS:-32}"
ESCROWS="${ESCROWS:-1000}"
RUNS="${RUNS:-1}"
WARMUP="${WARMUP:-500}"
HTTP_CLIENT="${HTTP_CLIENT:-lean}"
SKIP_POSTGRES="${SKIP_POSTGRES:-0}"
while (($#)); do
    case "$1" in
        -h | --help) usage; exit 0 ;;
        --clients | --escrows | --runs | --warmup)
            (($# >= 2)) || die "$1 needs a value (see --help)"
            case "$1" in
                --clients) CLIENTS="$2" ;;
                --escrows) ESCROWS="$2" ;;
                --runs) RUNS="$2" ;;
                --warmup) WARMUP="$2" ;;
            esac
            shift 2 ;;
        --clients=* ) CLIENTS="${1#*=}"; shift ;;
        --escrows=* ) ESCROWS="${1#*=}"; shift ;;
        --runs=* ) RUNS="${1#*=}"; shift ;;
        --warmup=* ) WARMUP="${1#*=}"; shift ;;
        --no-postgres) SKIP_POSTGRES=1; shift ;;
        --http) (($# >= 2)) || die "$1 needs a value (see --help)"; HTTP_CLIENT="$2"; shift 2 ;;
        --http=*) HTTP_CLIENT="${1#*=}"; shift ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
done
for pair in "CLIENTS=$CLIENTS" "ESCROWS=$ESCROWS" "RUNS=$RUNS"; do
    [[ "${pair#*=}" =~ ^[1-9][0-9]*$ ]] || die "${pair%%=*} must be a positive whole number, not '${pair#*=}'"
done
[[ "$WARMUP" =~ ^[0-9]+$ ]] || die "WARMUP must be a whole number, not '$WARMUP'"

JAVA=java
if [[ -n "${JAVA_HOME:-}" ]]; then
    JAVA="$JAVA_HOME/bin/java"
fi
command -v "$JAVA" >/dev/null || die "no java ($JAVA); install a JDK 17 or set JAVA_HOME"
command -v curl >/dev/null || die "curl not found (used to wait for /healthz)"
MVN="${MVN:-./mvnw}"
read -r -a SERVER_OPTS <<<"${SERVER_JAVA_OPTS:-}"
read -r -a LOAD_OPTS <<<"${LOAD_JAVA_OPTS:-}"
CLI_JAR="keyway-cli/target/keyway-cli.jar"
BENCH_CP="keyway-bench/target/classes:keyway-bench/target/lib/*"
PG_HOST="${PG_HOST:-127.0.0.1}"
PG_PORT="${PG_PORT:-5432}"
PG_DB="${PG_DB:-test}"
PG_USER="${PG_USER:-postgres}"
if [[ -n "${PG_PASSWORD:-}" ]]; then
    export PGPASSWORD="$PG_PASSWORD"
fi

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    echo "building: $MVN -q -B install -DskipTests; $MVN -q -B -pl keyway-bench package -DskipTests"
    "$MVN" -q -B install -DskipTests
    "$MVN" -q -B -pl keyway-bench package -DskipTests
fi
[[ -f "$CLI_JAR" ]] || die "$CLI_JAR is missing: build without SKIP_BUILD=1"
[[ -f keyway-bench/target/classes/dev/keyway/bench/EscrowLoad.class ]] \
    || die "keyway-bench/target/classes has no EscrowLoad: build without SKIP_BUILD=1"
compgen -G "keyway-bench/target/lib/keyway-authority-*.jar" >/dev/null \
    || die "keyway-bench/target/lib has no keyway-authority jar: build without SKIP_BUILD=1"

BENCH_DIR="${BENCH_DIR:-${TMPDIR:-/tmp}}"
mkdir -p "$BENCH_DIR"
WORK="$(mktemp -d "$BENCH_DIR/keyway-escrow.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
# Run from a copy of the built jars and classes: a rebuild in the tree while a JVM runs (another build,
# another checkout's tests) would swap class files under it.
mkdir -p "$WORK/jars/bench"
cp "$CLI_JAR" "$WORK/jars/keyway-cli.jar"
cp -R keyway-bench/target/classes keyway-bench/target/lib "$WORK/jars/bench/"
CLI_JAR="$WORK/jars/keyway-cli.jar"
BENCH_CP="$WORK/jars/bench/classes:$WORK/jars/bench/lib/*"
SERVER_PID=""
PG_SCHEMA=""

psql_cmd() { psql -X -q -v ON_ERROR_STOP=1 -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d "$PG_DB" "$@"; }

stop_server() {
    if [[ -n "$SERVER_PID" ]]; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 1 300); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$SERVER_PID" 2>/dev/null; then
            echo "$NAME: the server (pid $SERVER_PID) did not stop within 30 s of SIGTERM; killing it" >&2
            kill -KILL "$SERVER_PID" 2>/dev/null || true
        fi
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=""
    fi
}
drop_schema() {
    if [[ -n "$PG_SCHEMA" ]]; then
        psql_cmd -c "DROP SCHEMA IF EXISTS $PG_SCHEMA CASCADE" >/dev/null 2>&1 \
            || echo "$NAME: could not drop PostgreSQL schema $PG_SCHEMA; drop it by hand" >&2
        PG_SCHEMA=""
    fi
}
cleanup() {
    stop_server
    drop_schema
    if [[ "${KEEP:-0}" == 1 ]]; then
        echo "kept: $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Reads "key":value from a one-line JSON object (numbers and booleans; EscrowLoad writes no nesting).
json_field() { sed -n "s/.*\"$2\":\([^,}]*\).*/\1/p" "$1" | tr -d '"'; }

FSTYPE="$(stat -f -c %T "$WORK" 2>/dev/null || echo unknown)"
echo "work directory: $WORK (filesystem $FSTYPE)"
if [[ "$FSTYPE" == tmpfs || "$FSTYPE" == ramfs ]]; then
    echo "WARNING: $WORK is in memory ($FSTYPE): SQLite's fsync costs nothing there, so its numbers are not durable ones;"
    echo "         set BENCH_DIR to a directory on disk"
fi
echo "java: $("$JAVA" -version 2>&1 | head -1); $(nproc) CPUs"
echo "load: $CLIENTS clients x $ESCROWS escrows per run, warm-up $WARMUP, $RUNS run(s) per store"

STORES=(sqlite)
PG_REASON=""
if [[ "$SKIP_POSTGRES" == 1 ]]; then
    PG_REASON="skipped: --no-postgres / SKIP_POSTGRES=1"
elif ! command -v psql >/dev/null; then
    PG_REASON="skipped: psql not found (apt-get install postgresql-client)"
elif ! pg_err="$(psql_cmd -c 'SELECT 1' 2>&1 >/dev/null)"; then
    PG_REASON="skipped: PostgreSQL at $PG_HOST:$PG_PORT db $PG_DB user $PG_USER does not answer ($(echo "$pg_err" | head -1))"
else
    STORES+=(postgres)
fi
if [[ -n "$PG_REASON" ]]; then
    echo "PostgreSQL: $PG_REASON"
fi

ROWS=()          # "store|run|clients|escrows|rate|p50|p99|errors|verdict"
FAILED=0

# run_one STORE RUN
run_one() {
    local store="$1" run="$2"
    local dir="$WORK/$store-$run" db_args=() audit_args=() url
    mkdir -p "$dir"
    local auth="$dir/auth" log="$dir/serve.log" out="$dir/load.json" err="$dir/load.txt"
    echo
    echo "== $store, run $run of $RUNS   (load average $(cut -d' ' -f1-3 /proc/loadavg))"
    if ! "$JAVA" -jar "$CLI_JAR" authority init --dir "$auth" --type x25519 >"$dir/init.txt" 2>&1; then
        cat "$dir/init.txt" >&2
        echo "$NAME: authority init failed" >&2
        return 1
    fi
    if [[ "$store" == postgres ]]; then
        PG_SCHEMA="keyway_escrow_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
        if ! psql_cmd -c "CREATE SCHEMA $PG_SCHEMA" >/dev/null; then
            PG_SCHEMA=""
            echo "$NAME: could not create the PostgreSQL schema" >&2
            return 1
        fi
        url="jdbc:postgresql://$PG_HOST:$PG_PORT/$PG_DB?user=$PG_USER&currentSchema=$PG_SCHEMA"
        echo "database: $url${PG_PASSWORD:+&password=***}"
        url="$url${PG_PASSWORD:+&password=$PG_PASSWORD}"
        db_args=(--db "$url")
        audit_args=(--db "$url")
    else
        echo "database: $auth/authority.db"
    fi
    local serve_cmd=("$JAVA" "${SERVER_OPTS[@]}" -jar "$CLI_JAR" authority serve --dir "$auth"
        --listen "127.0.0.1:${PORT:-0}" --auto-approve "${db_args[@]}")
    echo "server: ${serve_cmd[*]//password=[^&]*/password=***}"
    "${serve_cmd[@]}" >"$log" 2>&1 &
    SERVER_PID=$!

    # The bound port from the server's start line, then /healthz.
    local port="" i
    for i in $(seq 1 600); do
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            cat "$log" >&2
            echo "$NAME: the server exited during start-up" >&2
            SERVER_PID=""
            return 1
        fi
        port="$(sed -n 's|.*serving https://127\.0\.0\.1:\([0-9][0-9]*\).*|\1|p' "$log" | head -1)"
        if [[ -n "$port" ]] && curl -fsS --max-time 2 --cacert "$auth/tls-cert.pem" "https://127.0.0.1:$port/healthz" 2>/dev/null \
                | grep -q '"status":"ok"'; then
            break
        fi
        port=""
        sleep 0.1
    done
    if [[ -z "$port" ]]; then
        cat "$log" >&2
        echo "$NAME: the server did not answer /healthz within 60 s" >&2
        return 1
    fi

    local load_cmd=("$JAVA" "${LOAD_OPTS[@]}" -cp "$BENCH_CP" dev.keyway.bench.EscrowLoad
        --url "https://127.0.0.1:$port" --cacert "$auth/tls-cert.pem"
        --clients "$CLIENTS" --escrows "$ESCROWS" --warmup "$WARMUP" --server-pid "$SERVER_PID" --http "$HTTP_CLIENT" --json)
    echo "load:   ${load_cmd[*]}"
    # Its summary (stderr) is shown indented and kept in $err; the JSON line (stdout) goes to $out.
    local status
    set +e
    "${load_cmd[@]}" 2>&1 >"$out" | tee "$err" | sed 's/^/  /'
    status="${PIPESTATUS[0]}"
    set -e
    stop_server
    if ! grep -q '^{' "$out"; then
        echo "$NAME: EscrowLoad failed (exit $status) and wrote no result" >&2
        drop_schema
        return 1
    fi

    local rate p50 p99 non2xx transport warm_err ok warm_n errors verdict cpu_load cpu_server
    rate="$(json_field "$out" escrows_per_s)"
    p50="$(json_field "$out" p50_ms)"
    p99="$(json_field "$out" p99_ms)"
    non2xx="$(json_field "$out" non_2xx)"
    transport="$(json_field "$out" transport_errors)"
    warm_err="$(json_field "$out" warmup_errors)"
    ok="$(json_field "$out" ok)"
    warm_n="$(json_field "$out" warmup_escrows)"
    cpu_load="$(json_field "$out" load_cpu_s)"
    cpu_server="$(json_field "$out" server_cpu_s)"
    errors=$((non2xx + transport + warm_err))

    # The audit chain after a clean stop: intact, and one entry per enrollment and per escrow answered, plus
    # the server's start.
    local audit expected entries
    expected=$((1 + CLIENTS + warm_n - warm_err + ok))
    if audit="$("$JAVA" -jar "$CLI_JAR" authority audit verify --dir "$auth" "${audit_args[@]}" 2>&1)"; then
        entries="$(sed -n 's/.*intact: \([0-9][0-9]*\) entries.*/\1/p' <<<"$audit")"
        if [[ "$entries" == "$expected" ]]; then
            echo "audit:  $audit (= $CLIENTS enrollments + $((warm_n - warm_err)) warm-up + $ok measured escrows)"
        else
            echo "audit:  $audit, but $expected were expected ($CLIENTS enrollments + $((warm_n - warm_err)) warm-up + $ok escrows)" >&2
            errors=$((errors + 1))
        fi
    else
        echo "audit:  FAILED: $audit" >&2
        errors=$((errors + 1))
    fi
    if grep -Eq 'Exception|\bERROR\b|^[[:space:]]+at ' "$log"; then
        echo "server log has errors or stack traces ($log):" >&2
        grep -E -m 10 'Exception|\bERROR\b' "$log" >&2 || true
    fi
    drop_schema

    if [[ "$store" == sqlite ]]; then
        verdict="$(awk -v r="$rate" -v p="$p99" -v e="$errors" 'BEGIN { print (r >= 2000 && p <= 50 && e == 0) ? "PASS" : "MISS" }')"
    else
        verdict="n/a"
    fi
    ROWS+=("$(awk -v s="$store" -v r="$run" -v c="$CLIENTS" -v e="$((CLIENTS * ESCROWS))" -v x="$rate" -v a="$p50" -v b="$p99" \
        -v n="$errors" -v v="$verdict" -v cl="$cpu_load" -v cs="$cpu_server" 'BEGIN {
            cpu = (cl == "" || cl == "null") ? "-" : sprintf("%.1f/%s", cl, (cs == "" || cs == "null") ? "-" : sprintf("%.1f", cs))
            printf "%s|%s|%s|%s|%.1f|%.2f|%.2f|%s|%s|%s", s, r, c, e, x, a, b, n, v, cpu }')")
    if ((errors > 0 || status != 0)); then
        FAILED=1
    fi
}

for store in "${STORES[@]}"; do
    for run in $(seq 1 "$RUNS"); do
        if ! run_one "$store" "$run"; then
            FAILED=1
            stop_server
            drop_schema
            ROWS+=("$store|$run|$CLIENTS|$((CLIENTS * ESCROWS))|-|-|-|failed|MISS|-")
        fi
    done
done

echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)   ($(nproc) CPUs, shared by load generator, server and database)"
echo
printf '%-9s %4s %8s %8s %10s %9s %9s %7s  %-6s  %s\n' store run clients escrows escrows/s "p50 ms" "p99 ms" errors target \
    "CPU s load/server"
for row in "${ROWS[@]}"; do
    IFS='|' read -r s r c e rate p50 p99 errs v cpu <<<"$row"
    printf '%-9s %4s %8s %8s %10s %9s %9s %7s  %-6s  %s\n' "$s" "$r" "$c" "$e" "$rate" "$p50" "$p99" "$errs" "$v" "$cpu"
done
if [[ -n "$PG_REASON" ]]; then
    printf '%-9s %s\n' postgres "$PG_REASON"
fi
echo
echo "target: >= 2,000 durable escrows/s on SQLite with p99 <= 50 ms and no errors (PASS/MISS per SQLite run;"
echo "n/a for PostgreSQL, which the target does not cover). errors = non-2xx answers + failed requests +"
echo "warm-up errors + audit mismatches. CPU s: CPU time of the load generator's JVM and of the server's JVM"
echo "during the measured phase (PostgreSQL's own processes not counted); both share the machine's $(nproc) CPUs."
if ((RUNS > 1)); then
    # Medians over the SQLite runs (rate and p99 each on its own).
    median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
    sqlite_rows="$(printf '%s\n' "${ROWS[@]}" | awk -F'|' '$1 == "sqlite" && $5 != "-"')"
    if [[ -n "$sqlite_rows" ]]; then
        n="$(wc -l <<<"$sqlite_rows")"
        mr="$(cut -d'|' -f5 <<<"$sqlite_rows" | median)"
        mp="$(cut -d'|' -f7 <<<"$sqlite_rows" | median)"
        awk -v n="$n" -v r="$mr" -v p="$mp" 'BEGIN {
            printf "SQLite, median of %d runs: %.1f escrows/s, p99 %.2f ms: %s\n", n, r, p, (r >= 2000 && p <= 50) ? "PASS" : "MISS" }'
    fi
fi
exit "$FAILED"
