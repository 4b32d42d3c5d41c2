#!/usr/bin/env bash
# Many small files, side by side in one run (issue 17, "Many files in one process"):
#   keyway encrypt -r R --output-dir OUT FILE...      (one JVM for every file)
#   age -r R -o OUT/F.age F, once per file in a shell loop
#   gpg --encrypt-files FILE...                        (one gpg for every file)
# and the same three ways back (keyway decrypt --output-dir, age -d per file, gpg --decrypt-files). Every tool
# encrypts to one X25519 public key: keyway to an x25519 identity (and, as a second row, to the default X-Wing
# one), age to an age1 key, gpg to a cv25519 subkey. Median wall time of --runs runs each, contenders alternating
# which goes first; ratios age/keyway and gpg/keyway (targets: at least 5x and at least 2x, both ways).
#
#   bench/many-files.sh [--files N] [--size BYTES] [--runs R]
#
#   --files N      how many files (default 1000)
#   --size BYTES   the size of each (default 4096)
#   --runs R       runs of each contender, after one warm-up run each (default 5)
#
# Environment: SKIP_BUILD=1 (use keyway-cli/target as it is); JAVA_HOME (the JDK ./keyway runs); KEEP=1 (keep the
# work directory). Installs age and gnupg with apt-get when missing (as root, else with sudo). Outputs go to a
# directory on the same file system as the inputs; each run starts from an empty output directory, removed
# (outside the timing) before the next.
# Exit status: 0 when every command succeeded and every output decrypted back to its input; 1 otherwise; 2 usage.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
NAME="many-files.sh"
usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'; }
die() { echo "$NAME: $*" >&2; exit 2; }
fail() { echo "$NAME: $*" >&2; exit 1; }

FILES=1000
SIZE=4096
RUNS=5
while (($#)); do
    case "$1" in
        --files) FILES="${2:?}"; shift 2 ;;
        --size) SIZE="${2:?}"; shift 2 ;;
        --runs) RUNS="${2:?}"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
done
[[ "$FILES" =~ ^[0-9]+$ && "$FILES" -ge 1 && "$FILES" -le 100000 ]] || die "--files must be 1 to 100000"
[[ "$SIZE" =~ ^[0-9]+$ && "$SIZE" -le 16777216 ]] || die "--size must be 0 to 16777216"
[[ "$RUNS" =~ ^[0-9]+$ && "$RUNS" -ge 1 && "$RUNS" -le 50 ]] || die "--runs must be 1 to 50"

need=()
command -v age >/dev/null 2>&1 || need+=(age)
command -v gpg >/dev/null 2>&1 || need+=(gnupg)
if ((${#need[@]})); then
    sudo=""
    [[ "$(id -u)" == 0 ]] || sudo="sudo"
    echo "installing ${need[*]} ..."
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null \
        || fail "cannot install ${need[*]}"
fi

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    echo "building keyway-cli ..."
    ./mvnw -q -B -pl keyway-cli -am package -DskipTests
fi
KEYWAY="$ROOT/keyway"
"$KEYWAY" --version >/dev/null 2>&1 || true # the class-data-sharing archive is made here, not inside a measurement

WORK="$(mktemp -d "${TMPDIR:-/tmp}/keyway-many-files.XXXXXX")"
cleanup() { if [[ "${KEEP:-0}" == 1 ]]; then echo "work directory kept: $WORK" >&2; else rm -rf "$WORK"; fi; }
trap cleanup EXIT

echo "keyway:  $("$KEYWAY" --version 2>/dev/null)"
echo "age:     $(age --version)"
echo "gpg:     $(gpg --version | head -n 1)"
echo "machine: $(nproc) CPUs, $(uname -r); load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "work:    $WORK ($(df -T "$WORK" | awk 'NR == 2 { print $2 }'))"
echo "files:   $FILES of $SIZE bytes; $RUNS runs each after one warm-up run"

# Inputs
IN="$WORK/in"
mkdir -p "$IN"
head -c $((FILES * SIZE)) /dev/urandom >"$WORK/all"
split -a 6 -d -b "$SIZE" "$WORK/all" "$IN/f" 2>/dev/null || true
if ((SIZE == 0)); then for i in $(seq -w 1 "$FILES"); do : >"$IN/f$i"; done; fi
rm -f "$WORK/all"
(( $(ls "$IN" | wc -l) == FILES )) || fail "could not make $FILES input files"

# Keys
"$KEYWAY" keygen --type x25519 -o "$WORK/kw-x25519.key" >/dev/null 2>&1
"$KEYWAY" keygen -o "$WORK/kw-xwing.key" >/dev/null 2>&1
KW_X="$("$KEYWAY" pubkey -i "$WORK/kw-x25519.key")"
KW_W="$("$KEYWAY" pubkey -i "$WORK/kw-xwing.key")"
age-keygen -o "$WORK/age.key" 2>/dev/null
AGE_R="$(age-keygen -y "$WORK/age.key")"
export GNUPGHOME="$WORK/gnupg"
mkdir -m 700 "$GNUPGHOME"
gpg --batch --quiet --passphrase '' --quick-generate-key "keyway bench <bench@keyway.invalid>" ed25519 sign never 2>/dev/null
FPR="$(gpg --batch --with-colons --list-keys bench@keyway.invalid | awk -F: '$1 == "fpr" { print $10; exit }')"
gpg --batch --quiet --passphrase '' --quick-add-key "$FPR" cv25519 encr never 2>/dev/null
gpg --batch --quiet --check-trustdb >/dev/null 2>&1 || true
GPG=(gpg --batch --yes --quiet --no-tty --trust-model always --no-auto-check-trustdb)

ms_between() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f\n", (b - a) * 1000 }'; }
median() { sort -n "$1" | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# One timed run of a contender: $1 name, then the command as words; the command runs in a fresh directory $OUT.
run_one() {
    local name="$1" t0 t1
    shift
    rm -rf "$OUT"
    mkdir -p "$OUT"
    t0=$EPOCHREALTIME
    "$@" >"$WORK/$name.log" 2>&1 || fail "$name failed: $(tail -n 3 "$WORK/$name.log")"
    t1=$EPOCHREALTIME
    ms_between "$t0" "$t1"
}

# The contenders. Encrypt: inputs in $IN, outputs to $OUT. Decrypt: inputs in $ENC_<tool>, outputs to $OUT.
kw_enc_x()   { "$KEYWAY" encrypt -r "$KW_X" --output-dir "$OUT" "$IN"/f*; }
kw_enc_w()   { "$KEYWAY" encrypt -r "$KW_W" --output-dir "$OUT" "$IN"/f*; }
age_enc()    { local f; for f in "$IN"/f*; do age -r "$AGE_R" -o "$OUT/${f##*/}.age" "$f" || return 1; done; }
# gpg --encrypt-files writes beside each input: the inputs are copied into $OUT first (outside the timing? no:
# a copy is cheap next to the encryption, and it is counted, which favours nobody but gpg's rivals).
gpg_enc()    { cp "$IN"/f* "$OUT"/ && "${GPG[@]}" -r "$FPR" --encrypt-files "$OUT"/f*; }
kw_dec_x()   { "$KEYWAY" decrypt -i "$WORK/kw-x25519.key" --output-dir "$OUT" "$ENC_KWX"/*.kw; }
kw_dec_w()   { "$KEYWAY" decrypt -i "$WORK/kw-xwing.key" --output-dir "$OUT" "$ENC_KWW"/*.kw; }
age_dec()    { local f n; for f in "$ENC_AGE"/*.age; do n="${f##*/}"; age -d -i "$WORK/age.key" -o "$OUT/${n%.age}" "$f" || return 1; done; }
gpg_dec()    { cp "$ENC_GPG"/*.gpg "$OUT"/ && "${GPG[@]}" --decrypt-files "$OUT"/*.gpg; }

# Encrypted copies to decrypt from (made once, kept).
OUT="$WORK/enc-kwx"; mkdir -p "$OUT"; kw_enc_x >/dev/null 2>&1 || fail "keyway encrypt failed"
OUT="$WORK/enc-kww"; mkdir -p "$OUT"; kw_enc_w >/dev/null 2>&1 || fail "keyway encrypt (xwing) failed"
OUT="$WORK/enc-age"; mkdir -p "$OUT"; age_enc || fail "age failed"
OUT="$WORK/enc-gpg"; mkdir -p "$OUT"; gpg_enc 2>/dev/null || fail "gpg failed"; rm -f "$OUT"/f[0-9]*[0-9]
ENC_KWX="$WORK/enc-kwx"; ENC_KWW="$WORK/enc-kww"; ENC_AGE="$WORK/enc-age"; ENC_GPG="$WORK/enc-gpg"
(( $(ls "$ENC_GPG" | wc -l) == FILES )) || fail "gpg made $(ls "$ENC_GPG" | wc -l) files, not $FILES"

echo
echo "commands (IN holds the $FILES inputs; OUT is empty before each run):"
echo "  keyway x25519: $KEYWAY encrypt -r RECIPIENT --output-dir OUT IN/f*"
echo "                 $KEYWAY decrypt -i x25519.key --output-dir OUT ENC/*.kw"
echo "  keyway xwing:  the same with the default (X-Wing) identity"
echo "  age:           for f in IN/f*; do age -r AGE_RECIPIENT -o OUT/\${f##*/}.age \"\$f\"; done"
echo "                 for f in ENC/*.age; do age -d -i age.key -o OUT/NAME \"\$f\"; done"
echo "  gpg:           cp IN/f* OUT/ && gpg --batch --yes --quiet --no-tty --trust-model always -r FPR --encrypt-files OUT/f*"
echo "                 cp ENC/*.gpg OUT/ && gpg --batch --yes --quiet --no-tty --trust-model always --decrypt-files OUT/*.gpg"

# Runs every contender of one direction RUNS times (after a warm-up), rotating the order; prints medians.
compare() {
    local dir="$1"
    shift
    local names=("$@") r i k n
    for n in "${names[@]}"; do : >"$WORK/t-$n"; OUT="$WORK/out"; run_one "$n" "$n" >/dev/null; done
    for r in $(seq "$RUNS"); do
        for i in "${!names[@]}"; do
            k=$(( (i + r) % ${#names[@]} ))
            n="${names[k]}"
            OUT="$WORK/out"
            run_one "$n" "$n" >>"$WORK/t-$n"
        done
    done
    echo
    echo "== $dir: $FILES files of $SIZE bytes, median of $RUNS runs (load average $(cut -d' ' -f1-3 /proc/loadavg))"
    for n in "${names[@]}"; do
        printf '  %-10s %9.1f ms   (runs: %s)\n' "$n" "$(median "$WORK/t-$n")" "$(tr '\n' ' ' <"$WORK/t-$n")"
    done
}

compare encrypt kw_enc_x kw_enc_w age_enc gpg_enc
KX="$(median "$WORK/t-kw_enc_x")"; KW="$(median "$WORK/t-kw_enc_w")"; AE="$(median "$WORK/t-age_enc")"; GE="$(median "$WORK/t-gpg_enc")"
compare decrypt kw_dec_x kw_dec_w age_dec gpg_dec
DX="$(median "$WORK/t-kw_dec_x")"; DW="$(median "$WORK/t-kw_dec_w")"; AD="$(median "$WORK/t-age_dec")"; GD="$(median "$WORK/t-gpg_dec")"

# The last keyway decrypt's outputs must be the inputs.
for f in "$IN"/f*; do cmp -s "$f" "$WORK/out/${f##*/}" || fail "keyway's output for ${f##*/} differs from the input"; done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
verdict() { awk -v r="$(awk -v a="$1" -v b="$2" 'BEGIN { print a / b }')" -v t="$3" 'BEGIN { print (r >= t ? "met" : "missed") }'; }
echo
echo "== ratios (how many times faster keyway is; target: age loop >= 5x, gpg >= 2x)"
printf '  encrypt  x25519: age/keyway %s (%s), gpg/keyway %s (%s);  xwing: age/keyway %s, gpg/keyway %s\n' \
    "$(ratio "$AE" "$KX")" "$(verdict "$AE" "$KX" 5)" "$(ratio "$GE" "$KX")" "$(verdict "$GE" "$KX" 2)" "$(ratio "$AE" "$KW")" "$(ratio "$GE" "$KW")"
printf '  decrypt  x25519: age/keyway %s (%s), gpg/keyway %s (%s);  xwing: age/keyway %s, gpg/keyway %s\n' \
    "$(ratio "$AD" "$DX")" "$(verdict "$AD" "$DX" 5)" "$(ratio "$GD" "$DX")" "$(verdict "$GD" "$DX" 2)" "$(ratio "$AD" "$DW")" "$(ratio "$GD" "$DW")"
echo "RESULT files=$FILES size=$SIZE enc_keyway_x25519_ms=$KX enc_keyway_xwing_ms=$KW enc_age_ms=$AE enc_gpg_ms=$GE dec_keyway_x25519_ms=$DX dec_keyway_xwing_ms=$DW dec_age_ms=$AD dec_gpg_ms=$GD"
