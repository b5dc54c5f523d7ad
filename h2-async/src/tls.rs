//! TLS with ALPN (RFC 7301): `h2` selects HTTP/2 (RFC 9113 §3.2), `http/1.1` or no ALPN the
//! HTTP/1.1 path. rustls does the TLS (through tokio-rustls here); the config builders are
//! `h2_http::tls`, shared with the blocking adapter.

pub use h2_http::tls::*;
