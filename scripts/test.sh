#!/usr/bin/env bash
# Runs every test of the workspace, as CI does. Installs what a fresh machine lacks first.
#   scripts/test.sh            everything
#   H2_SKIP_INSTALL=1 ...      do not try to install peers (tests that need a missing peer skip, saying so)
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n== %s\n' "$*"; }

install_peers() {
    # Real peers for the interop tests: curl (with nghttp2), nghttp, nghttpd, h2load, Python's h2.
    local missing=()
    command -v curl >/dev/null || missing+=(curl)
    # nghttp2-client ships both nghttp and h2load.
    { command -v nghttp && command -v h2load; } >/dev/null || missing+=(nghttp2-client)
    command -v nghttpd >/dev/null || missing+=(nghttp2-server)
    if [ ${#missing[@]} -gt 0 ]; then
        log "installing ${missing[*]}"
        if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
            apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
        else
            echo "cannot install ${missing[*]} (need root and apt-get); interop tests will skip"
        fi
    fi
    if ! python3 -c 'import h2' 2>/dev/null; then
        log "installing Python h2"
        # A Debian python3 refuses pip (PEP 668, externally managed): fall back to its package.
        python3 -m pip install -q h2 2>/dev/null \
            || { command -v apt-get >/dev/null && [ "$(id -u)" = 0 ] \
                && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-h2 >/dev/null; } \
            || echo "cannot install Python h2 (pip or python3-h2); Python interop tests will skip"
    fi
}

[ "${H2_SKIP_INSTALL:-0}" = 1 ] || install_peers

log "cargo fmt --check"
cargo fmt --all -- --check

log "cargo clippy -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

log "cargo test"
cargo test --workspace --all-targets

log "doc tests"
cargo test --workspace --doc

log "fuzz (20 s per target, from the seeds; skipped without a nightly toolchain)"
# cargo-fuzz comes from crates.io like the other tools this script installs.
if [ "${H2_SKIP_INSTALL:-0}" = 1 ]; then fuzz_install=0; else fuzz_install=1; fi
FUZZ_INSTALL=$fuzz_install bash scripts/fuzz.sh "${FUZZ_SECONDS:-20}"
