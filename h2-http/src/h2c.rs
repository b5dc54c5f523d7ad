//! The client's side of `Upgrade: h2c` (RFC 7540 §3.2), as every adapter runs it: the
//! HTTP/1.1 request asking to switch (its body whole, our SETTINGS in `HTTP2-Settings`), then
//! the server's answer read until `101 Switching Protocols` turns the socket into an HTTP/2
//! connection whose stream 1 carries the response. The adapter moves the bytes.

use crate::Error;
use bytes::{Bytes, BytesMut};
use h2core::shell::{H2cUpgradeClient, UpgradeError};
use h2core::{Config, Connection, Header};
use http::Request;
use std::time::Instant;

/// One upgrade on its way: write [`H2cStart::request`], then read into
/// [`H2cStart::read_buf`] and [`H2cStart::poll`] until it gives the connection.
pub struct H2cStart {
    switch: H2cUpgradeClient,
    request: BytesMut,
    read: BytesMut,
}

impl H2cStart {
    /// The request asking to switch, from `request` and its whole body; `config` is the
    /// HTTP/2 connection's (its SETTINGS go in `HTTP2-Settings`).
    pub fn new(request: &Request<Bytes>, config: Config) -> Result<H2cStart, Error> {
        let mut out = BytesMut::new();
        h2c_upgrade_request(request, request.body(), &config.settings, &mut out)?;
        let head_request = request.method() == http::Method::HEAD;
        Ok(H2cStart {
            switch: H2cUpgradeClient::new(config, head_request),
            request: out,
            read: BytesMut::with_capacity(8 * 1024),
        })
    }

    /// The HTTP/1.1 request's bytes, to write first.
    pub fn request(&self) -> &[u8] {
        &self.request
    }

    /// Where the server's bytes are read into.
    pub fn read_buf(&mut self) -> &mut BytesMut {
        &mut self.read
    }

    /// The HTTP/2 connection once the `101` came, with the bytes already read after it;
    /// `None`: read more. A server that answers otherwise is an error naming its status.
    pub fn poll(&mut self, now: Instant) -> Result<Option<(Connection, BytesMut)>, Error> {
        match self.switch.poll(now, &mut self.read) {
            Ok(Some(conn)) => Ok(Some((conn, std::mem::take(&mut self.read)))),
            Ok(None) => Ok(None),
            Err(e) => Err(Error::Http1(e.to_string())),
        }
    }

    /// The server closed before switching.
    pub fn closed() -> Error {
        Error::Http1(UpgradeError::Closed.to_string())
    }
}

/// The HTTP/1.1 request that asks to switch to h2c (RFC 7540 §3.2): `request`'s head as
/// HTTP/1.1 (its `:authority` as `Host`), `Upgrade: h2c` with our SETTINGS in
/// `HTTP2-Settings`, and its `body` whole, framed by Content-Length. Appended to `out`.
pub fn h2c_upgrade_request<B>(
    request: &Request<B>,
    body: &Bytes,
    settings: &h2core::SettingsValues,
    out: &mut BytesMut,
) -> Result<(), Error> {
    use h2core::http1::{self, BodyKind};
    let h2_head = crate::request_to_h2(request, "http");
    let field = |name: &str| {
        h2_head
            .iter()
            .find(|h| h.name == name.as_bytes())
            .map(|h| h.value.clone())
    };
    let method = field(":method").unwrap_or_default();
    let target = field(":path").unwrap_or_else(|| Bytes::from_static(b"/"));
    let mut headers: Vec<Header> = h2_head
        .iter()
        .filter(|h| !h.name.starts_with(b":"))
        .cloned()
        .collect();
    if let Some(authority) = field(":authority") {
        headers.insert(0, Header::new("host", authority));
    }
    let framing = if body.is_empty() {
        BodyKind::Empty
    } else {
        BodyKind::ContentLength(body.len() as u64)
    };
    http1::encode_h2c_upgrade_request(
        std::str::from_utf8(&method).map_err(|_| Error::Malformed(":method"))?,
        std::str::from_utf8(&target).map_err(|_| Error::Malformed(":path"))?,
        &headers,
        &h2core::h2c_settings_payload(settings),
        framing,
        out,
    )
    .map_err(|e| Error::Http1(e.to_string()))?;
    out.extend_from_slice(body);
    Ok(())
}
