//! The async engine shared by every async adapter (h2-tokio, h2-async-std): the connection
//! task, streaming bodies, the client pool and the same-port server (HTTP/1.1, h2c by prior
//! knowledge and `Upgrade: h2c`, h2 over TLS by ALPN), all generic over a small
//! [`rt::Runtime`] trait.
//!
//! This crate only moves bytes: every HTTP/2 rule lives in `h2core`, every HTTP/1.1 rule in
//! `h2core::http1`. Each connection is one task ([`Driver`]) owning the socket, a read buffer,
//! a write queue and one timer. An adapter implements [`rt::Runtime`] and names the types
//! (`type Server = h2_async::Server<Tokio>`); it holds no connection logic of its own.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod body;
pub mod client;
mod convert;
mod driver;
mod http1;
pub mod rt;
pub mod server;
pub mod tls;

/// Hooks for the shared scenario corpus; not part of the supported API.
#[doc(hidden)]
pub mod testing;

pub use body::{Body, BodySender, Frame};
pub use client::{Client, ClientStats, SendRequest};
pub use driver::{CoreCall, Driver, PushPromise};
pub use server::{Http1HeadLen, Server, StreamHandle};

pub use h2_http::Error;
