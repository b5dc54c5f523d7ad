//! The connection shell: what every adapter needs around a [`Connection`](crate::Connection)
//! and no adapter should write, as plain sans-IO objects in the same verb style as the core
//! (input and `now` in, `poll_*` out, every deadline through a `poll_timeout`).
//!
//! - [`Accept`]: what an accepted server socket speaks (the h2 preface, HTTP/1.1, or TLS ALPN's
//!   choice), decided within the handshake deadline (RFC 9113 §3);
//! - [`H2cSwitch`]: answering `Upgrade: h2c` (RFC 7540 §3.2): which requests, 101, the request
//!   as stream 1; [`H2cUpgradeClient`]: the client's side, reading the answer up to the 101;
//! - [`Http1Timer`]: an HTTP/1.1 server connection's idle and request-head deadlines;
//! - [`Transport`]: the write queue, and the close sequence (flush grace, FIN, linger);
//! - [`ReadBlocks`]: where each read goes, so received frames are cut without copies;
//! - [`ContentLength`]: response framing, the content-length a known body gets (RFC 9110 §8.6);
//! - [`pool`]: the client pool's rules (which connection, when to open one, what to retry).
//!
//! An adapter owns the socket, its tasks or event loop, one timer, channels and the user's
//! handles; it drives these objects and holds no rule of its own.

mod accept;
mod http1;
pub mod pool;
mod read;
mod response;
mod transport;
mod upgrade;

pub use accept::{Accept, Accepted, ALPN_H2, ALPN_HTTP11};
pub use http1::{Expired, Http1Timer, REQUEST_TIMEOUT};
pub use read::{ReadBlocks, READ_BLOCK};
pub use response::ContentLength;
pub use transport::{
    CloseAction, Transport, TransportState, CLOSE_FLUSH_GRACE, LINGER, READ_CHUNK, WRITE_SLICES,
};
pub use upgrade::{H2cSwitch, H2cUpgradeClient, UpgradeError, MAX_UPGRADE_BODY};
