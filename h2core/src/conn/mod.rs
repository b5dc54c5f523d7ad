//! The connection: a sans-IO state machine for both roles (RFC 9113). Its verbs and the
//! adapter's contract are documented on [`Connection`], where rustdoc shows them.
//!
//! Submodules by concept: [`commands`] holds the application's commands, [`recv`] dispatches
//! received frames, [`headers`] assembles and checks header blocks, [`send`] writes frames and
//! schedules DATA, [`ping`] and [`goaway`] own keepalive and graceful shutdown, [`guards`] the
//! defences against abusive or stuck peers (§10.5), [`upgrade`] the `Upgrade: h2c` starts.

mod commands;
mod goaway;
mod guards;
mod headers;
mod ping;
mod recv;
mod send;
mod spare;
mod upgrade;

use crate::config::{Config, Role};
use crate::error::ConnectionError;
use crate::event::Event;
use crate::flow::{RecvWindow, Window, DEFAULT_WINDOW};
use crate::frame::{FrameReader, Reason, StreamId};
use crate::hpack::{Decoder, Encoder, Header};
use crate::priority::Scheduler;
use crate::settings::{PendingSettings, SettingsValues};
use crate::stream::state::State;
use crate::stream::Store;
use bytes::{Bytes, BytesMut};
use std::collections::VecDeque;
use std::time::Instant;

/// The most fields a decoded header list is pre-sized for (see `Connection::fields_hint`): a
/// peer sending one huge list does not make every later list allocate as much.
const FIELDS_HINT_MAX: usize = 64;

pub use goaway::ShutdownState;
pub use upgrade::h2c_settings_payload;

/// Why a stream cannot send DATA right now (flow control, RFC 9113 §6.9; concurrency, §5.1.2;
/// priorities, RFC 9218): for diagnostics, see [`Connection::stream_send_state`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendState {
    /// DATA can go out at the next `poll_transmit`.
    Ready,
    /// Nothing is queued.
    NothingQueued,
    /// The stream's send window is zero or negative (§6.9).
    StreamWindow,
    /// The connection's send window is zero (§6.9).
    ConnectionWindow,
    /// Our request waits for the peer's MAX_CONCURRENT_STREAMS to allow it (§5.1.2).
    ConcurrencyLimit,
    /// Ready, but streams the peer prefers (RFC 7540 §5.3 / RFC 9218) go first.
    BlockedByPriority,
    /// The stream is closed or unknown.
    Closed,
}

/// Where the connection is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Server: the client preface (§3.4) has not fully arrived; `usize` bytes of it matched.
    AwaitingPreface(usize),
    /// The preface is done; the peer's first frame must be SETTINGS (§3.4).
    AwaitingSettings,
    /// Normal operation.
    Open,
    /// Our final GOAWAY is sent and no stream is active: keep reading (answer PINGs) until the
    /// peer closes or the drain deadline passes.
    Draining(Instant),
    /// Nothing more is read; whatever is queued is still written.
    Closed,
}

/// Counters for diagnostics and benchmarks, from [`Connection::stats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Frames received.
    pub frames_received: u64,
    /// Frames sent.
    pub frames_sent: u64,
    /// DATA payload bytes received.
    pub data_received: u64,
    /// DATA payload bytes sent.
    pub data_sent: u64,
    /// HEADERS + CONTINUATION payload bytes sent (compressed header blocks).
    pub header_bytes_sent: u64,
    /// Streams opened by either side.
    pub streams_opened: u64,
    /// Bytes taken from the transport (`handle_input`), frame headers and all.
    pub bytes_received: u64,
    /// Bytes handed to the transport (`poll_transmit`).
    pub bytes_sent: u64,
    /// RST_STREAM frames sent (§6.4), refusals (REFUSED_STREAM) included.
    pub resets_sent: u64,
    /// RST_STREAM frames received (§6.4).
    pub resets_received: u64,
    /// Our streams the peer refused unprocessed: REFUSED_STREAM, or above a GOAWAY's
    /// last-stream-id (§8.7); they may be retried.
    pub streams_refused: u64,
    /// GOAWAY frames sent (§6.8).
    pub goaways_sent: u64,
    /// GOAWAY frames received (§6.8).
    pub goaways_received: u64,
    /// What we may still send on the connection now (§6.9); filled in by `stats()`.
    pub send_window: i64,
    /// What the peer may still send on the connection now (§6.9); filled in by `stats()`.
    pub recv_window: i64,
}

/// An HTTP/2 connection (RFC 9113), client or server, without I/O.
///
/// A plain state machine: bytes read from the transport and the current time go in; [`Event`]s
/// for the application, bytes to write and the next deadline come out. It never reads a clock
/// (every verb that depends on time takes `now`) and never blocks. The methods come in five
/// groups.
///
/// # Construction
/// - [`new`](Self::new): a client queues the preface, its SETTINGS and a connection
///   WINDOW_UPDATE at once; a server queues its SETTINGS and waits for the client preface
///   (§3.4).
/// - `Upgrade: h2c` (RFC 7540 §3.2): [`new_upgraded_server`](Self::new_upgraded_server) after
///   answering 101, [`new_upgraded_client`](Self::new_upgraded_client) after receiving it, with
///   [`h2c_settings_payload`] for the request's `HTTP2-Settings` header.
///
/// # Input: what happened on the transport
/// - [`handle_input(now, &mut buf)`](Self::handle_input): bytes read. Whole frames are
///   consumed; a partial frame stays in `buf` for the next call. A connection error queues
///   GOAWAY (the peer learns why) and is also returned.
/// - [`handle_eof(now)`](Self::handle_eof): the peer closed its side, or reading failed.
/// - [`handle_timeout(now)`](Self::handle_timeout): the deadline given by `poll_timeout` passed.
///   Stream deadlines set with [`set_deadline`](Self::set_deadline) are among those deadlines.
///
/// # Output: what to do now
/// - [`poll_event()`](Self::poll_event): the next [`Event`] for the application, until `None`.
/// - [`poll_transmit(now, &mut out)`](Self::poll_transmit): the bytes to write, as `Bytes`
///   chunks for one vectored write (a DATA payload is a slice of the application's buffer);
///   returns 0 when there is nothing to write.
/// - [`poll_timeout()`](Self::poll_timeout): when `handle_timeout` is due: the SETTINGS ACK
///   timeout, keepalive PING, handshake and idle timeouts, write timeout, graceful shutdown and
///   drain deadlines, all folded into one.
///
/// # Commands: from the application
/// Each only queues frames (they go out at the next `poll_transmit`) and returns
/// `Result<_, UserError>` ([`UserError`](crate::UserError)): on an error nothing is queued and
/// nothing reaches the peer.
/// - streams: [`send_request`](Self::send_request) (client, §8.1; waits for a slot when the
///   peer's SETTINGS_MAX_CONCURRENT_STREAMS is reached), [`send_response`](Self::send_response),
///   [`send_informational`](Self::send_informational) (1xx),
///   [`push_promise`](Self::push_promise) (server, §8.4), [`send_data`](Self::send_data) (§6.1),
///   [`send_trailers`](Self::send_trailers), [`reset`](Self::reset) (RST_STREAM, §6.4);
/// - flow control: [`release_capacity`](Self::release_capacity) (infallible): the application
///   consumed received bytes, and the [`WindowPolicy`](crate::WindowPolicy) decides when a
///   WINDOW_UPDATE returns them (§6.9);
/// - the connection: [`shutdown`](Self::shutdown) (graceful, §6.8: GOAWAY 2^31-1, one PING round
///   trip, the final GOAWAY; streams in flight finish), [`go_away`](Self::go_away) (at once, with
///   a code), [`ping`](Self::ping) (§6.7), [`update_settings`](Self::update_settings) (§6.5),
///   [`set_priority`](Self::set_priority) (RFC 7540 §5.3),
///   [`update_priority`](Self::update_priority) (client, RFC 9218 §7.1 PRIORITY_UPDATE),
///   [`send_extension_frame`](Self::send_extension_frame) (§5.5).
///
/// # Getters
/// [`role`](Self::role), [`local_settings`](Self::local_settings),
/// [`remote_settings`](Self::remote_settings), [`stats`](Self::stats), [`rtt`](Self::rtt),
/// [`shutdown_state`](Self::shutdown_state); per stream [`stream_state`](Self::stream_state)
/// (§5.1), [`stream_send_state`](Self::stream_send_state),
/// [`send_capacity`](Self::send_capacity) (how much more to queue: the application's
/// backpressure), [`send_buffered`](Self::send_buffered);
/// [`active_streams`](Self::active_streams), [`can_open_stream`](Self::can_open_stream),
/// [`queued_output`](Self::queued_output), [`tracked_streams`](Self::tracked_streams); and the
/// two the adapter's loop reads, [`wants_read`](Self::wants_read) and
/// [`is_closed`](Self::is_closed).
///
/// # The adapter's contract
/// One task (or event-loop entry) owns the connection, the socket, a read buffer, a write queue
/// and one timer. Each turn, repeated while any step made progress:
/// 1. apply the commands of the user's handles;
/// 2. read only while [`wants_read`](Self::wants_read) (it turns false while more than
///    [`Limits::max_queued_output`](crate::Limits::max_queued_output) bytes wait in the core,
///    so a peer that does not read is pushed back by the transport's flow control); pass what
///    was read to `handle_input`, keeping the bytes it leaves in the buffer, or call
///    `handle_eof` at end of file or on a read error;
/// 3. drain `poll_event` and deliver the events; the commands they cause belong to this turn;
/// 4. call `poll_transmit` when the previous batch is fully written, and only then: a batch
///    counts as unwritten until the next call, for the flood limits on PING and SETTINGS
///    replies (CVE-2019-9512, CVE-2019-9515) and for [`Config::write_timeout`]. After any input
///    or command, come back to this step: they may have queued output;
/// 5. once [`is_closed`](Self::is_closed) (the connection is over and everything it queued was
///    handed out), write what the queue still holds, within a grace, send FIN, linger, drop the
///    socket; after a write timeout drop the queue at once;
/// 6. otherwise arm the one timer at `poll_timeout` (any verb may move it: read it again each
///    turn) and call `handle_timeout` when it fires.
///
/// [`shell::Transport`](crate::shell::Transport) implements steps 4 and 5 (its `pump`,
/// `observe` and close sequence); the adapters' drivers (`h2-async`, `h2-mio`) follow this
/// order.
pub struct Connection {
    pub(crate) role: Role,
    pub(crate) config: Config,
    pub(crate) phase: Phase,
    pub(crate) reader: FrameReader,
    pub(crate) decoder: Decoder,
    /// How many fields the last decoded header block had: the next block's list is allocated
    /// with room for as many (at most [`FIELDS_HINT_MAX`]), so a steady stream of similar
    /// requests costs one allocation per list rather than a few as it grows.
    pub(crate) fields_hint: usize,
    /// Header lists handed back by [`Connection::recycle_fields`] or left by a sent block,
    /// decoded (or filled, [`Connection::spare_fields`]) into next.
    pub(crate) spare_fields: spare::SpareFields,
    /// The fields of the block `decode_block` returned last whose bytes the HPACK decoder
    /// vouched for (bit `i` is field `i`): `message::check` does not scan them again.
    pub(crate) vouched: u64,
    pub(crate) encoder: Encoder,
    /// Our settings in force (acknowledged by the peer).
    pub(crate) local: SettingsValues,
    pub(crate) pending_settings: PendingSettings,
    /// The peer's settings in force.
    pub(crate) remote: SettingsValues,
    pub(crate) streams: Store,
    /// §6.9: what we may still send on the connection.
    pub(crate) send_window: Window,
    /// §6.9: what the peer may still send on the connection.
    pub(crate) recv_window: RecvWindow,
    /// The next stream identifier we will use; None once the space is exhausted (§5.1.1).
    pub(crate) next_local_id: Option<StreamId>,
    /// The highest stream identifier the peer opened (or promised, for a client).
    pub(crate) last_peer_id: StreamId,
    /// Our requests waiting for a concurrency slot, oldest first.
    pub(crate) pending_open: VecDeque<StreamId>,
    /// A header block waiting for CONTINUATION (§6.10).
    pub(crate) partial: Option<headers::PartialBlock>,
    /// Encoded frames waiting for `poll_transmit`, in order.
    pub(crate) out: BytesMut,
    /// Scratch space for HPACK encoding, reused.
    pub(crate) hpack_buf: BytesMut,
    pub(crate) events: VecDeque<Event>,
    pub(crate) scheduler: Scheduler,
    /// RFC 9218 §2.1: which scheme `scheduler` follows.
    pub(crate) priority_scheme: crate::priority::Scheme,
    pub(crate) goaway: goaway::GoAway,
    pub(crate) ping: ping::Ping,
    /// §10.5: per-window counts of frames a peer can send in bulk.
    pub(crate) flood: guards::FloodCounters,
    /// What we produced and the peer has not been seen to take (backpressure, write timeout).
    pub(crate) unwritten: guards::Unwritten,
    /// The handshake and idle deadlines.
    pub(crate) liveness: guards::Liveness,
    pub(crate) stats: Stats,
    /// Set once ConnectionTerminated was reported.
    pub(crate) terminated: bool,
    /// The latest time given to us by any verb.
    pub(crate) now: Instant,
}

impl Connection {
    /// A new connection. A client queues its preface, SETTINGS and connection WINDOW_UPDATE; a
    /// server queues its SETTINGS (§3.4: the server preface may be sent at once) and waits for
    /// the client preface.
    pub fn new(config: Config, now: Instant) -> Connection {
        let role = config.role;
        let mut conn = Connection {
            role,
            phase: match role {
                Role::Client => Phase::AwaitingSettings,
                Role::Server => Phase::AwaitingPreface(0),
            },
            reader: FrameReader::new(),
            decoder: Decoder::new(SettingsValues::default().header_table_size as usize),
            fields_hint: 0,
            spare_fields: spare::SpareFields::default(),
            vouched: 0,
            encoder: Encoder::new(),
            local: SettingsValues::default(),
            pending_settings: PendingSettings::default(),
            remote: SettingsValues::default(),
            streams: Store::default(),
            send_window: Window::new(DEFAULT_WINDOW),
            recv_window: RecvWindow::new(DEFAULT_WINDOW),
            next_local_id: Some(first_local_id(role, config.initial_stream_id)),
            last_peer_id: StreamId::ZERO,
            pending_open: VecDeque::new(),
            partial: None,
            // Small up front, grown on use: an idle connection holds little. `out` starts at
            // 1 KiB, the least `bytes` remembers as a buffer's original capacity: below that,
            // every reserve while handed-out chunks are alive allocates just the bytes asked.
            out: BytesMut::with_capacity(1024),
            hpack_buf: BytesMut::new(),
            events: VecDeque::new(),
            scheduler: Scheduler::new(),
            priority_scheme: crate::priority::Scheme::new(config.settings.no_rfc7540_priorities),
            goaway: goaway::GoAway::default(),
            ping: ping::Ping::new(&config, now),
            flood: guards::FloodCounters::default(),
            unwritten: guards::Unwritten::default(),
            liveness: guards::Liveness::new(now),
            stats: Stats::default(),
            terminated: false,
            now,
            config,
        };
        // §6.5.2: the values in force until our SETTINGS are acknowledged are the defaults,
        // except where a limit only protects us (header list size is advisory anyway).
        conn.decoder.set_max_header_list_size(
            conn.config
                .settings
                .max_header_list_size
                .map_or(usize::MAX, |n| n as usize),
        );
        conn.scheduler
            .set_max_idle(conn.config.limits.max_idle_priority_streams);
        conn.scheduler.set_mode(conn.priority_scheme.mode());
        if role == Role::Client {
            conn.out.extend_from_slice(crate::preface::PREFACE);
        }
        let settings = conn.config.settings;
        conn.write_settings(settings, now);
        // Within the memory budget (seven eighths of it at most, see `Config`).
        let target = conn
            .config
            .connection_window
            .max(DEFAULT_WINDOW)
            .min(conn.config.recv_window_cap());
        if target > DEFAULT_WINDOW {
            // §6.9.2: the connection window only grows by WINDOW_UPDATE.
            conn.recv_window.target = target;
            conn.recv_window.base = target;
            let inc = target - DEFAULT_WINDOW;
            let _ = conn.recv_window.window.increase(inc);
            conn.write_window_update(StreamId::ZERO, inc);
        }
        conn
    }

    /// Client or server.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Hands back the list of an event's header block once the application is done with it:
    /// a later block is decoded into it, saving an allocation and a free per block. The lists
    /// kept have room for at most 256 fields together (about 18 KiB), so a burst or one huge
    /// block does not stay allocated. Nothing the peer sees changes.
    pub fn recycle_fields(&mut self, fields: Vec<Header>) {
        self.spare_fields.put(fields);
    }

    /// An empty header list with room for at least `capacity` fields, to fill for a command
    /// such as [`Connection::send_response`]: a list handed back by
    /// [`Connection::recycle_fields`] or left by an earlier command once its block was
    /// encoded, when there is one, so a response head costs no allocation. Nothing the peer
    /// sees changes (RFC 9113 §8.1 rules apply to the filled list as to any other).
    #[must_use]
    pub fn spare_fields(&mut self, capacity: usize) -> Vec<Header> {
        self.spare_fields.take(capacity)
    }

    /// The next event for the application, if any.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The peer's settings in force.
    pub fn remote_settings(&self) -> &SettingsValues {
        &self.remote
    }

    /// Our settings in force (acknowledged by the peer).
    pub fn local_settings(&self) -> &SettingsValues {
        &self.local
    }

    /// Counters, and the connection's flow-control windows as they are now.
    pub fn stats(&self) -> Stats {
        Stats {
            send_window: i64::from(self.send_window.get()),
            recv_window: i64::from(self.recv_window.window.get()),
            ..self.stats
        }
    }

    /// The state of stream `id` as §5.1 names it ([`StreamState`](crate::StreamState)), if we
    /// know the stream.
    pub fn stream_state(&self, id: StreamId) -> Option<State> {
        self.streams.state(id)
    }

    /// Why stream `id` cannot send DATA now.
    pub fn stream_send_state(&self, id: StreamId) -> SendState {
        let Some(s) = self.streams.get(id) else {
            return SendState::Closed;
        };
        if s.pending_open.is_some() {
            return SendState::ConcurrencyLimit;
        }
        if s.state.is_closed() {
            return SendState::Closed;
        }
        if s.send_buffered == 0 {
            return SendState::NothingQueued;
        }
        if s.send_window.available() == 0 {
            return SendState::StreamWindow;
        }
        if self.send_window.available() == 0 {
            return SendState::ConnectionWindow;
        }
        if self.scheduler.blocked_by_priority(id.value()) {
            return SendState::BlockedByPriority;
        }
        SendState::Ready
    }

    /// How many more bytes the application may queue on `id` before it only fills buffers:
    /// the stream's send window (capped by the connection's) minus what is already queued.
    pub fn send_capacity(&self, id: StreamId) -> usize {
        let (send_window, buffered) = match self.streams.get(id) {
            Some(s) => (s.send_window, s.send_buffered),
            None => match self.streams.closed_send_window(id) {
                Some(w) => (w, 0),
                None => return 0,
            },
        };
        let window = send_window
            .available()
            .min(self.send_window.available().max(1)) as usize;
        // CVE-2019-9517: a huge window from a peer that does not read must not invite whole
        // responses into memory.
        let window = window.min(self.config.limits.max_send_buffer);
        // The memory budget: what the connection holds stays within it.
        window.saturating_sub(buffered).min(self.budget_room())
    }

    /// Bytes queued on `id` and not yet sent.
    pub fn send_buffered(&self, id: StreamId) -> usize {
        self.streams.get(id).map_or(0, |s| s.send_buffered)
    }

    /// Number of active streams (open or half-closed), ours and the peer's.
    pub fn active_streams(&self) -> (u32, u32) {
        (self.streams.active_local, self.streams.active_remote)
    }

    /// True while a new request may be sent without waiting (client; §5.1.2).
    pub fn can_open_stream(&self) -> bool {
        self.goaway.received.is_none()
            && self.goaway.sent.is_none()
            && self.next_local_id.is_some()
            && self.pending_open.is_empty()
            && self.local_slot_free()
    }

    /// True once the connection is over and everything queued was handed to `poll_transmit`:
    /// the adapter may close the transport. After a write timeout (the peer does not read,
    /// [`Config::write_timeout`]) the output is dropped: the adapter should drop what it still
    /// holds too.
    pub fn is_closed(&self) -> bool {
        self.phase == Phase::Closed && self.out.is_empty()
    }

    /// True while bytes from the peer are still wanted. False for a while when more than
    /// [`Limits::max_queued_output`](crate::Limits) bytes wait to be written: read again once
    /// `poll_transmit` has taken them (a peer that does not read is pushed back by the
    /// transport's flow control rather than filling our memory).
    pub fn wants_read(&self) -> bool {
        self.phase != Phase::Closed && self.out.len() <= self.config.limits.max_queued_output
    }

    /// The earliest time [`Connection::handle_timeout`] must be called, if any.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let mut t: Option<Instant> = None;
        let mut min = |d: Option<Instant>| {
            if let Some(d) = d {
                t = Some(t.map_or(d, |t| t.min(d)));
            }
        };
        if self.phase == Phase::Closed {
            return None;
        }
        min(self
            .pending_settings
            .oldest()
            .map(|sent| sent + self.config.settings_timeout));
        min(self.ping.deadline());
        min(self.goaway.deadline());
        min(self.guard_deadline());
        min(self.streams.next_deadline());
        if let Phase::Draining(d) = self.phase {
            min(Some(d));
        }
        t
    }

    /// Time passed: fires whatever deadline is due (SETTINGS ACK, keepalive, shutdown, drain,
    /// handshake, idle, write timeout).
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = now;
        if self.phase == Phase::Closed {
            return;
        }
        if self.guard_timeout(now) {
            return;
        }
        if let Some(sent) = self.pending_settings.oldest() {
            if now >= sent + self.config.settings_timeout {
                // §6.5.3: "If the sender of a SETTINGS frame does not receive an
                // acknowledgment within a reasonable amount of time, it MAY issue a connection
                // error of type SETTINGS_TIMEOUT."
                self.connection_error(
                    ConnectionError {
                        reason: Reason::SETTINGS_TIMEOUT,
                        detail: "SETTINGS not acknowledged in time",
                    },
                    now,
                );
                return;
            }
        }
        if let Phase::Draining(deadline) = self.phase {
            if now >= deadline {
                self.terminate(Reason::NO_ERROR, false, "drain deadline passed".into());
                return;
            }
        }
        self.ping_timeout(now);
        self.goaway_timeout(now);
        while let Some(id) = self.streams.take_expired(now) {
            self.events.push_back(Event::DeadlinePassed { stream: id });
            let _ = self.reset(id, Reason::CANCEL);
        }
    }

    /// The peer closed its side of the transport.
    pub fn handle_eof(&mut self, _now: Instant) {
        if self.phase == Phase::Closed {
            return;
        }
        let clean = matches!(self.phase, Phase::Draining(_))
            || (self.goaway.received.is_some() || self.goaway.sent.is_some())
                && self.streams.active_local + self.streams.active_remote == 0;
        let ids: Vec<StreamId> = self.streams.ids().collect();
        for id in ids {
            let active = self
                .streams
                .get(id)
                .is_some_and(|s| !s.state.is_closed() && s.state != State::Idle);
            if active {
                self.close_stream_with_event(id, Reason::CANCEL, true);
            }
        }
        let (reason, detail) = if clean {
            (Reason::NO_ERROR, "peer closed the connection")
        } else {
            (
                Reason::CONNECT_ERROR,
                "peer closed the connection unexpectedly",
            )
        };
        self.out.clear();
        self.terminate(reason, true, detail.into());
    }

    /// Ends the connection for a peer fault: GOAWAY with the code first, then the event (the
    /// peer always learns why, before we stop reading).
    pub(crate) fn connection_error(&mut self, err: ConnectionError, _now: Instant) {
        if self.phase == Phase::Closed {
            return;
        }
        tracing::debug!(reason = ?err.reason, detail = err.detail, "connection error");
        let last = self.goaway_last_id();
        self.write_goaway(last, err.reason, Bytes::from_static(err.detail.as_bytes()));
        self.goaway.sent = Some(last);
        let ids: Vec<StreamId> = self.streams.ids().collect();
        for id in ids {
            let active = self
                .streams
                .get(id)
                .is_some_and(|s| !s.state.is_closed() && s.state != State::Idle);
            if active {
                self.close_stream_with_event(id, err.reason, false);
            }
        }
        self.terminate(err.reason, false, err.detail.into());
    }

    pub(crate) fn terminate(&mut self, reason: Reason, remote: bool, detail: String) {
        self.phase = Phase::Closed;
        if !self.terminated {
            self.terminated = true;
            self.events.push_back(Event::ConnectionTerminated {
                reason,
                remote,
                detail,
            });
        }
    }

    pub(crate) fn local_slot_free(&self) -> bool {
        self.remote
            .max_concurrent_streams
            .is_none_or(|max| self.streams.active_local < max)
    }

    pub(crate) fn is_local_id(&self, id: StreamId) -> bool {
        match self.role {
            Role::Client => id.is_client_initiated(),
            Role::Server => id.is_server_initiated(),
        }
    }
}

/// The first identifier we use (§5.1.1): odd for a client, even for a server; `wanted` is
/// honored when its parity fits the role, as hyperium's `initial_stream_id`.
fn first_local_id(role: Role, wanted: Option<u32>) -> StreamId {
    let fits = |id: u32| match role {
        Role::Client => id % 2 == 1,
        Role::Server => id != 0 && id % 2 == 0,
    };
    match wanted.filter(|&id| id <= StreamId::MAX.value() && fits(id)) {
        Some(id) => StreamId::new(id),
        None => StreamId::new(if role == Role::Client { 1 } else { 2 }),
    }
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("role", &self.role)
            .field("phase", &self.phase)
            .field("streams", &self.streams.len())
            .field("send_window", &self.send_window)
            .finish_non_exhaustive()
    }
}
