//! The client's side of the WebSocket opening handshake over HTTP/1.1 (RFC 6455 §4.1), sans-IO:
//! the request (`GET` with `Upgrade: websocket`, `Connection: Upgrade`, a fresh
//! `Sec-WebSocket-Key` and `Sec-WebSocket-Version: 13`) written into a buffer, and the server's
//! answer read from one and checked (`101 Switching Protocols`, `Upgrade`, `Connection`, and
//! `Sec-WebSocket-Accept` = base64(SHA-1(key + GUID)), §4.2.2). Once it is accepted the
//! connection is the WebSocket: the bytes left in the read buffer are its first ones.
//!
//! An adapter only moves bytes: it writes what [`ClientHandshake::start`] produced, reads
//! until [`ClientHandshake::poll_response`] gives the response, and hands the socket (with what
//! was left in the buffer) to the user as a byte stream. Over HTTP/2 a WebSocket is an extended
//! CONNECT instead (RFC 8441 §5: no key, no accept; a `2xx` on the stream), which needs nothing
//! of this module.

use crate::Error;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use bytes::{Bytes, BytesMut};
use h2core::http1::{self, BodyKind, Limits};
use h2core::Header;
use http::{header, HeaderValue, Method, Request, Response, StatusCode, Version};
use sha1::{Digest, Sha1};

/// The GUID a server appends to the key before hashing it (RFC 6455 §1.3, §4.2.2).
pub const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The only version of the protocol (RFC 6455 §4.1 item 9, §11.6).
pub const VERSION: &str = "13";

/// `Sec-WebSocket-Accept` for a request whose `Sec-WebSocket-Key` was `key`: base64 of the
/// SHA-1 of the key (as sent, base64 text) followed by [`GUID`] (RFC 6455 §4.2.2 item 5.4).
pub fn accept_key(key: &[u8]) -> String {
    let mut sha = Sha1::new();
    sha.update(key);
    sha.update(GUID.as_bytes());
    STANDARD.encode(sha.finalize())
}

/// A fresh `Sec-WebSocket-Key`: a 16-byte nonce, base64 (RFC 6455 §4.1 item 7). The nonce only
/// has to differ from one handshake to the next (it proves the server read this request, it
/// protects nothing); its bytes come from std's randomly keyed SipHash over a process-wide
/// counter and the time, so no random-number crate is needed.
pub fn new_key() -> String {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mut nonce = [0u8; 16];
    for half in nonce.chunks_mut(8) {
        let mut h = RandomState::new().build_hasher();
        h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        h.write_u128(now);
        half.copy_from_slice(&h.finish().to_le_bytes());
    }
    STANDARD.encode(nonce)
}

/// One opening handshake in progress, client side (RFC 6455 §4.1): what was asked, to check
/// the answer against.
#[derive(Debug, Clone)]
pub struct ClientHandshake {
    key: String,
    /// The subprotocols offered (`Sec-WebSocket-Protocol`), lowercase.
    protocols: Vec<String>,
    /// Whether the request offered any extension (`Sec-WebSocket-Extensions`).
    extensions: bool,
}

/// The request's fields that the handshake sets itself (RFC 6455 §4.1 items 4-9).
const OURS: [header::HeaderName; 5] = [
    header::HOST,
    header::UPGRADE,
    header::CONNECTION,
    header::SEC_WEBSOCKET_KEY,
    header::SEC_WEBSOCKET_VERSION,
];

impl ClientHandshake {
    /// Writes the opening handshake for `request` into `out`, with a fresh key ([`new_key`]).
    /// See [`ClientHandshake::start_with_key`].
    pub fn start<B>(request: &Request<B>, out: &mut BytesMut) -> Result<ClientHandshake, Error> {
        ClientHandshake::start_with_key(request, new_key(), out)
    }

    /// Writes the opening handshake for `request` into `out` with `key` as its
    /// `Sec-WebSocket-Key` (RFC 6455 §4.1): `GET` with the request's path and query,
    /// `Host` (from the URI's authority, else the request's own `Host`), `Upgrade: websocket`,
    /// `Connection: Upgrade`, `Sec-WebSocket-Version: 13`, and the request's other fields
    /// (`Origin`, `Sec-WebSocket-Protocol`, `Authorization`, ...) as they are. The URI's scheme
    /// (`ws`, `wss`, `http`, `https`) is not sent: the transport is the caller's.
    ///
    /// Fails for a method other than `GET` (§4.1 item 2), a request without an authority
    /// (item 4), or a field HTTP/1.1 cannot carry.
    pub fn start_with_key<B>(
        request: &Request<B>,
        key: String,
        out: &mut BytesMut,
    ) -> Result<ClientHandshake, Error> {
        if request.method() != Method::GET {
            return Err(Error::Malformed("WebSocket handshake method (must be GET)"));
        }
        let host = match request.uri().authority() {
            Some(a) => HeaderValue::from_str(a.as_str())
                .map_err(|_| Error::Malformed("WebSocket handshake host"))?,
            None => request
                .headers()
                .get(header::HOST)
                .cloned()
                .ok_or(Error::Malformed("WebSocket handshake host"))?,
        };
        let target = request
            .uri()
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_owned();
        let target = if target.is_empty() {
            "/".into()
        } else {
            target
        };
        let field = |name: &'static str, value: Bytes| Header::new(name, value);
        let mut fields = vec![
            field("host", Bytes::copy_from_slice(host.as_bytes())),
            field("upgrade", Bytes::from_static(b"websocket")),
            field("connection", Bytes::from_static(b"Upgrade")),
            field("sec-websocket-key", Bytes::from(key.clone())),
            field(
                "sec-websocket-version",
                Bytes::from_static(VERSION.as_bytes()),
            ),
        ];
        for (name, value) in request.headers() {
            if !OURS.contains(name) {
                fields.push(Header::new(
                    Bytes::copy_from_slice(name.as_str().as_bytes()),
                    Bytes::copy_from_slice(value.as_bytes()),
                ));
            }
        }
        http1::encode_request_head("GET", &target, &fields, BodyKind::Empty, out)
            .map_err(|e| Error::Http1(e.to_string()))?;
        let protocols = request
            .headers()
            .get_all(header::SEC_WEBSOCKET_PROTOCOL)
            .iter()
            .flat_map(|v| v.as_bytes().split(|&b| b == b','))
            .map(|p| String::from_utf8_lossy(p.trim_ascii()).to_ascii_lowercase())
            .filter(|p| !p.is_empty())
            .collect();
        let extensions = request
            .headers()
            .contains_key(header::SEC_WEBSOCKET_EXTENSIONS);
        Ok(ClientHandshake {
            key,
            protocols,
            extensions,
        })
    }

    /// The `Sec-WebSocket-Key` sent.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Reads the server's answer from the front of `buf`: `Ok(None)` until its head is whole
    /// (interim 1xx responses other than 101 are skipped, RFC 9110 §15.2); then the `101`
    /// response, its head taken from `buf` and what follows left there (the WebSocket's first
    /// bytes). Fails, as RFC 6455 §4.1 (the client's checks of the server's handshake) says
    /// the client must, for a status other than 101 (the error names it), `Upgrade` other than
    /// `websocket`, `Connection` without `upgrade`, a `Sec-WebSocket-Accept` other than
    /// [`accept_key`] of our key, an extension not offered, or a subprotocol not offered.
    pub fn poll_response(&self, buf: &mut BytesMut) -> Result<Option<Response<()>>, Error> {
        let head = loop {
            let Some(head) = http1::parse_response(buf, &Limits::default())
                .map_err(|e| Error::Http1(e.to_string()))?
            else {
                return Ok(None);
            };
            if !head.is_interim() {
                break head;
            }
        };
        if head.status != 101 {
            let reason = String::from_utf8_lossy(&head.reason);
            return Err(Error::Http1(format!(
                "WebSocket handshake refused: the server answered {} {reason} instead of \
                 101 Switching Protocols (RFC 6455 §4.1)",
                head.status
            )));
        }
        let refused = |why: &str| Err(Error::Http1(format!("WebSocket handshake: {why}")));
        let has_token = |name: &str, token: &[u8]| {
            head.headers
                .iter()
                .filter(|h| h.name.eq_ignore_ascii_case(name.as_bytes()))
                .flat_map(|h| h.value.split(|&b| b == b','))
                .any(|t| t.trim_ascii().eq_ignore_ascii_case(token))
        };
        if !head
            .header("upgrade")
            .is_some_and(|u| u.trim_ascii().eq_ignore_ascii_case(b"websocket"))
        {
            return refused("the 101 does not say `Upgrade: websocket`");
        }
        if !has_token("connection", b"upgrade") {
            return refused("the 101 does not say `Connection: Upgrade`");
        }
        let expected = accept_key(self.key.as_bytes());
        if head.header("sec-websocket-accept").map(|a| a.trim_ascii()) != Some(expected.as_bytes())
        {
            return refused("Sec-WebSocket-Accept does not match our Sec-WebSocket-Key");
        }
        if !self.extensions && head.header("sec-websocket-extensions").is_some() {
            return refused("the server chose an extension we did not offer");
        }
        if let Some(p) = head.header("sec-websocket-protocol") {
            let chosen = String::from_utf8_lossy(p.trim_ascii()).to_ascii_lowercase();
            if !self.protocols.contains(&chosen) {
                return refused("the server chose a subprotocol we did not offer");
            }
        }
        let mut response = Response::new(());
        *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        *response.version_mut() = Version::HTTP_11;
        *response.headers_mut() = crate::fields_to_map(&head.headers)?;
        Ok(Some(response))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_accept_key_of_rfc_6455s_example() {
        // RFC 6455 §1.3.
        assert_eq!(
            accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn keys_are_16_bytes_of_base64_and_differ() {
        let (a, b) = (new_key(), new_key());
        assert_eq!(STANDARD.decode(&a).unwrap().len(), 16);
        assert_ne!(a, b);
    }

    fn start(req: Request<()>) -> (ClientHandshake, String) {
        let mut out = BytesMut::new();
        let hs = ClientHandshake::start_with_key(&req, "dGhlIHNhbXBsZSBub25jZQ==".into(), &mut out)
            .unwrap();
        (hs, String::from_utf8(out.to_vec()).unwrap())
    }

    #[test]
    fn the_request_is_rfc_6455s_opening_handshake() {
        let req = Request::get("ws://server.example.com/chat?x=1")
            .header("origin", "http://example.com")
            .header("sec-websocket-protocol", "chat, superchat")
            .header("connection", "close")
            .body(())
            .unwrap();
        let (_, text) = start(req);
        assert!(text.starts_with("GET /chat?x=1 HTTP/1.1\r\n"), "{text}");
        for line in [
            "host: server.example.com\r\n",
            "upgrade: websocket\r\n",
            "connection: Upgrade\r\n",
            "sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
            "sec-websocket-version: 13\r\n",
            "origin: http://example.com\r\n",
            "sec-websocket-protocol: chat, superchat\r\n",
        ] {
            assert!(text.contains(line), "{line:?} in {text}");
        }
        // Ours replace the request's own.
        assert!(!text.contains("connection: close"), "{text}");
        assert!(text.ends_with("\r\n\r\n"));
    }

    #[test]
    fn only_get_with_an_authority_opens_a_websocket() {
        let mut out = BytesMut::new();
        let post = Request::post("ws://a/").body(()).unwrap();
        assert!(ClientHandshake::start(&post, &mut out).is_err());
        let no_host = Request::get("/chat").body(()).unwrap();
        assert!(ClientHandshake::start(&no_host, &mut out).is_err());
        let host_field = Request::get("/chat")
            .header("host", "a:1")
            .body(())
            .unwrap();
        ClientHandshake::start(&host_field, &mut out).unwrap();
        assert!(String::from_utf8_lossy(&out).contains("host: a:1\r\n"));
    }

    const ACCEPTED: &str = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
        Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n";

    #[test]
    fn a_101_with_the_right_accept_key_is_the_websocket_and_the_bytes_after_it_stay() {
        let (hs, _) = start(
            Request::get("ws://a/chat")
                .header("sec-websocket-protocol", "chat")
                .body(())
                .unwrap(),
        );
        let whole = format!(
            "HTTP/1.1 100 Continue\r\n\r\n{ACCEPTED}Sec-WebSocket-Protocol: chat\r\n\r\n\x01\x02hi"
        );
        let mut buf = BytesMut::from(&whole.as_bytes()[..20]);
        assert!(hs.poll_response(&mut buf).unwrap().is_none());
        buf.extend_from_slice(&whole.as_bytes()[20..]);
        let resp = hs.poll_response(&mut buf).unwrap().expect("whole");
        assert_eq!(resp.status(), 101);
        assert_eq!(resp.headers()["sec-websocket-protocol"], "chat");
        assert_eq!(&buf[..], b"\x01\x02hi");
    }

    #[test]
    fn what_rfc_6455_says_a_client_must_refuse() {
        let (hs, _) = start(Request::get("ws://a/").body(()).unwrap());
        let refused = |text: String| {
            let mut buf = BytesMut::from(text.as_bytes());
            let err = hs.poll_response(&mut buf).expect_err(&text);
            err.to_string()
        };
        let e = refused("HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n".into());
        assert!(e.contains("403 Forbidden"), "{e}");
        let wrong_key = ACCEPTED.replace(
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        );
        assert!(refused(format!("{wrong_key}\r\n")).contains("Accept"));
        assert!(
            refused(format!("{ACCEPTED}\r\n").replace("Upgrade: websocket", "Upgrade: h2c"))
                .contains("Upgrade")
        );
        assert!(
            refused(format!("{ACCEPTED}\r\n").replace("Connection: Upgrade", "Connection: x"))
                .contains("Connection")
        );
        assert!(
            refused(format!("{ACCEPTED}Sec-WebSocket-Extensions: x\r\n\r\n")).contains("extension")
        );
        assert!(
            refused(format!("{ACCEPTED}Sec-WebSocket-Protocol: x\r\n\r\n")).contains("subprotocol")
        );
        let mut ok = BytesMut::from(format!("{ACCEPTED}\r\n").as_bytes());
        assert!(hs.poll_response(&mut ok).unwrap().is_some());
    }
}
