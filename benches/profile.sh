#!/usr/bin/env bash
# Profiles what the benchmarks measure, to find what to optimize (not part of the report):
#   1. the in-memory end to end (criterion's --profile-time, h2core only);
#   2. our tokio server under h2load (-t 1 -c 64 -m 32), sampled with perf, and its system calls
#      counted with strace.
#
#   bash benches/profile.sh [e2e-small-c100/h2core] [/ | /bytes/16384]
#
# Needs perf (Debian: linux-perf; sampling with cpu-clock, so hardware counters are not needed)
# and strace for the syscall count. Binaries are built with line tables in target/profile;
# perf data and reports are left in target/profile/*.data and *.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

bench=${1:-e2e-small-c100/h2core}
path=${2:-/}
out=target/profile
mkdir -p "$out"
export CARGO_PROFILE_RELEASE_DEBUG=line-tables-only

# 1. In-memory end to end.
e2e=$(cargo bench -p benches --bench e2e --no-run --message-format=json 2>/dev/null |
    python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "e2e" and m.get("executable"):
        print(m["executable"])')
perf record -q -e cpu-clock -F 2000 -g --call-graph dwarf,32768 -o "$out/e2e.data" -- \
    "$e2e" --bench --profile-time 5 "$bench" >/dev/null
perf report -i "$out/e2e.data" --no-children --stdio --percent-limit 1 -g none 2>/dev/null |
    grep -v '^#' | grep -v '^$' >"$out/e2e-self.txt"
perf report -i "$out/e2e.data" --children --stdio --percent-limit 3 -g none 2>/dev/null |
    grep -v '^#' | grep -v '^$' | grep -E 'h2core|benches::' >"$out/e2e-inclusive.txt" || true
echo "== $bench: self time =="
head -25 "$out/e2e-self.txt"
echo "== $bench: inclusive time (h2core) =="
head -40 "$out/e2e-inclusive.txt"

# 2. Our tokio server under load.
cargo build --release -q -p h2-tokio --example server --target-dir "$out"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
server_pin=()
client_pin=()
if command -v taskset >/dev/null && (($(nproc) >= 2)); then
    server_pin=(taskset -c 0)
    client_pin=(taskset -c 1)
fi
"${server_pin[@]}" "$out/release/examples/server" --listen "127.0.0.1:$port" >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
sleep 0.5
url="http://127.0.0.1:$port$path"
"${client_pin[@]}" h2load -t 1 -c 64 -m 32 -D 2 "$url" >/dev/null # warm up
perf record -q -e cpu-clock -F 1000 -g --call-graph dwarf,16384 -p "$server" -o "$out/server.data" -- sleep 4 &
recorder=$!
"${client_pin[@]}" h2load -t 1 -c 64 -m 32 -D 5 "$url" | grep -E '^(finished|requests)'
wait "$recorder" || true
perf report -i "$out/server.data" --no-children --stdio --sort dso -g none 2>/dev/null |
    grep -v '^#' | grep -v '^$' >"$out/server-dso.txt"
perf report -i "$out/server.data" --no-children --stdio --percent-limit 1 -g none 2>/dev/null |
    grep -v '^#' | grep -v '^$' >"$out/server-self.txt"
echo "== server $path: time by object (kernel = system calls and TCP; libc = malloc, memcpy) =="
cat "$out/server-dso.txt"
echo "== server $path: self time =="
head -25 "$out/server-self.txt"

if command -v strace >/dev/null; then
    requests=100000
    strace -f -c -o "$out/server-syscalls.txt" -p "$server" &
    tracer=$!
    sleep 1
    "${client_pin[@]}" h2load -t 1 -c 64 -m 32 -n "$requests" "$url" | grep -E '^finished'
    kill -INT "$tracer"
    wait "$tracer" 2>/dev/null || true
    echo "== server $path: system calls for $requests requests =="
    head -12 "$out/server-syscalls.txt"
fi
