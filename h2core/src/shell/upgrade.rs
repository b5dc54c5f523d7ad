//! Answering `Upgrade: h2c` on a server (RFC 7540 §3.2): which requests are upgraded, and the
//! switch itself (101, then the request as stream 1 of a new HTTP/2 connection).
//!
//! The request's body comes over HTTP/1.1 before the client's preface, so it is read whole
//! first; a request whose body is larger than [`MAX_UPGRADE_BODY`] or not delimited by
//! Content-Length is answered over HTTP/1.1 instead (§3.2 lets a server ignore the upgrade).

use crate::config::Config;
use crate::conn::Connection;
use crate::error::ConnectionError;
use crate::hpack::Header;
use crate::http1::{BodyKind, IncomingRequest, SWITCHING_PROTOCOLS};
use bytes::{Bytes, BytesMut};
use std::time::Instant;

/// The largest request body read whole before an upgrade.
pub const MAX_UPGRADE_BODY: u64 = 1 << 20;

/// An `Upgrade: h2c` request the server will accept, collecting its body.
#[derive(Debug)]
pub struct H2cSwitch {
    settings_payload: Bytes,
    headers: Vec<Header>,
    body: BytesMut,
}

impl H2cSwitch {
    /// Whether to upgrade `req`: a valid h2c upgrade (`RequestHead::h2c_upgrade`), on a
    /// cleartext connection (over TLS ALPN decides, RFC 9113 §3.1), with a body of at most
    /// [`MAX_UPGRADE_BODY`] bytes given by Content-Length (or none), and a head that maps to
    /// HTTP/2 fields. `None`: serve it over HTTP/1.1.
    pub fn offer(req: &IncomingRequest, secure: bool) -> Option<H2cSwitch> {
        if secure {
            return None;
        }
        match req.body {
            BodyKind::Empty => {}
            BodyKind::ContentLength(n) if n <= MAX_UPGRADE_BODY => {}
            _ => return None,
        }
        let upgrade = req.head.h2c_upgrade()?;
        let headers = req.head.to_h2_headers("http").ok()?;
        Some(H2cSwitch {
            settings_payload: upgrade.settings_payload,
            headers,
            body: BytesMut::new(),
        })
    }

    /// A part of the request body (bounded by the Content-Length checked in `offer`).
    pub fn body_data(&mut self, data: &[u8]) {
        self.body.extend_from_slice(data);
    }

    /// The body is whole: switch. Write the returned bytes (`101 Switching Protocols`), then
    /// drive the connection, feeding it what the client sent after the request (its preface).
    /// The request arrives on stream 1 (`Event::RequestReceived`, already ended); its body is
    /// the returned `Bytes`.
    pub fn switch(
        self,
        config: Config,
        now: Instant,
    ) -> Result<(&'static [u8], Connection, Bytes), ConnectionError> {
        let conn =
            Connection::new_upgraded_server(config, now, self.settings_payload, self.headers)?;
        Ok((SWITCHING_PROTOCOLS, conn, self.body.freeze()))
    }
}

#[cfg(test)]
// Tests pick their origin of time; the rule is about the core's own code.
#[allow(clippy::disallowed_methods)]
mod tests {
    use super::*;
    use crate::http1::{encode_h2c_upgrade_request, Limits, ServerConn};
    use crate::{Event, StreamId};

    fn request(framing: BodyKind, extra: &[Header]) -> (ServerConn, BytesMut, IncomingRequest) {
        let mut buf = BytesMut::new();
        let mut headers = vec![Header::new("host", "a")];
        headers.extend_from_slice(extra);
        let payload = [0u8, 3, 0, 0, 0, 7];
        encode_h2c_upgrade_request("POST", "/x", &headers, &payload, framing, &mut buf).unwrap();
        let mut sc = ServerConn::new(Limits::default());
        let req = sc.read_head(&mut buf).unwrap().unwrap();
        (sc, buf, req)
    }

    #[test]
    fn small_body_switches_and_the_request_is_stream_1() {
        let (mut sc, mut buf, req) = request(BodyKind::ContentLength(5), &[]);
        buf.extend_from_slice(b"hello");
        let mut switch = H2cSwitch::offer(&req, false).expect("upgrade");
        while let Some(ev) = sc.read_body(&mut buf).unwrap() {
            match ev {
                crate::http1::BodyEvent::Data(d) => switch.body_data(&d),
                crate::http1::BodyEvent::End => break,
                crate::http1::BodyEvent::Trailers(_) => {}
            }
        }
        let now = Instant::now();
        let (answer, mut conn, body) = switch.switch(Config::server(), now).unwrap();
        assert_eq!(answer, SWITCHING_PROTOCOLS);
        assert_eq!(&body[..], b"hello");
        assert_eq!(conn.remote_settings().max_concurrent_streams, Some(7));
        match conn.poll_event() {
            Some(Event::RequestReceived {
                stream, headers, ..
            }) => {
                assert_eq!(stream, StreamId::new(1));
                assert_eq!(headers[0].value, "POST");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn over_tls_or_too_large_or_chunked_is_served_over_http1() {
        let (_, _, req) = request(BodyKind::Empty, &[]);
        assert!(H2cSwitch::offer(&req, true).is_none(), "TLS: ALPN decides");
        assert!(H2cSwitch::offer(&req, false).is_some());
        let (_, _, req) = request(BodyKind::ContentLength(MAX_UPGRADE_BODY + 1), &[]);
        assert!(H2cSwitch::offer(&req, false).is_none());
        let (_, _, req) = request(BodyKind::Chunked, &[]);
        assert!(H2cSwitch::offer(&req, false).is_none());
    }
}
