//! The socket under a connection: reads into one buffer, writes the shell's [`Transport`] queue
//! with vectored writes, and runs its close sequence (flush, FIN, linger).
//!
//! With TLS, a `rustls::Connection` sits between the socket and the buffers: reads go socket →
//! `read_tls` → `process_new_packets` → `reader()` → `read_buf`; the queue's `Bytes` go through
//! `writer()` (encrypted into rustls's bounded buffer, so backpressure still reaches the core)
//! and out with `write_tls`. Records rustls still holds count as the transport's lower layer.

use bytes::BytesMut;
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

/// One connection's socket, its TLS session if any, and its buffers.
pub(crate) struct Socket {
    pub(crate) io: Box<dyn Io>,
    tls: Option<rustls::Connection>,
    /// Our close_notify is queued, or the session failed: nothing more is encrypted.
    tls_closed: bool,
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
            tls,
            tls_closed: false,
            read_buf,
            read_closed: false,
            transport: Transport::new(),
        }
    }

    /// TLS: the protocol ALPN chose, once the handshake is done (`Some(None)`: none).
    pub(crate) fn alpn(&self) -> Option<Option<&[u8]>> {
        let tls = self.tls.as_ref()?;
        (!tls.is_handshaking()).then(|| tls.alpn_protocol())
    }

    /// One read into `read_buf`; true if bytes or EOF arrived (or, with TLS, the handshake
    /// moved on and may have output).
    pub(crate) fn read_some(&mut self, scratch: &mut [u8]) -> bool {
        if self.read_closed {
            return false;
        }
        if self.tls.is_some() {
            return self.read_tls(scratch);
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

    fn read_tls(&mut self, scratch: &mut [u8]) -> bool {
        let Some(tls) = self.tls.as_mut() else {
            return false;
        };
        let mut progress = false;
        // Bounded: a larger burst comes back at the next step (the caller loops on progress).
        for _ in 0..16 {
            // Plaintext already decrypted first: `read_tls` refuses to read while it is held.
            match tls.reader().read(scratch) {
                // close_notify (RFC 8446 §6.1): a clean end of the stream.
                Ok(0) => return self.eof(),
                Ok(n) => {
                    self.read_buf.extend_from_slice(&scratch[..n]);
                    return true;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => {
                    // TCP closed without close_notify (possibly truncated), or a failed session.
                    tracing::debug!("tls read: {e}");
                    return self.eof();
                }
            }
            match tls.read_tls(&mut self.io) {
                // Ok(0) is EOF: the reader then tells a clean close from a truncation.
                Ok(_) => {
                    progress = true;
                    if let Err(e) = tls.process_new_packets() {
                        // Its alert is queued: written by the next flush, then we close.
                        tracing::debug!("tls: {e}");
                        self.tls_closed = true;
                        return self.eof();
                    }
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

    /// TLS records rustls holds: below the transport's queue.
    fn lower_pending(&self) -> bool {
        self.tls.as_ref().is_some_and(|t| t.wants_write())
    }

    /// True while bytes wait to be written.
    pub(crate) fn pending_out(&self) -> bool {
        !self.transport.is_empty() || self.lower_pending()
    }

    /// Writes what is queued; Err when the peer can take nothing more.
    pub(crate) fn flush(&mut self) -> io::Result<bool> {
        let mut wrote = false;
        // Bounded: each round moves bytes or stops; 64 rounds of TLS is > 4 MiB.
        for _ in 0..64 {
            let mut slices = [IoSlice::new(&[]); 64];
            let n = self.transport.io_slices(&mut slices);
            let (n, moved) = match self.tls.as_mut() {
                None if n == 0 => break,
                None => match self.io.write_vectored(&slices[..n]) {
                    Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                    Ok(w) => (w, true),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) => return Err(e),
                },
                Some(tls) => {
                    // Ok(0): rustls's buffer is full until `write_tls` drains it.
                    let taken = if n > 0 && !self.tls_closed && !tls.is_handshaking() {
                        tls.writer().write_vectored(&slices[..n])?
                    } else {
                        0
                    };
                    if !tls.wants_write() {
                        (taken, false)
                    } else {
                        match tls.write_tls(&mut self.io) {
                            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                            Ok(_) => (taken, true),
                            Err(e) if e.kind() == io::ErrorKind::Interrupted => (taken, false),
                            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                                self.transport.advance(taken);
                                break;
                            }
                            Err(e) => return Err(e),
                        }
                    }
                }
            };
            self.transport.advance(n);
            wrote |= moved;
            if !moved && n == 0 {
                break;
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
        if self.transport.is_empty() && !self.tls_closed {
            if let Some(tls) = self.tls.as_mut() {
                self.tls_closed = true;
                tls.send_close_notify();
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
