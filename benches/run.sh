#!/usr/bin/env bash
# Runs the benchmarks and the HPACK size report, and writes BENCHMARKS.md at the workspace root.
#
#   bash benches/run.sh            # a few minutes on 2 cores
#
# Extra arguments go to criterion, e.g. `bash benches/run.sh hpack-decode` to run one group
# (BENCHMARKS.md then mixes fresh figures with the last ones in target/criterion).
set -euo pipefail
cd "$(dirname "$0")/.."

# Other work on the machine skews the figures: the report states the load when the run began.
load=$(cut -d' ' -f1-3 /proc/loadavg)
cargo bench -p benches -- --warm-up-time 1 --measurement-time 3 "$@"

size_report=$(mktemp)
trap 'rm -f "$size_report"' EXIT
cargo run --release -q -p benches --bin hpack_size >"$size_report"

python3 benches/report.py \
    --criterion "${CARGO_TARGET_DIR:-target}/criterion" \
    --size-report "$size_report" \
    --load "$load" \
    --out BENCHMARKS.md
echo "wrote BENCHMARKS.md"
