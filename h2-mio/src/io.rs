//! The socket under a connection: reads into the shell's buffer, writes the shell's
//! [`Transport`] queue with vectored writes, and sends its FIN when the close sequence says.
//!
//! With TLS, the session's [`Records`] sit between the socket and the buffers: socket →
//! ciphertext → plaintext → `read_buf`, and the queue's `Bytes` → records → socket. How the
//! queue and the records are written to a non-blocking stream is `h2_http::std_io`'s and
//! the records' own; here is the readiness: when to read, and when the FIN goes. Records still to
//! be written count as the transport's lower layer.

use bytes::BytesMut;
use h2_http::body::Blocking;
use h2_http::shell::Shell;
use h2_http::std_io;
use h2_http::tls::{Received, Records};
use h2core::shell::{CloseAction, Transport};
use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::time::Instant;

/// A transport the loop can drive: a non-blocking socket registered with `mio`.
pub trait Io: Read + Write + mio::event::Source + Send {
    /// Closes our sending side (FIN) once everything is written.
    fn shutdown_write(&self) -> io::Result<()>;

    /// True if a read that returns fewer bytes than asked took everything queued at that
    /// moment, as on a stream socket (TCP, Unix): the loop then waits for the next
    /// readiness event instead of reading again to see `WouldBlock`. False by default: the
    /// loop reads until `WouldBlock`.
    fn short_read_drains(&self) -> bool {
        false
    }
}

impl Io for mio::net::TcpStream {
    fn shutdown_write(&self) -> io::Result<()> {
        self.shutdown(Shutdown::Write)
    }

    fn short_read_drains(&self) -> bool {
        true
    }
}

impl Io for mio::net::UnixStream {
    fn shutdown_write(&self) -> io::Result<()> {
        self.shutdown(Shutdown::Write)
    }

    fn short_read_drains(&self) -> bool {
        true
    }
}

/// What one read brought.
pub(crate) enum Got {
    /// Nothing now (it would block).
    Nothing,
    /// Bytes, or with TLS the handshake moved on (and may have output).
    Progress,
    /// The peer closed its side, or the socket failed.
    End,
}

/// One connection's socket and its TLS records if any; the buffers are the shell's.
pub(crate) struct Socket {
    pub(crate) io: Box<dyn Io>,
    tls: Option<Records>,
    /// Bytes may be waiting: false once a read found the socket's queue empty (`WouldBlock`,
    /// or a short read of an [`Io::short_read_drains`] socket), until the next readiness
    /// event. mio's readiness is edge-triggered: every arrival after that read raises a new
    /// event, so no byte is left unread, and the read that would only say `WouldBlock` is
    /// saved.
    readable: bool,
    /// A readiness event said the peer closed its side (or the socket failed): a short read
    /// then leaves the end of input still to read, and no later event would say so.
    closed: bool,
    /// The `Io`'s [`Io::short_read_drains`], asked once.
    short_read_drains: bool,
}

impl Socket {
    pub(crate) fn new(io: Box<dyn Io>, tls: Option<rustls::Connection>) -> Self {
        Socket {
            short_read_drains: io.short_read_drains(),
            io,
            tls: tls.map(Records::new),
            readable: true,
            closed: false,
        }
    }

    /// A readiness event for reading came (`closed`: it said the peer closed its side, or
    /// the socket failed).
    pub(crate) fn read_ready(&mut self, closed: bool) {
        self.readable = true;
        self.closed |= closed;
    }

    /// TLS: the protocol ALPN chose, once the handshake is done (`Some(None)`: none).
    pub(crate) fn alpn(&self) -> Option<Option<&[u8]>> {
        self.tls.as_ref()?.alpn()
    }

    /// One read into `read_buf` (through `scratch`, or TLS records); nothing while the
    /// socket is known to be empty ([`Socket::readable`]).
    pub(crate) fn read_some(&mut self, read_buf: &mut BytesMut, scratch: &mut [u8]) -> Got {
        if self.tls.is_some() {
            // Records may hold what a read brought: read until `WouldBlock`.
            return self.read_tls(read_buf);
        }
        if !self.readable {
            return Got::Nothing;
        }
        loop {
            match self.io.read(scratch) {
                Ok(0) => return Got::End,
                Ok(n) => {
                    read_buf.extend_from_slice(&scratch[..n]);
                    if n < scratch.len() && self.short_read_drains && !self.closed {
                        self.readable = false;
                    }
                    return Got::Progress;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.readable = false;
                    return Got::Nothing;
                }
                Err(e) => {
                    tracing::debug!("read: {e}");
                    return Got::End;
                }
            }
        }
    }

    /// TLS: records until plaintext, the end, or `WouldBlock` (`Records::read_available`).
    fn read_tls(&mut self, read_buf: &mut BytesMut) -> Got {
        let Some(tls) = self.tls.as_mut() else {
            return Got::Nothing;
        };
        match tls.read_available(&mut self.io, read_buf) {
            Ok(None) => Got::Nothing,
            Ok(Some(Received::Data(_) | Received::Records)) => Got::Progress,
            // A failed session's alert is queued: written by the next flush, then we close.
            Ok(Some(Received::CloseNotify | Received::Truncated | Received::Failed)) => Got::End,
            Err(e) => {
                tracing::debug!("read: {e}");
                Got::End
            }
        }
    }

    /// TLS records still to be written: below the transport's queue.
    fn lower_pending(&self) -> bool {
        self.tls.as_ref().is_some_and(Records::wants_write)
    }

    /// True while bytes wait to be written (`transport`: the queue above).
    pub(crate) fn pending_out(&self, transport: &Transport) -> bool {
        !transport.is_empty() || self.lower_pending()
    }

    /// Writes what `transport` queued (through the TLS records, if any); true if anything
    /// went out, Err when the peer can take nothing more.
    pub(crate) fn flush(&mut self, transport: &mut Transport) -> io::Result<bool> {
        match self.tls.as_mut() {
            Some(tls) => tls.flush_transport(transport, &mut self.io),
            None => std_io::write_transport(&mut self.io, transport),
        }
    }

    /// The close sequence, once the shell's transport is closing: close_notify (RFC 8446
    /// §6.1) when the queue is empty, so the peer can tell the end from a truncation; our FIN
    /// once everything is out (the shell then reads and drops what the peer still sends).
    /// True if the FIN went.
    pub(crate) fn close_step(&mut self, shell: &mut Shell<Blocking>, now: Instant) -> bool {
        if !shell.transport().is_closing() {
            return false;
        }
        if let Some(tls) = self.tls.as_mut() {
            tls.close_after(shell.transport());
        }
        let lower_pending = self.lower_pending();
        if let Some(CloseAction::ShutdownWrite) = shell.poll_close(now, lower_pending) {
            let _ = self.io.shutdown_write();
            return true;
        }
        false
    }
}
