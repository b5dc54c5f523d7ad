//! TLS records under a connection, without sockets (RFC 8446 §5): ciphertext in, plaintext
//! out; plaintext in, ciphertext out. An adapter moves bytes between its socket and
//! [`Records`]; every rule about the records themselves is here, written once:
//! - plaintext is taken before more ciphertext is read (rustls refuses input while it holds a
//!   full buffer of plaintext), at most [`READ_CHUNK`] at a time, as for a cleartext read;
//! - plaintext is not handed to rustls while the handshake runs: it stays in the caller's
//!   queue, where the connection's backpressure counts it, instead of a copy inside rustls;
//! - rustls encrypts into a bounded buffer (64 KiB), so a peer that does not read stops the
//!   writer at that bound; what rustls still holds is output the caller must count as pending
//!   ([`Records::wants_write`]) before it closes;
//! - a record that fails (RFC 8446 §6.2) queues rustls's alert: written before the close, so the
//!   peer learns why; nothing is encrypted after it;
//! - the end: close_notify (RFC 8446 §6.1) is queued once, after the last plaintext, so the
//!   peer can tell the end from a truncation; a peer's close_notify is a clean end of input, an
//!   EOF without it a truncated one.

use bytes::BytesMut;
use h2core::shell::{Transport, READ_CHUNK};
use rustls::Connection;
use std::io::{self, BufRead, IoSlice, Read, Write};

/// What one [`Records::read_from`] found (RFC 8446 §5: records in, plaintext out).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Received {
    /// This many bytes of plaintext were appended to the caller's buffer.
    Data(usize),
    /// Ciphertext was taken but no plaintext came of it yet (a handshake message, or part of a
    /// record): the handshake may have moved on, so output may be due and ALPN known.
    Records,
    /// The peer's close_notify (RFC 8446 §6.1), after all its plaintext: a clean end of input.
    CloseNotify,
    /// The transport ended without close_notify: possibly truncated (RFC 8446 §6.1).
    Truncated,
    /// A record or handshake message failed (RFC 8446 §6.2): rustls's alert is queued
    /// ([`Records::wants_write`]) and nothing more is encrypted or read.
    Failed,
}

/// One TLS session's records (RFC 8446 §5; a rustls client or server connection), driven
/// without I/O: input through [`Records::read_from`], output through
/// [`Records::write_plaintext`] and [`Records::write_to`], the end through
/// [`Records::close_notify`], the protocol ALPN chose (RFC 7301) through [`Records::alpn`].
/// The readers and writers are the caller's (a socket, or memory in tests); `WouldBlock`
/// from them passes through.
pub struct Records {
    session: Connection,
    /// Our close_notify is queued, or the session failed: nothing more is encrypted.
    sealed: bool,
    /// A record failed: nothing more is read either.
    failed: bool,
}

impl Records {
    /// Records over a rustls session, before or after its handshake.
    pub fn new(session: impl Into<Connection>) -> Records {
        Records {
            session: session.into(),
            sealed: false,
            failed: false,
        }
    }

    /// The rustls session (certificates, negotiated versions).
    pub fn session(&self) -> &Connection {
        &self.session
    }

    /// The protocol ALPN chose (RFC 7301 §3.2) once the handshake is done: `Some(None)` when
    /// none was; `None` while the handshake runs.
    pub fn alpn(&self) -> Option<Option<&[u8]>> {
        (!self.session.is_handshaking()).then(|| self.session.alpn_protocol())
    }

    /// Input: appends the next plaintext to `buf` (at most [`READ_CHUNK`]), reading one batch
    /// of ciphertext from `from` first if none is decrypted yet. `from`'s errors are returned
    /// as they are (`WouldBlock`: nothing to read now).
    pub fn read_from(&mut self, from: &mut dyn Read, buf: &mut BytesMut) -> io::Result<Received> {
        if self.failed {
            return Ok(Received::Failed);
        }
        if let Some(plain) = self.take_plaintext(buf) {
            return Ok(plain);
        }
        // Ok(0) is the transport's EOF: the reader then tells a clean end from a truncation.
        self.session.read_tls(from)?;
        if let Err(e) = self.session.process_new_packets() {
            tracing::debug!("tls: {e}");
            self.failed = true;
            self.sealed = true;
            return Ok(Received::Failed);
        }
        Ok(self.take_plaintext(buf).unwrap_or(Received::Records))
    }

    /// Decrypted plaintext, or the end; `None` if rustls holds nothing yet.
    fn take_plaintext(&mut self, buf: &mut BytesMut) -> Option<Received> {
        let mut reader = self.session.reader();
        match reader.fill_buf() {
            Ok([]) => Some(Received::CloseNotify),
            Ok(chunk) => {
                // One copy, from rustls's buffer into the connection's: the frames are then
                // split off `buf` without another.
                let n = chunk.len().min(READ_CHUNK);
                buf.extend_from_slice(&chunk[..n]);
                reader.consume(n);
                Some(Received::Data(n))
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => None,
            Err(e) => {
                tracing::debug!("tls read: {e}");
                Some(Received::Truncated)
            }
        }
    }

    /// Output: encrypts what rustls's buffer takes of `data` and returns how much that was.
    /// `Ok(0)` while the handshake runs, once the session is sealed (close_notify queued, or
    /// failed), or while the buffer is full: [`Records::write_to`] drains it.
    pub fn write_plaintext(&mut self, data: &[IoSlice<'_>]) -> io::Result<usize> {
        if data.is_empty() || self.sealed || self.session.is_handshaking() {
            return Ok(0);
        }
        self.session.writer().write_vectored(data)
    }

    /// True once nothing more is encrypted (close_notify queued, or the session failed):
    /// plaintext still queued above can never go out.
    pub fn is_sealed(&self) -> bool {
        self.sealed
    }

    /// True while records (handshake, application data, an alert, close_notify) wait to be
    /// written: output the connection still has pending, so its close waits for them.
    pub fn wants_write(&self) -> bool {
        self.session.wants_write()
    }

    /// Output: writes records to `to`; `to`'s errors are returned as they are.
    pub fn write_to(&mut self, to: &mut dyn Write) -> io::Result<usize> {
        self.session.write_tls(to)
    }

    /// Input from a non-blocking reader: [`Records::read_from`] again while it brings only
    /// records, until plaintext or the end comes (returned), or `from` would block: then
    /// `Some(Records)` if records came before, `None` if nothing did. Bounded: a longer burst
    /// is left for the next call. `from`'s other errors are returned (`Interrupted` is retried).
    pub fn read_available(
        &mut self,
        from: &mut dyn Read,
        buf: &mut BytesMut,
    ) -> io::Result<Option<Received>> {
        let mut got = None;
        for _ in 0..16 {
            match self.read_from(from, buf) {
                Ok(Received::Records) => got = Some(Received::Records),
                Ok(end) => return Ok(Some(end)),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            }
        }
        Ok(got)
    }

    /// Output to a non-blocking writer: `queue`'s plaintext encrypted as rustls's bounded
    /// buffer takes it, and the records written to `to`, until `to` would block or nothing is
    /// left; true if records went out. Once sealed, what `queue` still holds can never go out:
    /// it is dropped, so a close waits only for the records (an alert, close_notify).
    /// `to`'s errors are returned (`Interrupted` is retried; `WriteZero` if it takes nothing).
    pub fn flush_transport(
        &mut self,
        queue: &mut Transport,
        to: &mut dyn Write,
    ) -> io::Result<bool> {
        if self.sealed {
            queue.advance(queue.queued());
        }
        let mut wrote = false;
        // Bounded: 64 rounds of at least a record each is > 1 MiB.
        for _ in 0..64 {
            let mut slices = [IoSlice::new(&[]); 64];
            let n = queue.io_slices(&mut slices);
            let taken = self.write_plaintext(&slices[..n])?;
            queue.advance(taken);
            if !self.wants_write() {
                break;
            }
            match self.write_to(to) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(_) => wrote = true,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            }
        }
        Ok(wrote)
    }

    /// The close sequence's TLS step: once `queue` is closing and empty (the last plaintext
    /// encrypted), queues close_notify (RFC 8446 §6.1), so the peer can tell the end from a
    /// truncation.
    pub fn close_after(&mut self, queue: &Transport) {
        if queue.is_closing() && queue.is_empty() {
            self.close_notify();
        }
    }

    /// Queues close_notify (RFC 8446 §6.1) once, after what was already encrypted; nothing is
    /// encrypted after it.
    pub fn close_notify(&mut self) {
        if !self.sealed {
            self.sealed = true;
            self.session.send_close_notify();
        }
    }
}

impl std::fmt::Debug for Records {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Records")
            .field("handshaking", &self.session.is_handshaking())
            .field("sealed", &self.sealed)
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
#[path = "records_tests.rs"]
mod tests;
