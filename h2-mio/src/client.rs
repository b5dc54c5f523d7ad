//! A blocking client for one origin: requests over HTTP/2 by prior knowledge, after `Upgrade:
//! h2c`, or over TLS with ALPN `h2`. Each connection is driven by its own event loop thread;
//! [`Client::send`] waits for the response head, [`Client::start`] does not, so many requests
//! share a connection; request and response bodies stream both ways under flow control. A new
//! connection opens when the server's SETTINGS_MAX_CONCURRENT_STREAMS is reached or a
//! connection is going away (GOAWAY), and requests the server refused unprocessed are sent
//! again (RFC 9113 §8.7). Those rules are `h2_http::client`'s, run on the caller's thread.

use crate::connections::{nonblocking, spawn, Dialer, Transport};
use crate::io::Io;
use crate::response::Pushes;
use crate::Body;
use bytes::BytesMut;
use h2_http::block::block_on;
use h2_http::client::{self as shared, Exchange};
use h2_http::h2c::H2cStart;
use h2_http::handle::ConnectionInfo;
use h2_http::reply::{self, Reply};
use h2_http::std_io::{self, resolve};
use h2_http::Error;
use h2core::{Config, Connection};
use http::{Request, Response};
use rustls::pki_types::ServerName;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A client for one origin: opens connections as needed and spreads requests over them;
/// cheap to clone. Connections close gracefully when every handle and pending response is
/// gone.
///
/// A new connection takes requests once the server's SETTINGS arrived, so its
/// SETTINGS_MAX_CONCURRENT_STREAMS is known; requests that find every connection full wait for
/// the one being opened rather than each opening their own. A request the server refused
/// without processing it (REFUSED_STREAM, or above a GOAWAY's last-stream-id, RFC 9113 §8.7) is
/// sent again on another connection; a request without a body and with an idempotent method
/// (RFC 9110 §9.2.2) is also sent again once when its connection failed before the response.
#[derive(Clone)]
pub struct Client(shared::Client<Dialer>);

pub use h2_http::pool::ClientStats;

/// A response still on its way. Dropping it before the head arrived resets the stream with
/// CANCEL (RFC 9113 §8.1).
pub struct PendingResponse(Exchange<Dialer>);

impl PendingResponse {
    /// Blocks until the response head arrived; the body streams ([`Body::data`], trailers as
    /// [`Frame::Trailers`](crate::Frame::Trailers) at its end). Sends the request again first
    /// if the server refused it unprocessed (RFC 9113 §8.7) and none of a streamed body was
    /// taken yet.
    pub fn wait(self) -> Result<Response<Body>, Error> {
        block_on(self.0.response())
    }
}

impl Client {
    /// Connects to `addr` and speaks HTTP/2 at once (h2c by prior knowledge, RFC 9113 §3.3).
    pub fn connect(addr: impl ToSocketAddrs) -> Result<Client, Error> {
        Client::connect_with(addr, Config::client())
    }

    /// As [`Client::connect`], with `config` for every connection.
    pub fn connect_with(addr: impl ToSocketAddrs, config: Config) -> Result<Client, Error> {
        Client::build(resolve(addr)?, config, Transport::Cleartext)
    }

    /// Connects with TLS to `addr`, checking the certificate against `server_name` (see
    /// [`crate::tls`] for configs). The config should offer ALPN `h2`; fails if the server does
    /// not select it (RFC 9113 §3.2).
    pub fn connect_tls(
        addr: impl ToSocketAddrs,
        server_name: &str,
        tls: Arc<rustls::ClientConfig>,
    ) -> Result<Client, Error> {
        Client::connect_tls_with(addr, server_name, tls, Config::client())
    }

    /// As [`Client::connect_tls`], with `config` for every connection.
    pub fn connect_tls_with(
        addr: impl ToSocketAddrs,
        server_name: &str,
        tls: Arc<rustls::ClientConfig>,
        config: Config,
    ) -> Result<Client, Error> {
        let name = ServerName::try_from(server_name.to_owned())
            .map_err(|_| Error::Malformed("server name"))?;
        Client::build(resolve(addr)?, config, Transport::Tls(tls, name))
    }

    /// Opens the first connection now, so that an unreachable server or a failed handshake is
    /// reported here.
    fn build(
        addrs: Vec<SocketAddr>,
        config: Config,
        transport: Transport,
    ) -> Result<Client, Error> {
        let dialer = Dialer { addrs, transport };
        block_on(shared::Client::connect(dialer, config)).map(Client)
    }

    /// Sends `request` without waiting for its response. Blocks only while a new connection
    /// opens, when every one is at the server's limit. Its body may be a [`Body::channel`]
    /// fed from another thread: it goes out as flow control allows. An
    /// [`OnInformational`](crate::OnInformational) in its extensions is called with each 1xx
    /// response (e.g. 103 Early Hints, RFC 8297); a [`RequestTimeout`](crate::RequestTimeout)
    /// there bounds the whole exchange (the stream is reset with CANCEL when it passes).
    pub fn start(&self, request: Request<Body>) -> Result<PendingResponse, Error> {
        block_on(self.0.start(request)).map(PendingResponse)
    }

    /// Sends `request` and waits for the response head; the body streams as it arrives.
    pub fn send(&self, request: Request<Body>) -> Result<Response<Body>, Error> {
        block_on(self.0.send(request))
    }

    /// The responses the server pushes (RFC 9113 §8.4) from now on, on every connection of
    /// this client. While nobody listens (before the first call, or once the receiver is
    /// dropped) promised streams are reset with CANCEL. A later call replaces the receiver.
    pub fn pushes(&self) -> Pushes {
        let (sink, pushes) = h2_http::pushes::channel();
        self.0.listen(sink);
        pushes
    }

    /// Measures a round trip with PING (RFC 9113 §6.7) on one of the client's connections,
    /// blocking until the answer.
    pub fn ping(&self) -> Result<Duration, Error> {
        block_on(self.0.ping())
    }

    /// The counters and the server's SETTINGS of each connection that takes new requests.
    pub fn connection_info(&self) -> Result<Vec<ConnectionInfo>, Error> {
        block_on(self.0.connection_info())
    }

    /// How many connections are open and take new requests.
    pub fn connections(&self) -> usize {
        self.0.connections()
    }

    /// The counters since the client was created.
    pub fn stats(&self) -> ClientStats {
        self.0.stats()
    }

    /// Closes every connection gracefully and waits until each has ended (RFC 9113 §6.8):
    /// GOAWAY, requests in flight finish, then each connection keeps reading and answering
    /// the server's PINGs until the server closes or `Config::drain_timeout` passes, and our
    /// FIN goes out after our last bytes. Call it before a program exits, so that the server's
    /// last frames are answered rather than cut off.
    pub fn close(&self) {
        block_on(self.0.close())
    }

    /// Closes every connection gracefully (GOAWAY; requests in flight finish), without
    /// waiting (see [`Client::close`]). Requests started afterwards open a new connection.
    pub fn shutdown(&self) {
        self.0.shutdown()
    }
}

/// Starts HTTP/2 (prior knowledge, RFC 9113 §3.4) as a client over `io`, a non-blocking
/// transport the loop drives on its own thread; returns once the server's SETTINGS arrived.
/// The returned [`Client`] sends on this one connection only: once it is gone (or full, at the
/// server's SETTINGS_MAX_CONCURRENT_STREAMS) a request fails, as there is no address to open
/// another.
pub fn handshake(io: impl Io + 'static, config: Config) -> Result<Client, Error> {
    let dialer = Dialer {
        addrs: Vec::new(),
        transport: Transport::Cleartext,
    };
    let client = shared::Client::new(dialer, config.clone());
    let conn = Connection::new(config.clone(), Instant::now());
    let member = client.membership();
    let handle = spawn(Box::new(io), None, BytesMut::new(), conn, member, None)?;
    block_on(client.ready(&handle))?;
    client.add(handle);
    Ok(Client(client))
}

/// Sends `request` over HTTP/1.1 with `Upgrade: h2c` (RFC 7540 §3.2); after `101 Switching
/// Protocols` its response comes on stream 1 and the connection is the first of an HTTP/2
/// [`Client`] (further connections, if the server's limit needs them, use prior knowledge). A
/// server that does not upgrade is an error.
pub fn upgrade(
    addr: impl ToSocketAddrs,
    request: Request<Body>,
) -> Result<(Client, Response<Body>), Error> {
    upgrade_with(addr, request, Config::client())
}

/// As [`upgrade`], with `config` for every connection (its SETTINGS go in `HTTP2-Settings`).
pub fn upgrade_with(
    addr: impl ToSocketAddrs,
    request: Request<Body>,
    config: Config,
) -> Result<(Client, Response<Body>), Error> {
    let addrs = resolve(addr)?;
    // Sent whole over HTTP/1.1 before the switch (RFC 7540 §3.2).
    let (parts, body) = request.into_parts();
    let switch = H2cStart::new(&Request::from_parts(parts, body.bytes()?), config.clone())?;
    let mut socket = std_io::connect(&addrs)?;
    let (conn, buf) = std_io::h2c_exchange(&mut socket, switch)?;
    let dialer = Dialer {
        addrs,
        transport: Transport::Cleartext,
    };
    let client = shared::Client::new(dialer, config.clone());
    let (reply, mut pending) = reply::channel(None);
    let (io, member) = (nonblocking(socket)?, client.membership());
    let handle = spawn(io, None, buf, conn, member, Some(reply))?;
    // Stream 1 is not sent again: its request went over HTTP/1.1.
    let response = match pending.wait() {
        Reply::Head(response) => response,
        Reply::Failed(e, _) => return Err(e),
    };
    // Usually already there: the server's SETTINGS come first after the 101.
    if block_on(client.ready(&handle)).is_ok() {
        client.add(handle);
    }
    Ok((Client(client), response))
}
