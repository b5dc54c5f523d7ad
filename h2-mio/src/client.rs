//! A blocking client: one connection, driven by its own event loop thread; [`Client::send`]
//! waits for the response, [`Client::start`] does not, so many requests share the connection.

use crate::event_loop::{system_clock, EventLoop, Msg, Proto, Remote, ReplyTx, Role, H2};
use crate::Error;
use bytes::{Bytes, BytesMut};
use h2core::http1::{self, BodyKind};
use h2core::{Config, Connection, Header, StreamId};
use http::{Request, Response};
use std::io::{Read, Write};
use std::net::ToSocketAddrs;
use std::sync::{mpsc, Arc};

struct Inner {
    remote: Remote,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Every handle is gone: close gracefully once the streams are done.
        let _ = self.remote.send(Msg::Shutdown);
    }
}

/// An HTTP/2 client connection (h2c by prior knowledge, or after [`upgrade`]). Cheap to clone.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

/// A response still on its way.
pub struct PendingResponse {
    rx: mpsc::Receiver<Result<Response<Bytes>, Error>>,
}

impl PendingResponse {
    /// Blocks until the whole response (body and trailers, see [`crate::Trailers`]) arrived.
    pub fn wait(self) -> Result<Response<Bytes>, Error> {
        self.rx.recv().map_err(|_| Error::ConnectionGone)?
    }
}

fn connect_std(addr: impl ToSocketAddrs) -> Result<std::net::TcpStream, Error> {
    let socket = std::net::TcpStream::connect(addr)?;
    let _ = socket.set_nodelay(true);
    Ok(socket)
}

/// Starts the loop thread over `socket`, already speaking HTTP/2 through `conn`.
fn spawn(
    socket: std::net::TcpStream,
    read_buf: BytesMut,
    conn: Connection,
    config: Config,
    expect: Option<ReplyTx>,
) -> Result<Client, Error> {
    socket.set_nonblocking(true)?;
    let io = mio::net::TcpStream::from_std(socket);
    let mut ev = EventLoop::new(Role::Client, config, system_clock())?;
    let unparsed = !read_buf.is_empty();
    ev.add(
        Box::new(io),
        read_buf,
        Proto::H2(Box::new(H2::new(conn, None, unparsed))),
    )?;
    if let Some(reply) = expect {
        // Registered before the loop runs: the response may be among the first bytes.
        ev.message(Msg::Expect {
            stream: StreamId::new(1),
            reply,
        });
    }
    let remote = ev.remote();
    std::thread::Builder::new()
        .name("h2-mio-client".into())
        .spawn(move || {
            if let Err(e) = ev.run() {
                tracing::debug!("client loop: {e}");
            }
        })?;
    Ok(Client {
        inner: Arc::new(Inner { remote }),
    })
}

impl Client {
    /// Connects to `addr` and speaks HTTP/2 at once (h2c by prior knowledge, RFC 9113 §3.3).
    pub fn connect(addr: impl ToSocketAddrs) -> Result<Client, Error> {
        Client::connect_with(addr, Config::client())
    }

    /// As [`Client::connect`], with `config`.
    pub fn connect_with(addr: impl ToSocketAddrs, config: Config) -> Result<Client, Error> {
        let socket = connect_std(addr)?;
        let conn = Connection::new(config.clone(), std::time::Instant::now());
        spawn(socket, BytesMut::new(), conn, config, None)
    }

    /// Sends `request` without waiting for its response.
    pub fn start(&self, request: Request<Bytes>) -> Result<PendingResponse, Error> {
        let head = h2_http::request_to_h2(&request, "http");
        let (reply, rx) = mpsc::channel();
        self.inner.remote.send(Msg::Request {
            head,
            body: request.into_body(),
            reply,
        })?;
        Ok(PendingResponse { rx })
    }

    /// Sends `request` and waits for the whole response.
    pub fn send(&self, request: Request<Bytes>) -> Result<Response<Bytes>, Error> {
        self.start(request)?.wait()
    }
}

/// Sends `request` over HTTP/1.1 with `Upgrade: h2c` (RFC 7540 §3.2); after `101 Switching
/// Protocols` its response comes on stream 1 and the connection is an HTTP/2 [`Client`]. A
/// server that does not upgrade is an error.
pub fn upgrade(
    addr: impl ToSocketAddrs,
    request: Request<Bytes>,
) -> Result<(Client, Response<Bytes>), Error> {
    let config = Config::client();
    let mut socket = connect_std(addr)?;
    let head_request = request.method() == http::Method::HEAD;
    let h2_head = h2_http::request_to_h2(&request, "http");
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
    let body = request.into_body();
    let framing = if body.is_empty() {
        BodyKind::Empty
    } else {
        BodyKind::ContentLength(body.len() as u64)
    };
    let payload = h2core::h2c_settings_payload(&config.settings);
    let mut out = BytesMut::new();
    http1::encode_h2c_upgrade_request(
        std::str::from_utf8(&method).map_err(|_| Error::Malformed(":method"))?,
        std::str::from_utf8(&target).map_err(|_| Error::Malformed(":path"))?,
        &headers,
        &payload,
        framing,
        &mut out,
    )
    .map_err(|e| Error::Http1(e.to_string()))?;
    socket.write_all(&out)?;
    socket.write_all(&body)?;
    let limits = http1::Limits::default();
    let mut buf = BytesMut::new();
    let mut chunk = [0u8; 16 * 1024];
    let head = loop {
        match http1::parse_response(&mut buf, &limits).map_err(|e| Error::Http1(e.to_string()))? {
            Some(head) if head.is_interim() && head.status != 101 => continue,
            Some(head) => break head,
            None => {
                let n = socket.read(&mut chunk)?;
                if n == 0 {
                    return Err(Error::Http1(
                        "connection closed before the upgrade response".into(),
                    ));
                }
                buf.extend_from_slice(&chunk[..n]);
            }
        }
    };
    if head.status != 101 {
        return Err(Error::Http1(format!(
            "the server answered {} instead of upgrading",
            head.status
        )));
    }
    let conn =
        Connection::new_upgraded_client(config.clone(), std::time::Instant::now(), head_request);
    let (reply, rx) = mpsc::channel();
    let client = spawn(socket, buf, conn, config, Some(reply))?;
    let response = PendingResponse { rx }.wait()?;
    Ok((client, response))
}
