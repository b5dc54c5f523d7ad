//! `Upgrade: h2c` (RFC 7540 §3.2) on both sides. A server ([`H2cSwitch`]): which requests are
//! upgraded, and the switch itself (101, then the request as stream 1 of a new HTTP/2
//! connection). A client ([`H2cUpgradeClient`]): reading the server's answer up to the 101, and
//! the connection whose stream 1 carries the response.
//!
//! The request's body comes over HTTP/1.1 before the client's preface, so it is read whole
//! first; a request whose body is larger than [`MAX_UPGRADE_BODY`] or not delimited by
//! Content-Length is answered over HTTP/1.1 instead (§3.2 lets a server ignore the upgrade).

use crate::config::Config;
use crate::conn::Connection;
use crate::error::ConnectionError;
use crate::hpack::Header;
use crate::http1::{self, BodyKind, Http1Error, IncomingRequest, SWITCHING_PROTOCOLS};
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

/// Why an `Upgrade: h2c` request did not switch to HTTP/2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpgradeError {
    /// The server answered over HTTP/1.1 with this final status instead of 101 (RFC 7540
    /// §3.2: a server may ignore the upgrade).
    NotSwitched(u16),
    /// The server's answer was not valid HTTP/1.1.
    Malformed(Http1Error),
    /// The connection closed before the answer.
    Closed,
}

impl std::fmt::Display for UpgradeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UpgradeError::NotSwitched(status) => {
                write!(
                    f,
                    "the server answered {status} instead of switching to h2c"
                )
            }
            UpgradeError::Malformed(e) => write!(f, "the upgrade response: {e}"),
            UpgradeError::Closed => f.write_str("connection closed before the upgrade response"),
        }
    }
}

impl std::error::Error for UpgradeError {}

/// A client that sent a request with `Upgrade: h2c` (with `HTTP2-Settings` made from its
/// `config.settings`), reading the server's answer (RFC 7540 §3.2): interim responses other
/// than 101 are skipped; 101 switches, and the response to the request arrives on stream 1 of
/// the returned connection; any final status means the server stayed with HTTP/1.1.
#[derive(Debug)]
pub struct H2cUpgradeClient {
    config: Option<Config>,
    head_request: bool,
    limits: http1::Limits,
}

impl H2cUpgradeClient {
    /// After sending the request; `head_request`: it was HEAD (its response has no content).
    pub fn new(config: Config, head_request: bool) -> H2cUpgradeClient {
        H2cUpgradeClient {
            config: Some(config),
            head_request,
            limits: http1::Limits::default(),
        }
    }

    /// Reads the answer from `buf`, everything received so far. `Ok(None)`: read more.
    /// `Ok(Some(conn))`: switched; what followed the 101 (the server's HTTP/2 preface) is left
    /// in `buf` for the connection. Called again after that, `Ok(None)`.
    pub fn poll(
        &mut self,
        now: Instant,
        buf: &mut BytesMut,
    ) -> Result<Option<Connection>, UpgradeError> {
        if self.config.is_none() {
            return Ok(None);
        }
        loop {
            let head = match http1::parse_response(buf, &self.limits) {
                Ok(Some(head)) => head,
                Ok(None) => return Ok(None),
                Err(e) => return Err(UpgradeError::Malformed(e)),
            };
            if head.status == 101 {
                let config = self.config.take().expect("checked above");
                return Ok(Some(Connection::new_upgraded_client(
                    config,
                    now,
                    self.head_request,
                )));
            }
            if !head.is_interim() {
                return Err(UpgradeError::NotSwitched(head.status));
            }
        }
    }
}
