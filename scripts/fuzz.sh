#!/usr/bin/env bash
# Runs every cargo-fuzz target for SECONDS each (default 60), one after another.
#   scripts/fuzz.sh            60 s per target
#   scripts/fuzz.sh 600        10 min per target
#   FUZZ_TARGETS="hpack_decoder" scripts/fuzz.sh 30
# Needs a nightly toolchain (rustup) and cargo-fuzz (installed here if missing). Corpora grow
# in fuzz/corpus/TARGET; a crash leaves its input in fuzz/artifacts/TARGET: keep it as a test in
# h2core/tests/fuzz_regressions.rs once fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
targets="${FUZZ_TARGETS:-frame_reader hpack_decoder connection_server connection_client http1_server}"

command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz
cd fuzz
status=0
for t in $targets; do
    printf '\n== fuzz %s for %ss\n' "$t" "$seconds"
    mkdir -p "corpus/$t"
    if ! cargo +nightly fuzz run "$t" "corpus/$t" -- -max_total_time="$seconds" -print_final_stats=1; then
        echo "fuzz target $t FAILED: see fuzz/artifacts/$t"
        status=1
    fi
done
exit $status
