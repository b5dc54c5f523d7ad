//! What a scenario drives: the connection under test, behind the [`Harness`] trait.

use bytes::{Bytes, BytesMut};
use h2core::frame::PrioritySpec;
use h2core::{Config, Connection, Event, Header, Reason, SettingsValues, StreamId, UserError};
use std::time::{Duration, Instant};

/// Something the application does.
#[derive(Debug, Clone)]
pub enum AppCommand {
    /// `send_request`.
    SendRequest(Vec<Header>, bool),
    /// `send_response` on a stream.
    SendResponse(u32, Vec<Header>, bool),
    /// `send_informational` (1xx).
    SendInformational(u32, Vec<Header>),
    /// `send_data`.
    SendData(u32, Bytes, bool),
    /// `send_trailers`.
    SendTrailers(u32, Vec<Header>),
    /// `push_promise` on a parent stream.
    PushPromise(u32, Vec<Header>),
    /// `reset`.
    Reset(u32, Reason),
    /// `release_capacity`.
    ReleaseCapacity(u32, usize),
    /// `stop_receiving`.
    StopReceiving(u32),
    /// `set_deadline`, this long from now.
    SetDeadline(u32, Duration),
    /// `ping`.
    Ping([u8; 8]),
    /// `shutdown` (graceful).
    Shutdown,
    /// `go_away` (immediate).
    GoAway(Reason),
    /// `update_settings`.
    UpdateSettings(SettingsValues),
    /// `set_priority`.
    SetPriority(u32, u32, u8, bool),
    /// `update_priority`: stream, urgency, incremental.
    UpdatePriority(u32, u8, bool),
    /// `send_extension_frame`.
    SendExtension(u8, u8, u32, Bytes),
}

/// What a command must return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppResult {
    /// Success.
    Ok,
    /// A `UserError` (and nothing sent).
    UserError,
}

/// The connection under test, as a scenario sees it.
pub trait Harness {
    /// The peer's bytes arrive.
    fn peer_send(&mut self, bytes: Bytes);
    /// The peer closes its side.
    fn peer_eof(&mut self);
    /// The application issues a command; `Err` carries the `UserError` text.
    fn app(&mut self, cmd: &AppCommand) -> Result<(), String>;
    /// Time passes (timers fire).
    fn advance(&mut self, d: Duration);
    /// All bytes we wrote since the last call.
    fn take_sent(&mut self) -> Bytes;
    /// All events since the last call.
    fn take_events(&mut self) -> Vec<Event>;
    /// True once the connection is over.
    fn is_closed(&mut self) -> bool;
    /// The peer stops (`false`) or resumes (`true`) reading what we write. Returns false if
    /// this harness cannot emulate it (the scenario then ends at that step).
    fn set_peer_reading(&mut self, reading: bool) -> bool {
        let _ = reading;
        false
    }
}

/// Carries out `cmd` on `conn`: the one mapping from scenario commands to the core's API, used
/// by every harness (adapters run it inside their connection task).
pub fn apply(conn: &mut Connection, cmd: &AppCommand, now: Instant) -> Result<(), UserError> {
    let c = conn;
    let id = StreamId::new;
    match cmd.clone() {
        AppCommand::SendRequest(h, es) => c.send_request(h, es).map(|_| ()),
        AppCommand::SendResponse(s, h, es) => c.send_response(id(s), h, es),
        AppCommand::SendInformational(s, h) => c.send_informational(id(s), h),
        AppCommand::SendData(s, d, es) => c.send_data(id(s), d, es),
        AppCommand::SendTrailers(s, h) => c.send_trailers(id(s), h),
        AppCommand::PushPromise(s, h) => c.push_promise(id(s), h).map(|_| ()),
        AppCommand::Reset(s, r) => c.reset(id(s), r),
        AppCommand::ReleaseCapacity(s, n) => {
            c.release_capacity(id(s), n);
            Ok(())
        }
        AppCommand::StopReceiving(s) => c.stop_receiving(id(s)),
        AppCommand::SetDeadline(s, d) => c.set_deadline(id(s), now + d),
        AppCommand::Ping(p) => c.ping(p, now),
        AppCommand::Shutdown => c.shutdown(now),
        AppCommand::GoAway(r) => c.go_away(r, Bytes::new(), now),
        AppCommand::UpdateSettings(v) => c.update_settings(v, now),
        AppCommand::SetPriority(s, dep, w, ex) => c.set_priority(
            id(s),
            PrioritySpec {
                dependency: id(dep),
                exclusive: ex,
                weight: w,
            },
        ),
        AppCommand::UpdatePriority(s, u, i) => c.update_priority(id(s), u, i),
        AppCommand::SendExtension(k, f, s, p) => c.send_extension_frame(k, f, id(s), p),
    }
}

/// The core itself, fed whole or one byte at a time.
pub struct CoreHarness {
    conn: Connection,
    now: Instant,
    byte_at_a_time: bool,
    input: BytesMut,
    out: Vec<Bytes>,
    sent: BytesMut,
    events: Vec<Event>,
    /// False while the peer does not read (see [`Harness::set_peer_reading`]).
    reading: bool,
    /// The batch taken from `poll_transmit` that cannot be written while the peer does not
    /// read.
    held: Vec<Bytes>,
}

impl CoreHarness {
    /// A connection with `config`; `byte_at_a_time` feeds input one byte per call.
    pub fn new(config: Config, byte_at_a_time: bool) -> CoreHarness {
        let now = Instant::now();
        CoreHarness {
            conn: Connection::new(config, now),
            now,
            byte_at_a_time,
            input: BytesMut::new(),
            out: Vec::new(),
            sent: BytesMut::new(),
            events: Vec::new(),
            reading: true,
            held: Vec::new(),
        }
    }

    /// The connection, for direct inspection.
    pub fn conn(&mut self) -> &mut Connection {
        &mut self.conn
    }

    fn pump(&mut self) {
        if !self.reading {
            // An adapter writing to a peer that does not read: it takes one batch, cannot
            // finish writing it, and so never comes back to `poll_transmit`.
            if self.held.is_empty() {
                let _ = self.conn.poll_transmit(self.now, &mut self.held);
            }
            while let Some(e) = self.conn.poll_event() {
                self.events.push(e);
            }
            return;
        }
        for chunk in self.held.drain(..) {
            self.sent.extend_from_slice(&chunk);
        }
        loop {
            self.out.clear();
            if self.conn.poll_transmit(self.now, &mut self.out) == 0 {
                break;
            }
            for chunk in &self.out {
                self.sent.extend_from_slice(chunk);
            }
        }
        while let Some(e) = self.conn.poll_event() {
            self.events.push(e);
        }
    }
}

impl Harness for CoreHarness {
    fn peer_send(&mut self, bytes: Bytes) {
        if self.byte_at_a_time {
            for b in bytes.iter() {
                self.input.extend_from_slice(&[*b]);
                let _ = self.conn.handle_input(self.now, &mut self.input);
                self.pump();
            }
        } else {
            self.input.extend_from_slice(&bytes);
            let _ = self.conn.handle_input(self.now, &mut self.input);
        }
        self.pump();
    }

    fn peer_eof(&mut self) {
        self.conn.handle_eof(self.now);
        self.pump();
    }

    fn app(&mut self, cmd: &AppCommand) -> Result<(), String> {
        let r = apply(&mut self.conn, cmd, self.now);
        self.pump();
        r.map_err(|e| e.to_string())
    }

    fn advance(&mut self, d: Duration) {
        self.now += d;
        self.conn.handle_timeout(self.now);
        self.pump();
    }

    fn take_sent(&mut self) -> Bytes {
        self.pump();
        self.sent.split().freeze()
    }

    fn take_events(&mut self) -> Vec<Event> {
        self.pump();
        std::mem::take(&mut self.events)
    }

    fn is_closed(&mut self) -> bool {
        self.pump();
        self.conn.is_closed()
    }

    fn set_peer_reading(&mut self, reading: bool) -> bool {
        self.reading = reading;
        true
    }
}
