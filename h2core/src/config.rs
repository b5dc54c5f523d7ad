//! Connection configuration: role, the SETTINGS we announce, limits and timeouts.

use crate::flow::WindowPolicy;
use crate::settings::SettingsValues;
use std::time::Duration;

/// Which end of the connection we are (RFC 9113 §3, §5.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// We send the client preface and open odd-numbered streams.
    Client,
    /// We expect the client preface and open even-numbered (pushed) streams.
    Server,
}

/// How often a peer may send PINGs (RFC 9113 §6.7 leaves it to us; §10.5 lets us refuse
/// abuse), as gRPC servers enforce keepalive: a PING sooner than `min_interval` after the
/// previous one (or, with no stream active and `permit_without_streams` false, sooner than
/// two hours after it) is a strike; a PING after we sent HEADERS or DATA clears the strikes;
/// more than `max_strikes` ends the connection with GOAWAY ENHANCE_YOUR_CALM and the debug
/// data `too_many_pings`, which gRPC clients take as a sign to back off their keepalive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PingPolicy {
    /// The least time between two PINGs that is not a strike.
    pub min_interval: Duration,
    /// PINGs with no stream active are held to `min_interval` too (else to two hours).
    pub permit_without_streams: bool,
    /// Strikes tolerated; one more ends the connection.
    pub max_strikes: u32,
}

impl PingPolicy {
    /// gRPC's defaults (grpc-go's `keepalive.EnforcementPolicy`): five minutes, no PINGs
    /// without streams, two strikes.
    pub const fn grpc() -> PingPolicy {
        PingPolicy {
            min_interval: Duration::from_secs(300),
            permit_without_streams: false,
            max_strikes: 2,
        }
    }
}

/// Everything a [`Connection`](crate::Connection) needs to know before the first byte.
#[derive(Debug, Clone)]
pub struct Config {
    /// Client or server.
    pub role: Role,
    /// The SETTINGS we announce in our preface (§3.4, §6.5).
    pub settings: SettingsValues,
    /// The connection-level receive window we aim for; grown from 65,535 by a WINDOW_UPDATE on
    /// stream 0 right after our SETTINGS (§6.9.2: SETTINGS cannot change it).
    pub connection_window: u32,
    /// When to return consumed bytes to the peer.
    pub window_policy: WindowPolicy,
    /// Adaptive receive windows (on by default): while DATA flows, one PING per round trip at
    /// most (none while idle) measures the bandwidth-delay product, and the windows we grant
    /// grow toward it (up to `max_stream_window` and `max_connection_window`), starting from
    /// `settings.initial_window_size` and `connection_window`; the connection window also
    /// grows, as our requests go out, to cover their initial windows (RFC 9113 §6.9.1: their
    /// DATA counts against both; within the memory budget). A stream whose application
    /// falls behind (half its window received and unread) shrinks back to the initial window:
    /// its next releases are not all returned to the peer. The PING carries its own payload
    /// and its ACK is no event. Off: the windows stay as configured (RFC 9113 §6.9 only).
    pub adaptive_windows: bool,
    /// The largest window an adaptive stream window grows to (hyper's BDP limit: 16 MiB).
    pub max_stream_window: u32,
    /// The largest adaptive connection window; never more than seven eighths of
    /// `memory_budget` (the rest is kept for data queued to send).
    pub max_connection_window: u32,
    /// The bytes one connection may hold on the application's behalf: received and not yet
    /// released (bounded by the connection window we grant, which is sized within the
    /// budget) plus DATA queued to send and frames not yet written
    /// ([`Connection::send_capacity`](crate::Connection::send_capacity) shrinks to stay
    /// within it). Header blocks and control frames are not counted.
    pub memory_budget: usize,
    /// §6.5.3: if the peer does not ACK our SETTINGS within this time, the connection fails
    /// with SETTINGS_TIMEOUT.
    pub settings_timeout: Duration,
    /// Send a PING after this much silence from the peer (None: no keepalive).
    pub keepalive_interval: Option<Duration>,
    /// Fail the connection if a keepalive PING is not answered within this time.
    pub keepalive_timeout: Duration,
    /// How often the peer may PING us before it is told to stop (None: no policy). Off by
    /// default; gRPC servers keep one ([`PingPolicy::grpc`]).
    pub ping_policy: Option<PingPolicy>,
    /// How long a graceful shutdown waits between the first GOAWAY (2^31-1) and the final one,
    /// when no PING round trip completes first.
    pub shutdown_grace: Duration,
    /// After the final GOAWAY, how long to keep reading (answering PINGs) before giving up on
    /// the peer closing the transport.
    pub drain_timeout: Duration,
    /// Slow or absent preface: the peer's connection preface and first SETTINGS (§3.4) must
    /// arrive within this time, or the connection fails with GOAWAY(SETTINGS_TIMEOUT). Go's
    /// server waits 10 s (`prefaceTimeout`).
    pub handshake_timeout: Duration,
    /// Idle connections: with no stream active and none opened for this long, the connection
    /// shuts down gracefully (GOAWAY NO_ERROR, §6.8). PINGs do not count as activity. Default:
    /// 120 s for a server (nginx keeps idle HTTP/2 connections 75 s, h2o 10 s; Go and hyperium
    /// only when asked), none for a client (its pool decides).
    pub idle_timeout: Option<Duration>,
    /// A peer that never reads: when the adapter has not come back to `poll_transmit` for this
    /// long (it is still writing the previous batch) while more output waits, the connection
    /// ends (ENHANCE_YOUR_CALM, which the peer will not read) and its output is dropped, so
    /// [`Connection::is_closed`](crate::Connection::is_closed) turns true. 60 s by default, as
    /// nginx's `send_timeout`. None: wait forever.
    pub write_timeout: Option<Duration>,
    /// The first stream identifier we open (§5.1.1; hyperium's `initial_stream_id`), e.g. 3 for
    /// a client that already used stream 1 elsewhere. Ignored unless odd for a client, even and
    /// non-zero for a server. None: 1 for a client, 2 for a server.
    pub initial_stream_id: Option<u32>,
    /// Limits against abusive peers.
    pub limits: Limits,
}

/// Limits that keep one peer from exhausting our memory or CPU (RFC 9113 §10.5).
#[derive(Debug, Clone)]
pub struct Limits {
    /// Maximum CONTINUATION frames in one header block.
    pub max_continuation_frames: usize,
    /// Maximum bytes of one header block before decoding (compressed).
    pub max_header_block_size: usize,
    /// Streams the peer may reset (or cause us to reset) per `reset_window` before
    /// ENHANCE_YOUR_CALM (rapid reset, CVE-2023-44487).
    pub max_resets_per_window: u32,
    /// Window for `max_resets_per_window`.
    pub reset_window: Duration,
    /// Control frames that make us queue a reply (PING, SETTINGS) allowed unanswered in our
    /// write queue before ENHANCE_YOUR_CALM (CVE-2019-9512, CVE-2019-9515).
    pub max_pending_control_frames: usize,
    /// Frames that carry nothing (empty DATA without END_STREAM, empty CONTINUATION, ...) per
    /// `reset_window` before ENHANCE_YOUR_CALM (CVE-2019-9518).
    pub max_empty_frames_per_window: u32,
    /// Closed streams remembered to answer late frames as §5.1 says.
    pub max_closed_streams_remembered: usize,
    /// Fields in one decoded header list; a longer one refuses the stream (RST_STREAM
    /// PROTOCOL_ERROR) like a list over SETTINGS_MAX_HEADER_LIST_SIZE (§10.5.1). Apache and
    /// Envoy allow 100 request fields; cookie crumbs (§8.2.3) make more legitimate.
    pub max_header_fields: usize,
    /// PRIORITY and PRIORITY_UPDATE frames per `reset_window` before ENHANCE_YOUR_CALM
    /// (CVE-2019-9513, priority resource loop).
    pub max_priority_frames_per_window: u32,
    /// Idle streams kept in the priority tree only because a PRIORITY frame named them
    /// (RFC 7540 §5.3.4); the oldest beyond are dropped (CVE-2019-9513).
    pub max_idle_priority_streams: usize,
    /// Entries in one SETTINGS frame before ENHANCE_YOUR_CALM (CVE-2020-11080; nghttp2's
    /// `max_settings` is 32).
    pub max_settings_entries: usize,
    /// DATA the application may queue on one stream beyond what the window lets out:
    /// [`Connection::send_capacity`](crate::Connection::send_capacity) never exceeds it, so a
    /// peer that opens huge windows and then stops reading cannot make us buffer whole
    /// responses (CVE-2019-9517). hyperium h2's `max_send_buffer_size` is 400 KiB too.
    pub max_send_buffer: usize,
    /// Bytes of frames queued in the core (not yet taken by `poll_transmit`) above which
    /// [`Connection::wants_read`](crate::Connection::wants_read) is false: the adapter stops
    /// reading until it has written, so a peer that sends but never reads is pushed back by
    /// transport flow control instead of growing our queue.
    pub max_queued_output: usize,
    /// Client: streams promised by the server (PUSH_PROMISE, §8.4) and not yet answered, which
    /// do not count against MAX_CONCURRENT_STREAMS; a promise beyond is refused with
    /// RST_STREAM REFUSED_STREAM. netty's `maxReservedStreams` is 100 too.
    pub max_reserved_streams: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_continuation_frames: 64,
            max_header_block_size: 256 * 1024,
            max_resets_per_window: 200,
            reset_window: Duration::from_secs(1),
            max_pending_control_frames: 1024,
            max_empty_frames_per_window: 1000,
            max_closed_streams_remembered: 1024,
            max_header_fields: 512,
            max_priority_frames_per_window: 1000,
            max_idle_priority_streams: 1000,
            max_settings_entries: 32,
            max_send_buffer: 400 * 1024,
            max_queued_output: 1024 * 1024,
            max_reserved_streams: 100,
        }
    }
}

impl Config {
    /// Defaults for `role`: MAX_CONCURRENT_STREAMS 100 (RFC 9113 §6.5.2 recommends no less),
    /// a 1 MiB stream window and a 2 MiB connection window, 16 KiB header list limit, and for a
    /// server SETTINGS_NO_RFC7540_PRIORITIES = 1 (RFC 9218 scheduling)... see fields.
    pub fn new(role: Role) -> Config {
        let settings = SettingsValues {
            max_concurrent_streams: Some(100),
            initial_window_size: 1 << 20,
            max_header_list_size: Some(64 * 1024),
            enable_push: role == Role::Client,
            // RFC 9218 §2.1: a server schedules by urgency and incremental, and says so; it
            // still follows the tree of a peer that only sends RFC 7540 signals.
            no_rfc7540_priorities: role == Role::Server,
            ..SettingsValues::default()
        };
        Config {
            role,
            settings,
            connection_window: 2 << 20,
            window_policy: WindowPolicy::default(),
            adaptive_windows: true,
            max_stream_window: 16 << 20,
            max_connection_window: 32 << 20,
            memory_budget: 32 << 20,
            settings_timeout: Duration::from_secs(10),
            keepalive_interval: None,
            keepalive_timeout: Duration::from_secs(20),
            ping_policy: None,
            shutdown_grace: Duration::from_secs(1),
            drain_timeout: Duration::from_secs(2),
            handshake_timeout: Duration::from_secs(10),
            idle_timeout: (role == Role::Server).then_some(Duration::from_secs(120)),
            write_timeout: Some(Duration::from_secs(60)),
            initial_stream_id: None,
            limits: Limits::default(),
        }
    }

    /// The most the connection window we grant may reach: `max_connection_window`, within
    /// seven eighths of `memory_budget`, never below the §6.9.2 initial 65,535.
    pub(crate) fn recv_window_cap(&self) -> u32 {
        let budget = (self.memory_budget / 8 * 7).min(crate::frame::MAX_WINDOW_SIZE as usize);
        self.max_connection_window
            .min(budget as u32)
            .max(crate::flow::DEFAULT_WINDOW)
    }

    /// A client with defaults.
    pub fn client() -> Config {
        Config::new(Role::Client)
    }

    /// A server with defaults.
    pub fn server() -> Config {
        Config::new(Role::Server)
    }
}
