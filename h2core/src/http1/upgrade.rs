//! Starting HTTP/2 from HTTP/1.1 with `Upgrade: h2c` (RFC 7540 §3.2, §3.2.1).
//!
//! RFC 9113 §3.1 deprecated this mechanism, but clients still use it (`curl --http2` on an
//! `http://` URL). The request that carries the upgrade becomes stream 1, half-closed (remote)
//! once its body is read; the server answers it over HTTP/2 after sending
//! [`SWITCHING_PROTOCOLS`] and its own connection preface (SETTINGS).

use super::fields::{self, has_token};
use super::head::{RequestHead, ResponseHead};
use super::{encode_request_head, BodyKind, EncodeError, Version};
use crate::hpack::Header;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use bytes::{Bytes, BytesMut};

/// The server's whole answer accepting `Upgrade: h2c` (RFC 7540 §3.2). HTTP/2 frames follow it
/// immediately, starting with the server's SETTINGS.
pub const SWITCHING_PROTOCOLS: &[u8] =
    b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n";

/// base64url (RFC 4648 §5); RFC 7540 §3.2.1 omits the padding, which we tolerate on input.
const BASE64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A valid request to upgrade to HTTP/2 over cleartext (RFC 7540 §3.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct H2cUpgrade {
    /// The client's SETTINGS frame payload from HTTP2-Settings (RFC 7540 §3.2.1): a whole number
    /// of 6-octet settings, to apply as if received in a SETTINGS frame on the new connection.
    pub settings_payload: Bytes,
}

impl RequestHead {
    /// The h2c upgrade this request asks for, if it is a valid one (RFC 7540 §3.2, §3.2.1):
    /// an HTTP/1.1 request (RFC 9110 §7.8: an HTTP/1.0 Upgrade is ignored) whose Upgrade lists
    /// `h2c`, whose Connection lists both `Upgrade` and `HTTP2-Settings`, and which carries
    /// exactly one HTTP2-Settings field that decodes as base64url into whole settings.
    ///
    /// `None` otherwise: the server then MUST NOT upgrade (§3.2.1) and simply answers over
    /// HTTP/1.1. A request with a body can be upgraded too; the body is read as HTTP/1.1 before
    /// the client's HTTP/2 preface (§3.2).
    pub fn h2c_upgrade(&self) -> Option<H2cUpgrade> {
        if self.version != Version::Http11
            || !has_token(&self.headers, b"upgrade", b"h2c")
            || !has_token(&self.headers, b"connection", b"upgrade")
            || !has_token(&self.headers, b"connection", b"http2-settings")
        {
            return None;
        }
        let mut values = fields::values(&self.headers, b"http2-settings");
        let value = values.next()?;
        if values.next().is_some() {
            return None;
        }
        let payload = BASE64URL.decode(value).ok()?;
        // A SETTINGS payload is a sequence of 6-octet settings (RFC 9113 §6.5.1).
        if payload.len() % 6 != 0 {
            return None;
        }
        Some(H2cUpgrade {
            settings_payload: Bytes::from(payload),
        })
    }
}

impl ResponseHead {
    /// Whether the server accepted our h2c upgrade (RFC 7540 §3.2): `101` with `Upgrade: h2c`.
    /// HTTP/2 frames follow the head at once.
    pub fn accepts_h2c_upgrade(&self) -> bool {
        self.status == 101 && has_token(&self.headers, b"upgrade", b"h2c")
    }
}

/// Writes a request head asking to upgrade to h2c (RFC 7540 §3.2): `headers` (with Host) plus
/// `connection: Upgrade, HTTP2-Settings`, `upgrade: h2c` and `http2-settings` carrying
/// `settings_payload` (our SETTINGS frame payload) in base64url without padding (§3.2.1).
/// Connection, Upgrade and HTTP2-Settings fields in `headers` are replaced.
///
/// Errors as [`encode_request_head`](super::encode_request_head).
pub fn encode_h2c_upgrade_request(
    method: &str,
    target: &str,
    headers: &[Header],
    settings_payload: &[u8],
    framing: BodyKind,
    dst: &mut BytesMut,
) -> Result<(), EncodeError> {
    let mut all: Vec<Header> = headers
        .iter()
        .filter(|h| {
            !h.name.eq_ignore_ascii_case(b"connection")
                && !h.name.eq_ignore_ascii_case(b"upgrade")
                && !h.name.eq_ignore_ascii_case(b"http2-settings")
        })
        .cloned()
        .collect();
    all.push(Header::new(
        "connection",
        Bytes::from_static(b"Upgrade, HTTP2-Settings"),
    ));
    all.push(Header::new("upgrade", Bytes::from_static(b"h2c")));
    all.push(Header::new(
        "http2-settings",
        BASE64URL.encode(settings_payload),
    ));
    encode_request_head(method, target, &all, framing, dst)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http1::{parse_request, parse_response, Limits};

    #[test]
    fn upgrade_request_round_trips_through_the_parser() {
        let payload = [0u8, 3, 0, 0, 0, 100, 0, 4, 0, 1, 0, 0];
        let mut buf = BytesMut::new();
        let headers = [Header::new("host", "a")];
        encode_h2c_upgrade_request("GET", "/", &headers, &payload, BodyKind::Empty, &mut buf)
            .unwrap();
        let head = parse_request(&mut buf, &Limits::default())
            .unwrap()
            .unwrap();
        assert_eq!(
            head.h2c_upgrade(),
            Some(H2cUpgrade {
                settings_payload: Bytes::copy_from_slice(&payload)
            })
        );
    }

    #[test]
    fn switching_protocols_is_recognised_by_the_client() {
        let mut buf = BytesMut::from(SWITCHING_PROTOCOLS);
        let head = parse_response(&mut buf, &Limits::default())
            .unwrap()
            .unwrap();
        assert!(head.accepts_h2c_upgrade());
        assert!(!head.is_interim());
        assert!(buf.is_empty());
    }
}
