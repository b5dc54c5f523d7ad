//! A keep-alive HTTP/1.1 client pool on tokio (RFC 9112), for a program that talks to HTTP/1.1
//! upstreams beside HTTP/2 ones (the mesh-proxy example does): every framing rule is
//! `h2core::http1`'s; this module moves bytes.
//!
//! - A request is framed exactly: Content-Length when its length is known, else chunked ending
//!   with the 0-chunk (and its trailers).
//! - A response is read as its head says (RFC 9112 §6.3): Content-Length, chunked up to the
//!   0-chunk, or until the connection closes. A body cut short is an error on the returned
//!   [`Body`], never a body that looks complete.
//! - The request body is written while the response is read, so an upstream that answers (or
//!   echoes) before the upload ends does not deadlock with us; both directions stream with
//!   backpressure (a bounded [`Body::channel`] one way, the caller's body the other).
//! - A connection goes back to the pool when both messages ended cleanly and neither side asked
//!   to close (RFC 9112 §9.3). A request without a body and with an idempotent method that finds
//!   its reused connection closed before any response byte is sent once more on a new one
//!   (§9.3.1: the server may close an idle connection at any time).

use crate::{Body, BodySender, Error, Frame};
use bytes::{Bytes, BytesMut};
use h2core::http1::{self, BodyDecoder, BodyEncoder, BodyEvent, BodyKind, Limits};
use h2core::{Header, Reason};
use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use std::io::IoSlice;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

/// Idle connections kept at most.
const MAX_IDLE: usize = 64;
/// How long a finished response waits for its request body's last bytes before the connection
/// is given up rather than reused.
const WRITER_GRACE: Duration = Duration::from_secs(1);

/// Counters of an [`Http1Pool`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Http1Stats {
    /// Connections opened so far.
    pub connections_opened: u64,
    /// Request head bytes written (request line, fields, empty line).
    pub header_bytes_sent: u64,
}

/// A pool of keep-alive HTTP/1.1 connections to one upstream; cheap to clone.
#[derive(Clone)]
pub struct Http1Pool {
    inner: Arc<Inner>,
}

struct Inner {
    addr: SocketAddr,
    timeout: Duration,
    idle: Mutex<Vec<TcpStream>>,
    connections_opened: AtomicU64,
    header_bytes_sent: AtomicU64,
}

/// Why one attempt failed.
enum Failure {
    /// The head could not be written: nothing was received, the body is untouched.
    Unsent(Error),
    /// The connection ended before any response byte (an idle connection the upstream closed
    /// meanwhile looks like this).
    NoResponse(Error),
    /// Anything else.
    Fatal(Error),
}

/// The request body's side of an exchange.
enum Writer {
    /// No body: the write half is free at once.
    Done(OwnedWriteHalf),
    /// The body is being written; the task returns the write half when the 0-chunk (or the
    /// last byte of a Content-Length body) went out.
    Task(JoinHandle<Result<OwnedWriteHalf, Error>>),
}

impl Writer {
    fn abort(&self) {
        if let Writer::Task(t) = self {
            t.abort();
        }
    }
}

impl Http1Pool {
    /// A pool for `addr`; `timeout` bounds connecting and every wait for upstream bytes.
    pub fn new(addr: SocketAddr, timeout: Duration) -> Http1Pool {
        Http1Pool {
            inner: Arc::new(Inner {
                addr,
                timeout,
                idle: Mutex::new(Vec::new()),
                connections_opened: AtomicU64::new(0),
                header_bytes_sent: AtomicU64::new(0),
            }),
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> Http1Stats {
        Http1Stats {
            connections_opened: self.inner.connections_opened.load(Ordering::Relaxed),
            header_bytes_sent: self.inner.header_bytes_sent.load(Ordering::Relaxed),
        }
    }

    /// Sends `req` (origin-form target from its URI; `Host` from its authority) and returns the
    /// response once its head arrived; the body streams afterwards.
    pub async fn send(&self, req: Request<Body>) -> Result<Response<Body>, Error> {
        let (parts, body) = req.into_parts();
        let (head, framing) = encode_head(&parts, &body)?;
        let idempotent = parts.method.is_idempotent();
        let mut body = Some(body);
        let mut retried = false;
        loop {
            let (stream, reused) = self.checkout().await?;
            match self
                .exchange(stream, &head, framing, &mut body, &parts.method)
                .await
            {
                Ok(response) => return Ok(response),
                Err(Failure::Unsent(_)) if reused && !retried && body.is_some() => retried = true,
                Err(Failure::NoResponse(_))
                    if reused && !retried && body.is_some() && idempotent =>
                {
                    retried = true;
                }
                Err(Failure::Unsent(e) | Failure::NoResponse(e) | Failure::Fatal(e)) => {
                    return Err(e)
                }
            }
        }
    }

    /// An idle connection that still looks open, else a new one.
    async fn checkout(&self) -> Result<(TcpStream, bool), Error> {
        loop {
            let idle = self.inner.idle.lock().expect("not poisoned").pop();
            let Some(stream) = idle else { break };
            // Readable while idle means closed (or garbage): not reusable.
            let mut probe = [0u8; 1];
            if matches!(stream.try_read(&mut probe), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
            {
                return Ok((stream, true));
            }
        }
        let stream = tokio::time::timeout(self.inner.timeout, TcpStream::connect(self.inner.addr))
            .await
            .map_err(|_| timed_out("connecting"))??;
        let _ = stream.set_nodelay(true);
        self.inner
            .connections_opened
            .fetch_add(1, Ordering::Relaxed);
        Ok((stream, false))
    }

    async fn exchange(
        &self,
        stream: TcpStream,
        head: &Bytes,
        framing: BodyKind,
        body: &mut Option<Body>,
        method: &Method,
    ) -> Result<Response<Body>, Failure> {
        let timeout = self.inner.timeout;
        let (mut r, mut w) = stream.into_split();
        // A request that cannot even be written was not received: the body is still whole.
        w.write_all(head)
            .await
            .map_err(|e| Failure::Unsent(e.into()))?;
        self.inner
            .header_bytes_sent
            .fetch_add(head.len() as u64, Ordering::Relaxed);
        let writer = match framing {
            BodyKind::Empty | BodyKind::ContentLength(0) => Writer::Done(w),
            _ => {
                let body = body.take().expect("the body is sent once");
                Writer::Task(tokio::spawn(write_body(w, body, framing)))
            }
        };
        let limits = Limits::default();
        let mut buf = BytesMut::with_capacity(16 * 1024);
        let response = loop {
            match http1::parse_response(&mut buf, &limits) {
                Ok(Some(h)) if h.is_interim() => continue,
                Ok(Some(h)) => break h,
                Ok(None) => {}
                Err(e) => {
                    writer.abort();
                    return Err(Failure::Fatal(Error::Http1(e.to_string())));
                }
            }
            let got_nothing = buf.is_empty();
            let failed = match tokio::time::timeout(timeout, r.read_buf(&mut buf)).await {
                Ok(Ok(0)) => Error::Http1("upstream closed before the response head".into()),
                Ok(Ok(_)) => continue,
                Ok(Err(e)) => Error::Io(e),
                Err(_) => {
                    writer.abort();
                    return Err(Failure::Fatal(timed_out("waiting for the response head")));
                }
            };
            writer.abort();
            return Err(if got_nothing {
                Failure::NoResponse(failed)
            } else {
                Failure::Fatal(failed)
            });
        };
        if response.status == 101 {
            writer.abort();
            return Err(Failure::Fatal(Error::Http1(
                "upstream switched protocols unasked".into(),
            )));
        }
        let kind = match response.body_kind(method.as_str().as_bytes()) {
            Ok(k) => k,
            Err(e) => {
                writer.abort();
                return Err(Failure::Fatal(Error::Http1(e.to_string())));
            }
        };
        let keep_alive = response.keep_alive() && kind != BodyKind::CloseDelimited;
        let mut builder = Response::builder()
            .status(StatusCode::from_u16(response.status).map_err(|_| {
                writer.abort();
                Failure::Fatal(Error::Malformed("status"))
            })?)
            .version(http::Version::HTTP_11);
        if let Some(map) = builder.headers_mut() {
            for h in &response.headers {
                // The framing is ours to choose downstream; a Content-Length next to a
                // Transfer-Encoding is not the length (RFC 9112 §6.3 item 3).
                if &h.name[..] == b"transfer-encoding"
                    || (&h.name[..] == b"content-length" && kind == BodyKind::Chunked)
                {
                    continue;
                }
                if let (Ok(n), Ok(v)) = (
                    HeaderName::from_bytes(&h.name),
                    HeaderValue::from_maybe_shared(h.value.clone()),
                ) {
                    map.append(n, v);
                }
            }
        }
        let pool = self.inner.clone();
        if matches!(kind, BodyKind::Empty | BodyKind::ContentLength(0)) {
            recycle(pool, r, writer, buf, keep_alive, None).await;
            return builder
                .body(Body::empty())
                .map_err(|_| Failure::Fatal(Error::Malformed("response")));
        }
        let (tx, body) = Body::channel();
        let response = builder
            .body(body)
            .map_err(|_| Failure::Fatal(Error::Malformed("response")))?;
        let decoder = BodyDecoder::new(kind, &limits);
        tokio::spawn(async move {
            match pump(r, buf, decoder, tx, timeout).await {
                Some((r, buf, closed, tx)) => {
                    recycle(pool, r, writer, buf, keep_alive && !closed, Some(tx)).await;
                }
                None => writer.abort(),
            }
        });
        Ok(response)
    }
}

fn timed_out(what: &str) -> Error {
    Error::Io(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        format!("upstream timed out {what}"),
    ))
}

/// Copies the response body from the socket into `tx`. When the body ended cleanly, returns
/// the read half, the rest of the buffer, whether the upstream closed, and the sender (still
/// open: dropping it ends the body downstream); None after an error, which `tx` then carries to
/// the reader.
async fn pump(
    mut r: OwnedReadHalf,
    mut buf: BytesMut,
    mut decoder: BodyDecoder,
    tx: BodySender,
    timeout: Duration,
) -> Option<(OwnedReadHalf, BytesMut, bool, Option<BodySender>)> {
    let mut tx = Some(tx);
    let mut closed = false;
    loop {
        match decoder.decode(&mut buf) {
            Ok(Some(BodyEvent::Data(d))) => {
                if let Some(t) = tx.as_mut() {
                    if t.send_data(d).await.is_err() {
                        // The downstream is gone; the rest of the body is not worth reading.
                        return None;
                    }
                }
            }
            Ok(Some(BodyEvent::Trailers(fields))) => {
                if let Some(t) = tx.take() {
                    if t.send_trailers(fields_to_map(&fields)).await.is_err() {
                        return None;
                    }
                }
            }
            Ok(Some(BodyEvent::End)) => break,
            Ok(None) if closed => {
                // `eof` said End or failed below; nothing more can come.
                break;
            }
            Ok(None) => {
                buf.reserve(16 * 1024);
                match tokio::time::timeout(timeout, r.read_buf(&mut buf)).await {
                    Ok(Ok(0)) => {
                        closed = true;
                        if let Err(e) = decoder.eof() {
                            // Short of its Content-Length or without the 0-chunk: incomplete,
                            // and the reader must see it so (RFC 9112 §8).
                            abort(tx, Error::Http1(e.to_string())).await;
                            return None;
                        }
                    }
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => {
                        abort(tx, Error::Io(e)).await;
                        return None;
                    }
                    Err(_) => {
                        abort(tx, timed_out("in the response body")).await;
                        return None;
                    }
                }
            }
            Err(e) => {
                abort(tx, Error::Http1(e.to_string())).await;
                return None;
            }
        }
    }
    Some((r, buf, closed, tx))
}

/// The upstream response broke midway (`err`): the downstream body ends unfinished, its stream
/// reset with INTERNAL_ERROR (RFC 9113 §5.4.2), so the client never takes it as complete.
async fn abort(tx: Option<BodySender>, err: Error) {
    tracing::debug!("upstream body: {err}");
    // None: trailers went out, so the body already ended (they come last).
    if let Some(t) = tx {
        let _ = t.abort(Reason::INTERNAL_ERROR).await;
    }
}

/// Puts the connection back in the pool once the exchange ended cleanly both ways, then drops
/// `body_end`, which ends the response body: a caller that sends its next request as soon as
/// it read this body finds the connection idle.
/// How long a finished response waits for its upload task to hand the connection back.
const UPLOAD_SETTLE: Duration = Duration::from_millis(50);

async fn recycle(
    pool: Arc<Inner>,
    r: OwnedReadHalf,
    writer: Writer,
    buf: BytesMut,
    keep_alive: bool,
    body_end: Option<Option<BodySender>>,
) {
    if !keep_alive || !buf.is_empty() {
        writer.abort();
        return;
    }
    match writer {
        Writer::Done(w) => put_idle(&pool, r, w),
        Writer::Task(task) if task.is_finished() => {
            if let Ok(Ok(w)) = task.await {
                put_idle(&pool, r, w);
            }
        }
        Writer::Task(mut task) => {
            // The response is whole, the upload task not done yet: usually it wrote its last
            // bytes already (an echo cannot end before the upload) and only has to return.
            // Give it a moment, so that a caller sending its next request as soon as it read
            // this body finds the connection idle.
            if let Ok(Ok(Ok(w))) = tokio::time::timeout(UPLOAD_SETTLE, &mut task).await {
                put_idle(&pool, r, w);
                drop(body_end);
                return;
            }
            // The upstream answered before the upload ended: end the response now, and keep
            // the connection only if the upload ends soon.
            drop(body_end);
            match tokio::time::timeout(WRITER_GRACE, &mut task).await {
                Ok(Ok(Ok(w))) => put_idle(&pool, r, w),
                _ => task.abort(),
            }
            return;
        }
    }
    drop(body_end);
}

fn put_idle(pool: &Inner, r: OwnedReadHalf, w: OwnedWriteHalf) {
    if let Ok(stream) = r.reunite(w) {
        let mut idle = pool.idle.lock().expect("not poisoned");
        if idle.len() < MAX_IDLE {
            idle.push(stream);
        }
    }
}

/// Writes the request body framed as `framing`; returns the write half once the body ended.
/// On error the write half is dropped, which ends our side of the connection: the upstream sees
/// an incomplete message, never a complete one.
async fn write_body(
    mut w: OwnedWriteHalf,
    mut body: Body,
    framing: BodyKind,
) -> Result<OwnedWriteHalf, Error> {
    let encode_err = |e: http1::EncodeError| Error::Http1(e.to_string());
    let mut encoder = BodyEncoder::new(framing);
    let mut trailers = None;
    while let Some(frame) = body.frame().await {
        match frame? {
            Frame::Data(d) => {
                let chunk = encoder.encode(d).map_err(encode_err)?;
                write_all_vectored(&mut w, &[chunk.prefix, chunk.data, chunk.suffix]).await?;
            }
            Frame::Trailers(t) => {
                trailers = Some(map_to_fields(&t));
                break;
            }
        }
    }
    if let Some(end) = encoder.finish(trailers.as_deref()).map_err(encode_err)? {
        w.write_all(&end).await?;
    }
    w.flush().await?;
    Ok(w)
}

/// The request head and the framing of its body: Content-Length when the length is known
/// (declared, or no body), else chunked.
fn encode_head(parts: &http::request::Parts, body: &Body) -> Result<(Bytes, BodyKind), Error> {
    let authority = parts
        .uri
        .authority()
        .map(|a| a.as_str().to_owned())
        .or_else(|| {
            parts
                .headers
                .get(http::header::HOST)
                .and_then(|h| h.to_str().ok())
                .map(str::to_owned)
        });
    let mut fields = Vec::with_capacity(parts.headers.len() + 1);
    if let Some(a) = authority {
        fields.push(Header::new("host", a));
    }
    for (name, value) in &parts.headers {
        // TE is hop-by-hop here and would need `Connection: TE` (RFC 9110 §10.1.4); trailers
        // are read whether or not they were offered.
        if name == http::header::HOST || name == http::header::TE {
            continue;
        }
        fields.push(Header::new(
            Bytes::copy_from_slice(name.as_str().as_bytes()),
            Bytes::copy_from_slice(value.as_bytes()),
        ));
    }
    let declared = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let framing = match (declared, body.size_hint()) {
        (Some(n), _) | (None, Some(n)) if n > 0 => BodyKind::ContentLength(n),
        (Some(0), _) => BodyKind::ContentLength(0),
        // RFC 9110 §8.6: a request whose method defines a body says it is empty.
        _ if body.is_end_stream() => {
            if matches!(parts.method, Method::POST | Method::PUT | Method::PATCH) {
                BodyKind::ContentLength(0)
            } else {
                BodyKind::Empty
            }
        }
        _ => BodyKind::Chunked,
    };
    let target = if parts.method == Method::OPTIONS && parts.uri.path() == "*" {
        "*"
    } else {
        parts.uri.path_and_query().map_or("/", |p| p.as_str())
    };
    let mut out = BytesMut::with_capacity(512);
    http1::encode_request_head(parts.method.as_str(), target, &fields, framing, &mut out)
        .map_err(|e| Error::Http1(e.to_string()))?;
    Ok((out.freeze(), framing))
}

fn fields_to_map(fields: &[Header]) -> HeaderMap {
    let mut map = HeaderMap::with_capacity(fields.len());
    for h in fields {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(&h.name),
            HeaderValue::from_maybe_shared(h.value.clone()),
        ) {
            map.append(n, v);
        }
    }
    map
}

fn map_to_fields(map: &HeaderMap) -> Vec<Header> {
    map.iter()
        .map(|(n, v)| {
            Header::new(
                Bytes::copy_from_slice(n.as_str().as_bytes()),
                Bytes::copy_from_slice(v.as_bytes()),
            )
        })
        .collect()
}

/// Writes every byte of `parts` with vectored writes, however the writer splits them: an
/// HTTP/1.1 chunk's size line, its data (the application's buffer, not a copy) and its CRLF
/// go out in one syscall.
async fn write_all_vectored<W: AsyncWrite + Unpin>(
    w: &mut W,
    parts: &[Bytes],
) -> std::io::Result<()> {
    let mut parts: Vec<Bytes> = parts.iter().filter(|p| !p.is_empty()).cloned().collect();
    let mut at = 0;
    while at < parts.len() {
        let slices: Vec<IoSlice<'_>> = parts[at..].iter().map(|p| IoSlice::new(p)).collect();
        let mut n = w.write_vectored(&slices).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        while n > 0 {
            if n >= parts[at].len() {
                n -= parts[at].len();
                at += 1;
            } else {
                let _ = parts[at].split_to(n);
                n = 0;
            }
        }
    }
    Ok(())
}
