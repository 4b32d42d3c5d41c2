#!/usr/bin/env bash
# 'keyway tls serve' under idle and half-open connections: how long a normal client waits, and what holding
# thousands of idle connections costs the server. One run, one server process (./keyway, built if stale):
#
#   1. HOSTILE idle sockets are opened (half of them send the first 60 bytes of a ClientHello and stop),
#      then a normal client (Python's ssl module: TCP connect, TLS 1.3 handshake, 16-byte echo, close) is
#      timed CLIENT_RUNS times; the table gives the median and the worst.
#   2. The server's resident memory (VmRSS, /proc) with nothing open, with IDLE raw idle TCP connections,
#      and with IDLE established TLS 1.3 connections that then say nothing; a normal client is timed beside
#      each. Connections are opened by a Python process with its own file-descriptor limit.
#
#   bench/tls-serve-idle.sh [--hostile N] [--idle N] [--client-runs N]
#
#   --hostile N       idle and half-open sockets in part 1 (default 250)
#   --idle N          connections in part 2 (default 5000)
#   --client-runs N   normal clients timed per measurement (default 20)
#
# The server runs with --max-per-address and --max-connections above the counts (every socket comes from
# 127.0.0.1) and timeouts long enough to hold them: the measurement is what they cost, not the caps.
# Environment: JAVA_OPTS (server JVM options; default none: the JVM's default heap), KEEP=1 keeps the work
# directory. Needs python3 and openssl (certificate). Every process started here is stopped on exit.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NAME="tls-serve-idle.sh"
HOSTILE=250
IDLE=5000
RUNS=20
while (($#)); do
    case "$1" in
        -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
        --hostile | --idle | --client-runs)
            (($# >= 2)) && [[ "$2" =~ ^[0-9]+$ ]] || { echo "$NAME: $1 needs a number" >&2; exit 2; }
            case "$1" in --hostile) HOSTILE="$2" ;; --idle) IDLE="$2" ;; --client-runs) RUNS="$2" ;; esac
            shift 2 ;;
        *) echo "$NAME: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
command -v python3 >/dev/null || { echo "$NAME: needs python3" >&2; exit 1; }
command -v openssl >/dev/null || { echo "$NAME: needs openssl" >&2; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/keyway-serve-idle.XXXXXX")"
PIDS=()
cleanup() {
    for p in "${PIDS[@]+"${PIDS[@]}"}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    [[ "${KEEP:-0}" == 1 ]] && echo "work directory kept: $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/key.pem" -out "$WORK/cert.pem" \
    -days 1 -subj /CN=localhost 2>/dev/null
limit=$((HOSTILE > IDLE ? HOSTILE : IDLE))
limit=$((limit + 100))
"$ROOT/keyway" --version >/dev/null 2>&1 || true # builds the jar if stale, before anything is timed
SERVE=("$ROOT/keyway" tls serve --echo --cert "$WORK/cert.pem" --key "$WORK/key.pem" --listen 127.0.0.1:0
    --max-per-address "$limit" --max-connections "$limit" --handshake-timeout 10m --idle-timeout 10m)
echo "\$ ${SERVE[*]}" | sed "s#$WORK#\$WORK#g"
"${SERVE[@]}" 2>"$WORK/serve.log" >/dev/null &
PIDS+=($!)
port=""
for _ in $(seq 1 300); do
    port="$(sed -n 's/^keyway: listening on .*:\([0-9][0-9]*\)$/\1/p' "$WORK/serve.log" | head -n 1)"
    [[ -n "$port" ]] && break
    sleep 0.1
done
[[ -n "$port" ]] || { echo "$NAME: the server did not start:" >&2; tail -n 5 "$WORK/serve.log" >&2; exit 1; }
# The JVM is the launcher's child: find the java process listening on the port.
jpid="$(pgrep -f "keyway-cli.*tls serve --echo --cert $WORK/cert.pem" | tail -n 1)"
[[ -n "$jpid" ]] || { echo "$NAME: cannot find the server's JVM" >&2; exit 1; }
echo "server: JVM pid $jpid on 127.0.0.1:$port; $(nproc) CPUs; java $(java -version 2>&1 | head -n 1)"
echo

python3 - "$port" "$HOSTILE" "$IDLE" "$RUNS" "$jpid" <<'PY'
import os, resource, socket, ssl, statistics, sys, time

port, hostile, idle, runs, jpid = (int(a) for a in sys.argv[1:])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.minimum_version = ssl.TLSVersion.TLSv1_3

def rss_mib():
    with open(f"/proc/{jpid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")

def live_heap_mib():
    """The server's Java heap in use after a full GC (jcmd): live objects only, unlike RSS."""
    import subprocess
    subprocess.run(["jcmd", str(jpid), "GC.run"], capture_output=True, timeout=60)
    out = subprocess.run(["jcmd", str(jpid), "GC.heap_info"], capture_output=True, text=True, timeout=60).stdout
    used = 0
    for line in out.splitlines():
        # one line per heap or generation ("def new generation", "tenured generation", "garbage-first heap")
        if "total" in line and "used" in line and "space" not in line.lower():
            used += int(line.split("used")[1].split()[0].rstrip("K,"))
    return used / 1024

def threads():
    return len(os.listdir(f"/proc/{jpid}/task"))

def client():
    t0 = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            s.sendall(b"0123456789abcdef")
            got = b""
            while len(got) < 16:
                chunk = s.recv(16 - len(got))
                if not chunk:
                    raise RuntimeError("the server closed before echoing")
                got += chunk
    return (time.perf_counter() - t0) * 1000

def timed(label):
    client()  # one unmeasured: warms the server's JIT for this path
    ms = [client() for _ in range(runs)]
    print(f"  {label:<52} normal client: median {statistics.median(ms):7.1f} ms, worst {max(ms):7.1f} ms"
          f"   server RSS {rss_mib():7.1f} MiB, {threads()} threads", flush=True)
    return ms

# A ClientHello's first 60 bytes, made by Python's own TLS stack.
hello = ssl.MemoryBIO(), ssl.MemoryBIO()
obj = ctx.wrap_bio(hello[0], hello[1], server_hostname="localhost")
try:
    obj.do_handshake()
except ssl.SSLWantReadError:
    pass
half_hello = hello[1].read()[:60]

print("part 1: a normal client beside idle and half-open sockets")
timed("nothing else open")
held = []
for i in range(hostile):
    s = socket.create_connection(("127.0.0.1", port))
    if i % 2:
        s.sendall(half_hello)
    held.append(s)
time.sleep(0.5)
ms = timed(f"{hostile} idle and half-open sockets open")
verdict = "PASS" if max(ms) < 1000 else "MISS"
print(f"  target: every normal client served in under 1 s beside {hostile} of them: worst {max(ms):.1f} ms  {verdict}")
for s in held:
    s.close()
held.clear()
time.sleep(1)
print()

print("part 2: what idle connections cost the server")
base = rss_mib()
base_heap = live_heap_mib()
timed("nothing open")
t0 = time.perf_counter()
for i in range(idle):
    held.append(socket.create_connection(("127.0.0.1", port)))
time.sleep(1)
raw_rss = rss_mib()
raw_heap = live_heap_mib()
timed(f"{idle} idle TCP connections (no byte sent)")
for s in held:
    s.close()
held.clear()
time.sleep(2)
t0 = time.perf_counter()
for i in range(idle):
    raw = socket.create_connection(("127.0.0.1", port))
    s = ctx.wrap_socket(raw, server_hostname="localhost")
    held.append(s)
opened = time.perf_counter() - t0
time.sleep(1)
tls_rss = rss_mib()
tls_heap = live_heap_mib()
timed(f"{idle} idle TLS 1.3 connections (handshake done)")
print(f"  opened {idle} TLS connections in {opened:.1f} s ({idle / opened:.0f}/s, one client thread)")
print(f"  RSS: {base:.1f} MiB idle server; +{raw_rss - base:.1f} MiB for {idle} TCP ({(raw_rss - base) * 1024 / idle:.1f} KiB each);"
      f" +{tls_rss - base:.1f} MiB for {idle} TLS ({(tls_rss - base) * 1024 / idle:.1f} KiB each)")
print(f"  live Java heap after a full GC: {base_heap:.1f} MiB idle server; +{(raw_heap - base_heap) * 1024 / idle:.1f} KiB per TCP"
      f" connection; +{(tls_heap - base_heap) * 1024 / idle:.1f} KiB per TLS connection")
for s in held:
    s.close()
PY
echo
echo "server log: $(grep -c '' "$WORK/serve.log") lines; refusals: $(grep -c 'refused' "$WORK/serve.log" || true)"
