//! The socket under a connection: reads into one buffer, writes the shell's [`Transport`] queue
//! with vectored writes, and runs its close sequence (flush, FIN, linger).
//!
//! With TLS, the session's [`Records`] sit between the socket and the buffers: socket →
//! ciphertext → plaintext → `read_buf`, and the queue's `Bytes` → records → socket. The rules
//! of the records (plaintext first, bounded encryption, alerts, close_notify) are theirs; this
//! module only moves bytes. Records still to be written count as the transport's lower layer.

use bytes::BytesMut;
use h2_http::tls::{Received, Records};
use h2core::shell::{CloseAction, Transport};
use std::io::{self, IoSlice, Read, Write};
use std::net::Shutdown;
use std::time::Instant;

/// A transport the loop can drive: a non-blocking socket registered with `mio`.
pub trait Io: Read + Write + mio::event::Source + Send {
    /// Closes our sending side (FIN) once everything is written.
    fn shutdown_write(&self) -> io::Result<()>;
}

impl Io for mio::net::TcpStream {
    fn shutdown_write(&self) -> io::Result<()> {
        self.shutdown(Shutdown::Write)
    }
}

impl Io for mio::net::UnixStream {
    fn shutdown_write(&self) -> io::Result<()> {
        self.shutdown(Shutdown::Write)
    }
}

/// One connection's socket, its TLS records if any, and its buffers.
pub(crate) struct Socket {
    pub(crate) io: Box<dyn Io>,
    tls: Option<Records>,
    pub(crate) read_buf: BytesMut,
    pub(crate) read_closed: bool,
    pub(crate) transport: Transport,
}

impl Socket {
    pub(crate) fn new(
        io: Box<dyn Io>,
        tls: Option<rustls::Connection>,
        read_buf: BytesMut,
    ) -> Self {
        Socket {
            io,
            tls: tls.map(Records::new),
            read_buf,
            read_closed: false,
            transport: Transport::new(),
        }
    }

    /// TLS: the protocol ALPN chose, once the handshake is done (`Some(None)`: none).
    pub(crate) fn alpn(&self) -> Option<Option<&[u8]>> {
        self.tls.as_ref()?.alpn()
    }

    /// One read into `read_buf`; true if bytes or EOF arrived (or, with TLS, the handshake
    /// moved on and may have output).
    pub(crate) fn read_some(&mut self, scratch: &mut [u8]) -> bool {
        if self.read_closed {
            return false;
        }
        if self.tls.is_some() {
            return self.read_tls();
        }
        loop {
            match self.io.read(scratch) {
                Ok(0) => return self.eof(),
                Ok(n) => {
                    self.read_buf.extend_from_slice(&scratch[..n]);
                    return true;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return false,
                Err(e) => {
                    tracing::debug!("read: {e}");
                    return self.eof();
                }
            }
        }
    }

    fn eof(&mut self) -> bool {
        self.read_closed = true;
        true
    }

    fn read_tls(&mut self) -> bool {
        let Some(tls) = self.tls.as_mut() else {
            return false;
        };
        let mut progress = false;
        // Bounded: a larger burst comes back at the next step (the caller loops on progress).
        for _ in 0..16 {
            match tls.read_from(&mut self.io, &mut self.read_buf) {
                Ok(Received::Data(_)) => return true,
                Ok(Received::Records) => progress = true,
                // A failed session's alert is queued: written by the next flush, then we close.
                Ok(Received::CloseNotify | Received::Truncated | Received::Failed) => {
                    return self.eof()
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return progress,
                Err(e) => {
                    tracing::debug!("read: {e}");
                    return self.eof();
                }
            }
        }
        progress
    }

    /// TLS records still to be written: below the transport's queue.
    fn lower_pending(&self) -> bool {
        self.tls.as_ref().is_some_and(Records::wants_write)
    }

    /// True while bytes wait to be written.
    pub(crate) fn pending_out(&self) -> bool {
        !self.transport.is_empty() || self.lower_pending()
    }

    /// Writes what is queued; Err when the peer can take nothing more.
    pub(crate) fn flush(&mut self) -> io::Result<bool> {
        if self.tls.is_some() {
            return self.flush_tls();
        }
        let mut wrote = false;
        // Bounded: each round moves bytes or stops.
        for _ in 0..64 {
            let mut slices = [IoSlice::new(&[]); 64];
            let n = self.transport.io_slices(&mut slices);
            if n == 0 {
                break;
            }
            match self.io.write_vectored(&slices[..n]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(w) => {
                    self.transport.advance(w);
                    wrote = true;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            }
        }
        Ok(wrote)
    }

    /// The queue into the records (as much as their bounded buffer takes), the records out.
    fn flush_tls(&mut self) -> io::Result<bool> {
        let Some(tls) = self.tls.as_mut() else {
            return Ok(false);
        };
        if tls.is_sealed() {
            // Nothing more is encrypted: what is queued can never go out. Dropped, so the
            // close waits only for the records (an alert, close_notify), then lingers.
            self.transport.advance(self.transport.queued());
        }
        let mut wrote = false;
        // Bounded: 64 rounds of at least a record each is > 1 MiB.
        for _ in 0..64 {
            let mut slices = [IoSlice::new(&[]); 64];
            let n = self.transport.io_slices(&mut slices);
            let taken = tls.write_plaintext(&slices[..n])?;
            self.transport.advance(taken);
            if !tls.wants_write() {
                break;
            }
            match tls.write_to(&mut self.io) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(_) => wrote = true,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            }
        }
        Ok(wrote)
    }

    /// The close sequence, once the transport is closing: close_notify (RFC 8446 §6.1) when
    /// the queue is empty, so the peer can tell the end from a truncation; our FIN once
    /// everything is out; then what the peer still sends is read and dropped (lingering).
    pub(crate) fn close_step(&mut self, now: Instant, scratch: &mut [u8]) {
        if !self.transport.is_closing() {
            return;
        }
        if self.transport.is_empty() {
            if let Some(tls) = self.tls.as_mut() {
                tls.close_notify();
            }
        }
        if let Some(CloseAction::ShutdownWrite) =
            self.transport.poll_close(now, self.lower_pending())
        {
            let _ = self.io.shutdown_write();
        }
        if self.transport.is_lingering() {
            while !self.read_closed && self.read_some(scratch) {
                self.read_buf.clear();
            }
            if self.read_closed {
                self.transport.handle_eof();
            }
        }
    }
}
