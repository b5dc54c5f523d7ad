//! The task that owns one HTTP/2 connection: it moves bytes between the socket and the core,
//! through the shell's [`Transport`] (write queue, flush grace, FIN, linger), and keeps exactly
//! one timer. What the bytes mean to the user's streams is the session's (`session.rs`); no
//! HTTP/2 rule lives here.

use crate::command::Command;
use crate::rt::{Runtime, Sleep};
use crate::session::{RoleState, Session};
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
use std::time::Duration;
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
    sleep: R::Sleep,
    read_closed: bool,
    shutdown: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
    /// `read_buf` holds bytes read before the task existed (the sniffed preface and whatever
    /// came with it, or what followed a 101), not yet fed to the core.
    unparsed: bool,
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
            session: Session::new(conn, user_rx, role, shared),
            io,
            unparsed: !read_buf.is_empty(),
            read_buf,
            transport: Transport::new(),
            sleep: R::sleep_until(R::now() + Duration::from_secs(3600)),
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
        let shared = Arc::new(Shared::new(Default::default()));
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
        self.session.streams.upgrade_body(body);
    }

    /// The response on `stream` (stream 1 after an upgrade) goes to `tx`.
    pub(crate) fn expect_response(&mut self, stream: StreamId, tx: ReplyTx<Async>) {
        self.session.streams.expect_response(stream, tx);
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
    fn read(&mut self, cx: &mut Context<'_>) -> bool {
        let conn = self.session.conn();
        if self.unparsed {
            // Fed here, as one read, rather than when the task was made: the replies they
            // cause must be handed out (`poll_transmit`) before the next read queues more, or
            // they would count as unwritten against the flood limits.
            self.unparsed = false;
            let _ = conn.handle_input(R::now(), &mut self.read_buf);
            return true;
        }
        if !conn.wants_read() || self.read_closed || self.transport.is_lingering() {
            return false;
        }
        match self.poll_read(cx) {
            Poll::Ready(Ok(0)) => {
                self.read_closed = true;
                self.session.conn().handle_eof(R::now());
            }
            Poll::Ready(Ok(_)) => {
                let _ = self
                    .session
                    .conn()
                    .handle_input(R::now(), &mut self.read_buf);
            }
            Poll::Ready(Err(e)) => {
                self.read_closed = true;
                self.session.conn().handle_eof(R::now());
                self.session.error.get_or_insert(Error::Io(e));
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
    fn poll_write(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<bool>> {
        let mut wrote = false;
        loop {
            let _ = self.transport.pump(self.session.conn(), R::now());
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

    /// Moves the one timer to `deadline`; true if it has passed.
    fn timer(&mut self, cx: &mut Context<'_>, deadline: std::time::Instant) -> bool {
        if self.sleep.deadline() != deadline {
            self.sleep.reset(deadline);
        }
        Pin::new(&mut self.sleep).poll(cx).is_ready()
    }

    /// The close sequence once the protocol is over (RFC 9113 §6.8 seen from the socket);
    /// Ready when the socket may be dropped.
    fn poll_close(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if let Some(CloseAction::ShutdownWrite) = self.transport.poll_close(R::now(), false) {
            let _ = Pin::new(&mut self.io).poll_shutdown(cx);
        }
        if self.transport.is_lingering() && (self.read_closed || self.poll_discard(cx).is_ready()) {
            self.transport.handle_eof();
        }
        if let Some(deadline) = self.transport.poll_timeout() {
            if self.timer(cx, deadline) {
                self.transport.handle_timeout(R::now());
            }
        }
        if self.transport.is_done() {
            Poll::Ready(())
        } else {
            Poll::Pending
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
            let mut progress = false;
            if let Some(signal) = this.shutdown.as_mut() {
                if signal.as_mut().poll(cx).is_ready() {
                    this.shutdown = None;
                    let _ = this.session.conn().shutdown(R::now());
                    progress = true;
                }
            }
            progress |= this.session.poll_commands(cx, R::now());
            progress |= this.session.poll_bodies(cx);
            progress |= this.read(cx);
            while let Some(e) = this.session.conn().poll_event() {
                this.transport.observe(&this.session.streams.conn, &e);
                this.session.event(e);
                progress = true;
            }
            if this.session.poll_handlers(cx, R::now()) {
                // Their bodies start now, so that what is ready goes out in this write.
                this.session.poll_bodies(cx);
                progress = true;
            }
            match this.poll_write(cx) {
                Poll::Ready(Ok(w)) => progress |= w,
                Poll::Ready(Err(e)) => {
                    // The peer stopped reading: nothing more can be delivered.
                    this.transport.handle_write_error();
                    this.session.conn().handle_eof(R::now());
                    while let Some(ev) = this.session.conn().poll_event() {
                        this.session.event(ev);
                    }
                    return Poll::Ready(Err(this.session.error.take().unwrap_or(Error::Io(e))));
                }
                Poll::Pending => {}
            }
            this.session.cleanup();
            if this.transport.is_closing() {
                if this.poll_close(cx).is_ready() {
                    return Poll::Ready(this.session.error.take().map_or(Ok(()), Err));
                }
            } else if let Some(deadline) = this.session.conn().poll_timeout() {
                if this.timer(cx, deadline) {
                    this.session.conn().handle_timeout(R::now());
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
