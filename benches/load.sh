#!/usr/bin/env bash
# Load test, a step of benches/run.sh (which writes BENCHMARKS.md); on its own it leaves its
# results in $BENCH_RESULTS (default target/bench-results) and writes no report.
#
#   bash benches/load.sh          # about 5 minutes with the defaults
#
# h2load (-t 1 -c 64 -m 32, h2c by prior knowledge) against, in interleaved rounds:
#   - our servers: the `server` examples of h2-tokio, h2-async-std and h2-mio (routes / and
#     /bytes/N)
#   - hyperium h2:  benches/src/bin/h2_peer_server.rs (the same routes, written like h2's
#                   examples/server.rs)
#   - nghttpd:      a directory holding index.html ("hello\n") and bytes16384
#   - h2o:          one thread (num-threads: 1), file.dir on the same directory, h2c by prior
#                   knowledge on its plain listen port; skipped, and reported "not measured",
#                   when h2o is not installed (Debian: apt-get install h2o)
# for the small body and the 16 KiB body; every round's figures go to load.tsv. Servers bind
# 127.0.0.1 on a free port and are all stopped on exit. With 2 or more CPUs, servers run on
# CPU 0 and h2load on CPU 1 (taskset), so every server gets one core however many threads it
# would start. tokio's runtime, async-std's executor and h2-mio's loops size themselves by the
# CPUs the process may run on (available_parallelism reads the affinity): one, pinned.
#
# Then scaling across cores (scale.tsv), not pinned: h2load -t 2 -c 64 -m 32 on the small body
# against each of our servers started with one thread of I/O and with two: h2-mio with
# H2_MIO_EVENT_LOOPS=1 and 2 (event loops; read by its example), h2-tokio with
# TOKIO_WORKER_THREADS=1 and 2 (tokio's runtime reads it), h2-async-std with
# ASYNC_STD_THREAD_COUNT=1 and 2 (async-std's executor reads it), in interleaved rounds. Server
# and h2load share the machine's cores, so on 2 CPUs this shows whether a second loop or
# worker helps when two client threads drive it, not a clean 2x.
#
# Besides req/s, each run records the server's CPU time (user + system, all threads, from
# /proc/PID/stat) per request: machines here are shared, and CPU per request is much less
# sensitive than req/s to other work stealing the server's core. Each server's settings are
# read off the wire (the SETTINGS frame and connection WINDOW_UPDATEs it sends to `nghttp -nv`)
# and its thread count from /proc/PID/status after the warm-up (settings.tsv).
#
# Before/after in one run: LOAD_BASELINE=DIR adds the servers DIR/h2-tokio-server,
# DIR/h2-async-std-server and DIR/h2-mio-server (the example servers built at an earlier commit,
# e.g. from a `git worktree`), measured in the same rounds as `base-tokio`, `base-async-std`
# and `base-mio`; the report labels them with the commit in DIR/COMMIT (or
# LOAD_BASELINE_COMMIT), "at an unnamed commit" when neither is given.
#
# Environment: LOAD_DURATION seconds per h2load run (5), LOAD_WARMUP requests per server and
# body before the rounds (20000), LOAD_ROUNDS (3; the scaling rounds too). Needs h2load, nghttp
# and nghttpd (Debian: nghttp2-client, nghttp2-server) and python3; h2o optional.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in h2load nghttp nghttpd python3; do
    if ! command -v "$tool" >/dev/null; then
        echo "load.sh: $tool not found (Debian: apt-get install nghttp2-client nghttp2-server)" >&2
        exit 1
    fi
done

duration=${LOAD_DURATION:-5}
warmup=${LOAD_WARMUP:-20000}
rounds=${LOAD_ROUNDS:-3}
target=${CARGO_TARGET_DIR:-target}
results=${BENCH_RESULTS:-$target/bench-results}
mkdir -p "$results"
rm -f "$results/load.tsv" "$results/load-meta.json" "$results/settings.tsv" "$results/scale.tsv"

work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The adapters' demo servers: name, cargo package. Each example is named `server`, so each
# binary is copied out of target/ as soon as it is built. Missing adapters are skipped.
adapters=("ours-tokio h2-tokio" "ours-async-std h2-async-std" "ours-mio h2-mio")
servers=()
skipped=()
for a in "${adapters[@]}"; do
    read -r name package <<<"$a"
    # An example is a file or, when it has modules, a directory with main.rs.
    if [[ -f "$package/examples/server.rs" || -f "$package/examples/server/main.rs" ]]; then
        cargo build --release -q -p "$package" --example server
        cp "$target/release/examples/server" "$work/$name"
        servers+=("$name")
    else
        skipped+=("$name: $package has no server example yet")
    fi
done
baseline_commit=
if [[ -n ${LOAD_BASELINE:-} ]]; then
    baseline_commit=${LOAD_BASELINE_COMMIT:-$(cat "$LOAD_BASELINE/COMMIT" 2>/dev/null || true)}
    for a in "${adapters[@]}"; do
        read -r name package <<<"$a"
        if [[ -x "$LOAD_BASELINE/$package-server" ]]; then
            cp "$LOAD_BASELINE/$package-server" "$work/base-${name#ours-}"
            servers+=("base-${name#ours-}")
        else
            echo "load.sh: no baseline $LOAD_BASELINE/$package-server" >&2
            exit 1
        fi
    done
fi
cargo build --release -q -p benches --bin h2_peer_server
servers+=(h2 nghttpd)
h2o_version=
if command -v h2o >/dev/null; then
    h2o_version=$(h2o --version | awk 'NR == 1 { print $3 }')
    servers+=(h2o)
else
    skipped+=("h2o: not installed (Debian: apt-get install h2o)")
    echo "load.sh: h2o not found (Debian: apt-get install h2o); the report marks it not measured" >&2
fi

server_pin=()
client_pin=()
if command -v taskset >/dev/null && (($(nproc) >= 2)); then
    server_pin=(taskset -c 0)
    client_pin=(taskset -c 1)
fi

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_listening() {
    local port=$1 name=$2
    for _ in $(seq 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    echo "load.sh: $name did not start listening on $port; its log:" >&2
    cat "$work/$name.log" >&2
    exit 1
}

mkdir "$work/htdocs"
printf 'hello\n' >"$work/htdocs/index.html"
head -c 16384 /dev/zero | tr '\0' 'x' >"$work/htdocs/bytes16384"

# CPU time (clock ticks) the process has used, all threads, user + system.
cpu_ticks() {
    awk '{ print $14 + $15 }' "/proc/$1/stat"
}

declare -A port small big pid
for s in "${servers[@]}"; do
    port[$s]=$(free_port)
    addr="127.0.0.1:${port[$s]}"
    case $s in
    ours-* | base-*) cmd=("$work/$s" --listen "$addr") ;;
    h2) cmd=("$target/release/h2_peer_server" --listen "$addr") ;;
    nghttpd) cmd=(nghttpd --no-tls -a 127.0.0.1 -d "$work/htdocs" "${port[$s]}") ;;
    h2o)
        # h2o speaks h2c by prior knowledge on a plain port. Started as root it would switch
        # to `nobody`, who cannot read $work: stay this user.
        {
            echo "num-threads: 1"
            if (($(id -u) == 0)); then echo "user: $(id -un)"; fi
            echo "listen:"
            echo "  host: 127.0.0.1"
            echo "  port: ${port[$s]}"
            echo "hosts:"
            echo "  default:"
            echo "    paths:"
            echo "      /:"
            echo "        file.dir: $work/htdocs"
        } >"$work/h2o.conf"
        cmd=(h2o -c "$work/h2o.conf")
        ;;
    esac
    "${server_pin[@]}" "${cmd[@]}" >"$work/$s.log" 2>&1 &
    pids+=($!)
    pid[$s]=$!
    wait_listening "${port[$s]}" "$s"
    small[$s]="http://$addr/"
    if [[ $s == nghttpd || $s == h2o ]]; then
        big[$s]="http://$addr/bytes16384"
    else
        big[$s]="http://$addr/bytes/16384"
    fi
    # Every server must serve both bodies whole before it is measured.
    for check in "${small[$s]} 6" "${big[$s]} 16384"; do
        read -r url want <<<"$check"
        got=$(nghttp "$url" | wc -c)
        if [[ $got != "$want" ]]; then
            echo "load.sh: $s: $url gave $got bytes, not $want" >&2
            exit 1
        fi
    done
    # What the server announces: its SETTINGS frame and the WINDOW_UPDATEs on stream 0 it sends
    # before the response's HEADERS.
    nghttp -nv "${small[$s]}" >"$work/$s.frames" 2>&1 || true
    python3 benches/report.py --settings-from "$s" "$work/$s.frames" >>"$work/settings.tsv"
done

# Warm every server up (allocator, caches, connection set-up paths) before measuring.
for s in "${servers[@]}"; do
    for url in "${small[$s]}" "${big[$s]}"; do
        "${client_pin[@]}" h2load -t 1 -c 64 -m 32 -n "$warmup" "$url" >/dev/null 2>&1 || true
    done
done

# Threads of each server once warm (pinned servers see one CPU).
for s in "${servers[@]}"; do
    threads=$(awk '/^Threads:/ { print $2 }' "/proc/${pid[$s]}/status")
    cpus=$(awk '/^Cpus_allowed_list:/ { print $2 }' "/proc/${pid[$s]}/status")
    printf '%s\tthreads\t%s\tcpus\t%s\n' "$s" "$threads" "$cpus" >>"$work/settings.tsv"
done
cp "$work/settings.tsv" "$results/settings.tsv"

tsv="$results/load.tsv"
printf 'server\tbody\tround\treq_per_s\tsucceeded\tfailed\terrored\tcpu_us_per_req\n' >"$tsv"
hz=$(getconf CLK_TCK)
for round in $(seq "$rounds"); do
    for s in "${servers[@]}"; do
        for body in small 16k; do
            if [[ $body == small ]]; then url=${small[$s]}; else url=${big[$s]}; fi
            before=$(cpu_ticks "${pid[$s]}")
            out=$("${client_pin[@]}" h2load -t 1 -c 64 -m 32 -D "$duration" "$url" 2>&1) || true
            after=$(cpu_ticks "${pid[$s]}")
            rps=$(awk '/^finished in/ { gsub(",", "", $4); print $4 }' <<<"$out")
            if [[ -z $rps ]]; then
                echo "load.sh: h2load against $s failed:" >&2
                echo "$out" >&2
                exit 1
            fi
            read -r completed ok failed errored < <(awk '/^requests:/ { print $6, $8, $10, $12 }' <<<"$out")
            cpu=$(awk -v ticks=$((after - before)) -v hz="$hz" -v n="$completed" \
                'BEGIN { printf "%.2f", ticks / hz * 1e6 / (n > 0 ? n : 1) }')
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$body" "$round" "$rps" "$ok" "$failed" "$errored" "$cpu" >>"$tsv"
            printf 'round %s  %-14s %-5s %12s req/s  %6s µs CPU/request  (%s failed, %s errored)\n' \
                "$round" "$s" "$body" "$rps" "$cpu" "$failed" "$errored"
        done
    done
done

# Scaling: each of our servers with one I/O thread and with two (the variable its runtime or
# example reads), neither server nor h2load pinned.
scaled=()
declare -A scale_env
for s in "${servers[@]}"; do
    case $s in
    ours-mio) var=H2_MIO_EVENT_LOOPS ;;
    ours-tokio) var=TOKIO_WORKER_THREADS ;;
    ours-async-std) var=ASYNC_STD_THREAD_COUNT ;;
    *) continue ;;
    esac
    for n in 1 2; do
        c="scale-${s#ours-}-$n"
        scaled+=("$c")
        scale_env[$c]="$var=$n"
        port[$c]=$(free_port)
        env "$var=$n" "$work/$s" --listen "127.0.0.1:${port[$c]}" >"$work/$c.log" 2>&1 &
        pids+=($!)
        pid[$c]=$!
        wait_listening "${port[$c]}" "$c"
        small[$c]="http://127.0.0.1:${port[$c]}/"
        got=$(nghttp "${small[$c]}" | wc -c)
        if [[ $got != 6 ]]; then
            echo "load.sh: $c: ${small[$c]} gave $got bytes, not 6" >&2
            exit 1
        fi
        h2load -t 2 -c 64 -m 32 -n "$warmup" "${small[$c]}" >/dev/null 2>&1 || true
        threads=$(awk '/^Threads:/ { print $2 }' "/proc/${pid[$c]}/status")
        cpus=$(awk '/^Cpus_allowed_list:/ { print $2 }' "/proc/${pid[$c]}/status")
        printf '%s\tthreads\t%s\tcpus\t%s\n' "$c" "$threads" "$cpus" >>"$results/settings.tsv"
    done
done
stsv="$results/scale.tsv"
printf 'server\tenv\tround\treq_per_s\tsucceeded\tfailed\terrored\tcpu_us_per_req\n' >"$stsv"
for round in $(seq "$rounds"); do
    for c in "${scaled[@]}"; do
        before=$(cpu_ticks "${pid[$c]}")
        out=$(h2load -t 2 -c 64 -m 32 -D "$duration" "${small[$c]}" 2>&1) || true
        after=$(cpu_ticks "${pid[$c]}")
        rps=$(awk '/^finished in/ { gsub(",", "", $4); print $4 }' <<<"$out")
        if [[ -z $rps ]]; then
            echo "load.sh: h2load against $c failed:" >&2
            echo "$out" >&2
            exit 1
        fi
        read -r completed ok failed errored < <(awk '/^requests:/ { print $6, $8, $10, $12 }' <<<"$out")
        cpu=$(awk -v ticks=$((after - before)) -v hz="$hz" -v n="$completed" \
            'BEGIN { printf "%.2f", ticks / hz * 1e6 / (n > 0 ? n : 1) }')
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$c" "${scale_env[$c]}" "$round" "$rps" "$ok" "$failed" "$errored" "$cpu" >>"$stsv"
        printf 'round %s  %-16s %-24s %12s req/s  %6s µs CPU/request  (%s failed, %s errored)\n' \
            "$round" "$c" "${scale_env[$c]}" "$rps" "$cpu" "$failed" "$errored"
    done
done

python3 - "$results/load-meta.json" "$duration" "$warmup" "$rounds" "${#server_pin[@]}" \
    "$baseline_commit" "$h2o_version" "${skipped[@]}" <<'EOF'
import json, sys
path, duration, warmup, rounds, pinned, baseline_commit, h2o_version, *skipped = sys.argv[1:]
json.dump({
    "h2load": f"h2load -t 1 -c 64 -m 32 -D {duration}",
    "warmup": f"h2load -t 1 -c 64 -m 32 -n {warmup}",
    "scale_h2load": f"h2load -t 2 -c 64 -m 32 -D {duration}",
    "scale_warmup": f"h2load -t 2 -c 64 -m 32 -n {warmup}",
    "rounds": int(rounds),
    "pinned": pinned != "0",
    "baseline_commit": baseline_commit or None,
    "h2o_version": h2o_version or None,
    "skipped": skipped,
}, open(path, "w"), indent=2)
EOF
echo "load.sh: results in $results/load.tsv, $results/scale.tsv, $results/settings.tsv"
