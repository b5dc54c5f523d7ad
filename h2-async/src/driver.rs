//! The task that owns one HTTP/2 connection: it moves bytes between the socket and the core,
//! through the shell's [`Transport`] (write queue, flush grace, FIN, linger), and keeps exactly
//! one timer. What the bytes mean to the user's streams is the session's (`session.rs`); no
//! HTTP/2 rule lives here.

use crate::rt::{Runtime, Timer};
use crate::session::{Command, RoleState, Session};
use crate::shared::Shared;
use bytes::{Bytes, BytesMut};
use h2_http::body::Async;
use h2_http::reply::ReplyTx;
use h2_http::Error;
use h2core::shell::{CloseAction, Transport};
use h2core::{Connection, StreamId};
use std::future::Future;
use std::io::IoSlice;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;

/// Slices handed to one vectored write.
const MAX_SLICES: usize = 64;

/// One connection's task. Await it (or spawn it); it ends when the connection is closed.
pub struct Driver<IO, R: Runtime> {
    session: Session,
    io: IO,
    read_buf: BytesMut,
    transport: Transport,
    timer: Timer<R::Sleep>,
    read_closed: bool,
    shutdown: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
}

impl<IO: AsyncRead + AsyncWrite + Unpin, R: Runtime> Driver<IO, R> {
    pub(crate) fn new(
        conn: Connection,
        io: IO,
        read_buf: BytesMut,
        user_rx: mpsc::UnboundedReceiver<Command>,
        role: RoleState,
        shared: Arc<Shared>,
    ) -> Driver<IO, R> {
        Driver {
            session: Session::new(conn, !read_buf.is_empty(), user_rx, role, shared),
            io,
            read_buf,
            transport: Transport::new(),
            timer: Timer::new(R::sleep_until(R::now() + Duration::from_secs(3600))),
            read_closed: false,
            shutdown: None,
        }
    }

    /// A server connection task; it takes no user commands (the sender is dropped at once).
    pub(crate) fn server(
        conn: Connection,
        io: IO,
        read_buf: BytesMut,
        handler: crate::handler::Handler,
    ) -> Driver<IO, R> {
        let (_tx, rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared::default());
        Driver::new(
            conn,
            io,
            read_buf,
            rx,
            RoleState::Server { handler },
            shared,
        )
    }

    /// Stream 1's request body, received over HTTP/1.1 before an upgrade.
    pub(crate) fn upgrade_body(&mut self, body: Bytes) {
        self.session.drive.session.upgrade_body(body);
    }

    /// The response on `stream` (stream 1 after an upgrade) goes to `tx`.
    pub(crate) fn expect_response(&mut self, stream: StreamId, tx: ReplyTx<Async>) {
        self.session.drive.session.expect_response(stream, tx);
    }

    /// Start a graceful shutdown when `signal` completes.
    pub(crate) fn shutdown_on(&mut self, signal: impl Future<Output = ()> + Send + 'static) {
        self.shutdown = Some(Box::pin(signal));
    }

    fn poll_read(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<usize>> {
        // Into the buffer's spare capacity as it is: zeroing 16 KiB before every read cost
        // more than the HPACK decoding of the requests it carries.
        self.read_buf.reserve(h2core::shell::READ_CHUNK);
        tokio_util::io::poll_read_buf(Pin::new(&mut self.io), cx, &mut self.read_buf)
    }

    /// Feeds what the peer sent to the core; true if anything happened.
    fn read(&mut self, cx: &mut Context<'_>, now: Instant) -> bool {
        let drive = &mut self.session.drive;
        if drive.feed_unparsed(&mut self.read_buf, now) {
            return true;
        }
        if !drive.wants_read(self.read_closed, &self.transport) {
            return false;
        }
        self.read_buf.reserve(h2core::shell::READ_CHUNK);
        match tokio_util::io::poll_read_buf(Pin::new(&mut self.io), cx, &mut self.read_buf) {
            Poll::Ready(Ok(0)) => {
                self.read_closed = true;
                drive.eof(now, None);
            }
            Poll::Ready(Ok(_)) => drive.received(&mut self.read_buf, now),
            Poll::Ready(Err(e)) => {
                self.read_closed = true;
                drive.eof(now, Some(e));
            }
            Poll::Pending => return false,
        }
        true
    }

    /// Reads and drops what the peer still sends while lingering; Ready once it closed its
    /// side too (or the transport failed).
    fn poll_discard(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        for _ in 0..64 {
            self.read_buf.clear();
            match self.poll_read(cx) {
                Poll::Ready(Ok(0)) | Poll::Ready(Err(_)) => {
                    self.read_closed = true;
                    return Poll::Ready(());
                }
                Poll::Ready(Ok(_)) => {}
                Poll::Pending => return Poll::Pending,
            }
        }
        // A peer sending without pause: let other tasks run, then go on.
        cx.waker().wake_by_ref();
        Poll::Pending
    }

    /// Writes what the core has queued; Ready(Ok(true)) if anything was written.
    fn poll_write(&mut self, cx: &mut Context<'_>, now: Instant) -> Poll<std::io::Result<bool>> {
        let mut wrote = false;
        loop {
            let _ = self.transport.pump(self.session.conn(), now);
            if self.transport.is_empty() {
                return Poll::Ready(Ok(wrote));
            }
            let mut slices = [IoSlice::new(&[]); MAX_SLICES];
            let n = self.transport.io_slices(&mut slices);
            let n = match Pin::new(&mut self.io).poll_write_vectored(cx, &slices[..n]) {
                Poll::Ready(Ok(0)) => {
                    return Poll::Ready(Err(std::io::ErrorKind::WriteZero.into()))
                }
                Poll::Ready(Ok(n)) => n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending if wrote => return Poll::Ready(Ok(true)),
                Poll::Pending => return Poll::Pending,
            };
            wrote = true;
            self.transport.advance(n);
        }
    }

    /// The close sequence once the protocol is over (RFC 9113 §6.8 seen from the socket):
    /// our FIN once everything is written, then what the peer still sends is dropped.
    fn close_step(&mut self, cx: &mut Context<'_>, now: Instant) {
        if let Some(CloseAction::ShutdownWrite) = self.transport.poll_close(now, false) {
            let _ = Pin::new(&mut self.io).poll_shutdown(cx);
        }
        if self.transport.is_lingering() && (self.read_closed || self.poll_discard(cx).is_ready()) {
            self.transport.handle_eof();
        }
    }
}

impl<IO, R: Runtime> Drop for Driver<IO, R> {
    fn drop(&mut self) {
        self.session.finish();
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin, R: Runtime> Future for Driver<IO, R> {
    type Output = Result<(), Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        for _ in 0..64 {
            let now = R::now();
            let mut progress = false;
            if let Some(signal) = this.shutdown.as_mut() {
                if signal.as_mut().poll(cx).is_ready() {
                    this.shutdown = None;
                    let _ = this.session.conn().shutdown(now);
                    progress = true;
                }
            }
            progress |= this.session.poll_commands(cx, now);
            progress |= this.read(cx, now);
            progress |= this.session.poll_inputs(&mut this.transport, now);
            // Handlers that answer at once are answered in this round's write.
            progress |= this.session.poll_handlers(cx, now);
            progress |= this.session.drive.flush(cx, &mut this.transport, now);
            match this.poll_write(cx, now) {
                Poll::Ready(Ok(w)) => progress |= w,
                Poll::Ready(Err(e)) => {
                    // The peer stopped reading: nothing more can be delivered.
                    let drive = &mut this.session.drive;
                    drive.write_failed(&mut this.transport, now, e);
                    return Poll::Ready(drive.take_error().map_or(Ok(()), Err));
                }
                Poll::Pending => {}
            }
            if this.transport.is_closing() {
                this.close_step(cx, now);
                if this.transport.is_done() {
                    return Poll::Ready(this.session.drive.take_error().map_or(Ok(()), Err));
                }
            }
            if let Some(deadline) = this.session.drive.poll_timeout(&this.transport) {
                if this.timer.poll_at(cx, deadline) {
                    // The clock again: the timer fired after this round's `now` was read, and
                    // a fired timer does not fire twice.
                    let now = R::now();
                    this.session.drive.handle_timeout(&mut this.transport, now);
                    progress = true;
                }
            }
            if !progress {
                return Poll::Pending;
            }
        }
        // Plenty done in one go: let other tasks run, then continue.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
