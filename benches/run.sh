#!/usr/bin/env bash
# The one command that writes BENCHMARKS.md, all of it, from measurements of this run:
#
#   bash benches/run.sh               # full run: about 8 minutes on 2 cores once built
#   BENCH_QUICK=1 bash benches/run.sh # quick run: about 3 minutes (shorter measurements,
#                                     # one load round, 256 MiB bulk)
# (measured on a busy 2-core machine; a cold target directory first builds for some minutes).
#
# Steps, each with its exit status and duration recorded in target/bench-results/steps.tsv
# and its output in target/bench-results/<step>.log:
#   build      every binary, example and criterion bench used below (release)
#   e2e        criterion benches/benches/e2e.rs (in-memory end to end)
#   hpack      criterion benches/benches/hpack.rs (HPACK decode and encode)
#   frame      criterion benches/benches/frame.rs (frame layer)
#   hpack_size bin hpack_size (encoded sizes)
#   memory     bin memory (heap per idle connection)
#   mio_idle   h2-mio/tests/idle.rs (10,000 idle connections)
#   load       benches/load.sh (h2load against our servers, hyperium h2, nghttpd and h2o; then
#              our servers with one thread of I/O vs two, under two h2load threads)
#   bulk       bin bulk (1 GiB over a warm connection: the h2-tokio library pair and raw TCP in
#              one process; then `GET /bytes/N` from each adapter's `server` example, each in a
#              process of its own, beside raw TCP from a server process with the same
#              write and read sizes)
#   sim        bin sim (flow-control figures over a simulated link, in virtual time; h2-sim)
# then benches/report.py renders every section and the goals table from those results only
# (target/bench-results is emptied first, criterion writes into it via CRITERION_HOME), so
# nothing is kept from an older run. A step that fails is reported as failed, its goal rows say
# "not measured", and this script exits 1 after writing the report.
#
# Environment (defaults for the full run; BENCH_QUICK=1 changes the ones in parentheses):
#   CRITERION_WARMUP seconds (1; quick 0.5), CRITERION_TIME seconds (3; quick 1)
#   LOAD_DURATION seconds per h2load run (5; quick 2), LOAD_WARMUP requests (20000; quick 5000),
#   LOAD_ROUNDS (3; quick 1), BULK_BYTES (1073741824; quick 268435456), BULK_ROUNDS (5; quick 3),
#   MEMORY_CONNECTIONS (1000; quick 300), LOAD_BASELINE (see load.sh),
#   BENCH_STEPS: comma-separated subset of the steps above (all); the report then says which
#   were not run, so a partial run is for trying things out, not for committing.
# Needs h2load, nghttp and nghttpd (Debian: nghttp2-client, nghttp2-server) and python3; h2o
# (Debian: h2o) too, else the load section reports it "not measured".
set -uo pipefail
cd "$(dirname "$0")/.."

quick=${BENCH_QUICK:-0}
if [[ $quick == 1 ]]; then
    d_cw=0.5 d_ct=1 d_ld=2 d_lw=5000 d_lr=1 d_bb=268435456 d_br=3 d_mc=300
else
    d_cw=1 d_ct=3 d_ld=5 d_lw=20000 d_lr=3 d_bb=1073741824 d_br=5 d_mc=1000
fi
export CRITERION_WARMUP=${CRITERION_WARMUP:-$d_cw}
export CRITERION_TIME=${CRITERION_TIME:-$d_ct}
export LOAD_DURATION=${LOAD_DURATION:-$d_ld}
export LOAD_WARMUP=${LOAD_WARMUP:-$d_lw}
export LOAD_ROUNDS=${LOAD_ROUNDS:-$d_lr}
export BULK_BYTES=${BULK_BYTES:-$d_bb}
export BULK_ROUNDS=${BULK_ROUNDS:-$d_br}
export MEMORY_CONNECTIONS=${MEMORY_CONNECTIONS:-$d_mc}
all_steps=build,e2e,hpack,frame,hpack_size,memory,mio_idle,load,bulk,sim
steps=${BENCH_STEPS:-$all_steps}

target=${CARGO_TARGET_DIR:-target}
results="$target/bench-results"
rm -rf "$results"
mkdir -p "$results"
# Absolute, whether CARGO_TARGET_DIR is relative or not (load.sh runs from the workspace root).
results_abs=$(cd "$results" && pwd)
# Criterion writes its estimates under the results directory, so an old run's cannot be read.
export CRITERION_HOME="$results_abs/criterion"
export BENCH_RESULTS="$results_abs"

python3 benches/report.py --begin "$results/run.json" --quick "$quick" --steps "$steps" \
    --knobs CRITERION_WARMUP CRITERION_TIME LOAD_DURATION LOAD_WARMUP LOAD_ROUNDS BULK_BYTES \
    BULK_ROUNDS MEMORY_CONNECTIONS

printf 'step\tstatus\tseconds\n' >"$results/steps.tsv"
failed=0
# step NAME COMMAND...: runs COMMAND with its output in NAME.log, records status and duration.
step() {
    local name=$1
    shift
    if [[ ,$steps, != *,$name,* ]]; then
        printf '%s\tskipped\t0\n' "$name" >>"$results/steps.tsv"
        return
    fi
    echo "== $name: $*"
    local t0 t1 rc
    t0=$(date +%s.%N)
    "$@" >"$results/$name.log" 2>&1
    rc=$?
    t1=$(date +%s.%N)
    printf '%s\t%s\t%s\n' "$name" "$rc" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')" \
        >>"$results/steps.tsv"
    if ((rc != 0)); then
        failed=1
        echo "   $name failed (exit status $rc); last lines of $results/$name.log:"
        tail -5 "$results/$name.log" | sed 's/^/   | /'
    fi
}

criterion() {
    cargo bench -p benches --bench "$1" -- --warm-up-time "$CRITERION_WARMUP" \
        --measurement-time "$CRITERION_TIME"
}

build() {
    cargo build --release -p benches --bins &&
        cargo build --release -p h2-tokio -p h2-async-std -p h2-mio --examples &&
        cargo bench -p benches --no-run &&
        cargo test --release -p h2-mio --test idle --no-run
}

hpack_size() {
    "$target/release/hpack_size" >"$results/hpack-size.md"
}

bulk() {
    # Every adapter's example is named `server`: each binary is copied out of target/ as soon
    # as it is built (as in load.sh).
    local dir="$results/bulk-servers" examples=() a name package
    mkdir -p "$dir"
    for a in "tokio h2-tokio" "async-std h2-async-std" "mio h2-mio"; do
        read -r name package <<<"$a"
        cargo build --release -q -p "$package" --example server || return
        cp "$target/release/examples/server" "$dir/$package-server" || return
        examples+=(--example "$name=$dir/$package-server")
    done
    "$target/release/bulk" --bytes "$BULK_BYTES" --rounds "$BULK_ROUNDS" \
        --json "$results/bulk.json" "${examples[@]}"
}

mio_idle() {
    # The test opens 10,000 connections from this process to the server's: raise the soft
    # open-files limit as far as the hard limit allows (the test skips itself below 10,500).
    ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
    cargo test --release -p h2-mio --test idle -- --nocapture --test-threads 1
}

step build build
step e2e criterion e2e
step hpack criterion hpack
step frame criterion frame
step hpack_size hpack_size
step memory "$target/release/memory" --connections "$MEMORY_CONNECTIONS" --json "$results/memory.json"
step mio_idle mio_idle
step load bash benches/load.sh
step bulk bulk
step sim "$target/release/sim" --json "$results/sim.json"

python3 benches/report.py --results "$results" --out BENCHMARKS.md || failed=1
echo "wrote BENCHMARKS.md; step results in $results/steps.tsv"
exit "$failed"
