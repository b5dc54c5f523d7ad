//! A sans-IO HTTP/2 implementation: RFC 9113 (HTTP/2), RFC 7541 (HPACK) and RFC 9218 (priorities).
//!
//! Nothing in this crate touches a socket, a thread or a clock: bytes and time go in, events and
//! bytes to write come out. Runtime adapters (`h2-tokio`, `h2-async-std`, `h2-mio`) move the bytes.
//!
//! Layers, bottom up:
//! - [`frame`]: the frame codec of RFC 9113 §4 and §6, zero-copy over [`bytes::Bytes`];
//! - [`hpack`]: header compression, RFC 7541;
//! - [`message`]: HTTP semantics of header blocks (RFC 9113 §8);
//! - [`http1`]: the HTTP/1.1 codec for serving HTTP/1.1 and `Upgrade: h2c` on the same port
//!   (RFC 9112);
//! - [`Connection`]: the connection state machine for both roles, with [`Event`]s out;
//! - [`shell`]: what surrounds a connection in every adapter (accepting, `Upgrade: h2c`, the
//!   transport's write queue and close, response framing, the client pool's rules);
//! - [`error`]: the two error families, peer faults (a [`Reason`] on the wire) and caller misuse
//!   ([`UserError`]).
#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![warn(unnameable_types, unreachable_pub)]

mod config;
mod conn;
mod error;
mod event;
mod flow;
pub mod frame;
pub mod hpack;
pub mod http1;
mod message;
pub mod preface;
mod priority;
mod settings;
pub mod shell;
mod stream;

pub use config::{Config, Limits, Role};
pub use conn::{h2c_settings_payload, Connection, SendState, ShutdownState, Stats};
pub use error::{ConnectionError, ProtocolError, StreamError, UserError};
pub use event::Event;
pub use flow::WindowPolicy;
pub use frame::{Reason, StreamId};
pub use hpack::Header;
pub use settings::SettingsValues;
pub use stream::state::{Closed as StreamClosed, State as StreamState};
