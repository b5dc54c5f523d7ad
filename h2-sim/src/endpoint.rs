//! One end of the connection: a `Connection`, the shell's `Transport` (the write queue and the
//! close sequence), a read buffer, and the bytes the link delivered and the endpoint has not
//! read yet (the socket's receive buffer). [`Endpoint::turn`] follows the adapter's contract
//! documented on `h2core::Connection`, in the order of `h2-async`'s driver: commands, read,
//! events, commands they caused, write, then the close sequence or the one timer.

use crate::app::{App, Now};
use crate::link::{Arrival, Pipe};
use crate::tap::{FrameRecord, FrameTap};
use bytes::{Bytes, BytesMut};
use h2core::shell::{CloseAction, Transport, READ_CHUNK};
use h2core::Connection;
use std::collections::VecDeque;
use std::io::IoSlice;
use std::time::Duration;

/// Slices handed to one vectored write, as the adapters do.
const MAX_SLICES: usize = 64;

/// A turn stops repeating after this many rounds even if each made progress, as a driver
/// yields; the simulation calls it again at the same virtual time.
const MAX_ROUNDS: usize = 64;

#[derive(Debug)]
pub(crate) struct Endpoint {
    pub(crate) conn: Connection,
    transport: Transport,
    read_buf: BytesMut,
    /// Delivered by the link, not yet read.
    inbox: VecDeque<Bytes>,
    /// The peer's FIN arrived (after everything in `inbox`).
    peer_fin: bool,
    /// Nothing more is read: end of file or a transport error was reported.
    read_closed: bool,
    /// Taps what this endpoint writes to the link.
    tap: FrameTap,
    /// Frames written since the simulation last took them.
    pub(crate) sent: Vec<FrameRecord>,
    /// The most bytes held at once (application, core and transport), see `SideReport`.
    pub(crate) peak_buffered: usize,
    /// Streams found ready with the transport empty: (time, stream).
    pub(crate) stalls: Vec<(Duration, u32)>,
}

impl Endpoint {
    pub(crate) fn new(conn: Connection, tap: FrameTap) -> Endpoint {
        Endpoint {
            conn,
            transport: Transport::new(),
            read_buf: BytesMut::new(),
            inbox: VecDeque::new(),
            peer_fin: false,
            read_closed: false,
            tap,
            sent: Vec::new(),
            peak_buffered: 0,
            stalls: Vec::new(),
        }
    }

    /// The link delivered `arrival`.
    pub(crate) fn receive(&mut self, arrival: Arrival) {
        match arrival {
            Arrival::Bytes(b) => self.inbox.push_back(b),
            Arrival::Fin => self.peer_fin = true,
        }
    }

    /// The transport failed (a reset): writes and reads error from now on. As a driver does
    /// on a write error: drop the write queue, tell the connection, hand its last events to
    /// the application.
    pub(crate) fn transport_failed<A: App>(&mut self, app: &mut A, now: Now) {
        self.transport.handle_write_error();
        self.inbox.clear();
        if !self.read_closed {
            self.read_closed = true;
            self.conn.handle_eof(now.at);
        }
        while let Some(event) = self.conn.poll_event() {
            app.event(&mut self.conn, event, now);
        }
    }

    /// One turn at `now`, repeated while it makes progress; true if anything happened.
    pub(crate) fn turn<A: App>(&mut self, app: &mut A, out: &mut Pipe, now: Now) -> bool {
        let mut any = false;
        for _ in 0..MAX_ROUNDS {
            if self.transport.is_done() {
                break;
            }
            let mut progress = app.poll(&mut self.conn, now);
            progress |= self.read(now);
            while let Some(event) = self.conn.poll_event() {
                self.transport.observe(&self.conn, &event);
                app.event(&mut self.conn, event, now);
                progress = true;
            }
            progress |= app.poll(&mut self.conn, now);
            let (wrote, drained) = self.write(out, now);
            progress |= wrote;
            if drained {
                // The core was just asked for output and had none: a stream that could send
                // now would wait for no reason.
                let stalled = app.stalled(&self.conn);
                self.stalls
                    .extend(stalled.into_iter().map(|id| (now.t, id)));
            }
            if self.transport.is_closing() {
                progress |= self.close(out, now);
            } else if self.conn.poll_timeout().is_some_and(|d| d <= now.at) {
                self.conn.handle_timeout(now.at);
                progress = true;
            }
            if !progress {
                break;
            }
            any = true;
        }
        let held = app.held(&self.conn) + self.conn.queued_output() + self.transport.queued();
        self.peak_buffered = self.peak_buffered.max(held);
        any
    }

    /// When this endpoint next needs a turn without any arrival: its one timer.
    pub(crate) fn deadline(&self) -> Option<std::time::Instant> {
        if self.transport.is_done() {
            None
        } else if self.transport.is_closing() {
            self.transport.poll_timeout()
        } else {
            self.conn.poll_timeout()
        }
    }

    /// Reads what was delivered, one `READ_CHUNK` at a time, while the core wants it.
    fn read(&mut self, now: Now) -> bool {
        if self.read_closed {
            return false;
        }
        if self.transport.is_lingering() {
            // Read and drop until the peer's FIN.
            let had = !self.inbox.is_empty();
            self.inbox.clear();
            if self.peer_fin {
                self.read_closed = true;
                self.transport.handle_eof();
                return true;
            }
            return had;
        }
        if !self.conn.wants_read() {
            return false;
        }
        if self.inbox.is_empty() {
            if self.peer_fin {
                self.read_closed = true;
                self.conn.handle_eof(now.at);
                return true;
            }
            return false;
        }
        let mut room = READ_CHUNK;
        while room > 0 {
            let Some(front) = self.inbox.front_mut() else {
                break;
            };
            let n = room.min(front.len());
            self.read_buf.extend_from_slice(&front[..n]);
            room -= n;
            if n == front.len() {
                self.inbox.pop_front();
            } else {
                let _ = front.split_to(n);
            }
        }
        // A connection error is reported as events and its GOAWAY is queued: nothing to do here.
        let _ = self.conn.handle_input(now.at, &mut self.read_buf);
        true
    }

    /// Hands the core's output to the link until the link's queue is full or nothing is left.
    /// Returns whether anything was written, and whether the core was asked and had nothing
    /// more (while the connection is open).
    fn write(&mut self, out: &mut Pipe, now: Now) -> (bool, bool) {
        let mut wrote = false;
        loop {
            let _ = self.transport.pump(&mut self.conn, now.at);
            if self.transport.is_empty() {
                return (wrote, !self.transport.is_closing());
            }
            let mut slices = [IoSlice::new(&[]); MAX_SLICES];
            let n = self.transport.io_slices(&mut slices);
            let mut written = 0;
            for s in &slices[..n] {
                let k = out.write(now.t, s);
                self.tap.feed(now.t, &s[..k], &mut self.sent);
                written += k;
                if k < s.len() {
                    break;
                }
            }
            if written == 0 {
                return (wrote, false);
            }
            self.transport.advance(written);
            wrote = true;
        }
    }

    /// The close sequence once the protocol is over: FIN once flushed, linger, done.
    fn close(&mut self, out: &mut Pipe, now: Now) -> bool {
        let mut progress = false;
        if let Some(CloseAction::ShutdownWrite) = self.transport.poll_close(now.at, false) {
            out.shutdown(now.t);
            progress = true;
        }
        if self.transport.poll_timeout().is_some_and(|d| d <= now.at) {
            self.transport.handle_timeout(now.at);
            progress = true;
        }
        progress
    }
}
