//! Header blocks: HEADERS, PUSH_PROMISE and their CONTINUATION frames (RFC 9113 §4.3, §6.2,
//! §6.6, §6.10), decoded once complete and checked as requests, responses or trailers (§8).

use super::{Connection, FIELDS_HINT_MAX};
use crate::config::Role;
use crate::error::{conn_err, ProtocolError, ProtocolResult as Result};
use crate::event::Event;
use crate::frame::{Continuation, Headers, PushPromise, Reason, StreamId};
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

impl Connection {
    // §6.2 HEADERS
    pub(super) fn recv_headers(&mut self, f: Headers, now: Instant) -> Result {
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

    pub(super) fn start_partial(&mut self, mut partial: PartialBlock, first: Bytes) -> Result {
        self.check_block_size(first.len())?;
        partial.block.extend_from_slice(&first);
        self.partial = Some(partial);
        Ok(())
    }

    pub(super) fn check_block_size(&self, n: usize) -> Result {
        if n > self.config.limits.max_header_block_size {
            return Err(conn_err(
                Reason::ENHANCE_YOUR_CALM,
                "header block too large",
            ));
        }
        Ok(())
    }

    // §6.10 CONTINUATION
    pub(super) fn recv_continuation(&mut self, f: Continuation, now: Instant) -> Result {
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
    pub(super) fn decode_block(
        &mut self,
        block: &Bytes,
    ) -> Result<std::result::Result<Vec<Header>, ()>> {
        let mut headers = self.spare_fields.take(self.fields_hint);
        // Too many fields refuses the stream like too large a list (§10.5.1); the block is
        // still decoded to its end to keep HPACK in sync, without collecting the excess.
        let max_fields = self.config.limits.max_header_fields;
        let mut too_many = false;
        let mut vouched = 0u64;
        let collect = |h, field_ok: bool| {
            if headers.len() < max_fields {
                if field_ok && headers.len() < 64 {
                    vouched |= 1 << headers.len();
                }
                headers.push(h);
            } else {
                too_many = true;
            }
        };
        let decoded = self.decoder.decode_fields(block, collect);
        self.vouched = vouched;
        self.fields_hint = headers.len().min(FIELDS_HINT_MAX);
        match decoded {
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

    pub(super) fn header_block_complete(
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
                let info = message::check(Kind::Response, &headers, self.vouched, &opts)
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
                message::check(Kind::Trailers, &headers, self.vouched, &opts)
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
    pub(super) fn open_remote_stream(
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
        let info = match message::check(Kind::Request, &headers, self.vouched, &opts) {
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
        if end_stream && info.content_length.is_some_and(|cl| cl != 0) {
            let mut s = Stream::new(
                id,
                self.remote.initial_window_size,
                self.local_recv_initial(),
            );
            s.recv_phase = RecvPhase::Body;
            s.recv_content_length = info.content_length;
            s.head_request = info.method_is_head;
            self.streams.insert(s);
            self.apply_recv(id, State::HalfClosedRemote);
            return Err(ProtocolError::stream(
                id,
                Reason::PROTOCOL_ERROR,
                "content-length mismatch",
            ));
        }
        // §5.1: HEADERS moves the stream out of idle; it enters the store in its new state,
        // without a second lookup to move it.
        let next = if end_stream {
            State::HalfClosedRemote
        } else {
            State::Open
        };
        let local = self.is_local_id(id);
        let (send_window, recv_window) =
            (self.remote.initial_window_size, self.local_recv_initial());
        let s = self.streams.open(id, send_window, recv_window, next, local);
        s.recv_phase = RecvPhase::Body;
        s.recv_content_length = info.content_length;
        s.head_request = info.method_is_head;
        self.stats.streams_opened += 1;
        // RFC 9218 §2.1: a `priority` field is an RFC 9218 signal, and wins over the RFC 7540
        // priority fields of the same HEADERS (see `priority::Scheme`).
        if info.priority.is_some() {
            self.priority_scheme.rfc9218_signal();
        }
        let prio = partial
            .priority
            .filter(|_| self.priority_scheme.rfc7540_signal())
            .map(|p| crate::priority::Rfc7540Priority {
                dependency: p.dependency.value(),
                weight: p.weight as u16 + 1,
                exclusive: p.exclusive,
            });
        self.scheduler.set_mode(self.priority_scheme.mode());
        self.scheduler.insert(id.value(), prio);
        if let Some(p) = info.priority {
            self.scheduler
                .set_urgency(id.value(), p.urgency, p.incremental);
        }
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
    pub(super) fn local_max_concurrent(&self) -> u32 {
        self.pending_settings
            .latest()
            .unwrap_or(&self.local)
            .max_concurrent_streams
            .unwrap_or(u32::MAX)
    }

    /// The receive window a new stream starts with: our acknowledged initial window, or the
    /// configured one if it is smaller and pending (the peer may already honor it).
    pub(super) fn local_recv_initial(&self) -> u32 {
        self.local.initial_window_size
    }

    // §6.6 PUSH_PROMISE
    pub(super) fn recv_push_promise(&mut self, f: PushPromise, now: Instant) -> Result {
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

    pub(super) fn push_promise_complete(
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
        let parent_state = self.streams.state(parent);
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
        // §5.1: the promised stream goes from idle to reserved (remote).
        if let Transition::Next(next) = transition(State::Idle, Input::RecvPushPromise) {
            self.apply_recv(promised, next);
        }
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
        let info = message::check(Kind::PushPromiseRequest, &headers, self.vouched, &opts)
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
}
