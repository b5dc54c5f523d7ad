//! HTTP/2 (and HTTP/1.1 on the same port) without an async runtime: one `mio` event loop
//! thread owns every connection, handlers are plain functions run on a small thread pool.
//!
//! This crate only moves bytes: every HTTP/2 rule lives in `h2core`, every HTTP/1.1 rule in
//! `h2core::http1`. The loop owns, per connection, the socket, a read buffer, a write queue
//! (written with `write_vectored`) and a place in one timer heap fed by the core's
//! `poll_timeout()`.
//!
//! - Server: [`Server::bind`]`(addr)?.serve(handler)`. One port serves HTTP/1.1, h2c by prior
//!   knowledge and `Upgrade: h2c`; with [`Server::tls`], h2 or HTTP/1.1 over TLS as ALPN
//!   selects (rustls, driven by the loop: no async runtime). The handler gets the request body collected (at most
//!   [`MAX_REQUEST_BODY`]; a larger one is answered `413 Payload Too Large`) and answers with a
//!   whole [`Body`] or a streamed one ([`Body::channel`]).
//! - Client: [`Client::connect`]`(addr)?.send(request)?` (or [`Client::connect_tls`]),
//!   blocking; [`Client::start`] sends without waiting, so many requests share a connection
//!   concurrently. A new connection opens when the server's SETTINGS_MAX_CONCURRENT_STREAMS is
//!   reached or a connection is going away.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod body;
pub mod client;
mod event_loop;
mod http1;
mod pool;
pub mod server;

/// Hooks for the shared scenario corpus; not part of the supported API.
#[doc(hidden)]
pub mod testing;

pub use body::{Body, BodySender};
pub use client::{Client, ClientStats, PendingResponse};
pub use event_loop::Io;
pub use server::{Pusher, Server};

/// The largest request body the server collects for a handler. Beyond it the request is
/// answered `413 Payload Too Large`: over HTTP/2 with END_STREAM and then RST_STREAM NO_ERROR
/// (RFC 9113 §8.1: the client stops sending, the connection lives on); over HTTP/1.1 with
/// `connection: close`, since the rest of the body cannot be skipped cheaply.
pub const MAX_REQUEST_BODY: usize = 16 << 20;

/// Trailers of a response received by the [`Client`], found in the response's extensions.
#[derive(Debug, Clone, Default)]
pub struct Trailers(pub http::HeaderMap);

pub use h2_http::Error;

/// TLS configs (rustls, ring provider) with ALPN `h2` / `http/1.1`: shared with every adapter.
pub use h2_http::tls;
