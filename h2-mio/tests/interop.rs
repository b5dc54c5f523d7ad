//! Interop: the mio adapter's demo server and client against real peers (curl with prior
//! knowledge, `Upgrade: h2c`, TLS with ALPN and HTTP/1.1, nghttp, nghttpd, h2load and
//! python-hyper's `h2`), with the tests shared by every adapter in `h2_testkit::interop`; each
//! skips, saying so, when its peer is not installed.

use h2_testkit::interop::{self, ClientSpec, ServerSpec};

const SERVER: ServerSpec = ServerSpec::new("h2-mio", "server");
const CLIENT: ClientSpec = ClientSpec::new("h2-mio", "client");

// curl: HTTP/2 by prior knowledge.

#[test]
fn curl_prior_knowledge_get_root() {
    interop::curl_get_root(&SERVER);
}

#[test]
fn curl_prior_knowledge_downloads_one_million_bytes() {
    interop::curl_downloads_one_million_bytes(&SERVER);
}

#[test]
fn curl_prior_knowledge_post_three_megabytes_is_echoed_byte_identical() {
    interop::curl_post_three_megabytes_is_echoed(&SERVER);
}

#[test]
fn curl_prior_knowledge_unknown_route_is_404() {
    interop::curl_unknown_route_is_404(&SERVER);
}

#[test]
fn curl_prior_knowledge_trailers_arrive_after_the_body() {
    interop::curl_trailers_over_http2(&SERVER);
}

#[test]
fn curl_long_lived_stream_headers_arrive_before_first_data() {
    interop::curl_stream_headers_before_data(&SERVER);
}

// curl: Upgrade: h2c, TLS, HTTP/1.1.

#[test]
fn curl_upgrade_h2c_get() {
    interop::curl_upgrade_h2c_get(&SERVER);
}

#[test]
fn curl_upgrade_h2c_post_body_is_echoed_over_http2() {
    interop::curl_upgrade_h2c_post(&SERVER);
}

#[test]
fn curl_tls_alpn_selects_h2() {
    interop::curl_tls_alpn_h2(&SERVER);
}

#[test]
fn curl_tls_alpn_selects_http11() {
    interop::curl_tls_alpn_http11(&SERVER);
}

#[test]
fn curl_http11_chunked_upload_is_echoed_chunked() {
    interop::curl_http11_chunked_upload(&SERVER);
}

#[test]
fn curl_http11_chunked_download_of_unknown_length() {
    interop::curl_http11_chunked_download(&SERVER);
}

#[test]
fn curl_http11_keep_alive_reuses_the_connection() {
    interop::curl_http11_keep_alive(&SERVER);
}

// nghttp, h2load.

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
fn nghttp_push_promise_for_pushed_css() {
    interop::nghttp_receives_push_promise(&SERVER);
}

#[test]
fn h2load_fifty_thousand_requests_all_succeed() {
    // 20 connections × 20 concurrent streams each.
    interop::h2load_all_succeed(&SERVER, 50_000, 20, 20);
}

// python-hyper h2.

#[test]
fn python_h2_settings_flow_control_echo_and_goaway() {
    interop::python_h2(&SERVER, "flow");
}

#[test]
fn python_h2_ping_is_acked_with_same_payload() {
    interop::python_h2(&SERVER, "ping");
}

// Our client example.

#[test]
fn client_example_gets_file_from_nghttpd() {
    interop::client_gets_file_from_nghttpd(&CLIENT);
}

#[test]
fn client_example_upgrade_against_our_server() {
    interop::client_upgrade_against_server(&CLIENT, &SERVER);
}

#[test]
fn client_example_tls_insecure_against_our_server() {
    interop::client_tls_against_server(&CLIENT, &SERVER);
}
