#!/usr/bin/env bash
# Builds every cargo-fuzz target and runs each for SECONDS (default 60), one after another,
# starting from the checked-in seeds and regressions (fuzz/seeds/TARGET, fuzz/regressions/TARGET).
# A crash, or a broken property (each target's body in fuzz/fuzz_targets/bodies.rs panics then),
# fails the script.
#   scripts/fuzz.sh            60 s per target
#   scripts/fuzz.sh 20         20 s per target (scripts/test.sh, so CI stays short)
#   FUZZ_TARGETS="hpack_decoder" scripts/fuzz.sh 30
#   FUZZ_INSTALL=1 scripts/fuzz.sh   installs cargo-fuzz from crates.io first if missing
# Needs a nightly toolchain and cargo-fuzz: without them it says so and does nothing (exit 0).
# New inputs grow in fuzz/corpus/TARGET (not checked in); a crash leaves its input in
# fuzz/artifacts/TARGET: copy it to fuzz/regressions/TARGET, and
# `cargo test -p h2core --test fuzz_regressions` replays it from then on.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-${FUZZ_SECONDS:-60}}"
targets="${FUZZ_TARGETS:-connection_server connection_client frame_reader hpack_decoder http1_server}"

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    echo "fuzz: no nightly toolchain (rustup toolchain install nightly); not fuzzing"
    exit 0
fi
if ! cargo +nightly fuzz --help >/dev/null 2>&1 && [ "${FUZZ_INSTALL:-0}" = 1 ]; then
    cargo install --locked cargo-fuzz
fi
if ! cargo +nightly fuzz --help >/dev/null 2>&1; then
    echo "fuzz: cargo-fuzz missing (cargo install cargo-fuzz, or FUZZ_INSTALL=1); not fuzzing"
    exit 0
fi

cd fuzz
# Safe Rust: AddressSanitizer adds little but time. Debug assertions make an arithmetic
# overflow a crash, as in the tests.
flags=(--sanitizer none --debug-assertions)
printf '\n== fuzz: building every target\n'
cargo +nightly fuzz build "${flags[@]}"
status=0
for t in $targets; do
    printf '\n== fuzz %s for %ss\n' "$t" "$seconds"
    mkdir -p "corpus/$t"
    # The first directory collects new inputs; the seeds and regressions are only read.
    if ! cargo +nightly fuzz run "${flags[@]}" "$t" "corpus/$t" "seeds/$t" "regressions/$t" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1; then
        echo "fuzz target $t FAILED: see fuzz/artifacts/$t"
        status=1
    fi
done
exit $status
