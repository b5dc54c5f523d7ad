//! A sans-IO HTTP/2 implementation: RFC 9113 (HTTP/2), RFC 7541 (HPACK) and RFC 9218 (priorities).
//!
//! Nothing in this crate touches a socket, a thread or a clock: bytes and time go in, events and
//! bytes to write come out. Runtime adapters (`h2-tokio`, `h2-async-std`, `h2-mio`) move the bytes.
//!
//! # The API an adapter or an application uses, at the root
//! - [`Connection`]: one connection, client or server. Its documentation groups the verbs
//!   (input, output, commands, getters) and states the adapter's contract: in which order to call
//!   them. Beside it: [`Stats`], [`SendState`], [`ShutdownState`], [`StreamState`]
//!   ([`StreamClosed`]) and [`h2c_settings_payload`];
//! - [`Config`] to make one: the [`Role`], the [`SettingsValues`] we announce (RFC 9113 §6.5.2),
//!   the [`Limits`] against abusive peers (§10.5), timeouts and the [`WindowPolicy`] (§6.9);
//! - [`Event`]: what happened, in nouns the application understands;
//! - [`StreamId`], [`Reason`] and [`Header`]: the RFC's values;
//! - two error families that never mix: the peer broke the protocol ([`ConnectionError`],
//!   [`StreamError`], [`ProtocolError`]: a [`Reason`] goes on the wire) or the caller misused the
//!   API ([`UserError`]: returned, nothing is sent);
//! - [`shell`]: what surrounds a connection in every adapter (accepting, `Upgrade: h2c`, the
//!   transport's write queue and close, response framing, the client pool's rules).
//!
//! # Codecs, public for tests, benchmarks, fuzzing and wire-level tools
//! - [`frame`]: the frame codec of RFC 9113 §4 and §6, zero-copy over [`bytes::Bytes`];
//! - [`hpack`]: header compression, RFC 7541;
//! - [`http1`]: the HTTP/1.1 codec for serving HTTP/1.1 and `Upgrade: h2c` on the same port
//!   (RFC 9112, RFC 7540 §3.2);
//! - [`preface`]: the client connection preface and sniffing what a socket speaks (RFC 9113
//!   §3.4).
//!
//! An adapter needs neither [`frame`] nor [`hpack`]: every HTTP/2 rule stays behind
//! [`Connection`]. The rest (the §5.1 stream state table, flow-control windows, the priority
//! scheduler, the HTTP semantics of header blocks of §8) is private.
//!
//! # A client and a server, in memory
//! Bytes one side's [`Connection::poll_transmit`] hands out are what the other side's
//! [`Connection::handle_input`] takes; an adapter moves them over a socket instead.
//! ```
//! use bytes::{Bytes, BytesMut};
//! use h2core::{Config, Connection, Event, Header};
//! use std::time::Instant;
//!
//! /// Moves what `from` has to write into `to`.
//! fn deliver(from: &mut Connection, to: &mut Connection, now: Instant) {
//!     let mut chunks = Vec::new();
//!     while from.poll_transmit(now, &mut chunks) > 0 {
//!         let mut wire = BytesMut::new();
//!         chunks.drain(..).for_each(|c| wire.extend_from_slice(&c));
//!         to.handle_input(now, &mut wire).expect("valid HTTP/2");
//!     }
//! }
//!
//! let now = Instant::now();
//! let mut client = Connection::new(Config::client(), now);
//! let mut server = Connection::new(Config::server(), now);
//! let request = vec![
//!     Header::new(":method", "GET"),
//!     Header::new(":scheme", "https"),
//!     Header::new(":authority", "example.com"),
//!     Header::new(":path", "/"),
//! ];
//! let id = client.send_request(request, true).expect("a stream");
//! deliver(&mut client, &mut server, now);
//!
//! // The server sees the request and answers it.
//! let stream = loop {
//!     match server.poll_event().expect("the request") {
//!         Event::RequestReceived { stream, .. } => break stream,
//!         _ => continue,
//!     }
//! };
//! server.send_response(stream, vec![Header::new(":status", "200")], false).expect("open");
//! server.send_data(stream, Bytes::from_static(b"hello"), true).expect("open");
//! deliver(&mut server, &mut client, now);
//!
//! // The client sees the head, then the body.
//! let mut body = Vec::new();
//! while let Some(event) = client.poll_event() {
//!     match event {
//!         Event::ResponseReceived { stream, .. } => assert_eq!(stream, id),
//!         Event::DataReceived { data, .. } => body.extend_from_slice(&data),
//!         _ => {}
//!     }
//! }
//! assert_eq!(body, b"hello");
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]
// `pub` means public: an item inside a private module is `pub(crate)` (unreachable_pub), and a
// public signature names only types a user can name too (unnameable_types). CI denies warnings.
#![warn(unnameable_types, unreachable_pub)]

mod config;
mod conn;
mod error;
mod event;
mod field;
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

pub use config::{Config, Limits, PingPolicy, Role};
pub use conn::{h2c_settings_payload, Connection, SendState, ShutdownState, Stats};
pub use error::{ConnectionError, ProtocolError, StreamError, UserError};
pub use event::Event;
pub use flow::WindowPolicy;
pub use frame::{Reason, StreamId};
pub use hpack::Header;
pub use settings::SettingsValues;
pub use stream::state::{Closed as StreamClosed, State as StreamState};
/// The hasher of h2core's maps keyed by stream: for an adapter's own maps of streams (a
/// `HashMap<StreamId, _, BuildHasherDefault<StreamIdHasher>>`), cheaper than SipHash.
pub use stream::IdHasher as StreamIdHasher;
