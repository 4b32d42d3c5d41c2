#!/usr/bin/env bash
# Keyway's remote sessions next to OpenSSH on this machine, in one run (issue 16, "Benchmarks"):
#   a. fan-out: one command (`true`) on N local "hosts": `keyway remote run NAME -- true` (one CLI process, one
#      session on each of N `keyway remote serve` processes on 127.0.0.1:6301..) against
#      `parallel-ssh -p N -h HOSTS` (HOSTS lists 127.0.0.1:6390 N times: one sshd, N connections) with the same
#      command; wall time, median of --runs; ratio ssh / keyway (target: keyway at least 3x faster); and the CPU
#      time of each side (client, hosts) per fan-out.
#   a'. the same once the hosts are warm: each `keyway remote serve` is a JVM, and right after a. it has served a
#      dozen connections, its handshake code still interpreted; --warm-rounds rounds of the Java API fan-out are run
#      first, then a. again.
#   b. per command on an open session: RemoteBench --mode roundtrip (the Java API's round trip for `true` in a
#      session on a `keyway remote serve` process) against `ssh -o ControlPath=.. -o ControlMaster=auto
#      -o ControlPersist=60 -p 6390 127.0.0.1 true` over a ControlMaster that is already up (median, p99, mean of
#      --rt-count runs, each timed with bash's $EPOCHREALTIME around it); target: keyway at most equal.
#   c. reattach: RemoteBench --mode reattach: attach with the saved ticket (resumed TLS 1.3 handshake, HELLO proof,
#      SESSION reply) then detach, against a full handshake, with x25519 and with X25519MLKEM768 (median and p99).
# Also printed, for context: RemoteBench --mode fanout (the fan-out from a warm JVM: what `keyway remote run` costs
# without its JVM start), `keyway remote run` on one host (the CLI per command), plain `ssh host true` (a full SSH
# connection per command), and parallel-ssh over one ControlMaster (a persistent SSH connection, as keyway's
# sessions are persistent).
#
#   bench/remote-vs-ssh.sh [--hosts N] [--runs R] [--rt-count N] [--rt-seconds S] [--reattach-count N]
#
#   --hosts N           fan-out width and number of `keyway remote serve` processes (default 32, at most 89)
#   --runs R            fan-out runs of each contender, after one warm-up run each; median reported (default 5)
#   --rt-count N        ssh round trips over the master, after 5 warm-up ones (default 200)
#   --rt-seconds S      RemoteBench roundtrip: measured seconds after 10 s of warm-up (default 10)
#   --reattach-count N  RemoteBench reattach: attaches of each kind per group (default 200)
#   --warm-rounds N     rounds of the Java API fan-out that warm the hosts before the fan-out is measured again
#                       (default 100; each host then has served about N + 20 connections)
#
# Environment: SKIP_BUILD=1 (reuse keyway-cli/target and keyway-bench/target as they are); MVN (Maven command, may
# carry words, default ./mvnw); JAVA_HOME (the JDK for everything Java here, default java on PATH); SERVE_JAVA_OPTS
# (JVM options of each `keyway remote serve`, default -Xmx64m); KEEP=1 (keep the work directory).
#
# Ports: keyway hosts on 127.0.0.1:6301..(6300+N), sshd on 127.0.0.1:6390. Everything is on 127.0.0.1. Installs
# openssh-server and pssh with apt-get when sshd or parallel-ssh is missing (as root, else with sudo). The sshd is
# this script's own: its own config, host key, authorized_keys and pid file in the work directory, public-key
# authentication only; as root it logs in to a temporary system account "keyway-bench" whose shell is /bin/sh (see
# the comment at the sshd set-up), otherwise to the current user. Every process started here is stopped on exit (trap EXIT).
# Exit status: 0 when every measured command succeeded (a missed target is a result, not a failure), 1 otherwise,
# 2 on a usage error.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
NAME="remote-vs-ssh.sh"

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'; }
die() { echo "$NAME: $*" >&2; exit 2; }
fail() { echo "$NAME: $*" >&2; exit 1; }

HOSTS=32
RUNS=5
RT_COUNT=200
RT_SECONDS=10
REATTACH_COUNT=200
WARM_ROUNDS=100
while (($#)); do
    case "$1" in
        -h | --help) usage; exit 0 ;;
        --hosts | --runs | --rt-count | --rt-seconds | --reattach-count | --warm-rounds)
            (($# >= 2)) || die "$1 needs a value (see --help)"
            [[ "$2" =~ ^[1-9][0-9]*$ ]] || die "$1 must be a positive whole number, not '$2'"
            case "$1" in
                --hosts) HOSTS="$2" ;;
                --runs) RUNS="$2" ;;
                --rt-count) RT_COUNT="$2" ;;
                --rt-seconds) RT_SECONDS="$2" ;;
                --reattach-count) REATTACH_COUNT="$2" ;;
                --warm-rounds) WARM_ROUNDS="$2" ;;
            esac
            shift 2
            ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
done
((HOSTS <= 89)) || die "--hosts is at most 89 (ports 6301..6389; 6390 is sshd's)"

JAVA=java
[[ -n "${JAVA_HOME:-}" ]] && JAVA="$JAVA_HOME/bin/java"
read -r -a MVN_CMD <<<"${MVN:-./mvnw}"
SERVE_JAVA_OPTS="${SERVE_JAVA_OPTS:--Xmx64m}"
SSH_PORT=6390
FIRST_PORT=6301
ME="$(id -un)"

# ---------------------------------------------------------------------------------------------------------------
# Tools
as_root() { if [[ "$(id -u)" == 0 ]]; then "$@"; else sudo "$@"; fi; }
SSHD=/usr/sbin/sshd
if [[ ! -x "$SSHD" ]] || ! command -v parallel-ssh >/dev/null || ! command -v ssh-keygen >/dev/null; then
    echo "installing openssh-server and pssh (apt-get) ..."
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q openssh-server openssh-client pssh >/dev/null
fi
[[ -x "$SSHD" ]] || fail "no $SSHD after installing openssh-server"
command -v parallel-ssh >/dev/null || fail "no parallel-ssh after installing pssh"
((BASH_VERSINFO[0] >= 5)) || fail "bash 5 is needed (\$EPOCHREALTIME)"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/keyway-remote-bench.XXXXXX")"
PIDS=()
MADE_RUN_SSHD=0
MADE_USER=
cleanup() {
    local pid
    set +e
    if [[ -S "$WORK/ssh/cm" ]]; then
        ssh -F /dev/null -o ControlPath="$WORK/ssh/cm" -O exit -p "$SSH_PORT" 127.0.0.1 >/dev/null 2>&1
    fi
    for pid in "${PIDS[@]+"${PIDS[@]}"}"; do
        kill "$pid" 2>/dev/null
    done
    for pid in "${PIDS[@]+"${PIDS[@]}"}"; do
        # a serve process ends its sessions' shells on TERM; give it 10 s, then KILL
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    if ((MADE_RUN_SSHD)); then rmdir /run/sshd 2>/dev/null; fi
    if [[ -n "$MADE_USER" ]]; then userdel "$MADE_USER" 2>/dev/null; fi
    if [[ "${KEEP:-0}" == 1 ]]; then
        echo "work directory kept: $WORK" >&2
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------------------------------------------
# Build
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    echo "building keyway-cli and keyway-bench (and what they need) ..."
    "${MVN_CMD[@]}" -q -B -pl keyway-cli,keyway-bench -am package -DskipTests
fi
[[ -f keyway-bench/target/classes/dev/keyway/bench/RemoteBench.class ]] \
    || fail "keyway-bench/target has no RemoteBench: build it (drop SKIP_BUILD)"
[[ -f keyway-cli/target/keyway-cli.jar ]] || fail "no keyway-cli/target/keyway-cli.jar: build it (drop SKIP_BUILD)"
mkdir -p "$WORK/cp"
cp -r keyway-bench/target/classes "$WORK/cp/classes"
cp -r keyway-bench/target/lib "$WORK/cp/lib"
BENCH=("$JAVA" -cp "$WORK/cp/classes:$WORK/cp/lib/*" dev.keyway.bench.RemoteBench)
KEYWAY="$ROOT/keyway"
# The launcher makes its class-data-sharing archive on first use: not inside a measurement.
"$KEYWAY" --version >/dev/null 2>&1 || true

echo "java:    $("$JAVA" -version 2>&1 | head -n 1)"
echo "ssh:     $(ssh -V 2>&1); parallel-ssh $(parallel-ssh --version 2>&1)"
echo "machine: $(nproc) CPUs, $(uname -r); load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "work:    $WORK"

# Median, p99 (nearest rank), mean, min, max of the numbers in a file (one a line), printed with 3 decimals.
stats() {
    sort -g "$1" | awk '{ v[NR] = $1; s += $1 } END {
        if (NR == 0) { print "nan nan nan nan nan"; exit }
        m = int((NR + 1) / 2); p = int(0.99 * NR); if (p < 0.99 * NR) p++; if (p < 1) p = 1
        printf "%.3f %.3f %.3f %.3f %.3f\n", v[m], v[p], s / NR, v[1], v[NR] }'
}
# Milliseconds between two $EPOCHREALTIME values.
ms_between() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f\n", (b - a) * 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "nan" }'; }
show() { printf '  $'; printf ' %q' "$@"; printf ' < /dev/null\n'; }
load() { cut -d' ' -f1 /proc/loadavg; }
mean() { awk '{ s += $1 } END { if (NR) printf "%.1f\n", s / NR; else print "nan" }' "$1"; }
# CPU time, ms (user + system), of processes and all their descendants: utime, stime, and cutime, cstime (the
# children already waited for), from /proc/PID/stat. A process that ends in between moves its time to its parent's
# cutime when reaped, so a sum over a tree taken before and after something counts what the tree spent on it.
CLK_TCK="$(getconf CLK_TCK)"
tree_pids() { local p; for p in "$@"; do echo "$p"; tree_pids $(pgrep -P "$p" || true); done; }
tree_cpu_ms() {
    local p
    for p in $(tree_pids "$@"); do cat "/proc/$p/stat" 2>/dev/null || true; done |
        awk -v tck="$CLK_TCK" '{ sub(/^.*\) /, ""); s += $12 + $13 + $14 + $15 } END { printf "%.1f\n", s * 1000 / tck }'
}
# CPU time, ms, of this shell's children waited for so far (bash's `times`, second line), into CHILD_MS. Must run
# in the shell whose children count (not in a $(...) of its own).
child_cpu() {
    times >"$WORK/times"
    CHILD_MS="$(awk 'NR == 2 { t = 0; for (i = 1; i <= 2; i++) { split($i, b, "m"); sub("s", "", b[2]); t += b[1] * 60 + b[2] }
        printf "%.1f\n", t * 1000 }' "$WORK/times")"
}

# ---------------------------------------------------------------------------------------------------------------
# Keyway: N host directories, one identity allowed on all, N serve processes, one session on each
echo
echo "== setting up $HOSTS keyway hosts (keyway remote init/allow/serve) and sshd on 127.0.0.1:$SSH_PORT"
ID="$WORK/client.identity"
"$KEYWAY" keygen -o "$ID" >/dev/null 2>&1 || fail "keyway keygen failed"
RECIPIENT="$("$KEYWAY" pubkey -i "$ID")"
CACERT="$WORK/hosts.pem"
: >"$CACERT"
ADDRS=()
for i in $(seq 1 "$HOSTS"); do
    d="$WORK/hosts/h$i"
    "$KEYWAY" remote init --dir "$d" >/dev/null 2>&1 || fail "keyway remote init --dir $d failed"
    "$KEYWAY" remote allow --dir "$d" --client "$RECIPIENT" --name bench >/dev/null 2>&1 || fail "keyway remote allow failed"
    cat "$d/tls.crt" >>"$CACERT"
    ADDRS+=("127.0.0.1:$((FIRST_PORT + i - 1))")
done
for i in $(seq 1 "$HOSTS"); do
    d="$WORK/hosts/h$i"
    JAVA_OPTS="$SERVE_JAVA_OPTS" "$KEYWAY" remote serve --dir "$d" --listen "${ADDRS[i - 1]}" >"$d/serve.log" 2>&1 &
    PIDS+=($!)
done
SERVE_PIDS=("${PIDS[@]}")
echo "  each host: JAVA_OPTS=$SERVE_JAVA_OPTS $KEYWAY remote serve --dir $WORK/hosts/hI --listen 127.0.0.1:PORT"
deadline=$((SECONDS + 180))
for i in $(seq 1 "$HOSTS"); do
    until grep -q "listening on" "$WORK/hosts/h$i/serve.log" 2>/dev/null; do
        ((SECONDS < deadline)) || fail "host $i did not start listening within 180 s: $(tail -n 3 "$WORK/hosts/h$i/serve.log")"
        kill -0 "${PIDS[i - 1]}" 2>/dev/null || fail "host $i ended: $(tail -n 3 "$WORK/hosts/h$i/serve.log")"
        sleep 0.2
    done
done
HOSTLIST="$(IFS=,; echo "${ADDRS[*]}")"
REG="$WORK/registry.json"
KW_CLIENT=(-i "$ID" --cacert "$CACERT" --registry "$REG")
"$KEYWAY" remote new "$HOSTLIST" --name fan "${KW_CLIENT[@]}" >/dev/null || fail "keyway remote new (fan-out sessions) failed"
"$KEYWAY" remote new "${ADDRS[0]}" --name one "${KW_CLIENT[@]}" >/dev/null || fail "keyway remote new (one) failed"
serve_rss_kib=0
for pid in "${PIDS[@]}"; do serve_rss_kib=$((serve_rss_kib + $(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status"))); done
echo "  $HOSTS serve processes up, RSS $((serve_rss_kib / 1024)) MiB in all; sessions 'fan' ($HOSTS hosts) and 'one' (${ADDRS[0]}) opened"

# ---------------------------------------------------------------------------------------------------------------
# sshd: its own config, keys, authorized_keys and pid file
S="$WORK/ssh"
mkdir -p "$S"
# The account ssh logs in to. keyway's sessions run /bin/sh with an empty environment and no rc files; ssh runs the
# account's login shell, and bash started by sshd reads ~/.bashrc (root's here runs `pyenv init`, ~0.8 s of CPU a
# command). So as root the script makes a system account with /bin/sh as its shell and a home in the work directory
# for the run (password "*": no password login, yet not "locked" as "!" would be for sshd without PAM; removed on exit); otherwise it logs in to the current user, rc files and all (a warning says so).
SSH_USER="$ME"
if [[ "$(id -u)" == 0 ]]; then
    SSH_USER=keyway-bench
    MARK="keyway bench/remote-vs-ssh.sh, temporary"
    if getent passwd "$SSH_USER" >/dev/null; then
        [[ "$(getent passwd "$SSH_USER" | cut -d: -f5)" == "$MARK" ]] || fail "an account $SSH_USER exists that this script did not make"
        usermod -p "*" -d "$WORK/home" -s /bin/sh "$SSH_USER"
    else
        useradd --system -M -p "*" -c "$MARK" -d "$WORK/home" -s /bin/sh "$SSH_USER"
    fi
    MADE_USER="$SSH_USER"
    mkdir -p "$WORK/home"
    chown "$SSH_USER" "$WORK/home"
    chmod 711 "$WORK" "$S" # sshd reads authorized_keys as the user
else
    echo "  warning: not root: ssh logs in to $ME with its login shell $(getent passwd "$ME" | cut -d: -f7); its rc files count in ssh's times" >&2
    chmod 700 "$S"
fi
ssh-keygen -q -t ed25519 -N '' -C keyway-bench-host -f "$S/host_ed25519"
ssh-keygen -q -t ed25519 -N '' -C keyway-bench-client -f "$S/id_ed25519"
cp "$S/id_ed25519.pub" "$S/authorized_keys"
chmod 644 "$S/authorized_keys"
echo "[127.0.0.1]:$SSH_PORT $(cut -d' ' -f1-2 "$S/host_ed25519.pub")" >"$S/known_hosts"
cat >"$S/sshd_config" <<EOF
ListenAddress 127.0.0.1
Port $SSH_PORT
HostKey $S/host_ed25519
PidFile $S/sshd.pid
AuthorizedKeysFile $S/authorized_keys
AuthenticationMethods publickey
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PermitRootLogin $([[ "$SSH_USER" == root ]] && echo prohibit-password || echo no)
AllowUsers $SSH_USER
StrictModes no
UseDNS no
PrintMotd no
PrintLastLog no
MaxStartups 200:30:400
MaxSessions 200
LogLevel ERROR
EOF
if [[ "$(id -u)" == 0 && ! -d /run/sshd ]]; then
    mkdir -p /run/sshd && chmod 755 /run/sshd && MADE_RUN_SSHD=1 # sshd's privilege-separation directory
fi
"$SSHD" -t -f "$S/sshd_config" || fail "sshd refuses the configuration"
"$SSHD" -D -e -f "$S/sshd_config" 2>"$S/sshd.log" &
SSHD_PID=$!
PIDS+=("$SSHD_PID")
SSH_OPTS=(-F /dev/null -l "$SSH_USER" -i "$S/id_ed25519" -o IdentitiesOnly=yes -o BatchMode=yes -o UserKnownHostsFile="$S/known_hosts"
          -o StrictHostKeyChecking=yes -o LogLevel=ERROR -p "$SSH_PORT")
deadline=$((SECONDS + 30))
until ssh "${SSH_OPTS[@]}" 127.0.0.1 true </dev/null 2>/dev/null; do
    ((SECONDS < deadline)) || fail "sshd did not answer within 30 s: $(tail -n 3 "$S/sshd.log")"
    sleep 0.2
done
for _ in $(seq "$HOSTS"); do echo "127.0.0.1:$SSH_PORT"; done >"$S/hosts"
PSSH_X="-F /dev/null -i $S/id_ed25519 -o IdentitiesOnly=yes -o BatchMode=yes -o UserKnownHostsFile=$S/known_hosts -o StrictHostKeyChecking=yes -o LogLevel=ERROR"
echo "  sshd: $SSHD -D -e -f $S/sshd_config   (logins: $SSH_USER, shell $(getent passwd "$SSH_USER" | cut -d: -f7))"
sed 's/^/    /' "$S/sshd_config"

# ---------------------------------------------------------------------------------------------------------------
# a. fan-out
echo
echo "== a. fan-out: \`true\` on $HOSTS hosts, wall time of the whole command; 1 warm-up run each, then $RUNS runs, alternating"
KW_FAN=("$KEYWAY" remote run fan "${KW_CLIENT[@]}" -- true)
SSH_FAN=(parallel-ssh -p "$HOSTS" -h "$S/hosts" -l "$SSH_USER" -t 120 -x "$PSSH_X" true)
echo "keyway:"; show "${KW_FAN[@]}"
echo "ssh:";    show "${SSH_FAN[@]}"
# Each prints: wall ms, client CPU ms (the command and its children), server CPU ms (the serve processes / sshd, with
# their descendants; read after a short pause so that sshd has reaped its per-connection processes).
fan_keyway() {
    local t0 t1 c0 h0 h1
    sleep 0.3; h0="$(tree_cpu_ms "${SERVE_PIDS[@]}")"; child_cpu; c0=$CHILD_MS
    t0=$EPOCHREALTIME
    "${KW_FAN[@]}" </dev/null >"$WORK/fan-keyway.out" 2>&1 || fail "keyway remote run failed: $(tail -n 3 "$WORK/fan-keyway.out")"
    t1=$EPOCHREALTIME
    child_cpu; sleep 0.3; h1="$(tree_cpu_ms "${SERVE_PIDS[@]}")"
    echo "$(ms_between "$t0" "$t1") $(awk -v a="$c0" -v b="$CHILD_MS" 'BEGIN { print b - a }') $(awk -v a="$h0" -v b="$h1" 'BEGIN { print b - a }')"
}
fan_ssh() {
    local t0 t1 ok c0 h0 h1
    sleep 0.3; h0="$(tree_cpu_ms "$SSHD_PID")"; child_cpu; c0=$CHILD_MS
    t0=$EPOCHREALTIME
    "${SSH_FAN[@]}" </dev/null >"$WORK/fan-ssh.out" 2>&1 || fail "parallel-ssh failed: $(grep -v SUCCESS "$WORK/fan-ssh.out" | tail -n 3)"
    t1=$EPOCHREALTIME
    child_cpu; sleep 0.3; h1="$(tree_cpu_ms "$SSHD_PID")"
    ok="$(grep -c '\[SUCCESS\]' "$WORK/fan-ssh.out" || true)"
    ((ok == HOSTS)) || fail "parallel-ssh reported $ok successes, not $HOSTS (does it merge repeated hosts?)"
    echo "$(ms_between "$t0" "$t1") $(awk -v a="$c0" -v b="$CHILD_MS" 'BEGIN { print b - a }') $(awk -v a="$h0" -v b="$h1" 'BEGIN { print b - a }')"
}
# Runs both $RUNS times, alternating which goes first; sets FK_* (keyway) and FS_* (parallel-ssh): median wall ms,
# mean client and host CPU ms.
compare_fanout() {
    local r k s kw kc kh sw sc sh
    : >"$WORK/fan-keyway"; : >"$WORK/fan-ssh"; : >"$WORK/fan-keyway-cpu"; : >"$WORK/fan-ssh-cpu"
    for r in $(seq "$RUNS"); do
        if ((r % 2)); then
            k="$(fan_keyway)"; s="$(fan_ssh)"
        else
            s="$(fan_ssh)"; k="$(fan_keyway)"
        fi
        read -r kw kc kh <<<"$k"; read -r sw sc sh <<<"$s"
        echo "$kw" >>"$WORK/fan-keyway"; echo "$sw" >>"$WORK/fan-ssh"
        echo "$kc $kh" >>"$WORK/fan-keyway-cpu"; echo "$sc $sh" >>"$WORK/fan-ssh-cpu"
        printf '  run %d: keyway %8.1f ms (CPU: client %6.0f ms, hosts %6.0f ms)   parallel-ssh %8.1f ms (CPU: client %6.0f ms, sshd %6.0f ms)   (load %s)\n' \
            "$r" "$kw" "$kc" "$kh" "$sw" "$sc" "$sh" "$(load)"
    done
    read -r FK_MED FK_P99 FK_MEAN FK_MIN FK_MAX < <(stats "$WORK/fan-keyway")
    read -r FS_MED FS_P99 FS_MEAN FS_MIN FS_MAX < <(stats "$WORK/fan-ssh")
    FK_CC="$(cut -d' ' -f1 "$WORK/fan-keyway-cpu" | mean /dev/stdin)"; FK_HC="$(cut -d' ' -f2 "$WORK/fan-keyway-cpu" | mean /dev/stdin)"
    FS_CC="$(cut -d' ' -f1 "$WORK/fan-ssh-cpu" | mean /dev/stdin)"; FS_HC="$(cut -d' ' -f2 "$WORK/fan-ssh-cpu" | mean /dev/stdin)"
}
fan_keyway >/dev/null
fan_ssh >/dev/null
compare_fanout
echo "  parallel-ssh output of the last run (one line per host):"
head -n 3 "$WORK/fan-ssh.out" | sed 's/^/    /'
echo "    ... $(grep -c '\[SUCCESS\]' "$WORK/fan-ssh.out") x [SUCCESS]"

echo "context: the fan-out from a warm JVM (Java API, no CLI start), and parallel-ssh over one ControlMaster"
RB_FAN=("${BENCH[@]}" --mode fanout --connect "$HOSTLIST" --identity "$ID" --cacert "$CACERT" --rounds 10 --warmup-rounds 3
        --host-pids "$(IFS=,; echo "${SERVE_PIDS[*]}")")
show "${BENCH[@]}" --mode fanout --connect "127.0.0.1:6301,...,127.0.0.1:$((FIRST_PORT + HOSTS - 1))" --identity "$ID" --cacert "$CACERT" \
    --rounds 10 --warmup-rounds 3 --host-pids "SERVE_PID_1,...,SERVE_PID_$HOSTS"

"${RB_FAN[@]}" | tee "$WORK/rb-fanout.out" | sed 's/^/  /'
FW_MED="$(sed -n 's/^RESULT mode=fanout .* median_ms=\([0-9.]*\) .*/\1/p' "$WORK/rb-fanout.out")"
FW_CC="$(sed -n 's/^RESULT mode=fanout .* client_cpu_ms=\([0-9.na]*\) .*/\1/p' "$WORK/rb-fanout.out")"
FW_HC="$(sed -n 's/^RESULT mode=fanout .* host_cpu_ms=\([0-9.na]*\).*/\1/p' "$WORK/rb-fanout.out")"
# One master: every parallel-ssh connection to 127.0.0.1:6390 becomes a session on it (sshd's MaxSessions is raised).
CM="$S/cm"
ssh "${SSH_OPTS[@]}" -o ControlMaster=yes -o ControlPath="$CM" -o ControlPersist=no -N 127.0.0.1 </dev/null 2>>"$S/master.log" &
MASTER_PID=$!
PIDS+=("$MASTER_PID")
deadline=$((SECONDS + 30))
until ssh "${SSH_OPTS[@]}" -o ControlPath="$CM" -O check 127.0.0.1 2>/dev/null; do
    ((SECONDS < deadline)) || fail "the ssh ControlMaster did not come up: $(tail -n 3 "$S/master.log")"
    sleep 0.1
done
SSH_FAN_CM=(parallel-ssh -p "$HOSTS" -h "$S/hosts" -l "$SSH_USER" -t 120 -x "$PSSH_X -o ControlMaster=auto -o ControlPath=$CM -o ControlPersist=60" true)
show "${SSH_FAN_CM[@]}"
: >"$WORK/fan-ssh-cm"
"${SSH_FAN_CM[@]}" </dev/null >/dev/null 2>&1 || fail "parallel-ssh over the master failed"
for r in $(seq "$RUNS"); do
    t0=$EPOCHREALTIME
    "${SSH_FAN_CM[@]}" </dev/null >"$WORK/fan-ssh-cm.out" 2>&1 || fail "parallel-ssh over the master failed: $(tail -n 3 "$WORK/fan-ssh-cm.out")"
    t1=$EPOCHREALTIME
    ok="$(grep -c '\[SUCCESS\]' "$WORK/fan-ssh-cm.out" || true)"
    ((ok == HOSTS)) || fail "parallel-ssh over the master: $ok successes, not $HOSTS"
    ms_between "$t0" "$t1" >>"$WORK/fan-ssh-cm"
done
read -r FC_MED _ < <(stats "$WORK/fan-ssh-cm")
echo "  parallel-ssh over one ControlMaster: median $FC_MED ms of $RUNS runs"

# Each serve process is a JVM of its own that has served only a few connections so far: its handshake and request
# code still runs in the interpreter or C1 (the measurements above say how much that costs). A host that has been
# serving for a while has compiled it; sshd has nothing to warm up (each connection is a fresh sshd process anyway).
echo
echo "== a'. the same fan-out once the hosts are warm: $WARM_ROUNDS more rounds of the Java API fan-out first"
CK_MED=$FK_MED; CS_MED=$FS_MED; CK_CC=$FK_CC; CK_HC=$FK_HC; CS_CC=$FS_CC; CS_HC=$FS_HC
RB_WARM=("${BENCH[@]}" --mode fanout --connect "$HOSTLIST" --identity "$ID" --cacert "$CACERT" --rounds 10 --warmup-rounds "$WARM_ROUNDS"
         --host-pids "$(IFS=,; echo "${SERVE_PIDS[*]}")")
show "${BENCH[@]}" --mode fanout --connect "127.0.0.1:6301,...,127.0.0.1:$((FIRST_PORT + HOSTS - 1))" --identity "$ID" --cacert "$CACERT" \
    --rounds 10 --warmup-rounds "$WARM_ROUNDS" --host-pids "SERVE_PID_1,...,SERVE_PID_$HOSTS"
"${RB_WARM[@]}" | tee "$WORK/rb-warm.out" | sed 's/^/  /'
FH_MED="$(sed -n 's/^RESULT mode=fanout .* median_ms=\([0-9.]*\) .*/\1/p' "$WORK/rb-warm.out")"
FH_CC="$(sed -n 's/^RESULT mode=fanout .* client_cpu_ms=\([0-9.na]*\) .*/\1/p' "$WORK/rb-warm.out")"
FH_HC="$(sed -n 's/^RESULT mode=fanout .* host_cpu_ms=\([0-9.na]*\).*/\1/p' "$WORK/rb-warm.out")"
echo "keyway and parallel-ssh again, the same commands as in a., $RUNS runs each, alternating"
compare_fanout

# ---------------------------------------------------------------------------------------------------------------
# b. per command on an open session
echo
echo "== b. per command on an open session: \`true\`"
RB_RT=("${BENCH[@]}" --mode roundtrip --connect "${ADDRS[0]}" --identity "$ID" --cacert "$CACERT" --seconds "$RT_SECONDS" --warmup 10
       --host-pids "${SERVE_PIDS[0]}")
echo "keyway (Java API, a session on the serve process at ${ADDRS[0]}):"; show "${RB_RT[@]}"
"${RB_RT[@]}" | tee "$WORK/rb-rt.out" | sed 's/^/  /'
read -r KR_N KR_MED KR_P99 KR_MEAN KR_CC KR_HC < <(sed -n 's/^RESULT mode=roundtrip n=\([0-9]*\) median_ms=\([0-9.]*\) p99_ms=\([0-9.]*\) mean_ms=\([0-9.]*\) .* client_cpu_ms=\([0-9.na]*\) host_cpu_ms=\([0-9.na]*\).*/\1 \2 \3 \4 \5 \6/p' "$WORK/rb-rt.out")
SSH_RT=(ssh "${SSH_OPTS[@]}" -o ControlMaster=auto -o ControlPath="$CM" -o ControlPersist=60 127.0.0.1 true)
echo "ssh over the ControlMaster (up since section a; 5 warm-up runs, then $RT_COUNT):"; show "${SSH_RT[@]}"
for _ in 1 2 3 4 5; do "${SSH_RT[@]}" </dev/null || fail "ssh over the master failed"; done
: >"$WORK/rt-ssh"
T0=(); T1=()
sleep 0.3; h0="$(tree_cpu_ms "$SSHD_PID")"; m0="$(tree_cpu_ms "$MASTER_PID")"; child_cpu; c0=$CHILD_MS
for _ in $(seq "$RT_COUNT"); do
    t0=$EPOCHREALTIME
    "${SSH_RT[@]}" </dev/null || fail "ssh over the master failed"
    t1=$EPOCHREALTIME
    T0+=("$t0"); T1+=("$t1")
done
child_cpu; sleep 0.3; h1="$(tree_cpu_ms "$SSHD_PID")"; m1="$(tree_cpu_ms "$MASTER_PID")"
for i in "${!T0[@]}"; do echo "${T0[i]} ${T1[i]}"; done | awk '{ printf "%.3f\n", ($2 - $1) * 1000 }' >"$WORK/rt-ssh"
SR_CC="$(awk -v a="$c0" -v b="$CHILD_MS" -v m0="$m0" -v m1="$m1" -v n="$RT_COUNT" 'BEGIN { printf "%.3f", (b - a + m1 - m0) / n }')"
SR_HC="$(awk -v a="$h0" -v b="$h1" -v n="$RT_COUNT" 'BEGIN { printf "%.3f", (b - a) / n }')"
read -r SR_MED SR_P99 SR_MEAN SR_MIN SR_MAX < <(stats "$WORK/rt-ssh")
echo "  ssh over the master: median $SR_MED ms, p99 $SR_P99 ms, mean $SR_MEAN ms (min $SR_MIN, max $SR_MAX);" \
     "CPU per command: client $SR_CC ms (ssh + the master), sshd $SR_HC ms"

CTX_COUNT=20
echo "context: one command with a connection of its own each time ($CTX_COUNT runs each, after 2 warm-up)"
KW_ONE=("$KEYWAY" remote run one "${KW_CLIENT[@]}" -- true)
SSH_ONE=(ssh "${SSH_OPTS[@]}" 127.0.0.1 true)
show "${KW_ONE[@]}"; show "${SSH_ONE[@]}"
: >"$WORK/one-keyway"; : >"$WORK/one-ssh"
for _ in 1 2; do "${KW_ONE[@]}" </dev/null >/dev/null || fail "keyway remote run one failed"; "${SSH_ONE[@]}" </dev/null || fail "ssh failed"; done
for _ in $(seq "$CTX_COUNT"); do
    t0=$EPOCHREALTIME; "${KW_ONE[@]}" </dev/null >/dev/null || fail "keyway remote run one failed"; t1=$EPOCHREALTIME
    ms_between "$t0" "$t1" >>"$WORK/one-keyway"
    t0=$EPOCHREALTIME; "${SSH_ONE[@]}" </dev/null || fail "ssh failed"; t1=$EPOCHREALTIME
    ms_between "$t0" "$t1" >>"$WORK/one-ssh"
done
read -r OK_MED OK_P99 _ < <(stats "$WORK/one-keyway")
read -r OS_MED OS_P99 _ < <(stats "$WORK/one-ssh")
echo "  keyway remote run (1 host): median $OK_MED ms, p99 $OK_P99 ms; ssh without a master: median $OS_MED ms, p99 $OS_P99 ms"

# ---------------------------------------------------------------------------------------------------------------
# c. reattach
echo
echo "== c. reattach: attach with the saved ticket (resumed) against a full handshake, x25519 and X25519MLKEM768"
RB_RA=("${BENCH[@]}" --mode reattach --connect "${ADDRS[0]}" --identity "$ID" --cacert "$CACERT" --count "$REATTACH_COUNT" --groups x25519,X25519MLKEM768)
show "${RB_RA[@]}"
"${RB_RA[@]}" | tee "$WORK/rb-ra.out" | sed 's/^/  /'
ra() { sed -n "s/^RESULT mode=reattach kind=$1 group=$2 .* median_ms=\([0-9.]*\) p99_ms=\([0-9.]*\) .* cycle_median_ms=\([0-9.]*\) cycle_p99_ms=\([0-9.]*\).*/\1 \2 \3 \4/p" "$WORK/rb-ra.out"; }
read -r RX_MED RX_P99 RX_CMED RX_CP99 < <(ra resumed x25519)
read -r FX_MED FX_P99 FX_CMED FX_CP99 < <(ra full x25519)
read -r RM_MED RM_P99 RM_CMED RM_CP99 < <(ra resumed X25519MLKEM768)
read -r FM_MED FM_P99 FM_CMED FM_CP99 < <(ra full X25519MLKEM768)

# ---------------------------------------------------------------------------------------------------------------
echo
echo "== results ($HOSTS hosts; $(date -u +%Y-%m-%dT%H:%MZ); load average now $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%-58s %12s %12s %10s\n' "" "keyway" "OpenSSH" "ratio"
printf '%-58s %12s %12s %10s\n' "a. fan-out, $HOSTS hosts, median wall ms (ssh/keyway)" "$CK_MED" "$CS_MED" "$(ratio "$CS_MED" "$CK_MED")x"
printf '%-58s %12s %12s %10s\n' "   CPU per fan-out, client ms (CLI / parallel-ssh + ssh)" "$CK_CC" "$CS_CC" "$(ratio "$CS_CC" "$CK_CC")x"
printf '%-58s %12s %12s %10s\n' "   CPU per fan-out, hosts ms (serve processes / sshd)" "$CK_HC" "$CS_HC" "$(ratio "$CS_HC" "$CK_HC")x"
printf '%-58s %12s %12s %10s\n' "   keyway from a warm JVM / ssh over a master" "$FW_MED" "$FC_MED" "$(ratio "$FC_MED" "$FW_MED")x"
printf '%-58s %12s %12s %10s\n' "   warm JVM: CPU per fan-out, client / hosts ms" "$FW_CC / $FW_HC" "" ""
printf '%-58s %12s %12s %10s\n' "a'. warm hosts: fan-out median wall ms (ssh/keyway)" "$FK_MED" "$FS_MED" "$(ratio "$FS_MED" "$FK_MED")x"
printf '%-58s %12s %12s %10s\n' "   CPU per fan-out, client ms" "$FK_CC" "$FS_CC" "$(ratio "$FS_CC" "$FK_CC")x"
printf '%-58s %12s %12s %10s\n' "   CPU per fan-out, hosts ms" "$FK_HC" "$FS_HC" "$(ratio "$FS_HC" "$FK_HC")x"
printf '%-58s %12s %12s %10s\n' "   keyway from a warm JVM, median wall ms" "$FH_MED" "" ""
printf '%-58s %12s %12s %10s\n' "   warm JVM: CPU per fan-out, client / hosts ms" "$FH_CC / $FH_HC" "" ""
printf '%-58s %12s %12s %10s\n' "b. per command, open session, median ms (keyway/ssh)" "$KR_MED" "$SR_MED" "$(ratio "$KR_MED" "$SR_MED")x"
printf '%-58s %12s %12s %10s\n' "   p99 ms" "$KR_P99" "$SR_P99" "$(ratio "$KR_P99" "$SR_P99")x"
printf '%-58s %12s %12s %10s\n' "   mean ms" "$KR_MEAN" "$SR_MEAN" "$(ratio "$KR_MEAN" "$SR_MEAN")x"
printf '%-58s %12s %12s %10s\n' "   CPU per command, client ms" "$KR_CC" "$SR_CC" "$(ratio "$KR_CC" "$SR_CC")x"
printf '%-58s %12s %12s %10s\n' "   CPU per command, host ms (serve process / sshd)" "$KR_HC" "$SR_HC" "$(ratio "$KR_HC" "$SR_HC")x"
printf '%-58s %12s %12s %10s\n' "   a connection per command (CLI / plain ssh), median ms" "$OK_MED" "$OS_MED" "$(ratio "$OK_MED" "$OS_MED")x"
printf '%-58s %12s %12s %10s\n' "c. reattach, attach median / p99 ms" "" "" "full/resumed"
printf '%-58s %12s %12s %10s\n' "   x25519 resumed" "$RX_MED / $RX_P99" "" ""
printf '%-58s %12s %12s %10s\n' "   x25519 full" "$FX_MED / $FX_P99" "" "$(ratio "$FX_MED" "$RX_MED")x"
printf '%-58s %12s %12s %10s\n' "   X25519MLKEM768 resumed" "$RM_MED / $RM_P99" "" ""
printf '%-58s %12s %12s %10s\n' "   X25519MLKEM768 full" "$FM_MED / $FM_P99" "" "$(ratio "$FM_MED" "$RM_MED")x"
printf '%-58s %12s %12s %10s\n' "   attach+detach+close median ms: x25519 resumed / full" "$RX_CMED / $FX_CMED" "" ""
printf '%-58s %12s %12s %10s\n' "   attach+detach+close median ms: MLKEM resumed / full" "$RM_CMED / $FM_CMED" "" ""
echo
verdict() { if awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN { exit !((op == ">=") ? v >= t : v <= t) }'; then echo PASS; else echo MISS; fi; }
echo "targets:"
echo "  fan-out, ssh/keyway >= 3:            $(ratio "$CS_MED" "$CK_MED") -> $(verdict "$(ratio "$CS_MED" "$CK_MED")" 3 '>=') (hosts as started);" \
     "$(ratio "$FS_MED" "$FK_MED") -> $(verdict "$(ratio "$FS_MED" "$FK_MED")" 3 '>=') (warm hosts)"
echo "  per command, keyway/ssh <= 1:        $(ratio "$KR_MED" "$SR_MED") -> $(verdict "$(ratio "$KR_MED" "$SR_MED")" 1 '<=')"
