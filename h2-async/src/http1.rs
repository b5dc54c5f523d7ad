//! HTTP/1.1 on the same port as h2c, with the same handler: every rule of the protocol is in
//! `h2core::http1` (heads with httparse, body framing, keep-alive, 100-continue); this module
//! moves bytes and hands requests to the handler. `Upgrade: h2c` switches to HTTP/2 here.

use crate::command::Command;
use crate::handle::StreamHandle;
use crate::handler::Handler;
use crate::rt::{self, Runtime};
use crate::{Body, Frame};
use bytes::{Bytes, BytesMut};
use h2_http::body::Consumed;
use h2_http::Error;
use h2core::http1::{self, BodyEvent, BodyKind, IncomingRequest, ServerConn};
use h2core::shell::{Expired, H2cSwitch, Http1Timer, REQUEST_TIMEOUT};
use h2core::{Config, Connection, StreamId};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot, watch};

/// Request body bytes read ahead of the handler at most: beyond it we stop reading the socket,
/// so a slow handler slows the client (TCP backpressure), never our memory.
const READ_AHEAD: usize = 64 * 1024;

/// Found in the extensions of a request that arrived over HTTP/1.1: how many bytes its head
/// took on the wire (request line, header section and the empty line that ends it, RFC 9112
/// §2.1), e.g. for a proxy's metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Http1HeadLen(pub usize);

/// How an HTTP/1.1 connection ended.
pub(crate) enum Http1End<IO> {
    /// The connection is closed.
    Closed,
    /// `Upgrade: h2c` switched it to HTTP/2 (RFC 7540 §3.2): drive `conn` on `io`, `buf` first;
    /// the upgrade request is stream 1, with this whole `body`.
    Upgraded {
        io: IO,
        buf: BytesMut,
        conn: Box<Connection>,
        body: Bytes,
    },
}

/// Serves HTTP/1.1 on `io`, whose first bytes are in `buf`, until the connection closes or
/// switches to h2c. Over TLS (`secure`), requests are `https` and `Upgrade: h2c` is ignored
/// (`H2cSwitch`).
pub(crate) async fn serve<R, IO>(
    mut io: IO,
    mut buf: BytesMut,
    config: &Config,
    handler: &Handler,
    mut stop: watch::Receiver<bool>,
    secure: bool,
) -> Result<Http1End<IO>, Error>
where
    R: Runtime,
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut sc = ServerConn::new(http1::Limits::default());
    let mut timer = Http1Timer::new(config, R::now());
    loop {
        let req = loop {
            match sc.read_head(&mut buf) {
                Ok(Some(req)) => break req,
                Ok(None) if sc.should_close() => return close(&mut io).await,
                Ok(None) => {}
                Err(e) => {
                    let mut out = BytesMut::new();
                    e.encode_response(&mut out);
                    let _ = io.write_all(&out).await;
                    let _ = io.shutdown().await;
                    return Err(Error::Http1(e.to_string()));
                }
            }
            if *stop.borrow() && buf.is_empty() {
                return close(&mut io).await;
            }
            timer.head_bytes(R::now(), !buf.is_empty());
            tokio::select! {
                r = io.read_buf(&mut buf) => {
                    if r? == 0 {
                        return Ok(Http1End::Closed);
                    }
                }
                _ = stop.changed() => {}
                _ = rt::sleep_until::<R>(timer.poll_timeout()) => {
                    match timer.handle_timeout(R::now()) {
                        Some(Expired::Head) => {
                            let _ = io.write_all(REQUEST_TIMEOUT).await;
                            return close(&mut io).await;
                        }
                        Some(Expired::Idle) => return close(&mut io).await,
                        None => {}
                    }
                }
            }
        };
        timer.head_received();
        let scheme = if secure { "https" } else { "http" };
        if let Some(mut switch) = H2cSwitch::offer(&req, secure) {
            read_whole_body(&mut io, &mut buf, &mut sc, &mut switch).await?;
            let (answer, conn, body) =
                switch
                    .switch(config.clone(), R::now())
                    .map_err(|e| Error::Connection {
                        reason: e.reason,
                        remote: true,
                        detail: e.detail.into(),
                    })?;
            io.write_all(answer).await?;
            let buf = std::mem::take(&mut buf);
            return Ok(Http1End::Upgraded {
                io,
                buf,
                conn: Box::new(conn),
                body,
            });
        }
        exchange::<R, _>(&mut io, &mut buf, &mut sc, req, handler, scheme).await?;
        if sc.should_close() {
            return close(&mut io).await;
        }
        timer.await_head(R::now());
    }
}

async fn close<IO: AsyncWrite + Unpin>(io: &mut IO) -> Result<Http1End<IO>, Error> {
    let _ = io.shutdown().await;
    Ok(Http1End::Closed)
}

/// Reads the upgrade request's body whole, before the switch (RFC 7540 §3.2).
async fn read_whole_body<IO: AsyncRead + Unpin>(
    io: &mut IO,
    buf: &mut BytesMut,
    sc: &mut ServerConn,
    switch: &mut H2cSwitch,
) -> Result<(), Error> {
    loop {
        match sc.read_body(buf).map_err(|e| Error::Http1(e.to_string()))? {
            Some(BodyEvent::Data(d)) => switch.body_data(&d),
            Some(BodyEvent::Trailers(_)) => {}
            Some(BodyEvent::End) => return Ok(()),
            None => {
                if io.read_buf(buf).await? == 0 {
                    return Err(Error::Http1("request body ended early".into()));
                }
            }
        }
    }
}

/// Writes a 1xx response a handler sent through its [`StreamHandle`] (RFC 9110 §15.2; none to
/// an HTTP/1.0 client).
async fn interim<IO>(
    io: &mut IO,
    sc: &mut ServerConn,
    cmd: Command,
    out: &mut BytesMut,
) -> Result<(), Error>
where
    IO: AsyncWrite + Unpin,
{
    let Command::Informational { head, .. } = cmd else {
        return Ok(());
    };
    out.clear();
    let written = http1::response_head_from_h2(&head)
        .and_then(|(status, fields)| sc.write_informational(status, &fields, out));
    match written {
        Ok(()) => io.write_all(out).await?,
        Err(e) => tracing::debug!("informational response: {e}"),
    }
    Ok(())
}

/// One request and its response.
async fn exchange<R, IO>(
    io: &mut IO,
    buf: &mut BytesMut,
    sc: &mut ServerConn,
    req: IncomingRequest,
    handler: &Handler,
    scheme: &str,
) -> Result<(), Error>
where
    R: Runtime,
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let version = req.head.version;
    let head_len = Http1HeadLen(req.head_len);
    let headers = match req.head.to_h2_headers(scheme) {
        Ok(h) => h,
        Err(e) => {
            let mut out = BytesMut::new();
            e.encode_response(&mut out);
            io.write_all(&out).await?;
            let _ = io.shutdown().await;
            return Err(Error::Http1(e.to_string()));
        }
    };
    let (flow_tx, mut flow_rx) = mpsc::unbounded_channel::<Consumed>();
    let mut reading = !matches!(req.body, BodyKind::Empty | BodyKind::ContentLength(0));
    // The handler's first read is reported too: 100 Continue goes out then (RFC 9110 §10.1.1).
    let release = std::sync::Arc::new(move |_, c| {
        let _ = flow_tx.send(c);
    });
    let (mut body_tx, body) = if reading {
        let (inbox, body) = Body::received(StreamId::ZERO, release, true);
        (Some(inbox), body)
    } else {
        (None, Body::empty())
    };
    // The handler's StreamHandle: over HTTP/1.1 it sends interim (1xx) responses only.
    let (cmd_tx, mut cmd_rx) = mpsc::unbounded_channel();
    let request = h2_http::request_from_h2(&headers)
        .map_err(Error::from)
        .map(|mut parts| {
            parts.version = match version {
                http1::Version::Http10 => http::Version::HTTP_10,
                http1::Version::Http11 => http::Version::HTTP_11,
            };
            parts.extensions.insert(head_len);
            parts
                .extensions
                .insert(StreamHandle::new(StreamId::ZERO, cmd_tx));
            http::Request::from_parts(parts, body)
        });
    let request = match request {
        Ok(r) => r,
        Err(e) => {
            io.write_all(
                b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            )
            .await?;
            return Err(e);
        }
    };
    // The handler runs as its own task; if it panics, its sender is dropped unsent.
    let (resp_tx, mut response) = oneshot::channel();
    let handling = handler(request);
    R::spawn(async move {
        let _ = resp_tx.send(handling.await);
    });
    let mut response_body: Option<Body> = None;
    let mut head_written = false;
    let mut unread: usize = 0;
    let mut discard = false;
    let mut out = BytesMut::new();
    // Body bytes that arrived with the head are decoded before waiting for more.
    let mut buffered = reading && !buf.is_empty();
    loop {
        if head_written && response_body.is_none() && (!reading || discard) {
            return Ok(());
        }
        tokio::select! {
            r = read_body_bytes(io, buf, &mut buffered), if reading && (discard || unread < READ_AHEAD) && !sc.should_close() => {
                let n = r?;
                let mut events = Vec::new();
                if n == 0 {
                    match sc.read_eof() {
                        Ok(Some(ev)) => events.push(Ok(ev)),
                        Ok(None) => {}
                        Err(e) => events.push(Err(e)),
                    }
                    reading = false;
                }
                loop {
                    match sc.read_body(buf) {
                        Ok(Some(ev)) => {
                            let end = matches!(ev, BodyEvent::End);
                            events.push(Ok(ev));
                            if end {
                                break;
                            }
                        }
                        Ok(None) => break,
                        Err(e) => {
                            events.push(Err(e));
                            break;
                        }
                    }
                }
                for ev in events {
                    match ev {
                        Ok(BodyEvent::Data(d)) => {
                            unread += d.len();
                            if let Some(inbox) = &body_tx {
                                if !inbox.data(d) {
                                    discard = true;
                                }
                            }
                        }
                        Ok(BodyEvent::Trailers(t)) => {
                            if let Some(inbox) = body_tx.take() {
                                match h2_http::fields_to_map(&t) {
                                    Ok(t) => inbox.trailers(t),
                                    Err(e) => inbox.fail(e.into()),
                                }
                            }
                        }
                        Ok(BodyEvent::End) => {
                            reading = false;
                            if let Some(inbox) = body_tx.take() {
                                inbox.end();
                            }
                        }
                        Err(e) => {
                            // A truncated or malformed body: the handler sees the error.
                            reading = false;
                            if let Some(inbox) = body_tx.take() {
                                inbox.fail(Error::Http1(e.to_string()));
                            }
                        }
                    }
                }
            }
            Some(c) = flow_rx.recv() => {
                unread = unread.saturating_sub(c.n);
                if c.dropped {
                    // The handler no longer reads: the rest of the body is read and dropped,
                    // so the connection can take its next request.
                    discard = true;
                    body_tx = None;
                } else if let Some(c) = sc.take_continue() {
                    // The handler reads the body: now the client may send it (RFC 9110
                    // §10.1.1).
                    io.write_all(&c).await?;
                }
            }
            Some(cmd) = cmd_rx.recv(), if !head_written => {
                interim(io, sc, cmd, &mut out).await?;
            }
            resp = &mut response, if !head_written => {
                head_written = true;
                // 1xx responses the handler sent before it returned go out first.
                while let Ok(cmd) = cmd_rx.try_recv() {
                    interim(io, sc, cmd, &mut out).await?;
                }
                let resp = resp.map_err(|_| Error::Http1("handler panicked".into()))?;
                let h2_head = h2_http::response_to_h2(&resp);
                let body = resp.into_body();
                let (status, fields) = http1::response_head_from_h2(&h2_head).map_err(|e| Error::Http1(e.to_string()))?;
                out.clear();
                sc.write_response_head(status, None, &fields, body.size_hint(), &mut out)
                    .map_err(|e| Error::Http1(e.to_string()))?;
                io.write_all(&out).await?;
                response_body = Some(body);
            }
            frame = next_frame(&mut response_body), if response_body.is_some() => {
                match frame {
                    Some(Ok(Frame::Data(d))) => {
                        let chunk = sc.send_data(d).map_err(|e| Error::Http1(e.to_string()))?;
                        rt::write_all_vectored(io, &[chunk.prefix, chunk.data, chunk.suffix]).await?;
                    }
                    Some(Ok(Frame::Trailers(t))) => {
                        let trailers = h2_http::trailers_to_h2(&t);
                        finish(io, sc, Some(&trailers)).await?;
                        response_body = None;
                    }
                    None => {
                        finish(io, sc, None).await?;
                        response_body = None;
                    }
                    Some(Err(e)) => {
                        // The body failed midway: the message cannot be completed, so the
                        // connection closes without the terminator (the client sees it
                        // incomplete, never as complete).
                        let _ = io.shutdown().await;
                        return Err(e);
                    }
                }
            }
        }
    }
}

/// Reads more request body bytes into `buf`, or returns at once (with a non-zero count) when
/// `buffered` says bytes already in `buf` are still to be decoded.
async fn read_body_bytes<IO: AsyncRead + Unpin>(
    io: &mut IO,
    buf: &mut BytesMut,
    buffered: &mut bool,
) -> std::io::Result<usize> {
    if std::mem::take(buffered) {
        return Ok(buf.len());
    }
    io.read_buf(buf).await
}

async fn next_frame(body: &mut Option<Body>) -> Option<Result<Frame, Error>> {
    match body {
        Some(b) => b.frame().await,
        None => std::future::pending().await,
    }
}

async fn finish<IO: AsyncWrite + Unpin>(
    io: &mut IO,
    sc: &mut ServerConn,
    trailers: Option<&[h2core::Header]>,
) -> Result<(), Error> {
    if let Some(end) = sc
        .finish_response(trailers)
        .map_err(|e| Error::Http1(e.to_string()))?
    {
        io.write_all(&end).await?;
    }
    io.flush().await?;
    Ok(())
}
