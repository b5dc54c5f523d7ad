//! The small HTTP/1.1 codec (RFC 9112) that lets one port serve HTTP/1.1, h2c by prior knowledge
//! and h2c by `Upgrade` (RFC 7540 §3.2), with one handler for all of them.
//!
//! Sans-IO like the rest of the crate: bytes go in through a `BytesMut` the caller owns, parsed
//! items come out, and bytes to write come back as [`Bytes`](bytes::Bytes) chunks.
//!
//! - [`parse_request`] / [`parse_response`]: message heads (RFC 9112 §2–§5), parsed by `httparse`
//!   into [`RequestHead`] / [`ResponseHead`] whose fields share the received buffer;
//! - [`BodyKind`]: how a body is delimited (RFC 9112 §6.3), with the request smuggling defences of
//!   §6.1 and §6.3;
//! - [`BodyDecoder`] / [`BodyEncoder`]: Content-Length, chunked (RFC 9112 §7.1) and
//!   close-delimited bodies;
//! - [`encode_request_head`] / [`encode_response_head`]: heads we send;
//! - [`ServerConn`]: the server's per-connection rules: one exchange at a time so pipelined
//!   requests are answered in order (§9.3.2), persistence (§9.3), `Expect: 100-continue`
//!   (RFC 9110 §10.1.1);
//! - [`RequestHead::to_h2_headers`] / [`response_head_from_h2`]: the bridge to HTTP/2 field lists
//!   so one handler serves both protocols (RFC 9113 §8.2.2, §8.3);
//! - [`RequestHead::h2c_upgrade`]: `Upgrade: h2c` (RFC 7540 §3.2).
//!
//! Two error families, as in the rest of the crate: [`Http1Error`] is the peer's fault and says
//! which status to answer with ([`Http1Error::status`]); [`EncodeError`] is the caller's misuse
//! and puts nothing on the wire.

mod decode;
mod encode;
mod error;
mod fields;
mod framing;
mod h2;
mod head;
mod server;
mod upgrade;

pub use decode::{BodyDecoder, BodyEvent};
pub use encode::{encode_request_head, encode_response_head, BodyEncoder, EncodedChunk};
pub use error::{EncodeError, Http1Error};
pub use framing::BodyKind;
pub use h2::{response_head_from_h2, trailers_to_h2};
pub use head::{parse_request, parse_response, RequestHead, ResponseHead};
pub use server::{IncomingRequest, ServerConn, CONTINUE};
pub use upgrade::{encode_h2c_upgrade_request, H2cUpgrade, SWITCHING_PROTOCOLS};

/// The HTTP version of a message (RFC 9112 §2.3). `httparse` accepts only these two.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Version {
    /// `HTTP/1.0`: no chunked coding, persistent only with `Connection: keep-alive`.
    Http10,
    /// `HTTP/1.1`.
    Http11,
}

impl Version {
    /// The protocol version as written on the start line.
    pub fn as_str(self) -> &'static str {
        match self {
            Version::Http10 => "HTTP/1.0",
            Version::Http11 => "HTTP/1.1",
        }
    }
}

/// Bounds on what a peer may make us buffer (RFC 9112 §2.3, RFC 6585 §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest head (start line and header section), and the largest chunked trailer
    /// section. Beyond it: [`Http1Error::HeadTooLarge`] / [`Http1Error::TrailersTooLarge`] (431).
    pub max_head_size: usize,
    /// The most field lines in a head or a trailer section. Beyond it:
    /// [`Http1Error::TooManyHeaders`] (431).
    pub max_headers: usize,
}

impl Limits {
    /// 64 KiB heads, 100 field lines.
    pub const DEFAULT: Limits = Limits {
        max_head_size: 64 * 1024,
        max_headers: 100,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}
