//! A small DSL for frames: what the scripted peer sends ([`PeerFrame`]), what we must send
//! ([`ExpectFrame`]) and what the application must see ([`ExpectEvent`]).

use bytes::{BufMut, Bytes, BytesMut};
use h2core::frame::{Continuation, Frame, FrameType, Head, Headers, PrioritySpec, PushPromise};
use h2core::hpack::Encoder;
use h2core::{Event, Header, Reason, StreamId};

/// Shorthand for a header list: `hdrs(&[(":method", "GET"), ...])`.
pub fn hdrs(fields: &[(&str, &str)]) -> Vec<Header> {
    fields
        .iter()
        .map(|(n, v)| {
            Header::new(
                Bytes::copy_from_slice(n.as_bytes()),
                Bytes::copy_from_slice(v.as_bytes()),
            )
        })
        .collect()
}

/// A GET request's header list for `path`.
pub fn get(path: &str) -> Vec<Header> {
    request("GET", path)
}

/// A request's header list.
pub fn request(method: &str, path: &str) -> Vec<Header> {
    hdrs(&[
        (":method", method),
        (":scheme", "http"),
        (":authority", "localhost"),
        (":path", path),
    ])
}

/// A response's header list.
pub fn response(status: &str) -> Vec<Header> {
    hdrs(&[(":status", status)])
}

/// `headers` followed by the `extra` fields.
pub fn plus(mut headers: Vec<Header>, extra: &[(&str, &str)]) -> Vec<Header> {
    headers.extend(hdrs(extra));
    headers
}

/// A frame the scripted peer sends.
#[derive(Debug, Clone)]
pub enum PeerFrame {
    /// The client connection preface (RFC 9113 §3.4).
    Preface,
    /// Bytes as they are.
    Raw(Bytes),
    /// A frame of the codec, encoded as it is.
    Frame(Frame),
    /// A header block on HEADERS (or PUSH_PROMISE when `promised` is set), HPACK-encoded by the
    /// peer's encoder when sent, split over `pieces` frames (CONTINUATION after the first).
    Block {
        /// Stream of the HEADERS or PUSH_PROMISE.
        stream: u32,
        /// PUSH_PROMISE's promised stream.
        promised: Option<u32>,
        /// Fields.
        headers: Vec<Header>,
        /// END_STREAM on the HEADERS.
        end_stream: bool,
        /// END_HEADERS on the last frame of the block (false leaves the block open).
        end_headers: bool,
        /// Frames to split the block over (1 = no CONTINUATION).
        pieces: usize,
        /// Priority fields on the HEADERS.
        priority: Option<PrioritySpec>,
        /// Padding on the first frame.
        pad: Option<u8>,
        /// Replace the encoded block with these bytes (for malformed HPACK).
        raw_block: Option<Bytes>,
    },
    /// CONTINUATION carrying an encoded fragment of `headers`.
    Continuation {
        /// Stream.
        stream: u32,
        /// Fields encoded into this fragment.
        headers: Vec<Header>,
        /// END_HEADERS.
        end_headers: bool,
    },
    /// SETTINGS ACK.
    SettingsAck,
}

impl PeerFrame {
    /// A SETTINGS frame with these (id, value) pairs.
    pub fn settings(values: Vec<(u16, u32)>) -> PeerFrame {
        let mut payload = BytesMut::new();
        for (id, v) in values {
            payload.put_u16(id);
            payload.put_u32(v);
        }
        PeerFrame::raw_frame(0x4, 0, 0, payload.freeze())
    }

    /// Any frame, bytes as given: type, flags, stream (reserved bit as given) and payload.
    pub fn raw_frame(kind: u8, flags: u8, stream: u32, payload: impl Into<Bytes>) -> PeerFrame {
        let payload = payload.into();
        let mut b = BytesMut::with_capacity(9 + payload.len());
        let len = payload.len() as u32;
        b.put_slice(&len.to_be_bytes()[1..]);
        b.put_u8(kind);
        b.put_u8(flags);
        b.put_u32(stream);
        b.put_slice(&payload);
        PeerFrame::Raw(b.freeze())
    }

    /// HEADERS with `headers` (END_HEADERS set, no END_STREAM).
    pub fn headers(stream: u32, headers: Vec<Header>) -> PeerFrame {
        PeerFrame::Block {
            stream,
            promised: None,
            headers,
            end_stream: false,
            end_headers: true,
            pieces: 1,
            priority: None,
            pad: None,
            raw_block: None,
        }
    }

    /// A GET request on `stream`, ending the stream.
    pub fn get(stream: u32, path: &str) -> PeerFrame {
        PeerFrame::headers(stream, get(path)).eos()
    }

    /// A request on `stream`, not ending the stream (a body follows).
    pub fn request(stream: u32, method: &str, path: &str) -> PeerFrame {
        PeerFrame::headers(stream, request(method, path))
    }

    /// A response on `stream`, not ending the stream.
    pub fn response(stream: u32, status: &str) -> PeerFrame {
        PeerFrame::headers(stream, response(status))
    }

    /// PUSH_PROMISE on `stream` promising `promised` for `headers`.
    pub fn push_promise(stream: u32, promised: u32, headers: Vec<Header>) -> PeerFrame {
        PeerFrame::Block {
            stream,
            promised: Some(promised),
            headers,
            end_stream: false,
            end_headers: true,
            pieces: 1,
            priority: None,
            pad: None,
            raw_block: None,
        }
    }

    /// CONTINUATION with `headers` encoded.
    pub fn continuation(stream: u32, headers: Vec<Header>, end_headers: bool) -> PeerFrame {
        PeerFrame::Continuation {
            stream,
            headers,
            end_headers,
        }
    }

    /// DATA on `stream`.
    pub fn data(stream: u32, data: impl Into<Bytes>) -> PeerFrame {
        PeerFrame::Frame(Frame::Data(h2core::frame::Data::new(
            StreamId::new(stream),
            data.into(),
        )))
    }

    /// WINDOW_UPDATE.
    pub fn window_update(stream: u32, increment: u32) -> PeerFrame {
        PeerFrame::raw_frame(0x8, 0, stream, increment.to_be_bytes().to_vec())
    }

    /// RST_STREAM.
    pub fn rst(stream: u32, reason: Reason) -> PeerFrame {
        PeerFrame::raw_frame(0x3, 0, stream, reason.0.to_be_bytes().to_vec())
    }

    /// PING (not an ACK).
    pub fn ping(payload: [u8; 8]) -> PeerFrame {
        PeerFrame::raw_frame(0x6, 0, 0, payload.to_vec())
    }

    /// PING ACK.
    pub fn ping_ack(payload: [u8; 8]) -> PeerFrame {
        PeerFrame::raw_frame(0x6, 0x1, 0, payload.to_vec())
    }

    /// GOAWAY.
    pub fn goaway(last: u32, reason: Reason) -> PeerFrame {
        let mut p = BytesMut::new();
        p.put_u32(last);
        p.put_u32(reason.0);
        PeerFrame::raw_frame(0x7, 0, 0, p.freeze())
    }

    /// PRIORITY: `stream` depends on `dependency` with wire weight `weight` (weight+1 real).
    pub fn priority(stream: u32, dependency: u32, weight: u8, exclusive: bool) -> PeerFrame {
        let mut p = BytesMut::new();
        p.put_u32(dependency | if exclusive { 1 << 31 } else { 0 });
        p.put_u8(weight);
        PeerFrame::raw_frame(0x2, 0, stream, p.freeze())
    }

    /// RFC 9218 PRIORITY_UPDATE for `stream` with a Priority field value.
    pub fn priority_update(stream: u32, value: &str) -> PeerFrame {
        let mut p = BytesMut::new();
        p.put_u32(stream);
        p.put_slice(value.as_bytes());
        PeerFrame::raw_frame(0x10, 0, 0, p.freeze())
    }

    /// Sets END_STREAM (HEADERS or DATA).
    pub fn eos(mut self) -> PeerFrame {
        match &mut self {
            PeerFrame::Block { end_stream, .. } => *end_stream = true,
            PeerFrame::Frame(Frame::Data(d)) => d.end_stream = true,
            _ => panic!("eos() on a frame without END_STREAM"),
        }
        self
    }

    /// Leaves the header block open (no END_HEADERS): CONTINUATION must follow.
    pub fn no_end_headers(mut self) -> PeerFrame {
        if let PeerFrame::Block { end_headers, .. } = &mut self {
            *end_headers = false;
        }
        self
    }

    /// Splits the header block over `n` frames.
    pub fn pieces(mut self, n: usize) -> PeerFrame {
        if let PeerFrame::Block { pieces, .. } = &mut self {
            *pieces = n.max(1);
        }
        self
    }

    /// Adds priority fields to HEADERS.
    pub fn with_priority(mut self, dependency: u32, weight: u8, exclusive: bool) -> PeerFrame {
        if let PeerFrame::Block { priority, .. } = &mut self {
            *priority = Some(PrioritySpec {
                dependency: StreamId::new(dependency),
                exclusive,
                weight,
            });
        }
        self
    }

    /// Pads HEADERS or DATA with `n` bytes.
    pub fn padded(mut self, n: u8) -> PeerFrame {
        match &mut self {
            PeerFrame::Block { pad, .. } => *pad = Some(n),
            PeerFrame::Frame(Frame::Data(d)) => d.pad_len = Some(n),
            _ => panic!("padded() on a frame without padding"),
        }
        self
    }

    /// Replaces the HPACK block with raw bytes.
    pub fn raw_block(mut self, block: impl Into<Bytes>) -> PeerFrame {
        if let PeerFrame::Block { raw_block, .. } = &mut self {
            *raw_block = Some(block.into());
        }
        self
    }
}

/// A pattern for a frame we send. Fields left `None` match anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectFrame {
    /// Frame type.
    pub kind: FrameType,
    /// Stream.
    pub stream: Option<u32>,
    /// END_STREAM (DATA, HEADERS) or ACK (SETTINGS, PING).
    pub flag: Option<bool>,
    /// RST_STREAM or GOAWAY code.
    pub reason: Option<Reason>,
    /// GOAWAY last-stream-id.
    pub last_stream: Option<u32>,
    /// `:status` of a HEADERS block.
    pub status: Option<String>,
    /// A field the header block must contain.
    pub field: Option<(String, String)>,
    /// DATA payload.
    pub data: Option<Bytes>,
    /// DATA payload length.
    pub len: Option<usize>,
    /// WINDOW_UPDATE increment.
    pub increment: Option<u32>,
    /// PING payload.
    pub payload: Option<[u8; 8]>,
    /// PUSH_PROMISE promised stream; PRIORITY_UPDATE prioritized stream.
    pub promised: Option<u32>,
    /// A SETTINGS parameter and value the frame must carry.
    pub setting: Option<(u16, u32)>,
    /// SETTINGS: exactly these parameters, in this order (nothing more).
    pub settings_exactly: Option<Vec<(u16, u32)>>,
    /// A field the header block must carry as never-indexed (RFC 7541 §6.2.3).
    pub sensitive: Option<String>,
}

impl ExpectFrame {
    /// Any frame of `kind`.
    pub fn any(kind: FrameType) -> ExpectFrame {
        ExpectFrame {
            kind,
            stream: None,
            flag: None,
            reason: None,
            last_stream: None,
            status: None,
            field: None,
            data: None,
            len: None,
            increment: None,
            payload: None,
            promised: None,
            setting: None,
            settings_exactly: None,
            sensitive: None,
        }
    }

    /// PRIORITY_UPDATE (RFC 9218 §7.1, on stream 0) prioritizing `stream` with field `value`.
    pub fn priority_update(stream: u32, value: &str) -> ExpectFrame {
        ExpectFrame {
            stream: Some(0),
            promised: Some(stream),
            data: Some(Bytes::copy_from_slice(value.as_bytes())),
            ..ExpectFrame::any(FrameType::PRIORITY_UPDATE)
        }
    }

    /// SETTINGS (not an ACK).
    pub fn settings() -> ExpectFrame {
        ExpectFrame {
            flag: Some(false),
            ..ExpectFrame::any(FrameType::SETTINGS)
        }
    }

    /// SETTINGS ACK.
    pub fn settings_ack() -> ExpectFrame {
        ExpectFrame {
            flag: Some(true),
            ..ExpectFrame::any(FrameType::SETTINGS)
        }
    }

    /// HEADERS on `stream`.
    pub fn headers(stream: u32) -> ExpectFrame {
        ExpectFrame {
            stream: Some(stream),
            ..ExpectFrame::any(FrameType::HEADERS)
        }
    }

    /// DATA on `stream`.
    pub fn data(stream: u32) -> ExpectFrame {
        ExpectFrame {
            stream: Some(stream),
            ..ExpectFrame::any(FrameType::DATA)
        }
    }

    /// RST_STREAM on `stream` with `reason`.
    pub fn rst(stream: u32, reason: Reason) -> ExpectFrame {
        ExpectFrame {
            stream: Some(stream),
            reason: Some(reason),
            ..ExpectFrame::any(FrameType::RST_STREAM)
        }
    }

    /// Any RST_STREAM.
    pub fn any_rst() -> ExpectFrame {
        ExpectFrame::any(FrameType::RST_STREAM)
    }

    /// GOAWAY with `reason`.
    pub fn goaway(reason: Reason) -> ExpectFrame {
        ExpectFrame {
            reason: Some(reason),
            ..ExpectFrame::any(FrameType::GOAWAY)
        }
    }

    /// GOAWAY with `reason` and exactly this debug data.
    pub fn goaway_with(reason: Reason, debug: &'static [u8]) -> ExpectFrame {
        ExpectFrame {
            data: Some(Bytes::from_static(debug)),
            ..ExpectFrame::goaway(reason)
        }
    }

    /// Any GOAWAY.
    pub fn any_goaway() -> ExpectFrame {
        ExpectFrame::any(FrameType::GOAWAY)
    }

    /// WINDOW_UPDATE on `stream`.
    pub fn window_update(stream: u32) -> ExpectFrame {
        ExpectFrame {
            stream: Some(stream),
            ..ExpectFrame::any(FrameType::WINDOW_UPDATE)
        }
    }

    /// PING (not an ACK).
    pub fn ping() -> ExpectFrame {
        ExpectFrame {
            flag: Some(false),
            ..ExpectFrame::any(FrameType::PING)
        }
    }

    /// PING ACK with `payload`.
    pub fn ping_ack(payload: [u8; 8]) -> ExpectFrame {
        ExpectFrame {
            flag: Some(true),
            payload: Some(payload),
            ..ExpectFrame::any(FrameType::PING)
        }
    }

    /// PUSH_PROMISE on `stream` promising `promised`.
    pub fn push_promise(stream: u32, promised: u32) -> ExpectFrame {
        ExpectFrame {
            stream: Some(stream),
            promised: Some(promised),
            ..ExpectFrame::any(FrameType::PUSH_PROMISE)
        }
    }

    /// END_STREAM must be set.
    pub fn eos(mut self) -> Self {
        self.flag = Some(true);
        self
    }

    /// END_STREAM must be clear.
    pub fn no_eos(mut self) -> Self {
        self.flag = Some(false);
        self
    }

    /// The header block's `:status`.
    pub fn status(mut self, status: &str) -> Self {
        self.status = Some(status.into());
        self
    }

    /// The header block contains `name: value`.
    pub fn field(mut self, name: &str, value: &str) -> Self {
        self.field = Some((name.into(), value.into()));
        self
    }

    /// The DATA payload.
    pub fn body(mut self, data: impl Into<Bytes>) -> Self {
        self.data = Some(data.into());
        self
    }

    /// The DATA payload length.
    pub fn len(mut self, len: usize) -> Self {
        self.len = Some(len);
        self
    }

    /// The WINDOW_UPDATE increment.
    pub fn increment(mut self, n: u32) -> Self {
        self.increment = Some(n);
        self
    }

    /// The GOAWAY last-stream-id.
    pub fn last(mut self, id: u32) -> Self {
        self.last_stream = Some(id);
        self
    }

    /// SETTINGS carries exactly these parameters, in this order.
    pub fn exactly(mut self, settings: Vec<(u16, u32)>) -> Self {
        self.settings_exactly = Some(settings);
        self
    }

    /// SETTINGS carries parameter `id` with `value`.
    pub fn setting(mut self, id: u16, value: u32) -> Self {
        self.setting = Some((id, value));
        self
    }

    /// The header block carries field `name` as a never-indexed literal (RFC 7541 §6.2.3).
    pub fn sensitive(mut self, name: &str) -> Self {
        self.sensitive = Some(name.into());
        self
    }

    /// Does `frame` (with its decoded header block, if any) match?
    pub fn matches(&self, frame: &Frame, block: &[Header]) -> bool {
        let head_kind = match frame {
            Frame::Data(_) => FrameType::DATA,
            Frame::Headers(_) => FrameType::HEADERS,
            Frame::Priority(_) => FrameType::PRIORITY,
            Frame::RstStream(_) => FrameType::RST_STREAM,
            Frame::Settings(_) => FrameType::SETTINGS,
            Frame::PushPromise(_) => FrameType::PUSH_PROMISE,
            Frame::Ping(_) => FrameType::PING,
            Frame::GoAway(_) => FrameType::GOAWAY,
            Frame::WindowUpdate(_) => FrameType::WINDOW_UPDATE,
            Frame::Continuation(_) => FrameType::CONTINUATION,
            Frame::PriorityUpdate(_) => FrameType::PRIORITY_UPDATE,
            Frame::Unknown(u) => FrameType(u.kind),
        };
        if head_kind != self.kind {
            return false;
        }
        if self.stream.is_some_and(|s| frame.stream_id().value() != s) {
            return false;
        }
        let ok = |want: Option<bool>, got: bool| want.is_none_or(|w| w == got);
        let field_ok = |name: &str, value: &str| {
            block
                .iter()
                .any(|h| h.name == name.as_bytes() && h.value == value.as_bytes())
        };
        let block_ok = self.status.as_ref().is_none_or(|s| field_ok(":status", s))
            && self.field.as_ref().is_none_or(|(n, v)| field_ok(n, v))
            && self
                .sensitive
                .as_ref()
                .is_none_or(|n| block.iter().any(|h| h.name == n.as_bytes() && h.sensitive));
        match frame {
            Frame::Data(d) => {
                ok(self.flag, d.end_stream)
                    && self.data.as_ref().is_none_or(|b| *b == d.data)
                    && self.len.is_none_or(|l| l == d.data.len())
            }
            Frame::Headers(h) => ok(self.flag, h.end_stream) && block_ok,
            Frame::Settings(s) => {
                ok(self.flag, s.ack)
                    && self.setting.is_none_or(|(id, v)| {
                        s.settings.iter().any(|x| x.id.0 == id && x.value == v)
                    })
                    && self.settings_exactly.as_ref().is_none_or(|want| {
                        want.iter()
                            .copied()
                            .eq(s.settings.iter().map(|x| (x.id.0, x.value)))
                    })
            }
            Frame::Ping(p) => ok(self.flag, p.ack) && self.payload.is_none_or(|x| x == p.payload),
            Frame::RstStream(r) => self.reason.is_none_or(|x| x == r.reason),
            Frame::GoAway(g) => {
                self.reason.is_none_or(|x| x == g.error_code)
                    && self
                        .last_stream
                        .is_none_or(|l| l == g.last_stream_id.value())
                    && self.data.as_ref().is_none_or(|b| *b == g.debug_data)
            }
            Frame::WindowUpdate(w) => self.increment.is_none_or(|i| i == w.increment),
            Frame::PushPromise(p) => {
                self.promised.is_none_or(|x| x == p.promised_id.value()) && block_ok
            }
            Frame::Unknown(u) => self.data.as_ref().is_none_or(|b| *b == u.payload),
            Frame::PriorityUpdate(p) => {
                self.promised
                    .is_none_or(|x| x == p.prioritized_stream_id.value())
                    && self.data.as_ref().is_none_or(|b| *b == p.field_value)
            }
            _ => true,
        }
    }
}

/// A pattern for an event the application sees. `None` fields match anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpectEvent {
    /// `RequestReceived` on a stream, with a `:path` if given.
    Request(u32, Option<&'static str>),
    /// `ResponseReceived` with a `:status` if given.
    Response(u32, Option<&'static str>),
    /// `InformationalResponseReceived` with a `:status`.
    Informational(u32, &'static str),
    /// `TrailersReceived`.
    Trailers(u32),
    /// `DataReceived` with this payload, if given.
    Data(u32, Option<Bytes>),
    /// `StreamEnded`.
    Ended(u32),
    /// `StreamReset` with a reason, if given.
    Reset(u32, Option<Reason>),
    /// `DeadlinePassed`.
    DeadlinePassed(u32),
    /// `PushedStreamReceived` (parent, promised).
    Pushed(u32, u32),
    /// `WindowUpdated` for a stream (0: the connection).
    WindowUpdated(u32),
    /// `RemoteSettingsChanged`.
    RemoteSettings,
    /// `SettingsAcknowledged`.
    SettingsAcknowledged,
    /// `PingAckReceived` with a payload.
    PingAck([u8; 8]),
    /// `GoAwayReceived` with a last-stream-id, if given.
    GoAway(Option<u32>, Option<Reason>),
    /// `PriorityUpdated` with urgency.
    PriorityUpdated(u32, u8),
    /// `ExtensionFrameReceived` of a type.
    Extension(u8),
    /// `ConnectionTerminated` with a reason, if given.
    Terminated(Option<Reason>),
    /// A header block event (request, response, 1xx, trailers, promise) on a stream carrying
    /// the field `name: value`.
    Field(u32, &'static str, &'static str),
    /// A header block event on a stream carrying field `name` with `sensitive` set (it arrived
    /// never-indexed, RFC 7541 §6.2.3).
    Sensitive(u32, &'static str),
}

impl ExpectEvent {
    /// Does `event` match?
    pub fn matches(&self, event: &Event) -> bool {
        let field = |hs: &[Header], name: &str, want: Option<&str>| {
            want.is_none_or(|w| {
                hs.iter()
                    .any(|h| h.name == name.as_bytes() && h.value == w.as_bytes())
            })
        };
        match (self, event) {
            (
                ExpectEvent::Request(id, path),
                Event::RequestReceived {
                    stream, headers, ..
                },
            ) => stream.value() == *id && field(headers, ":path", *path),
            (
                ExpectEvent::Response(id, st),
                Event::ResponseReceived {
                    stream, headers, ..
                },
            ) => stream.value() == *id && field(headers, ":status", *st),
            (
                ExpectEvent::Informational(id, st),
                Event::InformationalResponseReceived { stream, headers },
            ) => stream.value() == *id && field(headers, ":status", Some(st)),
            (ExpectEvent::Trailers(id), Event::TrailersReceived { stream, .. }) => {
                stream.value() == *id
            }
            (ExpectEvent::Data(id, want), Event::DataReceived { stream, data, .. }) => {
                stream.value() == *id && want.as_ref().is_none_or(|w| w == data)
            }
            (ExpectEvent::Ended(id), Event::StreamEnded { stream }) => stream.value() == *id,
            (ExpectEvent::DeadlinePassed(id), Event::DeadlinePassed { stream }) => {
                stream.value() == *id
            }
            (ExpectEvent::Reset(id, r), Event::StreamReset { stream, reason, .. }) => {
                stream.value() == *id && r.is_none_or(|r| r == *reason)
            }
            (
                ExpectEvent::Pushed(p, q),
                Event::PushedStreamReceived {
                    parent, promised, ..
                },
            ) => parent.value() == *p && promised.value() == *q,
            (ExpectEvent::WindowUpdated(id), Event::WindowUpdated { stream }) => {
                stream.value() == *id
            }
            (ExpectEvent::RemoteSettings, Event::RemoteSettingsChanged { .. }) => true,
            (ExpectEvent::SettingsAcknowledged, Event::SettingsAcknowledged) => true,
            (ExpectEvent::PingAck(p), Event::PingAckReceived { payload, .. }) => p == payload,
            (
                ExpectEvent::GoAway(last, r),
                Event::GoAwayReceived {
                    last_stream_id,
                    error_code,
                    ..
                },
            ) => {
                last.is_none_or(|l| l == last_stream_id.value())
                    && r.is_none_or(|r| r == *error_code)
            }
            (
                ExpectEvent::PriorityUpdated(id, u),
                Event::PriorityUpdated {
                    stream, urgency, ..
                },
            ) => stream.value() == *id && u == urgency,
            (ExpectEvent::Extension(k), Event::ExtensionFrameReceived { kind, .. }) => k == kind,
            (ExpectEvent::Terminated(r), Event::ConnectionTerminated { reason, .. }) => {
                r.is_none_or(|r| r == *reason)
            }
            (ExpectEvent::Field(id, name, value), e) => {
                block_of(e).is_some_and(|(s, hs)| s == *id && field(hs, name, Some(value)))
            }
            (ExpectEvent::Sensitive(id, name), e) => block_of(e).is_some_and(|(s, hs)| {
                s == *id && hs.iter().any(|h| h.name == name.as_bytes() && h.sensitive)
            }),
            _ => false,
        }
    }
}

/// The stream and header list of an event that carries a header block.
fn block_of(event: &Event) -> Option<(u32, &[Header])> {
    match event {
        Event::RequestReceived {
            stream, headers, ..
        }
        | Event::ResponseReceived {
            stream, headers, ..
        }
        | Event::InformationalResponseReceived { stream, headers }
        | Event::TrailersReceived { stream, headers } => Some((stream.value(), headers)),
        Event::PushedStreamReceived {
            promised, headers, ..
        } => Some((promised.value(), headers)),
        _ => None,
    }
}

/// Encodes scripted frames as the peer writes them, header blocks with its own HPACK encoder
/// (whose dynamic table carries over between calls on one connection).
#[derive(Debug, Default)]
pub struct FrameEncoder {
    encoder: Encoder,
}

impl FrameEncoder {
    /// The bytes of `frame`.
    pub fn encode(&mut self, frame: &PeerFrame) -> BytesMut {
        let mut out = BytesMut::new();
        match frame.clone() {
            PeerFrame::Preface => out.extend_from_slice(h2core::preface::PREFACE),
            PeerFrame::Raw(b) => out.extend_from_slice(&b),
            PeerFrame::Frame(f) => f.encode(&mut out),
            PeerFrame::SettingsAck => h2core::frame::Settings::ack().encode(&mut out),
            PeerFrame::Block {
                stream,
                promised,
                headers,
                end_stream,
                end_headers,
                pieces,
                priority,
                pad,
                raw_block,
            } => {
                let block = match raw_block {
                    Some(b) => b,
                    None => {
                        let mut b = BytesMut::new();
                        self.encoder.encode(headers.iter(), &mut b);
                        b.freeze()
                    }
                };
                let id = StreamId::new(stream);
                let step = block.len().div_ceil(pieces).max(1);
                let mut parts: Vec<Bytes> =
                    block.chunks(step).map(Bytes::copy_from_slice).collect();
                if parts.is_empty() {
                    parts.push(Bytes::new());
                }
                let n = parts.len();
                for (i, part) in parts.into_iter().enumerate() {
                    let last = i + 1 == n && end_headers;
                    if i == 0 {
                        match promised {
                            Some(p) => PushPromise {
                                stream_id: id,
                                promised_id: StreamId::new(p),
                                header_block: part,
                                end_headers: last,
                                pad_len: pad,
                            }
                            .encode(&mut out),
                            None => Headers {
                                stream_id: id,
                                priority,
                                header_block: part,
                                end_stream,
                                end_headers: last,
                                pad_len: pad,
                            }
                            .encode(&mut out),
                        }
                    } else {
                        Continuation {
                            stream_id: id,
                            header_block: part,
                            end_headers: last,
                        }
                        .encode(&mut out);
                    }
                }
            }
            PeerFrame::Continuation {
                stream,
                headers,
                end_headers,
            } => {
                let mut b = BytesMut::new();
                self.encoder.encode(headers.iter(), &mut b);
                Continuation {
                    stream_id: StreamId::new(stream),
                    header_block: b.freeze(),
                    end_headers,
                }
                .encode(&mut out);
            }
        }
        out
    }
}

/// The bytes of `frames` as the scripted peer writes them, header blocks HPACK-encoded by a
/// fresh encoder: for tests that attack a real server over a socket. Calls are independent: a
/// fresh encoder only refers to table entries it inserted itself, so successive calls on one
/// connection stay in step with the server's decoder.
pub fn encode_frames(frames: &[PeerFrame]) -> Bytes {
    let mut encoder = FrameEncoder::default();
    let mut out = BytesMut::new();
    for f in frames {
        out.extend_from_slice(&encoder.encode(f));
    }
    out.freeze()
}

/// Encodes a frame head (for raw frames built by hand).
pub fn head(kind: u8, flags: u8, stream: u32, len: u32) -> Bytes {
    let mut b = BytesMut::new();
    Head {
        length: len,
        kind: FrameType(kind),
        flags,
        stream_id: StreamId::new(stream),
    }
    .encode(&mut b);
    b.freeze()
}
