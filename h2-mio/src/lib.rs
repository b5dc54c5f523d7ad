//! HTTP/2 (and HTTP/1.1 on the same port) without an async runtime: `mio` event loop threads
//! (one per core) each own the connections dealt to them; handlers are plain functions run on
//! a small thread pool, or on the loops themselves ([`Server::handler_threads`]`(0)`).
//!
//! This crate only moves bytes: every HTTP/2 rule lives in `h2core`, every HTTP/1.1 rule in
//! `h2core::http1`, and the connection from accept to close (deciding what it speaks,
//! HTTP/1.1, `Upgrade: h2c`, HTTP/2, the write queue and close sequence) is
//! `h2_http::shell`'s, the same as on every runtime. The loop owns, per connection, the
//! socket (written with `write_vectored`), that shell and a place in one timer heap fed by
//! the shell's `poll_timeout()`.
//!
//! - Server: [`Server::bind`]`(addr)?.serve(handler)`. One port serves HTTP/1.1, h2c by prior
//!   knowledge and `Upgrade: h2c`; with [`Server::tls`], h2 or HTTP/1.1 over TLS as ALPN
//!   selects (rustls, driven by the loop: no async runtime). The handler runs when a
//!   request's head arrived and reads its [`Body`] as it arrives; it answers with a whole body
//!   or a streamed one ([`Body::channel`]).
//! - Client: [`Client::connect`]`(addr)?.send(request)?` (or [`Client::connect_tls`]),
//!   blocking, returns at the response head with a streaming body; [`Client::start`] sends
//!   without waiting, so many requests share a connection concurrently. A new connection
//!   opens when the server's SETTINGS_MAX_CONCURRENT_STREAMS is reached or a connection is
//!   going away. Pushed responses come from [`Client::pushes`].
//!
//! A server on its thread and a blocking client:
//! ```
//! use h2_mio::{Body, Client, Server};
//! use http::{Request, Response};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let server = Server::bind("127.0.0.1:0")?;
//! let addr = server.local_addr()?;
//! let stop = server.shutdown_handle();
//! // Handlers run on handler threads; a request body can be read as it arrives.
//! let serving = std::thread::spawn(move || {
//!     server.serve(|req: Request<Body>| {
//!         let name = req.uri().path().trim_start_matches('/').to_owned();
//!         Response::new(Body::from(format!("hello {name}\n")))
//!     })
//! });
//!
//! let client = Client::connect(addr)?;
//! let request = Request::get(format!("http://{addr}/world")).body(Body::empty())?;
//! let response = client.send(request)?; // returns at the head; the body streams
//! assert_eq!(response.into_body().bytes()?, "hello world\n");
//! client.close();
//!
//! stop.shutdown();
//! serving.join().expect("server thread")?;
//! # Ok(())
//! # }
//! ```
//!
//! The Rust HTTP ecosystem's traits are async (`tower::Service`, `http_body::Body`), so this
//! crate offers their blocking equivalents instead: the handler, a plain
//! `Fn(Request<Body>) -> Response<Body>`, takes a service's place, and a body of any source is
//! a [`Body::chunks`] over an iterator (pulled only as flow control allows) or a
//! [`Body::channel`] fed from any thread. `http` types are used throughout, as everywhere.
//!
//! Memory is bounded by flow control: a received body is a queue the loop fills with DATA as
//! it arrives, and its bytes are released to the connection (WINDOW_UPDATE, RFC 9113 §6.9)
//! only as the reader consumes them, so a peer is never more than the advertised windows
//! ahead of a reader; a body we send is taken only as send capacity allows.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod client;
mod conn;
mod connections;
mod event_loop;
mod io;
mod remote;
mod response;
pub mod server;
mod workers;

/// Hooks for the shared scenario corpus (feature `test-hooks`); not part of the supported API.
#[cfg(feature = "test-hooks")]
pub mod testing;

/// A message body, read and produced by threads that block (see `h2_http::body`).
pub type Body = h2_http::body::Body<h2_http::body::Blocking>;
/// Feeds a [`Body::channel`] from any thread; dropping it ends the body.
pub type BodySender = h2_http::body::BodySender<h2_http::body::Blocking>;
pub use client::{Client, ClientStats, PendingResponse};
pub use h2_http::body::Frame;
pub use h2_http::handle::ConnectionInfo;
pub use io::Io;
pub use response::{PushPromise, PushedResponse, Pushes};
pub use server::{Server, ShutdownHandle, StreamHandle};

pub use h2_http::{Deadline, Error, OnInformational, Priority, Protocol, RequestTimeout};
/// An extended CONNECT's stream (or an HTTP/1.1 connection after `101`) as a blocking
/// `std::io::Read + Write` (see `h2_http::upgrade`).
pub type Upgraded = h2_http::upgrade::Upgraded<h2_http::body::Blocking>;
/// A client's handle on a request it sent, found in the response's extensions:
/// `reprioritize(Priority)` sends PRIORITY_UPDATE, blocking until the connection's loop queued
/// it (RFC 9218 §7.1; see `h2_http::handle::RequestHandle`).
pub type RequestHandle = h2_http::handle::RequestHandle<h2_http::body::Blocking>;
pub use h2core::{Config, Reason};

/// TLS configs (rustls, ring provider) with ALPN `h2` / `http/1.1`: shared with every adapter.
pub use h2_http::tls;
