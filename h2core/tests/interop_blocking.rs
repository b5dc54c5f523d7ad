//! Interop: the `blocking_server` example (HTTP/2 by prior knowledge, RFC 9113 §3.3) against
//! real peers: curl, nghttp, h2load (nghttp2) and python-hyper's sans-IO `h2`.
//!
//! The tests themselves live in `h2_testkit::interop`, shared with every adapter: each starts
//! its own server on 127.0.0.1 port 0, fails when its peer is not installed (skips, recording
//! it, under `H2_ALLOW_MISSING_PEERS=1`), and kills every process it spawns.

use h2_testkit::interop::{self, ServerSpec};

const SERVER: ServerSpec = ServerSpec::new("h2core", "blocking_server");

// curl (libcurl with nghttp2), --http2-prior-knowledge.

#[test]
fn curl_get_root_over_http2() {
    interop::curl_get_root(&SERVER);
}

#[test]
fn curl_downloads_one_million_bytes() {
    interop::curl_downloads_one_million_bytes(&SERVER);
}

#[test]
fn curl_post_three_megabytes_is_echoed_byte_identical() {
    interop::curl_post_three_megabytes_is_echoed(&SERVER);
}

#[test]
fn curl_unknown_route_is_404() {
    interop::curl_unknown_route_is_404(&SERVER);
}

// nghttp and h2load (nghttp2-client).

#[test]
fn nghttp_get_root_sees_settings_and_200() {
    interop::nghttp_get_root(&SERVER);
}

#[test]
fn nghttp_multiplexes_three_requests_on_one_connection() {
    interop::nghttp_multiplexes_three_requests(&SERVER);
}

#[test]
fn nghttp_tiny_windows_download_respects_flow_control() {
    interop::nghttp_tiny_windows_respect_flow_control(&SERVER);
}

#[test]
fn h2load_twenty_thousand_requests_all_succeed() {
    // 10 connections × 10 concurrent streams each.
    interop::h2load_all_succeed(&SERVER, 20_000, 10, 10);
}

// python-hyper h2 (sans-IO).

#[test]
fn python_h2_settings_flow_control_echo_and_goaway() {
    interop::python_h2(&SERVER, "flow");
}

#[test]
fn python_h2_ping_is_acked_with_same_payload() {
    interop::python_h2(&SERVER, "ping");
}
