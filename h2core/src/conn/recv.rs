//! Receiving: the preface, then frame by frame dispatch (RFC 9113 §3.4, §4–§8).

use super::{Connection, Phase};
use crate::config::Role;
use crate::error::{ConnectionError, ProtocolError, StreamError};
use crate::event::Event;
use crate::frame::{
    Continuation, Data, Frame, GoAway, Headers, Ping, Priority, PriorityUpdate, PushPromise,
    Reason, RstStream, Settings, StreamId, WindowUpdate,
};
use crate::hpack::Header;
use crate::message::{self, CheckOptions, Kind};
use crate::stream::state::{transition, Closed, Input, State, Transition};
use crate::stream::{RecvPhase, Stream};
use bytes::{Bytes, BytesMut};
use std::time::Instant;

/// A header block whose CONTINUATION frames are still arriving (§6.10).
#[derive(Debug)]
pub(crate) struct PartialBlock {
    pub stream: StreamId,
    pub promised: Option<StreamId>,
    pub end_stream: bool,
    pub priority: Option<crate::frame::PrioritySpec>,
    pub block: BytesMut,
    pub frames: usize,
    /// The block is decoded only to keep HPACK in sync; then this stream error is raised.
    pub doomed: Option<ProtocolError>,
}

/// Flood accounting (RFC 9113 §10.5; CVE-2019-9512/9514/9515/9518, CVE-2023-44487).
#[derive(Debug, Default)]
pub(crate) struct Flood {
    window_start: Option<Instant>,
    resets: u32,
    empty_frames: u32,
    /// PING and SETTINGS ACKs queued since the last `poll_transmit`.
    pub pending_replies: usize,
}

type Result<T = ()> = std::result::Result<T, ProtocolError>;

fn conn_err(reason: Reason, detail: &'static str) -> ProtocolError {
    ProtocolError::connection(reason, detail)
}

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
    fn handle_read_error(
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
    fn handle_error(
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
        let known = self.streams.get(err.stream).map(|s| s.state);
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
                self.streams.insert(Stream::new(err.stream, 0, 0));
                let local = self.is_local_id(err.stream);
                let remember = self.config.limits.max_closed_streams_remembered;
                self.streams.set_state(
                    err.stream,
                    State::Closed(Closed::ResetSent),
                    local,
                    remember,
                );
            }
        }
        self.count_reset(now)
    }

    /// Rapid reset guard (CVE-2023-44487): resets per window, ours and the peer's.
    fn count_reset(&mut self, now: Instant) -> std::result::Result<(), ConnectionError> {
        self.roll_flood_window(now);
        self.limits.resets += 1;
        if self.limits.resets > self.config.limits.max_resets_per_window {
            let err = ConnectionError {
                reason: Reason::ENHANCE_YOUR_CALM,
                detail: "too many stream resets",
            };
            self.connection_error(err, now);
            return Err(err);
        }
        Ok(())
    }

    pub(super) fn roll_flood_window(&mut self, now: Instant) {
        let start = *self.limits.window_start.get_or_insert(now);
        if now.saturating_duration_since(start) >= self.config.limits.reset_window {
            self.limits.window_start = Some(now);
            self.limits.resets = 0;
            self.limits.empty_frames = 0;
            self.guards.priority_frames = 0;
        }
    }

    fn count_empty_frame(&mut self, now: Instant) -> Result {
        self.roll_flood_window(now);
        self.limits.empty_frames += 1;
        if self.limits.empty_frames > self.config.limits.max_empty_frames_per_window {
            return Err(conn_err(Reason::ENHANCE_YOUR_CALM, "too many empty frames"));
        }
        Ok(())
    }

    /// Too many replies queued and not written: the peer does not read what it asks for
    /// (CVE-2019-9512 PING flood, CVE-2019-9515 SETTINGS flood). Replies in the batch the
    /// adapter is still writing count too (see `limits`).
    fn check_reply_queue(&self) -> Result {
        let unwritten = self.limits.pending_replies + self.guards.replies_in_flight;
        if unwritten > self.config.limits.max_pending_control_frames {
            return Err(conn_err(
                Reason::ENHANCE_YOUR_CALM,
                "peer does not read our replies",
            ));
        }
        Ok(())
    }

    /// §5.1: is `id` idle (never opened, by either side, as far as identifiers go)?
    pub(crate) fn is_idle(&self, id: StreamId) -> bool {
        if id.is_zero() || self.streams.get(id).is_some_and(|s| s.state != State::Idle) {
            return false;
        }
        if self.is_local_id(id) {
            self.next_local_id.is_none_or(|next| id >= next)
        } else {
            id > self.last_peer_id
        }
    }

    fn recv_frame(&mut self, frame: Frame, now: Instant) -> Result {
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
    fn recv_transition(&self, id: StreamId, input: Input) -> Transition {
        match self.streams.get(id) {
            // Our request still waiting for a concurrency slot: the peer has never seen it, so
            // any frame on it is on an idle stream we did not open (§5.1).
            Some(s) if s.state == State::Idle => {
                Transition::ConnectionError(Reason::PROTOCOL_ERROR)
            }
            Some(s) => transition(s.state, input),
            None if self.is_idle(id) => transition(State::Idle, input),
            // §5.1.1: HEADERS on an identifier below the peer's latest that we never saw is
            // an unexpected identifier (PROTOCOL_ERROR); DATA may be late, after a reset.
            None => match input {
                Input::RecvWindowUpdate | Input::RecvReset => Transition::Ignore,
                Input::RecvHeaders { .. } => Transition::ConnectionError(Reason::PROTOCOL_ERROR),
                _ => Transition::StreamError(Reason::STREAM_CLOSED),
            },
        }
    }

    fn apply_recv(&mut self, id: StreamId, next: State) {
        let local = self.is_local_id(id);
        let remember = self.config.limits.max_closed_streams_remembered;
        let was_closed = self.streams.get(id).is_some_and(|s| s.state.is_closed());
        self.streams.set_state(id, next, local, remember);
        if next.is_closed() && !was_closed {
            self.scheduler.remove(id.value());
            self.on_stream_closed();
        }
    }

    // §6.1 DATA
    fn recv_data(&mut self, f: Data, now: Instant) -> Result {
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
                let padding = len - f.data.len() as u32;
                self.stats.data_received += f.data.len() as u64;
                self.events.push_back(Event::DataReceived {
                    stream: id,
                    data: f.data,
                    flow_controlled_len: len,
                    end_stream: f.end_stream,
                });
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

    // §6.2 HEADERS
    fn recv_headers(&mut self, f: Headers, now: Instant) -> Result {
        let partial = PartialBlock {
            stream: f.stream_id,
            promised: None,
            end_stream: f.end_stream,
            priority: f.priority,
            block: BytesMut::new(),
            frames: 1,
            doomed: None,
        };
        if f.end_headers {
            self.header_block_complete(partial, f.header_block, now)
        } else {
            self.start_partial(partial, f.header_block)
        }
    }

    fn start_partial(&mut self, mut partial: PartialBlock, first: Bytes) -> Result {
        self.check_block_size(first.len())?;
        partial.block.extend_from_slice(&first);
        self.partial = Some(partial);
        Ok(())
    }

    fn check_block_size(&self, n: usize) -> Result {
        if n > self.config.limits.max_header_block_size {
            return Err(conn_err(
                Reason::ENHANCE_YOUR_CALM,
                "header block too large",
            ));
        }
        Ok(())
    }

    // §6.10 CONTINUATION
    fn recv_continuation(&mut self, f: Continuation, now: Instant) -> Result {
        let limits = &self.config.limits;
        let (max_frames, max_size) = (limits.max_continuation_frames, limits.max_header_block_size);
        let partial = self.partial.as_mut().expect("checked by caller");
        partial.frames += 1;
        if partial.frames > max_frames || partial.block.len() + f.header_block.len() > max_size {
            // CONTINUATION flood (2024): refuse to buffer an endless header block.
            return Err(conn_err(
                Reason::ENHANCE_YOUR_CALM,
                "header block too large or too many CONTINUATION frames",
            ));
        }
        if f.header_block.is_empty() && !f.end_headers {
            self.count_empty_frame(now)?;
        }
        let partial = self.partial.as_mut().expect("checked by caller");
        partial.block.extend_from_slice(&f.header_block);
        if f.end_headers {
            let mut partial = self.partial.take().expect("checked by caller");
            let block = partial.block.split().freeze();
            self.header_block_complete(partial, block, now)
        } else {
            Ok(())
        }
    }

    /// Decodes a whole header block. HPACK state is shared by the connection, so every block is
    /// decoded, even on streams we then refuse or ignore (§4.3).
    fn decode_block(&mut self, block: &Bytes) -> Result<std::result::Result<Vec<Header>, ()>> {
        let mut headers = Vec::new();
        // Too many fields refuses the stream like too large a list (§10.5.1); the block is
        // still decoded to its end to keep HPACK in sync, without collecting the excess.
        let max_fields = self.config.limits.max_header_fields;
        let mut too_many = false;
        let collect = |h| {
            if headers.len() < max_fields {
                headers.push(h);
            } else {
                too_many = true;
            }
        };
        match self.decoder.decode(block, collect) {
            Ok(()) if too_many => Ok(Err(())),
            Ok(()) => Ok(Ok(headers)),
            Err(e) if e.reason() == Reason::COMPRESSION_ERROR => {
                // §4.3: a decoding error MUST be a connection error COMPRESSION_ERROR.
                Err(conn_err(Reason::COMPRESSION_ERROR, "HPACK decoding failed"))
            }
            // The list exceeded our SETTINGS_MAX_HEADER_LIST_SIZE: the table is in sync, the
            // stream is refused.
            Err(_) => Ok(Err(())),
        }
    }

    fn header_block_complete(
        &mut self,
        partial: PartialBlock,
        block: Bytes,
        now: Instant,
    ) -> Result {
        let decoded = self.decode_block(&block)?;
        if let Some(err) = partial.doomed {
            if self.is_idle(partial.stream) && !self.is_local_id(partial.stream) {
                self.last_peer_id = partial.stream;
            }
            return Err(err);
        }
        if let Some(promised) = partial.promised {
            return self.push_promise_complete(partial.stream, promised, decoded, now);
        }
        let id = partial.stream;
        let end_stream = partial.end_stream;
        let opening = self.is_idle(id);
        if opening {
            if self.is_local_id(id) || (self.role == Role::Client) {
                // A client never receives HEADERS on an idle stream: servers open streams only
                // with PUSH_PROMISE (§8.4); and nobody opens the other side's identifiers.
                return Err(conn_err(
                    Reason::PROTOCOL_ERROR,
                    "HEADERS on an idle stream we did not open",
                ));
            }
            return self.open_remote_stream(id, partial, decoded, now);
        }
        let transition = self.recv_transition(id, Input::RecvHeaders { end_stream });
        let next = match transition {
            Transition::Next(next) => next,
            Transition::Ignore => return Ok(()),
            Transition::StreamError(r) => {
                return Err(ProtocolError::stream(id, r, "HEADERS on a closed stream"))
            }
            Transition::ConnectionError(r) => {
                return Err(conn_err(r, "HEADERS on a stream in the wrong state"))
            }
            Transition::UserError => return Ok(()),
        };
        let reserved = self.streams.get(id).map(|s| s.state) == Some(State::ReservedRemote);
        if reserved && next.is_active() && self.streams.active_remote >= self.local_max_concurrent()
        {
            // §5.1.2: the HEADERS opening a promised stream counts against our limit too.
            return Err(ProtocolError::stream(
                id,
                Reason::REFUSED_STREAM,
                "MAX_CONCURRENT_STREAMS reached",
            ));
        }
        let Ok(headers) = decoded else {
            return Err(ProtocolError::stream(
                id,
                Reason::PROTOCOL_ERROR,
                "header list too large",
            ));
        };
        if let Some(p) = partial.priority {
            self.apply_priority(id, p);
        }
        let stream = self.streams.get(id).expect("non-idle stream exists");
        let opts = CheckOptions {
            enable_connect_protocol: self.local.enable_connect_protocol,
        };
        match stream.recv_phase {
            RecvPhase::Head | RecvPhase::Informational => {
                // A response (client), or the response on a pushed stream.
                let info = message::check(Kind::Response, &headers, &opts)
                    .map_err(|m| ProtocolError::stream(id, Reason::PROTOCOL_ERROR, m.0))?;
                if info.is_informational {
                    if end_stream {
                        // §8.1: a 1xx cannot end the stream.
                        return Err(ProtocolError::stream(
                            id,
                            Reason::PROTOCOL_ERROR,
                            "1xx with END_STREAM",
                        ));
                    }
                    let s = self.streams.get_mut(id).expect("exists");
                    s.recv_phase = RecvPhase::Informational;
                    self.events.push_back(Event::InformationalResponseReceived {
                        stream: id,
                        headers,
                    });
                    return Ok(());
                }
                let s = self.streams.get_mut(id).expect("exists");
                s.recv_phase = RecvPhase::Body;
                let no_content =
                    s.head_request || info.status == Some(204) || info.status == Some(304);
                s.recv_content_length = if no_content {
                    None
                } else {
                    info.content_length
                };
                if end_stream {
                    if let Some(cl) = s.recv_content_length {
                        if cl != 0 {
                            return Err(ProtocolError::stream(
                                id,
                                Reason::PROTOCOL_ERROR,
                                "content-length mismatch",
                            ));
                        }
                    }
                }
                self.events.push_back(Event::ResponseReceived {
                    stream: id,
                    headers,
                    end_stream,
                });
            }
            RecvPhase::Body => {
                // A second block is trailers: it MUST end the stream and carry no pseudo-header
                // (§8.1).
                if !end_stream {
                    return Err(ProtocolError::stream(
                        id,
                        Reason::PROTOCOL_ERROR,
                        "trailers without END_STREAM",
                    ));
                }
                message::check(Kind::Trailers, &headers, &opts)
                    .map_err(|m| ProtocolError::stream(id, Reason::PROTOCOL_ERROR, m.0))?;
                let s = self.streams.get(id).expect("exists");
                if let Some(cl) = s.recv_content_length {
                    if s.recv_data_len != cl {
                        return Err(ProtocolError::stream(
                            id,
                            Reason::PROTOCOL_ERROR,
                            "content-length mismatch",
                        ));
                    }
                }
                self.events.push_back(Event::TrailersReceived {
                    stream: id,
                    headers,
                });
            }
        }
        if end_stream {
            self.events.push_back(Event::StreamEnded { stream: id });
        }
        self.apply_recv(id, next);
        Ok(())
    }

    /// Server: a request opens a stream (§5.1, §8.1).
    fn open_remote_stream(
        &mut self,
        id: StreamId,
        partial: PartialBlock,
        decoded: std::result::Result<Vec<Header>, ()>,
        now: Instant,
    ) -> Result {
        if !id.is_client_initiated() {
            return Err(conn_err(
                Reason::PROTOCOL_ERROR,
                "client opened an even stream",
            ));
        }
        // §5.1.1: opening a stream closes every idle stream with a lower identifier.
        self.last_peer_id = id;
        // §6.8: after our GOAWAY, streams above its last-stream-id are ignored.
        if self.goaway.sent.is_some_and(|last| id > last) {
            return Ok(());
        }
        let end_stream = partial.end_stream;
        // §5.1.2: beyond our SETTINGS_MAX_CONCURRENT_STREAMS, refuse.
        if self.streams.active_remote >= self.local_max_concurrent() {
            return Err(ProtocolError::stream(
                id,
                Reason::REFUSED_STREAM,
                "MAX_CONCURRENT_STREAMS reached",
            ));
        }
        let Ok(headers) = decoded else {
            return Err(ProtocolError::stream(
                id,
                Reason::PROTOCOL_ERROR,
                "header list too large",
            ));
        };
        let opts = CheckOptions {
            enable_connect_protocol: self.config.settings.enable_connect_protocol,
        };
        let info = match message::check(Kind::Request, &headers, &opts) {
            Ok(info) => info,
            Err(m) => {
                // The stream exists (it was opened, then is malformed): track it so the reset
                // and late frames are handled as for any stream.
                let s = Stream::new(
                    id,
                    self.remote.initial_window_size,
                    self.local_recv_initial(),
                );
                self.streams.insert(s);
                let next = if end_stream {
                    State::HalfClosedRemote
                } else {
                    State::Open
                };
                self.apply_recv(id, next);
                return Err(ProtocolError::stream(id, Reason::PROTOCOL_ERROR, m.0));
            }
        };
        let mut s = Stream::new(
            id,
            self.remote.initial_window_size,
            self.local_recv_initial(),
        );
        s.recv_phase = RecvPhase::Body;
        s.recv_content_length = info.content_length;
        s.head_request = info.method_is_head;
        if end_stream && info.content_length.is_some_and(|cl| cl != 0) {
            self.streams.insert(s);
            self.apply_recv(id, State::HalfClosedRemote);
            return Err(ProtocolError::stream(
                id,
                Reason::PROTOCOL_ERROR,
                "content-length mismatch",
            ));
        }
        self.streams.insert(s);
        self.stats.streams_opened += 1;
        let prio = partial.priority.map(|p| crate::priority::Rfc7540Priority {
            dependency: p.dependency.value(),
            weight: p.weight as u16 + 1,
            exclusive: p.exclusive,
        });
        self.scheduler.insert(id.value(), prio);
        if let Some(p) = info.priority {
            self.scheduler
                .set_urgency(id.value(), p.urgency, p.incremental);
        }
        self.apply_recv(
            id,
            if end_stream {
                State::HalfClosedRemote
            } else {
                State::Open
            },
        );
        self.events.push_back(Event::RequestReceived {
            stream: id,
            headers,
            end_stream,
        });
        if end_stream {
            self.events.push_back(Event::StreamEnded { stream: id });
        }
        let _ = now;
        Ok(())
    }

    /// Our SETTINGS_MAX_CONCURRENT_STREAMS (§5.1.2). The latest value we announced applies at
    /// once, acknowledged or not: a lower one refuses with REFUSED_STREAM, which the peer may
    /// retry; a higher one the peer cannot exceed before it sees it anyway.
    fn local_max_concurrent(&self) -> u32 {
        self.pending_settings
            .latest()
            .unwrap_or(&self.local)
            .max_concurrent_streams
            .unwrap_or(u32::MAX)
    }

    /// The receive window a new stream starts with: our acknowledged initial window, or the
    /// configured one if it is smaller and pending (the peer may already honor it).
    fn local_recv_initial(&self) -> u32 {
        self.local.initial_window_size
    }

    // §6.3 PRIORITY
    fn recv_priority(&mut self, f: Priority) -> Result {
        self.apply_priority(f.stream_id, f.spec);
        Ok(())
    }

    fn apply_priority(&mut self, id: StreamId, spec: crate::frame::PrioritySpec) {
        if self.remote.no_rfc7540_priorities && self.local.no_rfc7540_priorities {
            return;
        }
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
    fn recv_priority_update(&mut self, f: PriorityUpdate) -> Result {
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
        let p = message::parse_priority_field(&f.field_value).unwrap_or(message::Priority9218 {
            urgency: 3,
            incremental: false,
        });
        let id = f.prioritized_stream_id;
        self.scheduler
            .set_urgency(id.value(), p.urgency, p.incremental);
        self.events.push_back(Event::PriorityUpdated {
            stream: id,
            urgency: p.urgency,
            incremental: p.incremental,
        });
        Ok(())
    }

    // §6.4 RST_STREAM
    fn recv_rst(&mut self, f: RstStream, now: Instant) -> Result {
        let id = f.stream_id;
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
    fn recv_settings(&mut self, f: Settings, now: Instant) -> Result {
        if f.ack {
            // §6.5.3: our oldest SETTINGS is now in force.
            let Some(values) = self.pending_settings.acknowledged() else {
                return Ok(());
            };
            self.apply_local_settings(values)?;
            self.events.push_back(Event::SettingsAcknowledged);
            return Ok(());
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
            for s in self.streams.iter_mut() {
                if s.state.is_closed() {
                    continue;
                }
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
        if next.no_rfc7540_priorities && self.config.settings.no_rfc7540_priorities {
            self.scheduler.set_mode(crate::priority::Mode::Rfc9218);
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
    fn apply_local_settings(&mut self, values: crate::settings::SettingsValues) -> Result {
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
            for s in self.streams.iter_mut() {
                if s.state.is_closed() {
                    continue;
                }
                if s.recv.window.adjust(delta).is_err() {
                    return Err(conn_err(
                        Reason::FLOW_CONTROL_ERROR,
                        "receive window overflow",
                    ));
                }
                s.recv.target = values.initial_window_size;
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
        if values.no_rfc7540_priorities && self.remote.no_rfc7540_priorities {
            self.scheduler.set_mode(crate::priority::Mode::Rfc9218);
        }
        Ok(())
    }

    // §6.6 PUSH_PROMISE
    fn recv_push_promise(&mut self, f: PushPromise, now: Instant) -> Result {
        if self.role == Role::Server {
            // §8.4: a client cannot push.
            return Err(conn_err(
                Reason::PROTOCOL_ERROR,
                "PUSH_PROMISE from a client",
            ));
        }
        if !self.local.enable_push
            && !self
                .pending_settings
                .latest()
                .is_some_and(|s| s.enable_push)
        {
            // §6.6: push disabled and acknowledged → PROTOCOL_ERROR.
            return Err(conn_err(
                Reason::PROTOCOL_ERROR,
                "PUSH_PROMISE while push is disabled",
            ));
        }
        let partial = PartialBlock {
            stream: f.stream_id,
            promised: Some(f.promised_id),
            end_stream: false,
            priority: None,
            block: BytesMut::new(),
            frames: 1,
            doomed: None,
        };
        if f.end_headers {
            self.header_block_complete(partial, f.header_block, now)
        } else {
            self.start_partial(partial, f.header_block)
        }
    }

    fn push_promise_complete(
        &mut self,
        parent: StreamId,
        promised: StreamId,
        decoded: std::result::Result<Vec<Header>, ()>,
        _now: Instant,
    ) -> Result {
        // §6.6: the promised stream must be a new server stream; anything else is PROTOCOL_ERROR.
        if !promised.is_server_initiated() || promised <= self.last_peer_id {
            return Err(conn_err(
                Reason::PROTOCOL_ERROR,
                "PUSH_PROMISE of a stream that is not idle",
            ));
        }
        // §6.6/§8.4: promises arrive on a stream we opened, open or half-closed (local).
        let parent_state = self.streams.get(parent).map(|s| s.state);
        match parent_state {
            Some(State::Open | State::HalfClosedLocal) => {}
            Some(State::Closed(Closed::ResetSent)) => {
                // We reset the parent; the promise still reserved the stream: refuse it.
                self.last_peer_id = promised;
                return Err(ProtocolError::stream(
                    promised,
                    Reason::CANCEL,
                    "promise on a reset stream",
                ));
            }
            _ => {
                return Err(conn_err(
                    Reason::PROTOCOL_ERROR,
                    "PUSH_PROMISE on a stream not open",
                ))
            }
        }
        self.last_peer_id = promised;
        if self.reserved_streams() >= self.config.limits.max_reserved_streams {
            // Reserved streams do not count against MAX_CONCURRENT_STREAMS (§5.1.2), so a
            // server could promise without end: refuse beyond the limit (§8.4: a client may
            // reset a promise with REFUSED_STREAM).
            return Err(ProtocolError::stream(
                promised,
                Reason::REFUSED_STREAM,
                "too many promised streams",
            ));
        }
        let mut s = Stream::new(
            promised,
            self.remote.initial_window_size,
            self.local.initial_window_size,
        );
        s.pushed = true;
        self.streams.insert(s);
        self.apply_recv(promised, State::ReservedRemote);
        let Ok(headers) = decoded else {
            return Err(ProtocolError::stream(
                promised,
                Reason::PROTOCOL_ERROR,
                "header list too large",
            ));
        };
        let opts = CheckOptions {
            enable_connect_protocol: false,
        };
        let info = message::check(Kind::PushPromiseRequest, &headers, &opts)
            .map_err(|m| ProtocolError::stream(promised, Reason::PROTOCOL_ERROR, m.0))?;
        if let Some(s) = self.streams.get_mut(promised) {
            s.head_request = info.method_is_head;
        }
        self.stats.streams_opened += 1;
        self.scheduler.insert(promised.value(), None);
        self.events.push_back(Event::PushedStreamReceived {
            parent,
            promised,
            headers,
        });
        Ok(())
    }

    // §6.7 PING
    fn recv_ping(&mut self, f: Ping, now: Instant) -> Result {
        if !f.ack {
            // §6.7: answer with the same payload, ahead of other traffic.
            self.write_ping(true, f.payload);
            return self.check_reply_queue();
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
    fn recv_goaway(&mut self, f: GoAway, now: Instant) -> Result {
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
            .filter(|&id| self.streams.get(id).is_some_and(|s| !s.state.is_closed()))
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
    fn recv_window_update(&mut self, f: WindowUpdate) -> Result {
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
