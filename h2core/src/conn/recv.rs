//! Receiving: the preface, then frame by frame dispatch (RFC 9113 §3.4, §4–§7); header blocks
//! go on to [`super::headers`].

use super::headers::PartialBlock;
use super::{Connection, Phase};
use crate::config::Role;
use crate::error::{
    conn_err, ConnectionError, ProtocolError, ProtocolResult as Result, StreamError,
};
use crate::event::Event;
use crate::frame::{
    Data, Frame, GoAway, Ping, Priority, PriorityUpdate, Reason, RstStream, Settings, StreamId,
    WindowUpdate,
};
use crate::message;
use crate::stream::state::{transition, Input, State, Transition};
use crate::stream::RecvPhase;
use bytes::BytesMut;
use std::time::Instant;

impl Connection {
    /// Feeds bytes received from the peer. Whole frames are consumed from `buf`; a partial
    /// frame is left for the next call. Events and frames to send queue up; a connection error
    /// queues GOAWAY and is also returned.
    pub fn handle_input(
        &mut self,
        now: Instant,
        buf: &mut BytesMut,
    ) -> std::result::Result<(), ConnectionError> {
        self.now = now;
        let before = buf.len();
        let result = self.take_input(now, buf);
        self.stats.bytes_received += (before - buf.len()) as u64;
        result
    }

    fn take_input(
        &mut self,
        now: Instant,
        buf: &mut BytesMut,
    ) -> std::result::Result<(), ConnectionError> {
        if matches!(self.phase, Phase::Closed) {
            buf.clear();
            return Ok(());
        }
        if !buf.is_empty() {
            self.ping.last_heard = now;
        }
        if let Phase::AwaitingPreface(matched) = self.phase {
            let preface = crate::preface::PREFACE;
            let n = buf.len().min(preface.len() - matched);
            if buf[..n] != preface[matched..matched + n] {
                // §3.4: an invalid preface is a connection error PROTOCOL_ERROR.
                let err = ConnectionError {
                    reason: Reason::PROTOCOL_ERROR,
                    detail: "invalid connection preface",
                };
                self.connection_error(err, now);
                buf.clear();
                return Err(err);
            }
            let _ = buf.split_to(n);
            if matched + n < preface.len() {
                self.phase = Phase::AwaitingPreface(matched + n);
                return Ok(());
            }
            self.phase = Phase::AwaitingSettings;
        }
        loop {
            if self.phase == Phase::Closed {
                buf.clear();
                return Ok(());
            }
            if self.phase == Phase::AwaitingSettings
                && buf
                    .get(3)
                    .is_some_and(|&t| t != crate::frame::FrameType::SETTINGS.0)
            {
                // §3.4: the preface's first frame MUST be SETTINGS; anything else (an HTTP/1.1
                // answer, a huge frame) is an invalid preface, PROTOCOL_ERROR, decided as soon
                // as the type octet is in.
                let err = ConnectionError {
                    reason: Reason::PROTOCOL_ERROR,
                    detail: "preface must start with SETTINGS",
                };
                self.connection_error(err, now);
                buf.clear();
                return Err(err);
            }
            let frame = match self.reader.read(buf) {
                Ok(Some(frame)) => frame,
                Ok(None) => return Ok(()),
                Err(e) => match self.handle_read_error(e, now) {
                    Ok(()) => continue,
                    Err(err) => {
                        buf.clear();
                        return Err(err);
                    }
                },
            };
            self.stats.frames_received += 1;
            tracing::trace!(?frame, "recv");
            let result = self.recv_frame(frame, now);
            if let Err(e) = result {
                if let Err(err) = self.handle_error(e, None, now) {
                    buf.clear();
                    return Err(err);
                }
            }
        }
    }

    /// A frame the reader rejected. A HEADERS that depends on itself (§5.3.1) is a stream error,
    /// but its header block must still be decoded to keep HPACK in sync (§4.3).
    pub(super) fn handle_read_error(
        &mut self,
        e: crate::frame::ReadError,
        now: Instant,
    ) -> std::result::Result<(), ConnectionError> {
        if let (ProtocolError::Stream(_), Some(frame)) = (&e.error, e.frame) {
            if let Frame::Headers(mut h) = *frame {
                self.stats.frames_received += 1;
                h.priority = None;
                let partial = PartialBlock {
                    stream: h.stream_id,
                    promised: None,
                    end_stream: h.end_stream,
                    priority: None,
                    block: BytesMut::new(),
                    frames: 1,
                    doomed: Some(e.error),
                };
                let result = if self.partial.is_some() {
                    Err(conn_err(
                        Reason::PROTOCOL_ERROR,
                        "frame interleaved in a header block",
                    ))
                } else if h.end_headers {
                    self.header_block_complete(partial, h.header_block, now)
                } else {
                    self.start_partial(partial, h.header_block)
                };
                return match result {
                    Ok(()) => Ok(()),
                    Err(err) => self.handle_error(err, None, now),
                };
            }
        }
        self.handle_error(e.error, Some(e.head), now)
    }

    /// Answers a peer fault: RST_STREAM for a stream error (the connection goes on), GOAWAY and
    /// termination for a connection error.
    pub(super) fn handle_error(
        &mut self,
        e: ProtocolError,
        head: Option<crate::frame::Head>,
        now: Instant,
    ) -> std::result::Result<(), ConnectionError> {
        match e {
            ProtocolError::Connection(err) => {
                self.connection_error(err, now);
                Err(err)
            }
            ProtocolError::Stream(err) => {
                // A DATA frame rejected by the frame layer still counted against the connection
                // window (§6.9): give it back so the window never shrinks for good.
                if let Some(head) = head {
                    if head.kind == crate::frame::FrameType::DATA {
                        if !self.recv_window.window.consume(head.length) {
                            let err = ConnectionError {
                                reason: Reason::FLOW_CONTROL_ERROR,
                                detail: "DATA beyond the connection window",
                            };
                            self.connection_error(err, now);
                            return Err(err);
                        }
                        self.credit_connection(head.length);
                    }
                }
                // §5.1: errors on an idle stream are connection errors (§6.4: RST_STREAM
                // cannot be sent on an idle stream). The code stays the stream error's, e.g.
                // FRAME_SIZE_ERROR for a PRIORITY of the wrong length (§6.3).
                if self.is_idle(err.stream) {
                    let err = ConnectionError {
                        reason: err.reason,
                        detail: "frame on an idle stream",
                    };
                    self.connection_error(err, now);
                    return Err(err);
                }
                self.stream_error(err, now)
            }
        }
    }

    /// Resets a stream for a stream error (§5.4.2) and tells the application.
    pub(crate) fn stream_error(
        &mut self,
        err: StreamError,
        now: Instant,
    ) -> std::result::Result<(), ConnectionError> {
        tracing::debug!(stream = err.stream.value(), reason = ?err.reason, detail = err.detail, "stream error");
        self.write_rst(err.stream, err.reason);
        let known = self.streams.state(err.stream);
        match known {
            Some(state) if !state.is_closed() => {
                self.close_stream_with_event(err.stream, err.reason, false);
                self.on_stream_closed();
            }
            Some(_) => {}
            None => {
                // A stream we never tracked (refused at open, or forgotten): remember that we
                // reset it so late frames are ignored (§5.1), among the closed streams whose
                // memory is bounded (a flood of refused streams must not grow the store).
                let remember = self.config.limits.max_closed_streams_remembered;
                self.streams.remember_reset(err.stream, remember);
            }
        }
        self.count_reset(now)
    }

    /// §5.1: is `id` idle (never opened, by either side, as far as identifiers go)?
    pub(crate) fn is_idle(&self, id: StreamId) -> bool {
        if id.is_zero() {
            return false;
        }
        // The identifiers first: they settle most lookups (a response, a late frame) without
        // touching the store.
        if !self.is_idle_id(id) {
            return false;
        }
        if self.next_local_id.is_none() && self.is_local_id(id) {
            // Our identifiers ran out, so `is_idle_id` calls each of ours idle: the store says.
            return self.streams.state(id).is_none_or(|s| s == State::Idle);
        }
        self.streams.idle_above_opened(id)
    }

    /// §5.1.1: by its identifier alone, `id` is idle: above every identifier its side opened
    /// (which closed every idle stream below it).
    fn is_idle_id(&self, id: StreamId) -> bool {
        if self.is_local_id(id) {
            self.next_local_id.is_none_or(|next| id >= next)
        } else {
            id > self.last_peer_id
        }
    }

    pub(super) fn recv_frame(&mut self, frame: Frame, now: Instant) -> Result {
        // §6.10: nothing may come between HEADERS/PUSH_PROMISE and its last CONTINUATION.
        if let Some(partial) = &self.partial {
            return match frame {
                Frame::Continuation(c) if c.stream_id == partial.stream => {
                    self.recv_continuation(c, now)
                }
                _ => Err(conn_err(
                    Reason::PROTOCOL_ERROR,
                    "frame interleaved in a header block",
                )),
            };
        }
        if self.phase == Phase::AwaitingSettings {
            // §3.4: the first frame of the peer's preface MUST be SETTINGS.
            match &frame {
                Frame::Settings(s) if !s.ack => self.phase = Phase::Open,
                _ => {
                    return Err(conn_err(
                        Reason::PROTOCOL_ERROR,
                        "preface must start with SETTINGS",
                    ))
                }
            }
        }
        match frame {
            Frame::Data(f) => self.recv_data(f, now),
            Frame::Headers(f) => self.recv_headers(f, now),
            Frame::Priority(f) => {
                self.count_priority_frame(now)?;
                self.recv_priority(f)
            }
            Frame::RstStream(f) => self.recv_rst(f, now),
            Frame::Settings(f) => {
                self.check_settings_entries(&f)?;
                self.recv_settings(f, now)
            }
            Frame::PushPromise(f) => self.recv_push_promise(f, now),
            Frame::Ping(f) => self.recv_ping(f, now),
            Frame::GoAway(f) => self.recv_goaway(f, now),
            Frame::WindowUpdate(f) => self.recv_window_update(f),
            Frame::Continuation(_) => Err(conn_err(
                Reason::PROTOCOL_ERROR,
                "CONTINUATION without a header block",
            )),
            Frame::PriorityUpdate(f) => {
                self.count_priority_frame(now)?;
                self.recv_priority_update(f)
            }
            Frame::Unknown(f) => {
                // §5.5: unknown types MUST be ignored by the protocol; the application may care.
                self.events.push_back(Event::ExtensionFrameReceived {
                    kind: f.kind,
                    flags: f.flags,
                    stream: f.stream_id,
                    payload: f.payload,
                });
                Ok(())
            }
        }
    }

    /// The table cell for a frame received on `id`; streams we no longer remember are closed
    /// with an unknown history, and answered as after a reset.
    pub(super) fn recv_transition(&self, id: StreamId, input: Input) -> Transition {
        match self.streams.state(id) {
            // Our request still waiting for a concurrency slot: the peer has never seen it, so
            // any frame on it is on an idle stream we did not open (§5.1).
            Some(State::Idle) => Transition::ConnectionError(Reason::PROTOCOL_ERROR),
            Some(state) => transition(state, input),
            // The store knows nothing of `id` (looked up once, just above): the identifier
            // alone tells idle from closed and forgotten.
            None if !id.is_zero() && self.is_idle_id(id) => transition(State::Idle, input),
            // §5.1.1: HEADERS on an identifier below the peer's latest that we never saw is
            // an unexpected identifier (PROTOCOL_ERROR); DATA may be late, after a reset.
            None => match input {
                Input::RecvWindowUpdate | Input::RecvReset => Transition::Ignore,
                Input::RecvHeaders { .. } => Transition::ConnectionError(Reason::PROTOCOL_ERROR),
                _ => Transition::StreamError(Reason::STREAM_CLOSED),
            },
        }
    }

    pub(super) fn apply_recv(&mut self, id: StreamId, next: State) {
        let local = self.is_local_id(id);
        let remember = self.config.limits.max_closed_streams_remembered;
        if self.streams.set_state(id, next, local, remember) {
            self.scheduler.remove(id.value());
            self.on_stream_closed();
        }
    }

    // §6.1 DATA
    pub(super) fn recv_data(&mut self, f: Data, now: Instant) -> Result {
        let id = f.stream_id;
        let len = f.flow_controlled_len();
        // §6.9: DATA counts against the connection window whatever becomes of the stream.
        if !self.recv_window.window.consume(len) {
            return Err(conn_err(
                Reason::FLOW_CONTROL_ERROR,
                "DATA beyond the connection window",
            ));
        }
        if len == 0 && !f.end_stream {
            self.count_empty_frame(now)?;
        }
        self.bdp_on_data(len, now);
        match self.recv_transition(
            id,
            Input::RecvData {
                end_stream: f.end_stream,
            },
        ) {
            Transition::Next(next) => {
                let stream = self.streams.get_mut(id).expect("non-idle stream exists");
                if stream.recv_phase != RecvPhase::Body {
                    // DATA before the header block (or after a 1xx only) is malformed (§8.1).
                    self.credit_connection(len);
                    return Err(ProtocolError::stream(
                        id,
                        Reason::PROTOCOL_ERROR,
                        "DATA before HEADERS",
                    ));
                }
                if !stream.recv.window.consume(len) {
                    self.credit_connection(len);
                    return Err(ProtocolError::stream(
                        id,
                        Reason::FLOW_CONTROL_ERROR,
                        "DATA beyond the stream window",
                    ));
                }
                stream.recv_data_len += f.data.len() as u64;
                // §8.1.1: content-length must match the DATA received.
                if let Some(cl) = stream.recv_content_length {
                    if stream.recv_data_len > cl || (f.end_stream && stream.recv_data_len != cl) {
                        self.credit_connection(len);
                        return Err(ProtocolError::stream(
                            id,
                            Reason::PROTOCOL_ERROR,
                            "content-length mismatch",
                        ));
                    }
                }
                // Padding is consumed now; the application releases only the data it reads.
                let mut padding = len - f.data.len() as u32;
                self.stats.data_received += f.data.len() as u64;
                if stream.discard_recv {
                    // Nobody reads it (`stop_receiving`): all of it goes back at once.
                    padding = len;
                } else {
                    self.events.push_back(Event::DataReceived {
                        stream: id,
                        data: f.data,
                        flow_controlled_len: len,
                        end_stream: f.end_stream,
                    });
                }
                if f.end_stream {
                    self.events.push_back(Event::StreamEnded { stream: id });
                    self.apply_recv(id, next);
                }
                if padding > 0 {
                    self.release_capacity(id, padding as usize);
                }
                Ok(())
            }
            Transition::Ignore => {
                self.credit_connection(len);
                Ok(())
            }
            Transition::StreamError(reason) => {
                self.credit_connection(len);
                Err(ProtocolError::stream(id, reason, "DATA on a closed stream"))
            }
            Transition::ConnectionError(reason) => {
                Err(conn_err(reason, "DATA on a stream in the wrong state"))
            }
            Transition::UserError => Ok(()),
        }
    }

    /// Returns bytes the application will never see to the connection window at once, so
    /// DATA on reset or closed streams can never shrink it for good (the x/net/http2 stall).
    pub(crate) fn credit_connection(&mut self, n: u32) {
        if n == 0 {
            return;
        }
        let policy = self.config.window_policy;
        if let Some(inc) = self.recv_window.release(n, &policy) {
            self.write_window_update(StreamId::ZERO, inc);
        }
    }

    // §6.3 PRIORITY
    pub(super) fn recv_priority(&mut self, f: Priority) -> Result {
        self.apply_priority(f.stream_id, f.spec);
        Ok(())
    }

    pub(super) fn apply_priority(&mut self, id: StreamId, spec: crate::frame::PrioritySpec) {
        // RFC 9218 §2.1: ignored once the peer announced it does not use them, or once it
        // used RFC 9218 signals while we follow RFC 9218.
        if !self.priority_scheme.rfc7540_signal() {
            return;
        }
        self.scheduler.set_mode(self.priority_scheme.mode());
        self.scheduler.reprioritize(
            id.value(),
            crate::priority::Rfc7540Priority {
                dependency: spec.dependency.value(),
                weight: spec.weight as u16 + 1,
                exclusive: spec.exclusive,
            },
        );
    }

    // RFC 9218 §7.1 PRIORITY_UPDATE
    pub(super) fn recv_priority_update(&mut self, f: PriorityUpdate) -> Result {
        if self.role == Role::Client {
            return Err(conn_err(
                Reason::PROTOCOL_ERROR,
                "PRIORITY_UPDATE sent by a server",
            ));
        }
        if f.prioritized_stream_id.is_server_initiated() && self.is_idle(f.prioritized_stream_id) {
            // RFC 9218 §7.1: a client may reprioritize a push stream it was promised, but one
            // in the idle state MUST be a connection error PROTOCOL_ERROR.
            return Err(conn_err(
                Reason::PROTOCOL_ERROR,
                "PRIORITY_UPDATE for an idle push stream",
            ));
        }
        let id = f.prioritized_stream_id;
        if self.is_idle(id)
            && !self.scheduler.knows(id.value())
            && self.scheduler.idle_updated() as u64 + u64::from(self.streams.active_remote)
                >= u64::from(self.local_max_concurrent())
        {
            // RFC 9218 §7.1: idle streams named by PRIORITY_UPDATE plus active streams MUST
            // NOT exceed SETTINGS_MAX_CONCURRENT_STREAMS; a server MUST treat more as a
            // connection error PROTOCOL_ERROR.
            return Err(conn_err(
                Reason::PROTOCOL_ERROR,
                "PRIORITY_UPDATE for more idle streams than MAX_CONCURRENT_STREAMS allows",
            ));
        }
        let p = message::parse_priority_field(&f.field_value).unwrap_or(message::Priority9218 {
            urgency: 3,
            incremental: false,
        });
        self.priority_scheme.rfc9218_signal();
        self.scheduler.set_mode(self.priority_scheme.mode());
        if self.scheduler.knows(id.value()) || self.is_idle(id) {
            // RFC 9218 §7.1: a closed stream's may be discarded; it must not come back as an
            // idle one.
            self.scheduler
                .set_urgency(id.value(), p.urgency, p.incremental);
        }
        self.events.push_back(Event::PriorityUpdated {
            stream: id,
            urgency: p.urgency,
            incremental: p.incremental,
        });
        Ok(())
    }

    // §6.4 RST_STREAM
    pub(super) fn recv_rst(&mut self, f: RstStream, now: Instant) -> Result {
        let id = f.stream_id;
        self.stats.resets_received += 1;
        match self.recv_transition(id, Input::RecvReset) {
            Transition::Next(_) => {
                self.close_stream_with_event(id, f.reason, true);
                self.on_stream_closed();
                self.count_reset(now).map_err(ProtocolError::Connection)
            }
            Transition::Ignore => Ok(()),
            Transition::StreamError(r) => Err(ProtocolError::stream(
                id,
                r,
                "RST_STREAM on a closed stream",
            )),
            Transition::ConnectionError(r) => Err(conn_err(r, "RST_STREAM on an idle stream")),
            Transition::UserError => Ok(()),
        }
    }

    // §6.5 SETTINGS
    pub(super) fn recv_settings(&mut self, f: Settings, now: Instant) -> Result {
        if f.ack {
            // §6.5.3: our oldest SETTINGS is now in force.
            let Some(values) = self.pending_settings.acknowledged() else {
                return Ok(());
            };
            self.apply_local_settings(values)?;
            self.events.push_back(Event::SettingsAcknowledged);
            return Ok(());
        }
        // RFC 9218 §2.1: the value of the first SETTINGS stays; absent there, it is 0.
        let no_rfc7540 = f
            .settings
            .iter()
            .rev()
            .find(|s| s.id == crate::frame::SettingId::NO_RFC7540_PRIORITIES)
            .map(|s| s.value == 1);
        if self.priority_scheme.peer_settings(no_rfc7540).is_err() {
            return Err(conn_err(
                Reason::PROTOCOL_ERROR,
                "SETTINGS_NO_RFC7540_PRIORITIES changed after the first SETTINGS",
            ));
        }
        let mut next = self.remote;
        next.apply(&f.settings);
        if self.role == Role::Client
            && f.settings
                .iter()
                .any(|s| s.id == crate::frame::SettingId::ENABLE_PUSH && s.value == 1)
        {
            // §6.5.2: a client MUST treat ENABLE_PUSH = 1 from a server as PROTOCOL_ERROR.
            return Err(conn_err(
                Reason::PROTOCOL_ERROR,
                "server sent SETTINGS_ENABLE_PUSH = 1",
            ));
        }
        if self.remote.enable_connect_protocol && !next.enable_connect_protocol {
            // RFC 8441 §3: once enabled it cannot be withdrawn.
            return Err(conn_err(
                Reason::PROTOCOL_ERROR,
                "SETTINGS_ENABLE_CONNECT_PROTOCOL withdrawn",
            ));
        }
        let delta = next.initial_window_size as i64 - self.remote.initial_window_size as i64;
        let prev = self.remote;
        self.remote = next;
        if delta != 0 {
            // §6.9.2: adjust every stream's send window by the difference; never the
            // connection window. A window pushed past 2^31-1 is a connection error.
            let mut opened = Vec::new();
            // Closed streams are not in `iter_mut`: their windows no longer matter.
            for s in self.streams.iter_mut() {
                if s.send_window.adjust(delta).is_err() {
                    return Err(conn_err(
                        Reason::FLOW_CONTROL_ERROR,
                        "SETTINGS_INITIAL_WINDOW_SIZE overflows a window",
                    ));
                }
                if delta > 0 && s.send_window.available() > 0 {
                    opened.push(s.id);
                }
            }
            // In stream order, so the events do not depend on the store's hashing.
            opened.sort_unstable_by_key(|id| id.value());
            for id in opened {
                self.update_ready(id);
                self.events.push_back(Event::WindowUpdated { stream: id });
            }
        }
        if next.header_table_size != prev.header_table_size {
            self.encoder
                .set_max_table_size(next.header_table_size as usize);
        }
        self.write_settings_ack();
        self.check_reply_queue()?;
        self.events.push_back(Event::RemoteSettingsChanged {
            changed: f.settings,
        });
        self.open_pending_streams();
        let _ = now;
        Ok(())
    }

    /// Our SETTINGS were acknowledged: they bind the peer from now on (§6.5.3).
    pub(super) fn apply_local_settings(
        &mut self,
        values: crate::settings::SettingsValues,
    ) -> Result {
        let prev = self.local;
        self.local = values;
        self.decoder
            .set_max_table_size(values.header_table_size as usize);
        self.decoder.set_max_header_list_size(
            values
                .max_header_list_size
                .map_or(usize::MAX, |n| n as usize),
        );
        self.reader.set_max_frame_size(values.max_frame_size);
        let delta = values.initial_window_size as i64 - prev.initial_window_size as i64;
        if delta != 0 {
            let policy = self.config.window_policy;
            let mut updates = Vec::new();
            // Closed streams are not in `iter_mut`: their windows no longer matter.
            for s in self.streams.iter_mut() {
                if s.recv.window.adjust(delta).is_err() {
                    return Err(conn_err(
                        Reason::FLOW_CONTROL_ERROR,
                        "receive window overflow",
                    ));
                }
                // A grown (adaptive) target keeps its growth.
                s.recv.target = (s.recv.target as i64 + delta).max(0) as u32;
                s.recv.base = values.initial_window_size;
                // Bytes already released but held back under the old threshold may be due
                // now: a smaller window can leave the peer at zero with the application
                // done reading, and no later release would ever send them (a stall).
                if s.state.can_recv() {
                    if let Some(inc) = s.recv.release(0, &policy) {
                        updates.push((s.id, inc));
                    }
                }
            }
            // In stream order, so output does not depend on the store's hashing.
            updates.sort_unstable_by_key(|(id, _)| id.value());
            for (id, inc) in updates {
                self.write_window_update(id, inc);
            }
        }
        Ok(())
    }

    // §6.7 PING
    pub(super) fn recv_ping(&mut self, f: Ping, now: Instant) -> Result {
        if !f.ack {
            if self.ping_strikes_out(now) {
                return Err(conn_err(Reason::ENHANCE_YOUR_CALM, "too_many_pings"));
            }
            // §6.7: answer with the same payload, ahead of other traffic.
            self.write_ping(true, f.payload);
            return self.check_reply_queue();
        }
        if f.payload == super::ping::BDP_PING && self.bdp_acked(now) {
            // Our BDP sample: no event, it is the core's own.
            return Ok(());
        }
        if let Some((payload, sent)) = self.ping.outstanding {
            if payload == f.payload {
                self.ping.outstanding = None;
                let rtt = now.saturating_duration_since(sent);
                self.ping.rtt = Some(rtt);
                if payload == super::goaway::SHUTDOWN_PING {
                    self.shutdown_ping_acked(now);
                } else if payload != super::ping::KEEPALIVE {
                    self.events
                        .push_back(Event::PingAckReceived { payload, rtt });
                }
            }
        }
        Ok(())
    }

    // §6.8 GOAWAY
    pub(super) fn recv_goaway(&mut self, f: GoAway, now: Instant) -> Result {
        let last = f.last_stream_id;
        if let Some(prev) = self.goaway.received {
            // §6.8: the last-stream-id MUST NOT increase.
            if last > prev {
                return Err(conn_err(
                    Reason::PROTOCOL_ERROR,
                    "GOAWAY last-stream-id increased",
                ));
            }
        }
        self.goaway.received = Some(last);
        self.stats.goaways_received += 1;
        self.events.push_back(Event::GoAwayReceived {
            last_stream_id: last,
            error_code: f.error_code,
            debug_data: f.debug_data,
        });
        // Our streams above `last` were not processed: report them refused, so they may be
        // retried on another connection (§6.8, §8.7).
        let refused: Vec<StreamId> = self
            .streams
            .ids()
            .filter(|&id| self.is_local_id(id) && id > last)
            .collect();
        for id in refused {
            self.close_stream_with_event(id, Reason::REFUSED_STREAM, true);
        }
        if f.error_code != Reason::NO_ERROR
            && self.streams.active_local + self.streams.active_remote == 0
        {
            self.terminate(f.error_code, true, "peer sent GOAWAY with an error".into());
            return Ok(());
        }
        self.maybe_finish_shutdown_at(now);
        Ok(())
    }

    // §6.9 WINDOW_UPDATE
    pub(super) fn recv_window_update(&mut self, f: WindowUpdate) -> Result {
        let id = f.stream_id;
        if id.is_zero() {
            // §6.9.1: a connection window above 2^31-1 is a connection error.
            self.send_window.increase(f.increment).map_err(|_| {
                conn_err(Reason::FLOW_CONTROL_ERROR, "connection window above 2^31-1")
            })?;
            self.events.push_back(Event::WindowUpdated { stream: id });
            return Ok(());
        }
        match self.recv_transition(id, Input::RecvWindowUpdate) {
            Transition::Next(_) => {
                let s = self.streams.get_mut(id).expect("non-idle stream exists");
                // §6.9.1: a stream window above 2^31-1 is a stream error.
                s.send_window.increase(f.increment).map_err(|_| {
                    ProtocolError::stream(
                        id,
                        Reason::FLOW_CONTROL_ERROR,
                        "stream window above 2^31-1",
                    )
                })?;
                self.update_ready(id);
                self.events.push_back(Event::WindowUpdated { stream: id });
                Ok(())
            }
            Transition::Ignore | Transition::UserError => Ok(()),
            Transition::StreamError(r) => Err(ProtocolError::stream(
                id,
                r,
                "WINDOW_UPDATE on a closed stream",
            )),
            Transition::ConnectionError(r) => Err(conn_err(r, "WINDOW_UPDATE on an idle stream")),
        }
    }
}
