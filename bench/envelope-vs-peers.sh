#!/usr/bin/env bash
# Whole-file encrypt and decrypt with the keyway CLI next to age, gpg (symmetric) and openssl enc: one
# process per run, same input file, output to /dev/null. Prints median wall time, MB/s and peak RSS per
# tool and operation, and checks keyway against the targets of issue 17: wall time at most 1.0x age's on
# JDK 25 and newer, at most 1.3x on older JDKs; peak RSS at most 200 MB.
#
#   bench/envelope-vs-peers.sh [--install] [SIZE_MIB [RUNS]]     SIZE_MIB default 1024, RUNS default 5
#
#   --install   apt-get update && apt-get install -y age gnupg openssl time (with sudo unless root), then run.
#
# Environment: SIZE_MIB, RUNS (the same as the arguments; arguments win), KEYWAY (keyway command, default
# ./keyway; may carry words, e.g. KEYWAY="java -jar keyway-cli/target/keyway-cli.jar"), JAVA_OPTS (JVM
# options; the launcher passes them on), BENCH_DIR (default ${TMPDIR:-/tmp}/keyway-bench), AGE,
# AGE_KEYGEN, GPG, OPENSSL (peer commands, default from PATH), GPG_CIPHER (default AES256).
#
# Input: BENCH_DIR/input.bin, SIZE_MIB MiB from /dev/urandom, created once and kept (other sizes than
# 1024 use input-<SIZE_MIB>MiB.bin, so a small test run does not replace the 1 GiB file). Keys, passphrase
# and ciphertexts live in a fresh BENCH_DIR/run.XXXXXX, removed on exit.
#
# What is timed (each row one process, launcher/exec/JVM start-up included):
#   keyway   keyway encrypt -r RECIPIENT -o /dev/null input.bin      x25519 identity (keyway keygen --type
#            keyway decrypt -i IDENTITY -o /dev/null input.kw        x25519); AES-256-GCM, 64 KiB chunks
#   age      age -r RECIPIENT -o /dev/null input.bin                 X25519 (age-keygen); ChaCha20-Poly1305,
#            age -d -i KEY -o /dev/null input.age                    64 KiB chunks
#   gpg      gpg --batch --yes --symmetric --cipher-algo AES256 --compress-algo none --passphrase-file F
#            --pinentry-mode loopback -o /dev/null input.bin, and --decrypt of input.gpg; a throwaway
#            --homedir in the run directory. CFB + MDC (SHA-1), passphrase S2K instead of a public key.
#   openssl  openssl enc -aes-256-ctr -pbkdf2 -pass file:F -in input.bin -out /dev/null, and enc -d of
#            input.ossl. Not authenticated: a floor for raw cipher throughput, not a peer in kind.
# Runs are interleaved (run 1 of every command, then run 2, ...) so a change in machine load hits every
# tool alike. Before each timed command its input is read to /dev/null, so it comes from the page cache.
# Wall time and peak RSS come from /usr/bin/time -f '%e %M' (10 ms resolution; RSS of the process and of
# the children it waited for). Reported: median wall time, max peak RSS over the runs. MB = 10^6 bytes.
# The machine's load average is printed before and after; other work on the machine skews everything.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
NAME="envelope-vs-peers.sh"

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'; }

INSTALL=0
positional=()
for arg in "$@"; do
    case "$arg" in
        -h | --help) usage; exit 0 ;;
        --install) INSTALL=1 ;;
        -*) echo "$NAME: unknown option '$arg' (see --help)" >&2; exit 2 ;;
        *) positional+=("$arg") ;;
    esac
done
if ((${#positional[@]} > 2)); then
    echo "$NAME: at most two arguments, SIZE_MIB and RUNS (see --help)" >&2
    exit 2
fi
SIZE_MIB="${positional[0]:-${SIZE_MIB:-1024}}"
RUNS="${positional[1]:-${RUNS:-5}}"
for pair in "SIZE_MIB=$SIZE_MIB" "RUNS=$RUNS"; do
    if ! [[ "${pair#*=}" =~ ^[1-9][0-9]*$ ]]; then
        echo "$NAME: ${pair%%=*} must be a positive whole number, not '${pair#*=}'" >&2
        exit 2
    fi
done

if [[ "$INSTALL" == 1 ]]; then
    sudo=()
    if ((EUID != 0)); then sudo=(sudo); fi
    echo "installing peers: apt-get update && apt-get install -y age gnupg openssl time"
    "${sudo[@]+"${sudo[@]}"}" apt-get update
    "${sudo[@]+"${sudo[@]}"}" apt-get install -y age gnupg openssl time
fi

GNU_TIME=/usr/bin/time
if [[ ! -x "$GNU_TIME" ]]; then
    echo "$NAME: $GNU_TIME (GNU time) not found: apt-get install -y time, or rerun with --install" >&2
    exit 2
fi

KEYWAY="${KEYWAY:-$ROOT/keyway}"
if [[ -x "$KEYWAY" ]]; then KEYWAY_CMD=("$KEYWAY"); else read -r -a KEYWAY_CMD <<<"$KEYWAY"; fi
AGE="${AGE:-age}"
AGE_KEYGEN="${AGE_KEYGEN:-age-keygen}"
GPG="${GPG:-gpg}"
OPENSSL="${OPENSSL:-openssl}"
GPG_CIPHER="${GPG_CIPHER:-AES256}"

BENCH_DIR="${BENCH_DIR:-${TMPDIR:-/tmp}/keyway-bench}"
mkdir -p "$BENCH_DIR"
if [[ "$SIZE_MIB" == 1024 ]]; then INPUT="$BENCH_DIR/input.bin"; else INPUT="$BENCH_DIR/input-${SIZE_MIB}MiB.bin"; fi
BYTES=$((SIZE_MIB * 1024 * 1024))

WORK="$(mktemp -d "$BENCH_DIR/run.XXXXXX")"
GPG_HOME="$WORK/gnupg"
cleanup() {
    if [[ -d "$GPG_HOME" ]] && command -v gpgconf >/dev/null; then
        gpgconf --homedir "$GPG_HOME" --kill gpg-agent >/dev/null 2>&1 || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# Untimed: lets the launcher rebuild the CLI if sources changed, and shows which build is measured.
if ! keyway_version="$("${KEYWAY_CMD[@]}" --version)"; then
    echo "$NAME: '${KEYWAY_CMD[*]} --version' failed" >&2
    exit 1
fi

if [[ -f "$INPUT" && "$(stat -c %s "$INPUT")" == "$BYTES" ]]; then
    echo "input: $INPUT ($SIZE_MIB MiB, reused)"
else
    [[ -e "$INPUT" ]] && echo "input: $INPUT has the wrong size, recreating it"
    echo "input: creating $INPUT ($SIZE_MIB MiB from /dev/urandom)..."
    head -c "$BYTES" /dev/urandom >"$INPUT.tmp.$$"
    mv -f "$INPUT.tmp.$$" "$INPUT"
fi
cat "$INPUT" >/dev/null

# setup_fail TOOL WHAT LOG: print why TOOL is skipped.
setup_fail() {
    echo "skip $1: $2 failed:" >&2
    tail -n 5 "$3" | sed 's/^/    /' >&2
}

TOOLS=()      # tools with keys and ciphertext ready, in table order
declare -A WHY  # tool -> reason it was skipped
log="$WORK/setup.log"

# keyway: x25519 identity, recipient, one ciphertext. A failure here is fatal: keyway is the subject.
kw_id="$WORK/keyway-x25519.key"
kw_ct="$WORK/input.kw"
rm -f "$kw_id" "$kw_ct"
if ! "${KEYWAY_CMD[@]}" keygen --type x25519 -o "$kw_id" >/dev/null 2>"$log"; then
    setup_fail keyway "keygen --type x25519" "$log"; exit 1
fi
kw_recipient="$("${KEYWAY_CMD[@]}" pubkey -i "$kw_id" 2>"$log")" || { setup_fail keyway pubkey "$log"; exit 1; }
if ! "${KEYWAY_CMD[@]}" encrypt -r "$kw_recipient" -o "$kw_ct" "$INPUT" </dev/null >/dev/null 2>"$log"; then
    setup_fail keyway "encrypt to $kw_ct" "$log"; exit 1
fi
TOOLS+=(keyway)

age_key="$WORK/age.key"
age_ct="$WORK/input.age"
if ! command -v "$AGE" >/dev/null || ! command -v "$AGE_KEYGEN" >/dev/null; then
    WHY[age]="$AGE or $AGE_KEYGEN not installed (apt-get install -y age, or rerun with --install)"
else
    rm -f "$age_key" "$age_ct"
    if ! "$AGE_KEYGEN" -o "$age_key" >/dev/null 2>"$log"; then
        setup_fail age age-keygen "$log"; WHY[age]="age-keygen failed"
    elif ! age_recipient="$("$AGE_KEYGEN" -y "$age_key" 2>"$log")"; then
        setup_fail age "age-keygen -y" "$log"; WHY[age]="age-keygen -y failed"
    elif ! "$AGE" -r "$age_recipient" -o "$age_ct" "$INPUT" </dev/null >/dev/null 2>"$log"; then
        setup_fail age "encrypt to $age_ct" "$log"; WHY[age]="age encrypt failed"
    else
        TOOLS+=(age)
    fi
fi

pass="$WORK/passphrase"
head -c 24 /dev/urandom | base64 >"$pass"
chmod 600 "$pass"

gpg_ct="$WORK/input.gpg"
GPG_COMMON=(--homedir "$GPG_HOME" --batch --yes --quiet --pinentry-mode loopback --passphrase-file "$pass")
if ! command -v "$GPG" >/dev/null; then
    WHY[gpg]="$GPG not installed (apt-get install -y gnupg, or rerun with --install)"
else
    mkdir -m 700 "$GPG_HOME"
    rm -f "$gpg_ct"
    if ! "$GPG" "${GPG_COMMON[@]}" --symmetric --cipher-algo "$GPG_CIPHER" --compress-algo none \
        -o "$gpg_ct" "$INPUT" </dev/null >/dev/null 2>"$log"; then
        setup_fail gpg "symmetric encrypt to $gpg_ct" "$log"; WHY[gpg]="gpg --symmetric failed"
    else
        TOOLS+=(gpg)
    fi
fi

ossl_ct="$WORK/input.ossl"
if ! command -v "$OPENSSL" >/dev/null; then
    WHY[openssl]="$OPENSSL not installed (apt-get install -y openssl, or rerun with --install)"
else
    rm -f "$ossl_ct"
    if ! "$OPENSSL" enc -aes-256-ctr -pbkdf2 -pass "file:$pass" -in "$INPUT" -out "$ossl_ct" </dev/null 2>"$log"; then
        setup_fail openssl "enc -aes-256-ctr to $ossl_ct" "$log"; WHY[openssl]="openssl enc failed"
    else
        TOOLS+=(openssl)
    fi
fi

# command_for TOOL OP: sets CMD (the command line) and SRC (the file it reads).
command_for() {
    case "$1 $2" in
        "keyway encrypt") SRC="$INPUT"; CMD=("${KEYWAY_CMD[@]}" encrypt -r "$kw_recipient" -o /dev/null "$INPUT") ;;
        "keyway decrypt") SRC="$kw_ct"; CMD=("${KEYWAY_CMD[@]}" decrypt -i "$kw_id" -o /dev/null "$kw_ct") ;;
        "age encrypt") SRC="$INPUT"; CMD=("$AGE" -r "$age_recipient" -o /dev/null "$INPUT") ;;
        "age decrypt") SRC="$age_ct"; CMD=("$AGE" -d -i "$age_key" -o /dev/null "$age_ct") ;;
        "gpg encrypt")
            SRC="$INPUT"
            CMD=("$GPG" "${GPG_COMMON[@]}" --symmetric --cipher-algo "$GPG_CIPHER" --compress-algo none -o /dev/null "$INPUT")
            ;;
        "gpg decrypt") SRC="$gpg_ct"; CMD=("$GPG" "${GPG_COMMON[@]}" --decrypt -o /dev/null "$gpg_ct") ;;
        "openssl encrypt") SRC="$INPUT"; CMD=("$OPENSSL" enc -aes-256-ctr -pbkdf2 -pass "file:$pass" -in "$INPUT" -out /dev/null) ;;
        "openssl decrypt") SRC="$ossl_ct"; CMD=("$OPENSSL" enc -d -aes-256-ctr -pbkdf2 -pass "file:$pass" -in "$ossl_ct" -out /dev/null) ;;
        *) echo "$NAME: no command for '$1 $2'" >&2; exit 1 ;;
    esac
}

OPS=(encrypt decrypt)
declare -A FAILED  # "tool op" -> reason
KEYWAY_FAILED=0

# time_once TOOL OP: one timed run; appends "seconds kib" to $WORK/samples.TOOL.OP.
time_once() {
    local tool="$1" op="$2" out="$WORK/time.out" err="$WORK/stderr.log" attempt status
    command_for "$tool" "$op"
    for attempt in 1 2 3; do
        cat "$SRC" >/dev/null
        status=0
        "$GNU_TIME" -f '%e %M' -o "$out" "${CMD[@]}" </dev/null >/dev/null 2>"$err" || status=$?
        if ((status != 0)); then
            grep -q '^keyway: building' "$err" && status="$status, the launcher's rebuild failed"
            FAILED["$tool $op"]="exit $status"
            echo
            echo "FAILED: $tool $op (exit $status): ${CMD[*]}" >&2
            tail -n 5 "$err" | sed 's/^/    /' >&2
            [[ "$tool" == keyway ]] && KEYWAY_FAILED=1
            return 0
        fi
        # The launcher rebuilt the CLI inside the timed run (sources changed meanwhile): run it again.
        if [[ "$tool" == keyway ]] && grep -q '^keyway: building' "$err"; then
            echo
            echo "note: keyway rebuilt itself during a timed $op run; sample discarded" >&2
            continue
        fi
        tail -n 1 "$out" >>"$WORK/samples.$tool.$op"
        return 0
    done
    FAILED["$tool $op"]="the launcher rebuilt the CLI in 3 tries in a row: sources keep changing"
    KEYWAY_FAILED=1
}

echo "keyway:  ${KEYWAY_CMD[*]}  ($keyway_version)  JAVA_OPTS=${JAVA_OPTS:-<unset>}"
for tool in age gpg openssl; do
    case "$tool" in
        age) v="$(command -v "$AGE" >/dev/null && "$AGE" --version 2>&1 | head -n 1 || true)" ;;
        gpg) v="$(command -v "$GPG" >/dev/null && "$GPG" --version 2>&1 | head -n 1 || true)" ;;
        openssl) v="$(command -v "$OPENSSL" >/dev/null && "$OPENSSL" version 2>&1 | head -n 1 || true)" ;;
    esac
    if [[ -n "${WHY[$tool]:-}" ]]; then
        echo "$(printf '%-8s' "$tool:") skipped: ${WHY[$tool]}"
    else
        echo "$(printf '%-8s' "$tool:") $v"
    fi
done
echo "runs:    $RUNS per command, interleaved; input $SIZE_MIB MiB ($BYTES bytes), output /dev/null"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)   ($(nproc) CPUs)"

for ((run = 1; run <= RUNS; run++)); do
    printf 'run %d/%d:' "$run" "$RUNS"
    for tool in "${TOOLS[@]}"; do
        for op in "${OPS[@]}"; do
            [[ -n "${FAILED["$tool $op"]:-}" ]] && continue
            time_once "$tool" "$op"
            printf ' %s-%s' "$tool" "$op"
        done
    done
    echo
done
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"
echo

# stats TOOL OP: prints "median min max max_kib n", or nothing without samples.
stats() {
    local f="$WORK/samples.$1.$2"
    [[ -s "$f" ]] || return 0
    sort -n -k1,1 "$f" | awk '{ t[NR] = $1; if ($2 > m) m = $2 }
        END { med = (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2;
              printf "%.3f %.2f %.2f %d %d\n", med, t[1], t[NR], m, NR }'
}

declare -A MEDIAN RSS_KIB
printf '%-8s %-8s %4s %9s %7s %7s %9s %12s\n' tool operation runs "median s" "min s" "max s" "MB/s" "peak RSS MB"
for tool in keyway age gpg openssl; do
    for op in "${OPS[@]}"; do
        if [[ -n "${WHY[$tool]:-}" ]]; then
            printf '%-8s %-8s  skipped: %s\n' "$tool" "$op" "${WHY[$tool]}"
            continue
        fi
        if [[ -n "${FAILED["$tool $op"]:-}" ]]; then
            printf '%-8s %-8s  FAILED (%s)\n' "$tool" "$op" "${FAILED["$tool $op"]}"
            continue
        fi
        read -r med tmin tmax kib n <<<"$(stats "$tool" "$op")"
        MEDIAN["$tool $op"]="$med"
        RSS_KIB["$tool $op"]="$kib"
        awk -v t="$tool" -v o="$op" -v n="$n" -v med="$med" -v lo="$tmin" -v hi="$tmax" -v b="$BYTES" -v k="$kib" 'BEGIN {
            rate = (med > 0) ? sprintf("%9.0f", b / 1e6 / med) : sprintf("%9s", "inf");
            printf "%-8s %-8s %4d %9.2f %7.2f %7.2f %s %12.1f\n", t, o, n, med, lo, hi, rate, k * 1024 / 1e6 }'
    done
done

echo
java_major="$(sed -n 's/.*(Java \([0-9][0-9]*\).*/\1/p' <<<"$keyway_version")"
limit=1.30
if [[ -n "$java_major" ]] && ((java_major >= 25)); then
    limit=1.00
fi
echo "targets: keyway wall time <= $limit x age's (Java ${java_major:-unknown}); keyway peak RSS <= 200 MB"
for op in "${OPS[@]}"; do
    kw="${MEDIAN["keyway $op"]:-}"
    ag="${MEDIAN["age $op"]:-}"
    if [[ -z "$kw" ]]; then
        ratio_text="keyway $op has no result"
    elif [[ -z "$ag" ]]; then
        ratio_text="age $op has no result (${WHY[age]:-failed})"
    else
        ratio_text="$(awk -v k="$kw" -v a="$ag" -v limit="$limit" 'BEGIN {
            if (a <= 0) { print "n/a (age median is 0 s at 10 ms resolution: use a larger SIZE_MIB)"; exit }
            r = k / a; printf "%.2f  %s", r, (r <= limit + 0 ? "PASS" : "MISS") }')"
    fi
    if [[ -n "$kw" ]]; then
        rss_text="$(awk -v k="${RSS_KIB["keyway $op"]}" 'BEGIN {
            mb = k * 1024 / 1e6; printf "%.1f MB  %s", mb, (mb <= 200 ? "PASS" : "MISS") }')"
    else
        rss_text="no result"
    fi
    printf '  %-8s wall keyway/age: %-40s peak RSS keyway: %s\n' "$op" "$ratio_text" "$rss_text"
done

if [[ "$KEYWAY_FAILED" == 1 ]]; then exit 1; fi
