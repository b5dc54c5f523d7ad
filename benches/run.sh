#!/usr/bin/env bash
# Runs the criterion benchmarks (in-memory end to end, HPACK, frame layer), the HPACK size report
# and the memory report, and writes their sections of BENCHMARKS.md at the workspace root (the
# load and bulk sections come from benches/load.sh and are kept).
#
#   bash benches/run.sh            # about 5 minutes on 2 cores
#
# Extra arguments go to criterion, e.g. `bash benches/run.sh hpack-decode` to run one group
# (BENCHMARKS.md then mixes fresh figures with the last ones in target/criterion).
set -euo pipefail
cd "$(dirname "$0")/.."

target=${CARGO_TARGET_DIR:-target}
results="$target/bench-results"
mkdir -p "$results"
# Other work on the machine skews the figures: the report states the load when the run began.
load=$(cut -d' ' -f1-3 /proc/loadavg)
rm -f "$results/run-meta.json"
python3 benches/report.py --write-meta "$results/run-meta.json" --load "$load"
cargo bench -p benches -- --warm-up-time 1 --measurement-time 3 "$@"

size_report=$(mktemp)
trap 'rm -f "$size_report"' EXIT
cargo run --release -q -p benches --bin hpack_size >"$size_report"
cargo run --release -q -p benches --bin memory -- --json "$results/memory.json"
# 10,000 idle connections on the mio server (its test prints the VmRSS growth).
cargo test --release -q -p h2-mio --test idle -- --nocapture 2>/dev/null |
    grep 'idle connections opened' >"$results/mio-idle.txt" || true

python3 benches/report.py \
    --sections e2e,memory,hpack,frame \
    --criterion "$target/criterion" \
    --results "$results" \
    --size-report "$size_report" \
    --load "$load" \
    --out BENCHMARKS.md
echo "wrote BENCHMARKS.md"
