//! The client's side of `Upgrade: h2c` (RFC 7540 §3.2), as every adapter runs it: the
//! HTTP/1.1 request asking to switch (its body whole, our SETTINGS in `HTTP2-Settings`), then
//! the server's answer read until `101 Switching Protocols` turns the socket into an HTTP/2
//! connection whose stream 1 carries the response. The adapter moves the bytes.

use crate::Error;
use bytes::{Bytes, BytesMut};
use h2core::shell::{H2cUpgradeClient, UpgradeError};
use h2core::{Config, Connection};
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
        crate::h2c_upgrade_request(request, request.body(), &config.settings, &mut out)?;
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
