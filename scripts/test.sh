#!/usr/bin/env bash
# Runs every test of the workspace, as CI does. Installs the interop tests' real peers first:
# curl (with HTTP2), nghttp and h2load (nghttp2-client), nghttpd (nghttp2-server), Chromium
# (headless, for h2-tokio's tests/browser.rs: wss:// over h2 from a real browser), and
# Python's h2 and gRPC (grpcio, grpcio-tools) in a venv of our own (target/peers-venv, handed
# to the tests as H2_PYTHON).
#   scripts/test.sh                  everything; a peer that cannot be installed fails the run
#   H2_SKIP_INSTALL=1 ...            install nothing (the peers must be there already)
#   H2_ALLOW_MISSING_PEERS=1 ...     a missing peer skips its tests instead of failing them; for
#                                    a developer's machine only, and the end says what skipped
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n== %s\n' "$*"; }

allow_missing=${H2_ALLOW_MISSING_PEERS:-0}
target=${CARGO_TARGET_DIR:-target}
mkdir -p "$target"
target=$(cd "$target" && pwd)
venv=$target/peers-venv

# A peer is not there: stop here, unless missing peers are allowed.
missing_peer() {
    if [ "$allow_missing" = 1 ]; then
        echo "missing peer: $* (H2_ALLOW_MISSING_PEERS=1: its tests will skip)"
    else
        echo "missing peer: $*" >&2
        echo "(on a developer's machine, H2_ALLOW_MISSING_PEERS=1 makes its tests skip instead)" >&2
        exit 1
    fi
}

can_apt() { command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; }
apt_install() { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null; }
curl_has_http2() { curl --version 2>/dev/null | grep -qE '^Features:.* HTTP2( |$)'; }

install_system_peers() {
    local packages=()
    curl_has_http2 || packages+=(curl)
    # nghttp2-client ships both nghttp and h2load.
    { command -v nghttp && command -v h2load; } >/dev/null || packages+=(nghttp2-client)
    command -v nghttpd >/dev/null || packages+=(nghttp2-server)
    # Debian's chromium (Ubuntu's package is only a shim for the snap, which a container lacks).
    command -v chromium >/dev/null || packages+=(chromium)
    [ ${#packages[@]} -gt 0 ] || return 0
    log "installing ${packages[*]}"
    if can_apt; then
        apt-get update -qq && apt_install "${packages[@]}" || echo "apt-get failed"
    else
        echo "cannot install ${packages[*]}: need root and apt-get"
    fi
}

# The Python peers go into a venv: whatever python3 this is (pyenv's does not see Debian's
# python3-h2; Debian's refuses a system-wide pip install), the venv's python imports them.
# grpcio and grpcio-tools are the gRPC peer of the tonic example (h2-grpc-example).
python_peers='import h2, grpc, grpc_tools.protoc'
install_python_peers() {
    "$venv/bin/python" -c "$python_peers" 2>/dev/null && return 0
    log "installing Python h2, grpcio and grpcio-tools into $venv"
    rm -rf "$venv"
    if ! python3 -m venv "$venv" && can_apt; then
        # Debian's python3 makes venvs only with python3-venv.
        rm -rf "$venv"
        apt_install python3-venv && python3 -m venv "$venv" || echo "python3 -m venv failed"
    fi
    "$venv/bin/pip" install -q h2 grpcio grpcio-tools \
        || echo "cannot install h2, grpcio and grpcio-tools into $venv"
}

# Fails early, naming what is missing, rather than in the middle of the tests.
check_peers() {
    curl_has_http2 || missing_peer "curl with HTTP2 in \`curl --version\` (apt-get install curl)"
    local tool
    for tool in nghttp:nghttp2-client h2load:nghttp2-client nghttpd:nghttp2-server \
        chromium:chromium; do
        command -v "${tool%%:*}" >/dev/null \
            || missing_peer "${tool%%:*} (apt-get install ${tool#*:})"
    done
    "${H2_PYTHON:-python3}" -c 'import h2' 2>/dev/null \
        || missing_peer "Python h2 for ${H2_PYTHON:-python3} (python3 -m venv $venv && $venv/bin/pip install h2)"
    "${H2_PYTHON:-python3}" -c 'import grpc, grpc_tools.protoc' 2>/dev/null \
        || missing_peer "Python grpcio and grpcio-tools for ${H2_PYTHON:-python3} ($venv/bin/pip install grpcio grpcio-tools)"
}

if [ "${H2_SKIP_INSTALL:-0}" = 1 ]; then
    # Our venv if an earlier run made it, else H2_PYTHON as given, else python3.
    if [ -x "$venv/bin/python" ]; then export H2_PYTHON=$venv/bin/python; fi
else
    install_system_peers
    install_python_peers
    export H2_PYTHON=$venv/bin/python
fi
check_peers

# Every interop test appends `ran|skipped<TAB>peer<TAB>test` here (h2_testkit::interop).
export H2_PEER_LOG=$target/peer-log.tsv
: >"$H2_PEER_LOG"

# Counts distinct tests with outcome $1 in the peer log.
peer_tests() { awk -F'\t' -v o="$1" '$1 == o { print $3 }' "$H2_PEER_LOG" | sort -u | wc -l; }

peer_summary() {
    log "interop: $(peer_tests ran) tests ran against real peers, $(peer_tests skipped) skipped"
    # Per peer: how many tests ran against it and how many skipped.
    cut -f1,2 "$H2_PEER_LOG" | awk -F'\t' '{ print $2 " " $1 }' | sort | uniq -c
    local missing
    missing=$(awk -F'\t' '$1 == "skipped" { print $2 }' "$H2_PEER_LOG" | sort -u | xargs)
    if [ -n "$missing" ]; then echo "missing peers: $missing"; fi
}

log "cargo fmt --check"
cargo fmt --all -- --check

log "cargo clippy -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

# The summary also when a test fails: which peers ran or were missing is part of the story.
trap peer_summary EXIT

log "cargo test"
# h2-mio's idle test holds 10,000 connections open: as many descriptors as allowed.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
cargo test --workspace --all-targets

log "doc tests"
cargo test --workspace --doc

log "fuzz (20 s per target, from the seeds; skipped without a nightly toolchain)"
# cargo-fuzz comes from crates.io like the other tools this script installs.
if [ "${H2_SKIP_INSTALL:-0}" = 1 ]; then fuzz_install=0; else fuzz_install=1; fi
FUZZ_INSTALL=$fuzz_install bash scripts/fuzz.sh "${FUZZ_SECONDS:-20}"

trap - EXIT
peer_summary
# A run in which no interop test reached a peer proves nothing about interop.
if [ "$(peer_tests ran)" -eq 0 ]; then
    echo "no interop test ran against a real peer" >&2
    exit 1
fi
if [ "$allow_missing" != 1 ] && [ "$(peer_tests skipped)" -gt 0 ]; then
    echo "interop tests skipped without H2_ALLOW_MISSING_PEERS=1" >&2
    exit 1
fi
