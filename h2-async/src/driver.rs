//! The task that owns one connection from accept to close: it moves bytes between the socket
//! and the connection's shell (`h2_http::shell`: deciding what it speaks, HTTP/1.1, `Upgrade:
//! h2c`, HTTP/2, the write queue and close sequence) and keeps exactly one timer. What the
//! connection means to the user's streams and handlers is the session's (`session.rs`); no
//! HTTP rule lives here.

use crate::rt::{Runtime, Timer};
use crate::session::{Command, RoleState, Session, Start};
use crate::shared::Shared;
use bytes::BufMut;
use bytes::BytesMut;
use h2_http::body::Async;
use h2_http::reply::ReplyTx;
use h2_http::Error;
use h2core::shell::{Accept, CloseAction, ReadBlocks};
use h2core::{Connection, StreamId};
use std::future::Future;
use std::io::IoSlice;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;

/// One connection's task. Await it (or spawn it); it ends when the connection is closed.
pub struct Driver<IO, R: Runtime> {
    session: Session,
    io: IO,
    timer: Timer<R::Sleep>,
    /// A client's: where each read goes in the shell's read buffer (`ReadBlocks`: a download
    /// reuses blocks of several reads). Not a server's: a peer that placed one small DATA frame
    /// in each block would keep a whole block (81 KiB) alive per payload, where a plain
    /// reservation keeps one read's 16 KiB.
    blocks: Option<ReadBlocks>,
    /// A client's: the readers of the bodies a poll fills are woken once, when it ends. Not
    /// a server's, whose handlers this task polls itself (`Session::poll_handlers`): one
    /// woken by a delivery must be polled in the same round, before the connection may end.
    batch_wakes: bool,
    shutdown: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
}

impl<IO: AsyncRead + AsyncWrite + Unpin, R: Runtime> Driver<IO, R> {
    /// A connection speaking HTTP/2 from the start, whose first received bytes (after a 101)
    /// may already be in `read_buf`.
    pub(crate) fn new(
        conn: Connection,
        io: IO,
        read_buf: BytesMut,
        user_rx: mpsc::UnboundedReceiver<Command>,
        role: RoleState,
        shared: Arc<Shared>,
    ) -> Driver<IO, R> {
        let client = matches!(role, RoleState::Client { .. });
        let session = Session::new(Start::Http2(conn), read_buf, user_rx, role, shared);
        let mut driver = Driver::with(session, io);
        driver.batch_wakes = client;
        driver.blocks = client.then(ReadBlocks::new);
        driver
    }

    fn with(session: Session, io: IO) -> Driver<IO, R> {
        Driver {
            session,
            io,
            timer: Timer::new(R::sleep_until(R::now() + Duration::from_secs(3600))),
            blocks: None,
            batch_wakes: false,
            shutdown: None,
        }
    }

    /// A server connection task, accepted (`accept` decides what it speaks) or speaking
    /// HTTP/2 by prior knowledge; it takes no user commands (the sender is dropped at once).
    pub(crate) fn server(start: Start, io: IO, handler: crate::handler::Handler) -> Driver<IO, R> {
        let (_tx, rx) = mpsc::unbounded_channel();
        let role = RoleState::Server { handler };
        let shared = Arc::new(Shared::default());
        Driver::with(Session::new(start, BytesMut::new(), rx, role, shared), io)
    }

    /// A server connection accepted over TLS, whose handshake chose `alpn` (RFC 9113 §3.2).
    pub(crate) fn tls(
        accept: Accept,
        io: IO,
        handler: crate::handler::Handler,
        alpn: Option<&[u8]>,
    ) -> Driver<IO, R> {
        let mut driver = Driver::server(Start::Accept(accept), io, handler);
        driver.session.shell.tls_handshake_done(R::now(), alpn);
        driver
    }

    /// The response on `stream` (stream 1 after an upgrade) goes to `tx`.
    pub(crate) fn expect_response(&mut self, stream: StreamId, tx: ReplyTx<Async>) {
        if let Some(drive) = self.session.shell.drive() {
            drive.session.expect_response(stream, tx);
        }
    }

    /// Start a graceful shutdown when `signal` completes.
    pub(crate) fn shutdown_on(&mut self, signal: impl Future<Output = ()> + Send + 'static) {
        self.shutdown = Some(Box::pin(signal));
    }

    /// Reads while the shell wants bytes; true if anything arrived (or the input ended).
    fn read(&mut self, cx: &mut Context<'_>) -> bool {
        let shell = &mut self.session.shell;
        if !shell.wants_read() {
            return false;
        }
        // Into the buffer's spare capacity as it is: zeroing 16 KiB before every read cost
        // more than the HPACK decoding of the requests it carries. At most READ_CHUNK per read
        // (see its doc), though a busy connection's block holds several.
        let buf = shell.read_buf();
        match self.blocks.as_mut() {
            Some(blocks) => blocks.reserve(buf),
            None => buf.reserve(h2core::shell::READ_CHUNK),
        }
        let mut limited = buf.limit(h2core::shell::READ_CHUNK);
        match tokio_util::io::poll_read_buf(Pin::new(&mut self.io), cx, &mut limited) {
            Poll::Ready(Ok(0)) => shell.handle_eof(None),
            Poll::Ready(Ok(n)) => self.blocks.iter_mut().for_each(|b| b.read(n)),
            Poll::Ready(Err(e)) => shell.handle_eof(Some(e)),
            Poll::Pending => {
                if let Some(blocks) = self.blocks.as_mut() {
                    let streams = shell
                        .drive()
                        .is_some_and(|d| d.conn().active_streams() != (0, 0));
                    blocks.drained(shell.read_buf(), streams);
                }
                return false;
            }
        }
        true
    }

    /// Writes what the shell has queued, refilled from the core as it empties (the core's
    /// flood limits count a batch unwritten until the next is taken); Ready(Ok(true)) if
    /// anything was written.
    fn poll_write(&mut self, cx: &mut Context<'_>, now: Instant) -> Poll<std::io::Result<bool>> {
        let shell = &mut self.session.shell;
        let mut wrote = false;
        loop {
            if shell.transport().is_empty() && !shell.refill(now) {
                return Poll::Ready(Ok(wrote));
            }
            let mut slices = [IoSlice::new(&[]); h2core::shell::WRITE_SLICES];
            let n = shell.transport().io_slices(&mut slices);
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
            shell.transport().advance(n);
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

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if this.batch_wakes {
            h2_http::body::batch_reader_wakes(|| this.poll_rounds(cx))
        } else {
            this.poll_rounds(cx)
        }
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin, R: Runtime> Driver<IO, R> {
    /// Rounds of reading, handling and writing until nothing progresses (or enough was done).
    fn poll_rounds(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let this = self;
        for _ in 0..64 {
            let now = R::now();
            let mut progress = false;
            if let Some(signal) = this.shutdown.as_mut() {
                if signal.as_mut().poll(cx).is_ready() {
                    this.shutdown = None;
                    this.session.shell.shutdown(now);
                    progress = true;
                }
            }
            progress |= this.session.poll_commands(cx, now);
            progress |= this.read(cx);
            progress |= this.session.poll_inputs(cx, now);
            // Handlers that answer at once are answered in this round's write.
            progress |= this.session.poll_handlers(cx, now);
            progress |= this.session.shell.flush(now, cx);
            match this.poll_write(cx, now) {
                Poll::Ready(Ok(w)) => progress |= w,
                Poll::Ready(Err(e)) => {
                    // The peer stopped reading: nothing more can be delivered.
                    let shell = &mut this.session.shell;
                    shell.write_failed(now, e);
                    return Poll::Ready(shell.take_error().map_or(Ok(()), Err));
                }
                Poll::Pending => {}
            }
            let shell = &mut this.session.shell;
            if let Some(CloseAction::ShutdownWrite) = shell.poll_close(now, false) {
                // Our FIN; the shell then drops what the peer still sends (lingering).
                let _ = Pin::new(&mut this.io).poll_shutdown(cx);
                progress = true;
            }
            if shell.is_done() {
                return Poll::Ready(shell.take_error().map_or(Ok(()), Err));
            }
            if let Some(deadline) = shell.poll_timeout() {
                if this.timer.poll_at(cx, deadline) {
                    // The clock again: the timer fired after this round's `now` was read, and
                    // a fired timer does not fire twice.
                    shell.handle_timeout(R::now());
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
