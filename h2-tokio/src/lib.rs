//! HTTP/2 for tokio on the sans-IO `h2core`, with HTTP/1.1 on the same port.
//!
//! This crate only moves bytes: every HTTP/2 rule lives in `h2core`. Each connection is one
//! task ([`Driver`]) owning the socket, a read buffer, a write queue and one timer.
//!
//! - Server: [`Server::bind`]`(addr).await?.serve(handler)`, or [`server::handshake`] over any
//!   transport. One cleartext port serves HTTP/1.1, h2c by prior knowledge and `Upgrade: h2c`.
//! - Client: [`Client::connect`]`(addr)` then `send(request)`, or [`client::handshake`].
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod body;
pub mod client;
mod convert;
mod driver;
mod http1;
pub mod server;
pub mod tls;

/// Hooks for the shared scenario corpus; not part of the supported API.
#[doc(hidden)]
pub mod testing;

pub use body::{Body, BodySender, Frame};
pub use client::{Client, SendRequest};
pub use driver::{CoreCall, Driver, PushPromise};
pub use server::{Server, StreamHandle};

pub use h2_http::Error;
