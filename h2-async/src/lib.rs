//! The async engine shared by every async adapter (h2-tokio, h2-async-std): the connection
//! task, streaming bodies, the client pool and the same-port server (HTTP/1.1, h2c by prior
//! knowledge and `Upgrade: h2c`, h2 over TLS by ALPN), all generic over a small
//! [`rt::Runtime`] trait.
//!
//! This crate only moves bytes: every HTTP/2 rule lives in `h2core`, every HTTP/1.1 rule in
//! `h2core::http1`, and what every adapter needs around a connection (accepting, HTTP/1.1,
//! h2c upgrade, the write queue and close sequence, the pool's rules) in `h2core::shell` and
//! `h2_http::shell`. Each connection is one task ([`Driver`]) from accept to close, owning
//! the socket, the connection's `Shell` and one timer. An adapter implements
//! [`rt::Runtime`] and names the types (`type Server = h2_async::Server<Tokio>`); it holds
//! no connection logic of its own.
//!
//! Bodies, answers, the stream table and the HTTP/1.1 exchanges are `h2_http`'s, the same on
//! every runtime; this crate adds what a task needs. Modules form a tree (none imports one
//! that imports it back): `handler` and `handle` are leaves or near-leaves;
//! `session` (the task's side of the connection: handlers of both protocols, handles'
//! commands) uses them, `driver` (bytes and time) uses `session`; `server`, `websocket` and
//! `client` sit on top. The client's rules
//! (which connection takes a request, retries, pushes, close) are `h2_http::client`'s: this
//! crate's client only opens connections and reaches their tasks.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod client;
mod driver;
mod handle;
mod handler;
pub mod rt;
pub mod server;
mod session;
mod shared;
pub mod tls;
pub mod upgrade;
mod websocket;

/// Hooks for the shared scenario corpus (feature `test-hooks`); not part of the supported API.
#[cfg(feature = "test-hooks")]
#[doc(hidden)]
pub mod testing;

/// A message body, read and produced with `.await` (see `h2_http::body`).
pub type Body = h2_http::body::Body<h2_http::body::Async>;
/// Feeds a [`Body::channel`]; dropping it ends the body.
pub type BodySender = h2_http::body::BodySender<h2_http::body::Async>;
pub use client::{Client, ClientStats, SendRequest};
pub use driver::Driver;
pub use h2_http::body::Frame;
#[cfg(feature = "test-hooks")]
pub use h2_http::drive::CoreCall;
pub use h2_http::handle::ConnectionInfo;
pub use handle::{PushPromise, PushedResponse, Pushes, RequestHandle};
pub use server::{Http1HeadLen, Server, ShutdownHandle, StreamHandle};

pub use h2_http::{Deadline, Error, OnInformational, Priority, Protocol, RequestTimeout};
pub use h2core::{Config, Reason};
pub use upgrade::Upgraded;
