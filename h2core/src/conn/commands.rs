//! Commands from the application. Each checks everything first and returns a `UserError`
//! without sending anything when the call is not allowed.

use super::send::BlockKind;
use super::{Connection, Phase};
use crate::config::Role;
use crate::error::UserError;
use crate::event::Event;
use crate::frame::{PrioritySpec, Reason, StreamId, Unknown, MAX_WINDOW_SIZE};
use crate::hpack::Header;
use crate::message::{self, CheckOptions, Kind};
use crate::settings::SettingsValues;
use crate::stream::state::{transition, Input, State, Transition};
use crate::stream::{RecvPhase, SendPhase, Stream};
use bytes::Bytes;
use std::time::Instant;

impl Connection {
    fn check_open(&self) -> Result<(), UserError> {
        match self.phase {
            Phase::Closed | Phase::Draining(_) => Err(UserError::ConnectionClosed),
            _ => Ok(()),
        }
    }

    fn check_opts(&self) -> CheckOptions {
        CheckOptions {
            enable_connect_protocol: self.remote.enable_connect_protocol,
        }
    }

    /// Client: sends a request (RFC 9113 §8.1) on a new stream and returns its identifier.
    /// `headers` holds the pseudo-headers (`:method`, `:scheme`, `:authority`, `:path`) first.
    /// When the peer's SETTINGS_MAX_CONCURRENT_STREAMS is reached, the request waits for a slot
    /// (its stream reports [`SendState::ConcurrencyLimit`](super::SendState)) and goes out, in
    /// order, as soon as one frees.
    pub fn send_request(
        &mut self,
        headers: Vec<Header>,
        end_stream: bool,
    ) -> Result<StreamId, UserError> {
        self.check_open()?;
        if self.role != Role::Client {
            return Err(UserError::WrongRole);
        }
        if self.goaway.received.is_some() || self.goaway.sent.is_some() {
            return Err(UserError::ConnectionClosed);
        }
        let info =
            message::check_outgoing(Kind::Request, &headers, &self.check_opts()).map_err(|m| {
                match m.0 {
                    message::reason::PROTOCOL_NOT_ENABLED => UserError::ExtendedConnectDisabled,
                    why => UserError::MalformedHeaders(why),
                }
            })?;
        let id = self.next_local_id.ok_or(UserError::StreamsExhausted)?;
        self.next_local_id = id.next_id();
        let mut stream = Stream::new(
            id,
            self.remote.initial_window_size,
            self.local.initial_window_size,
        );
        stream.head_request = info.method_is_head;
        stream.send_phase = SendPhase::Body;
        self.streams.insert(stream);
        self.stats.streams_opened += 1;
        self.scheduler.insert(id.value(), None);
        if self.pending_open.is_empty() && self.local_slot_free() {
            self.open_local_stream(id, &headers, end_stream);
        } else if let Some(s) = self.streams.get_mut(id) {
            s.pending_open = Some((headers, end_stream));
            self.pending_open.push_back(id);
        }
        Ok(id)
    }

    fn open_local_stream(&mut self, id: StreamId, headers: &[Header], end_stream: bool) {
        self.write_header_block(
            id,
            BlockKind::Headers {
                end_stream,
                priority: None,
            },
            headers,
        );
        self.local_state(id, Input::SendHeaders { end_stream });
        self.update_ready(id);
    }

    /// Opens queued requests while the peer's concurrency limit allows (§5.1.2).
    pub(crate) fn open_pending_streams(&mut self) {
        while self.local_slot_free() {
            let Some(id) = self.pending_open.pop_front() else {
                return;
            };
            let Some((headers, end_stream)) =
                self.streams.get_mut(id).and_then(|s| s.pending_open.take())
            else {
                continue;
            };
            self.open_local_stream(id, &headers, end_stream);
            if self
                .streams
                .get(id)
                .is_some_and(|s| s.send_buffered == 0 && (s.send_end || s.send_trailers.is_some()))
            {
                self.finish_if_drained(id);
            }
        }
    }

    /// A stream closed: a concurrency slot may have freed, and a shutdown may be complete.
    pub(crate) fn on_stream_closed(&mut self) {
        if !self.pending_open.is_empty() {
            self.open_pending_streams();
        }
        self.maybe_finish_shutdown();
    }

    fn response_stream(&self, id: StreamId) -> Result<&Stream, UserError> {
        let s = self.streams.get(id).ok_or(UserError::InactiveStream(id))?;
        check_can_send(id, s)?;
        Ok(s)
    }

    /// Server: sends the final response's header block on a request stream (§8.1).
    /// `headers` starts with `:status`. With `end_stream` the response has no content.
    pub fn send_response(
        &mut self,
        id: StreamId,
        headers: Vec<Header>,
        end_stream: bool,
    ) -> Result<(), UserError> {
        self.check_open()?;
        if self.role != Role::Server {
            return Err(UserError::WrongRole);
        }
        let opts = self.check_opts();
        let must_wait = !self.pending_open.is_empty() || !self.local_slot_free();
        // One lookup of the stream for the checks and its new phase.
        let s = self
            .streams
            .get_mut(id)
            .ok_or(UserError::InactiveStream(id))?;
        check_can_send(id, s)?;
        if s.send_phase == SendPhase::Body {
            return Err(UserError::InvalidState(id));
        }
        let info = message::check_outgoing(Kind::Response, &headers, &opts)
            .map_err(|m| UserError::MalformedHeaders(m.0))?;
        if info.is_informational {
            return Err(UserError::MalformedHeaders(
                "1xx goes through send_informational",
            ));
        }
        let state = s.state;
        // RFC 9110 §9.3.2, §15.3.5, §15.4.5: a response to HEAD, a 204 and a 304 have no
        // content, so the HEADERS ends the stream whatever the caller asked; later DATA is
        // refused as after any END_STREAM.
        let end_stream =
            end_stream || s.head_request || matches!(info.status, Some(204) | Some(304));
        // Every check passed: the final response is under way, whether its HEADERS goes out
        // now or waits for a slot.
        s.send_phase = SendPhase::Body;
        if state == State::ReservedLocal && must_wait {
            // §5.1.2: this HEADERS opens the promised stream, which counts against the client's
            // SETTINGS_MAX_CONCURRENT_STREAMS: it waits for a slot, in order, like a request.
            s.pending_open = Some((headers, end_stream));
            self.pending_open.push_back(id);
            return Ok(());
        }
        self.write_header_block(
            id,
            BlockKind::Headers {
                end_stream,
                priority: None,
            },
            &headers,
        );
        // Encoded: the list is kept for a later block (`Connection::spare_fields`).
        self.spare_fields.put(headers);
        if state == State::ReservedLocal || end_stream {
            self.local_state(id, Input::SendHeaders { end_stream });
        }
        // No scheduler call: `send_data` refuses DATA before the response head, so nothing is
        // queued and the stream is not ready; it becomes ready with its first DATA.
        Ok(())
    }

    /// Server: sends a 1xx informational response (§8.1, e.g. 100 Continue or 103 Early
    /// Hints). Any number may precede the final response; they never end the stream.
    pub fn send_informational(
        &mut self,
        id: StreamId,
        headers: Vec<Header>,
    ) -> Result<(), UserError> {
        self.check_open()?;
        if self.role != Role::Server {
            return Err(UserError::WrongRole);
        }
        let s = self.response_stream(id)?;
        if s.send_phase == SendPhase::Body || s.state == State::ReservedLocal {
            return Err(UserError::InvalidState(id));
        }
        let info = message::check_outgoing(Kind::Response, &headers, &self.check_opts())
            .map_err(|m| UserError::MalformedHeaders(m.0))?;
        if !info.is_informational {
            return Err(UserError::MalformedHeaders("not a 1xx status"));
        }
        self.write_header_block(
            id,
            BlockKind::Headers {
                end_stream: false,
                priority: None,
            },
            &headers,
        );
        self.spare_fields.put(headers);
        if let Some(s) = self.streams.get_mut(id) {
            s.send_phase = SendPhase::Informational;
        }
        Ok(())
    }

    /// Queues `data` on a stream (§6.1). The bytes are not copied: DATA frames are slices of
    /// `data`, cut as the flow-control windows allow (§6.9). With `end_stream`, END_STREAM goes
    /// on the last frame. Use [`Connection::send_capacity`] for backpressure.
    pub fn send_data(
        &mut self,
        id: StreamId,
        data: Bytes,
        end_stream: bool,
    ) -> Result<(), UserError> {
        self.check_open()?;
        // One lookup of the stream for the checks, the queueing and its readiness: this runs
        // for every response body.
        let s = self
            .streams
            .get_mut(id)
            .ok_or(UserError::InactiveStream(id))?;
        check_can_send(id, s)?;
        if s.send_phase != SendPhase::Body || s.send_end || s.send_trailers.is_some() {
            return Err(UserError::InvalidState(id));
        }
        let n = data.len();
        if n > 0 {
            s.send_buffered += n;
            s.send_buf.push_back(data);
        }
        s.send_end = end_stream;
        let drained = s.send_buffered == 0 && s.pending_open.is_none();
        let ready = s.wants_send();
        self.streams.send_buffered_total += n;
        if drained {
            // Nothing queued (an empty last call): END_STREAM goes out now, as
            // `finish_if_drained` does, and the stream may close on the way.
            self.finish_if_drained(id);
            self.update_ready(id);
        } else {
            self.scheduler.set_ready(id.value(), ready);
        }
        Ok(())
    }

    /// Sends trailers after the queued DATA; they end the stream (§8.1).
    pub fn send_trailers(&mut self, id: StreamId, headers: Vec<Header>) -> Result<(), UserError> {
        self.check_open()?;
        let s = self.response_stream(id)?;
        if s.send_phase != SendPhase::Body || s.send_end || s.send_trailers.is_some() {
            return Err(UserError::InvalidState(id));
        }
        message::check_outgoing(Kind::Trailers, &headers, &self.check_opts())
            .map_err(|m| UserError::MalformedHeaders(m.0))?;
        if let Some(s) = self.streams.get_mut(id) {
            s.send_trailers = Some(headers);
        }
        self.finish_if_drained(id);
        Ok(())
    }

    /// If nothing is left queued, writes what ends the stream now (empty DATA with END_STREAM,
    /// or the trailers), so a stream never waits on the scheduler for zero bytes.
    fn finish_if_drained(&mut self, id: StreamId) {
        let Some(s) = self.streams.get_mut(id) else {
            return;
        };
        if s.send_buffered > 0 || s.pending_open.is_some() {
            return;
        }
        if let Some(trailers) = s.send_trailers.take() {
            s.send_end = false;
            self.write_trailers(id, &trailers);
        } else if s.send_end {
            s.send_end = false;
            self.write_empty_end_stream(id);
            self.local_state(id, Input::SendData { end_stream: true });
        }
    }

    /// Recomputes whether the scheduler should consider the stream.
    pub(crate) fn update_ready(&mut self, id: StreamId) {
        let ready = self.streams.get(id).is_some_and(|s| s.wants_send());
        self.scheduler.set_ready(id.value(), ready);
    }

    /// Server: promises a pushed response (§8.4) for the request `headers` on the client's
    /// stream `parent`, returning the reserved stream. Refused when the client disabled push
    /// (SETTINGS_ENABLE_PUSH = 0, §6.5.2).
    pub fn push_promise(
        &mut self,
        parent: StreamId,
        headers: Vec<Header>,
    ) -> Result<StreamId, UserError> {
        self.check_open()?;
        if self.role != Role::Server {
            return Err(UserError::WrongRole);
        }
        if !self.remote.enable_push {
            return Err(UserError::PushDisabled);
        }
        if self.goaway.received.is_some() {
            return Err(UserError::ConnectionClosed);
        }
        let parent_state = self
            .streams
            .state(parent)
            .ok_or(UserError::InactiveStream(parent))?;
        // §8.4: promises go on a stream the client opened, while it is open or half-closed
        // (remote) from our side.
        if !parent.is_client_initiated()
            || !matches!(parent_state, State::Open | State::HalfClosedRemote)
        {
            return Err(UserError::InvalidState(parent));
        }
        let info = message::check_outgoing(Kind::PushPromiseRequest, &headers, &self.check_opts())
            .map_err(|m| UserError::MalformedHeaders(m.0))?;
        let id = self.next_local_id.ok_or(UserError::StreamsExhausted)?;
        self.next_local_id = id.next_id();
        let mut stream = Stream::new(
            id,
            self.remote.initial_window_size,
            self.local.initial_window_size,
        );
        stream.pushed = true;
        stream.head_request = info.method_is_head;
        stream.recv_phase = RecvPhase::Body;
        self.streams.insert(stream);
        self.stats.streams_opened += 1;
        self.scheduler.insert(
            id.value(),
            Some(crate::priority::Rfc7540Priority {
                dependency: parent.value(),
                weight: 16,
                exclusive: false,
            }),
        );
        self.write_header_block(parent, BlockKind::PushPromise { promised: id }, &headers);
        self.local_state(id, Input::SendPushPromise);
        Ok(id)
    }

    /// Resets a stream with RST_STREAM (§6.4). Queued data is dropped. Late frames from the
    /// peer on it are ignored, and their bytes still go back to the connection window.
    pub fn reset(&mut self, id: StreamId, reason: Reason) -> Result<(), UserError> {
        self.check_open()?;
        let s = self.streams.get(id).ok_or(UserError::InactiveStream(id))?;
        self.pending_open.retain(|&p| p != id);
        // A request waiting for a slot was never sent: nothing goes on the wire. (A promised
        // response waiting for a slot is reset like any reserved stream: PUSH_PROMISE
        // announced it.)
        if s.pending_open.is_some() && s.state == State::Idle {
            // The identifier is simply skipped (§5.1.1 allows gaps).
            let local = self.is_local_id(id);
            let remember = self.config.limits.max_closed_streams_remembered;
            self.streams.set_state(
                id,
                State::Closed(crate::stream::state::Closed::ResetSent),
                local,
                remember,
            );
            self.scheduler.remove(id.value());
            return Ok(());
        }
        match transition(s.state, Input::SendReset) {
            Transition::Next(_) => {
                self.write_rst(id, reason);
                self.local_state(id, Input::SendReset);
                Ok(())
            }
            _ => Err(UserError::InactiveStream(id)),
        }
    }

    /// The application gives up on stream `id` at `at` (a request's deadline, or a gRPC
    /// server's `grpc-timeout`): once `at` passes, `handle_timeout` reports
    /// [`Event::DeadlinePassed`] and resets the stream with CANCEL (§8.1, §5.4.2). One timer
    /// (`poll_timeout`) serves every stream's deadline; setting it again moves it. A stream that
    /// closes before its deadline takes the deadline with it.
    pub fn set_deadline(&mut self, id: StreamId, at: Instant) -> Result<(), UserError> {
        self.check_open()?;
        if self.streams.set_deadline(id, at) {
            Ok(())
        } else {
            Err(UserError::InactiveStream(id))
        }
    }

    /// The application will read no more of what the peer sends on `id` (it dropped the
    /// body). What follows is decided here, once for every adapter:
    /// - client: the response is no longer wanted, so the stream is reset with CANCEL
    ///   (RFC 9113 §8.1, §5.4.2), which also stops the server's work on it;
    /// - server: the response may still be in progress (many handlers answer without reading
    ///   the whole request), so the stream goes on. DATA that arrives from now on is returned
    ///   to flow control at once and not delivered; once our response is complete, RST_STREAM
    ///   NO_ERROR asks the client to stop sending (§8.1: "A server can send a complete
    ///   response prior to the client sending an entire request ...").
    ///
    /// Nothing happens if the peer already ended its side (or the stream is closed). Give back what was received but
    /// not read with [`release_capacity`](Self::release_capacity) as usual.
    pub fn stop_receiving(&mut self, id: StreamId) -> Result<(), UserError> {
        self.check_open()?;
        // A stream already closed (and forgotten) has nothing more to receive either.
        let Some(s) = self.streams.get_mut(id).filter(|s| s.state.can_recv()) else {
            return Ok(());
        };
        if self.role == Role::Client {
            return self.reset(id, Reason::CANCEL);
        }
        s.discard_recv = true;
        if s.state == State::HalfClosedLocal {
            // Our END_STREAM is already in the output: the reset follows it.
            return self.reset(id, Reason::NO_ERROR);
        }
        Ok(())
    }

    /// The application consumed `n` bytes received on `id` (from `DataReceived`): they may be
    /// returned to the peer by WINDOW_UPDATE, on the stream and on the connection, when the
    /// window policy says so (§6.9). Works on closed streams too (connection window only).
    pub fn release_capacity(&mut self, id: StreamId, n: usize) {
        if self.phase == Phase::Closed || n == 0 {
            return;
        }
        let n = n.min(MAX_WINDOW_SIZE as usize) as u32;
        let policy = self.config.window_policy;
        if let Some(inc) = self.recv_window.release(n, &policy) {
            self.write_window_update(StreamId::ZERO, inc);
        }
        self.adapt_stream_window(id);
        let inc = match self.streams.get_mut(id) {
            Some(s) if s.state.can_recv() => s.recv.release(n, &policy),
            _ => None,
        };
        if let Some(inc) = inc {
            self.write_window_update(id, inc);
        }
    }

    /// Sends a PING (§6.7); the answer arrives as `PingAckReceived` with the round-trip time.
    pub fn ping(&mut self, payload: [u8; 8], now: Instant) -> Result<(), UserError> {
        self.check_open()?;
        if self.ping.outstanding.is_some() {
            return Err(UserError::PingPending);
        }
        self.ping.outstanding = Some((payload, now));
        self.write_ping(false, payload);
        Ok(())
    }

    /// Changes our settings (§6.5). They take effect when the peer acknowledges them.
    pub fn update_settings(
        &mut self,
        values: SettingsValues,
        now: Instant,
    ) -> Result<(), UserError> {
        self.check_open()?;
        if values.initial_window_size > MAX_WINDOW_SIZE {
            return Err(UserError::InvalidArgument(
                "initial_window_size above 2^31-1",
            ));
        }
        if !(crate::frame::DEFAULT_MAX_FRAME_SIZE..=crate::frame::MAX_MAX_FRAME_SIZE)
            .contains(&values.max_frame_size)
        {
            return Err(UserError::InvalidArgument("max_frame_size out of range"));
        }
        if self.role == Role::Server && values.enable_push {
            return Err(UserError::InvalidArgument("a server cannot enable push"));
        }
        if values.no_rfc7540_priorities != self.priority_scheme.announced() {
            // RFC 9218 §2.1: "MUST NOT change" after the first SETTINGS.
            return Err(UserError::InvalidArgument(
                "SETTINGS_NO_RFC7540_PRIORITIES cannot change after the first SETTINGS",
            ));
        }
        self.write_settings(values, now);
        Ok(())
    }

    /// Sets the RFC 7540 priority of one of our streams and tells the peer with PRIORITY.
    pub fn set_priority(&mut self, id: StreamId, spec: PrioritySpec) -> Result<(), UserError> {
        self.check_open()?;
        if spec.dependency == id || id.is_zero() {
            return Err(UserError::InvalidArgument(
                "a stream cannot depend on itself",
            ));
        }
        crate::frame::Priority {
            stream_id: id,
            spec,
        }
        .encode(&mut self.out);
        self.scheduler.reprioritize(
            id.value(),
            crate::priority::Rfc7540Priority {
                dependency: spec.dependency.value(),
                weight: spec.weight as u16 + 1,
                exclusive: spec.exclusive,
            },
        );
        Ok(())
    }

    /// Client: gives request stream `id` (or a stream the server pushed) RFC 9218 `urgency`
    /// (0 most urgent ..= 7) and `incremental`, and tells the server with a PRIORITY_UPDATE
    /// frame (RFC 9218 §7.1): a server following RFC 9218 sends the stream's DATA in the new
    /// order from then on. The request's `priority` header field sets its first priority; this
    /// changes it while the stream is open, even before its HEADERS went out.
    ///
    /// When the server's first SETTINGS did not carry SETTINGS_NO_RFC7540_PRIORITIES = 1,
    /// nothing is sent (RFC 9218 §2.1: the client "SHOULD stop sending PRIORITY_UPDATE") and
    /// `Ok` is returned: a priority is advice. Errors: `WrongRole` on a server (§7.1: servers
    /// MUST NOT send it), `InvalidArgument` for an urgency above 7, `InactiveStream` for a
    /// stream that is closed or was never opened.
    pub fn update_priority(
        &mut self,
        id: StreamId,
        urgency: u8,
        incremental: bool,
    ) -> Result<(), UserError> {
        self.check_open()?;
        if self.role != Role::Client {
            return Err(UserError::WrongRole);
        }
        if urgency > crate::priority::MAX_URGENCY {
            return Err(UserError::InvalidArgument("urgency above 7"));
        }
        // §7.1: a request stream open, half-closed (local) or still waiting to open, or a push
        // stream promised to us; never an idle push stream, nor a closed one.
        let live = self
            .streams
            .get(id)
            .is_some_and(|s| !matches!(s.state, State::Closed(_) | State::HalfClosedRemote));
        if id.is_zero() || !live {
            return Err(UserError::InactiveStream(id));
        }
        self.scheduler.set_urgency(id.value(), urgency, incremental);
        if self.priority_scheme.peer_settings_seen() && !self.priority_scheme.peer_announced() {
            return Ok(());
        }
        let value = if incremental {
            format!("u={urgency}, i")
        } else {
            format!("u={urgency}")
        };
        crate::frame::PriorityUpdate {
            prioritized_stream_id: id,
            field_value: Bytes::from(value),
        }
        .encode(&mut self.out);
        self.stats.frames_sent += 1;
        Ok(())
    }

    /// Sends a frame of an extension type (§5.5). Types this library implements are refused:
    /// use the commands for them.
    pub fn send_extension_frame(
        &mut self,
        kind: u8,
        flags: u8,
        stream: StreamId,
        payload: Bytes,
    ) -> Result<(), UserError> {
        self.check_open()?;
        if kind <= 0x9 || kind == 0x10 {
            return Err(UserError::InvalidArgument("not an extension frame type"));
        }
        if payload.len() > self.remote.max_frame_size as usize {
            return Err(UserError::InvalidArgument(
                "payload larger than SETTINGS_MAX_FRAME_SIZE",
            ));
        }
        Unknown {
            kind,
            flags,
            stream_id: stream,
            payload,
        }
        .encode(&mut self.out);
        self.stats.frames_sent += 1;
        Ok(())
    }

    /// Reports a stream as reset to the application and closes it (no frame is sent).
    pub(crate) fn close_stream_with_event(&mut self, id: StreamId, reason: Reason, remote: bool) {
        let local = self.is_local_id(id);
        if remote && local && reason == Reason::REFUSED_STREAM {
            self.stats.streams_refused += 1;
        }
        let remember = self.config.limits.max_closed_streams_remembered;
        let how = if remote {
            crate::stream::state::Closed::ResetReceived
        } else {
            crate::stream::state::Closed::ResetSent
        };
        self.pending_open.retain(|&p| p != id);
        self.streams
            .set_state(id, State::Closed(how), local, remember);
        self.scheduler.remove(id.value());
        self.events.push_back(Event::StreamReset {
            stream: id,
            reason,
            remote,
        });
    }
}

/// Whether the application may send on stream `id` (found as `s`): not closed, and in a state
/// that sends (§5.1), or a request still waiting for a concurrency slot with its body to come.
fn check_can_send(id: StreamId, s: &Stream) -> Result<(), UserError> {
    if s.state.is_closed() {
        return Err(UserError::InactiveStream(id));
    }
    // A request waiting for a concurrency slot (§5.1.2) is still idle, but its body and
    // trailers may be queued; they follow its HEADERS once it opens.
    let waiting_with_body = s.pending_open.as_ref().is_some_and(|(_, end)| !end);
    if !s.state.can_send() && !waiting_with_body {
        return Err(UserError::InvalidState(id));
    }
    Ok(())
}
