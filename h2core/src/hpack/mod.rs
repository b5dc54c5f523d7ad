//! HPACK, header compression for HTTP/2 (RFC 7541).
//!
//! - [`Decoder`] turns header blocks into [`Header`]s (§3.2, §6) and keeps the dynamic table in
//!   step with the peer's encoder;
//! - [`Encoder`] turns header lists into header blocks;
//! - [`huffman`] is the static Huffman code of §5.2.
//!
//! One decoder and one encoder per connection, each fed every header block in order: both
//! sides' dynamic tables (§2.3.2) change with every block, so a block that is dropped, reordered
//! or only partly decoded breaks the connection (RFC 9113 §4.3).

use bytes::Bytes;

mod decoder;
mod encoder;
pub mod huffman;
mod primitives;
mod table;

pub use decoder::{Decoder, DecoderError};
pub use encoder::Encoder;
pub use table::same_bytes;

/// A header field (RFC 7541 §1.3): a name-value pair, plus whether it is sensitive (§7.1.3).
///
/// HTTP/2 names are lowercase (RFC 9113 §8.2.1); HPACK itself treats both as opaque octets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The field name.
    pub name: Bytes,
    /// The field value.
    pub value: Bytes,
    /// §6.2.3 / §7.1.3: never put this field in a dynamic table, here or at any intermediary.
    /// Set by the decoder for fields the peer sent as never-indexed literals.
    pub sensitive: bool,
}

impl Header {
    /// A field that the encoder may index (RFC 7541 §6.2.1).
    pub fn new(name: impl Into<Bytes>, value: impl Into<Bytes>) -> Header {
        Header {
            name: name.into(),
            value: value.into(),
            sensitive: false,
        }
    }

    /// A field that must never be indexed, e.g. a short secret (RFC 7541 §6.2.3, §7.1.3).
    pub fn sensitive(name: impl Into<Bytes>, value: impl Into<Bytes>) -> Header {
        Header {
            name: name.into(),
            value: value.into(),
            sensitive: true,
        }
    }

    /// The field's size as RFC 7541 §4.1 counts it (and RFC 9113 §6.5.2 for
    /// SETTINGS_MAX_HEADER_LIST_SIZE): name length + value length + 32.
    pub fn size(&self) -> usize {
        self.name.len() + self.value.len() + table::ENTRY_OVERHEAD
    }
}
