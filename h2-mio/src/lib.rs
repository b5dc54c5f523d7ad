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
mod h2;
mod http1;
mod io;
mod pool;
mod remote;
pub mod server;

/// Hooks for the shared scenario corpus (feature `test-hooks`); not part of the supported API.
#[cfg(feature = "test-hooks")]
pub mod testing;

pub use body::{Body, BodySender, Trailers, MAX_REQUEST_BODY};
pub use client::{Client, ClientStats, PendingResponse};
pub use io::Io;
pub use server::{Pusher, Server};

pub use h2_http::Error;

/// TLS configs (rustls, ring provider) with ALPN `h2` / `http/1.1`: shared with every adapter.
pub use h2_http::tls;
