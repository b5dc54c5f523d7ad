//! The proxy: every request that arrives (HTTP/1.1, h2c by prior knowledge or by Upgrade, all on
//! one `h2_tokio::Server` port) goes to one upstream, over multiplexed h2c connections
//! (`h2_tokio::Client`) or a keep-alive HTTP/1.1 pool ([`Http1Pool`]).
//!
//! Bodies are never collected: the request's [`Body`] becomes the upstream request's body and
//! the upstream response's body becomes ours, so both directions stream with the flow control
//! (HTTP/2) or TCP backpressure (HTTP/1.1) of each side. Hop-by-hop fields are removed both
//! ways (RFC 9110 §7.6.1); trailers travel as body frames. A body that fails upstream (reset,
//! GOAWAY, a connection lost, a chunked body without its 0-chunk) fails downstream the same
//! way: RST_STREAM on HTTP/2, a connection closed before the terminator on HTTP/1.1; a request
//! that got no response head at all is answered 502.

use h2_tokio::http1::Http1Pool;
use h2_tokio::server::Http1HeadLen;
use h2_tokio::{Body, Client, Error};
use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Where the stats are served on the listening port.
pub const STATS_PATH: &str = "/__proxy/stats";

/// How the proxy talks to its upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// HTTP/2 by prior knowledge, multiplexed.
    H2c,
    /// HTTP/1.1 with keep-alive.
    Http1,
}

impl std::str::FromStr for Protocol {
    type Err = String;

    fn from_str(s: &str) -> Result<Protocol, String> {
        match s {
            "h2c" => Ok(Protocol::H2c),
            "http1" => Ok(Protocol::Http1),
            other => Err(format!(
                "unknown upstream protocol {other:?} (h2c or http1)"
            )),
        }
    }
}

enum Upstream {
    H2c(Box<Client>),
    Http1(Http1Pool),
}

/// The proxy's state; share it with `Arc`.
pub struct Proxy {
    upstream: Upstream,
    /// Requests forwarded (the stats endpoint not included).
    requests: AtomicU64,
    /// Request head bytes received from HTTP/1.1 clients.
    http1_header_bytes_in: AtomicU64,
    /// Requests answered 502/504 because the upstream gave no response head.
    upstream_errors: AtomicU64,
}

impl Proxy {
    /// A proxy to `upstream`; with h2c the first connection is opened now. `timeout` bounds
    /// every wait on an HTTP/1.1 upstream (connect, head, each body read).
    pub async fn new(
        upstream: SocketAddr,
        protocol: Protocol,
        timeout: Duration,
    ) -> Result<Arc<Proxy>, Error> {
        let upstream = match protocol {
            Protocol::H2c => Upstream::H2c(Box::new(Client::connect(upstream).await?)),
            Protocol::Http1 => Upstream::Http1(Http1Pool::new(upstream, timeout)),
        };
        Ok(Arc::new(Proxy {
            upstream,
            requests: AtomicU64::new(0),
            http1_header_bytes_in: AtomicU64::new(0),
            upstream_errors: AtomicU64::new(0),
        }))
    }

    /// The handler for `h2_tokio::Server::serve`.
    pub async fn handle(self: Arc<Self>, req: Request<Body>) -> Response<Body> {
        if req.method() == Method::GET && req.uri().path() == STATS_PATH {
            let mut r = Response::new(Body::from(self.stats_json()));
            r.headers_mut().insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            return r;
        }
        self.requests.fetch_add(1, Ordering::Relaxed);
        if let Some(Http1HeadLen(n)) = req.extensions().get::<Http1HeadLen>() {
            self.http1_header_bytes_in
                .fetch_add(*n as u64, Ordering::Relaxed);
        }
        let (mut parts, body) = req.into_parts();
        strip_hop_by_hop(&mut parts.headers);
        // Extensions are this hop's (stream handles, head lengths), not the upstream's.
        parts.extensions = http::Extensions::new();
        let req = Request::from_parts(parts, body);
        let result = match &self.upstream {
            Upstream::H2c(client) => client.send(req).await,
            Upstream::Http1(pool) => pool.send(req).await,
        };
        match result {
            Ok(response) => {
                let (mut parts, body) = response.into_parts();
                strip_hop_by_hop(&mut parts.headers);
                Response::from_parts(parts, body)
            }
            Err(e) => {
                self.upstream_errors.fetch_add(1, Ordering::Relaxed);
                tracing::debug!("upstream: {e}");
                let status = match &e {
                    Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => {
                        StatusCode::GATEWAY_TIMEOUT
                    }
                    _ => StatusCode::BAD_GATEWAY,
                };
                let mut r = Response::new(Body::from(format!("upstream: {e}\n")));
                *r.status_mut() = status;
                r
            }
        }
    }

    /// The counters as JSON: `requests`, `upstream_connections` (opened so far),
    /// `http1_header_bytes_in`, `h2c_header_bytes_out` (HEADERS + CONTINUATION payload sent
    /// upstream), and a few more.
    pub fn stats_json(&self) -> String {
        let (protocol, connections, h2c_out, http1_out, retries) = match &self.upstream {
            Upstream::H2c(c) => {
                let s = c.stats();
                (
                    "h2c",
                    s.connections_opened,
                    s.header_bytes_sent,
                    0,
                    s.retries,
                )
            }
            Upstream::Http1(p) => {
                let s = p.stats();
                ("http1", s.connections_opened, 0, s.header_bytes_sent, 0)
            }
        };
        format!(
            concat!(
                "{{\"requests\":{},\"upstream_protocol\":\"{}\",\"upstream_connections\":{},",
                "\"http1_header_bytes_in\":{},\"h2c_header_bytes_out\":{},",
                "\"http1_header_bytes_out\":{},\"upstream_retries\":{},\"upstream_errors\":{}}}\n"
            ),
            self.requests.load(Ordering::Relaxed),
            protocol,
            connections,
            self.http1_header_bytes_in.load(Ordering::Relaxed),
            h2c_out,
            http1_out,
            retries,
            self.upstream_errors.load(Ordering::Relaxed),
        )
    }
}

/// Removes the fields that describe one connection rather than the message (RFC 9110 §7.6.1):
/// `Connection` and every field it names, `Keep-Alive`, `Proxy-Connection`,
/// `Transfer-Encoding`, `Upgrade`, `HTTP2-Settings`, and `TE` except its `trailers` member
/// (the one value HTTP/2 allows, RFC 9113 §8.2.2).
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let te_trailers = headers.get_all(http::header::TE).iter().any(|v| {
        v.to_str().is_ok_and(|v| {
            v.split(',').any(|m| {
                m.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .eq_ignore_ascii_case("trailers")
            })
        })
    });
    let named: Vec<HeaderName> = headers
        .get_all(http::header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|t| HeaderName::from_bytes(t.trim().as_bytes()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in [
        "connection",
        "keep-alive",
        "proxy-connection",
        "transfer-encoding",
        "upgrade",
        "http2-settings",
        "te",
    ] {
        headers.remove(name);
    }
    if te_trailers {
        headers.insert(http::header::TE, HeaderValue::from_static("trailers"));
    }
}
