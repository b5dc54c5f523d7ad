//! Starting HTTP/2 from an HTTP/1.1 `Upgrade: h2c` request (RFC 7540 §3.2; RFC 9113 §3.1
//! deprecates it, but curl `--http2` and others still use it on cleartext).
//!
//! The HTTP/1.1 request becomes stream 1: half-closed (remote) on the server, half-closed (local)
//! on the client. Its `HTTP2-Settings` header carries the client's SETTINGS payload, which the
//! server applies as if received in a SETTINGS frame; the 101 response acknowledges it (RFC 7540
//! §3.2.1), so no SETTINGS ACK is sent for it.

use super::{Connection, Phase};
use crate::config::{Config, Role};
use crate::error::ConnectionError;
use crate::event::Event;
use crate::frame::{Frame, FrameType, Head, Reason, StreamId};
use crate::hpack::Header;
use crate::settings::SettingsValues;
use crate::stream::state::State;
use crate::stream::{RecvPhase, SendPhase, Stream};
use bytes::{Bytes, BytesMut};
use std::time::Instant;

/// The SETTINGS payload (no frame header) announcing `settings`, for the `HTTP2-Settings`
/// header of an upgrade request (RFC 7540 §3.2.1; base64url-encode it).
pub fn h2c_settings_payload(settings: &SettingsValues) -> Bytes {
    let mut b = BytesMut::new();
    crate::settings::frame_for(settings, &SettingsValues::default()).encode(&mut b);
    b.split_off(crate::frame::HEADER_LEN).freeze()
}

impl Connection {
    /// Server: the connection after answering `101 Switching Protocols` to an upgrade request.
    /// `settings_payload` is the decoded `HTTP2-Settings` header; `request` the request's
    /// header list in HTTP/2 form (pseudo-headers first). The request arrives as a
    /// `RequestReceived` event on stream 1, already ended; its body, if any, came over HTTP/1.1.
    /// The client's preface is still expected (RFC 7540 §3.2).
    pub fn new_upgraded_server(
        config: Config,
        now: Instant,
        settings_payload: Bytes,
        request: Vec<Header>,
    ) -> Result<Connection, ConnectionError> {
        if config.role != Role::Server {
            return Err(ConnectionError {
                reason: Reason::INTERNAL_ERROR,
                detail: "new_upgraded_server needs a server Config",
            });
        }
        let head = Head {
            length: settings_payload.len() as u32,
            kind: FrameType::SETTINGS,
            flags: 0,
            stream_id: StreamId::ZERO,
        };
        let settings = match Frame::parse(head, settings_payload) {
            Ok(Frame::Settings(s)) => s,
            _ => {
                return Err(ConnectionError {
                    reason: Reason::PROTOCOL_ERROR,
                    detail: "invalid HTTP2-Settings",
                })
            }
        };
        let mut conn = Connection::new(config, now);
        conn.remote.apply(&settings.settings);
        conn.encoder
            .set_max_table_size(conn.remote.header_table_size as usize);
        let id = StreamId::new(1);
        let mut s = Stream::new(
            id,
            conn.remote.initial_window_size,
            conn.local.initial_window_size,
        );
        s.recv_phase = RecvPhase::Body;
        conn.streams.insert(s);
        conn.last_peer_id = id;
        conn.stats.streams_opened += 1;
        conn.scheduler.insert(id.value(), None);
        let remember = conn.config.limits.max_closed_streams_remembered;
        conn.streams
            .set_state(id, State::HalfClosedRemote, false, remember);
        conn.events.push_back(Event::RequestReceived {
            stream: id,
            headers: request,
            end_stream: true,
        });
        conn.events.push_back(Event::StreamEnded { stream: id });
        debug_assert_eq!(conn.phase, Phase::AwaitingPreface(0));
        Ok(conn)
    }

    /// Client: the connection after the server answered `101 Switching Protocols` to our
    /// upgrade request (sent with `HTTP2-Settings` = [`h2c_settings_payload`] of
    /// `config.settings`). The response arrives on stream 1. `head_request` says the request was
    /// HEAD (its response has no content).
    pub fn new_upgraded_client(config: Config, now: Instant, head_request: bool) -> Connection {
        let mut conn = Connection::new(config, now);
        let id = StreamId::new(1);
        let mut s = Stream::new(
            id,
            conn.remote.initial_window_size,
            conn.local.initial_window_size,
        );
        s.head_request = head_request;
        s.send_phase = SendPhase::Body;
        conn.streams.insert(s);
        conn.next_local_id = id.next_id();
        conn.stats.streams_opened += 1;
        conn.scheduler.insert(id.value(), None);
        let remember = conn.config.limits.max_closed_streams_remembered;
        conn.streams
            .set_state(id, State::HalfClosedLocal, true, remember);
        conn
    }
}
