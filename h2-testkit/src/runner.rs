//! Plays a [`Scenario`] against a [`Harness`] and checks every expectation.

use crate::dsl::{FrameEncoder, PeerFrame};
use crate::harness::{AppResult, Harness};
use crate::{Scenario, Step};
use bytes::{Bytes, BytesMut};
use h2core::frame::{Frame, FrameReader};
use h2core::hpack::Decoder;
use h2core::{Event, Header};

/// What happened in one run, to compare two ways of feeding the same scenario.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Transcript {
    /// Every frame we sent, with its decoded header block, as text.
    pub frames: Vec<String>,
    /// Every event, as text.
    pub events: Vec<String>,
}

/// The scripted peer's side: its HPACK contexts and what it has received from us.
struct Peer {
    encoder: FrameEncoder,
    decoder: Decoder,
    reader: FrameReader,
    received: BytesMut,
    /// Frames not yet matched by an expectation.
    frames: Vec<(Frame, Vec<Header>)>,
    /// Events not yet matched.
    events: Vec<Event>,
    /// A header block of ours that is still open (CONTINUATION expected).
    open_block: Option<(Frame, BytesMut)>,
    /// The peer's SETTINGS not yet acknowledged by us, oldest first, with the
    /// SETTINGS_HEADER_TABLE_SIZE each carries: on our ACK it bounds the peer's decoder, so a
    /// block of ours that ignores it fails to decode (RFC 7541 §4.2).
    unacked_table_sizes: std::collections::VecDeque<Option<u32>>,
    /// The same for SETTINGS_MAX_FRAME_SIZE: on our ACK it bounds the frames we may send, so a
    /// frame of ours above the peer's limit fails to parse (RFC 9113 §4.2).
    unacked_frame_sizes: std::collections::VecDeque<Option<u32>>,
    transcript: Transcript,
}

impl Peer {
    fn new() -> Peer {
        // The peer accepts 2^14 until it announces more (§4.2).
        let reader = FrameReader::new();
        let mut decoder = Decoder::new(4096);
        decoder.set_max_header_list_size(usize::MAX);
        Peer {
            encoder: FrameEncoder::default(),
            decoder,
            reader,
            received: BytesMut::new(),
            frames: Vec::new(),
            events: Vec::new(),
            open_block: None,
            unacked_table_sizes: Default::default(),
            unacked_frame_sizes: Default::default(),
            transcript: Transcript::default(),
        }
    }

    fn encode(&mut self, frame: &PeerFrame) -> Bytes {
        let out = self.encoder.encode(frame);
        if let Some(size) = peer_settings_table_size(&out) {
            self.unacked_table_sizes.push_back(size);
        }
        if let Some(size) = peer_settings_value(&out, 0x5) {
            self.unacked_frame_sizes.push_back(size);
        }
        out.freeze()
    }

    /// Parses what we sent into frames, decoding header blocks with the peer's decoder.
    fn absorb(&mut self, bytes: Bytes) -> Result<(), String> {
        self.received.extend_from_slice(&bytes);
        // Our client preface is not a frame.
        if self.received.starts_with(h2core::preface::PREFACE) {
            let _ = self.received.split_to(h2core::preface::PREFACE.len());
        }
        loop {
            let frame = match self.reader.read(&mut self.received) {
                Ok(Some(f)) => f,
                Ok(None) => return Ok(()),
                Err(e) => return Err(format!("we sent a malformed frame: {}", e.error)),
            };
            let (frame, block) = match frame {
                Frame::Headers(ref h) if !h.end_headers => {
                    self.open_block = Some((frame.clone(), BytesMut::from(&h.header_block[..])));
                    continue;
                }
                Frame::PushPromise(ref p) if !p.end_headers => {
                    self.open_block = Some((frame.clone(), BytesMut::from(&p.header_block[..])));
                    continue;
                }
                Frame::Continuation(c) => {
                    let Some((first, mut block)) = self.open_block.take() else {
                        return Err("we sent CONTINUATION without a header block".into());
                    };
                    block.extend_from_slice(&c.header_block);
                    if !c.end_headers {
                        self.open_block = Some((first, block));
                        continue;
                    }
                    (first, block.freeze())
                }
                Frame::Headers(ref h) => {
                    let b = h.header_block.clone();
                    (frame, b)
                }
                Frame::PushPromise(ref p) => {
                    let b = p.header_block.clone();
                    (frame, b)
                }
                Frame::Settings(ref s) if s.ack => {
                    if let Some(Some(size)) = self.unacked_table_sizes.pop_front() {
                        self.decoder.set_max_table_size(size as usize);
                    }
                    if let Some(Some(size)) = self.unacked_frame_sizes.pop_front() {
                        self.reader.set_max_frame_size(size);
                    }
                    (frame, Bytes::new())
                }
                other => (other, Bytes::new()),
            };
            if self.open_block.is_some() {
                return Err("we interleaved a frame in a header block".into());
            }
            let mut headers = Vec::new();
            if matches!(frame, Frame::Headers(_) | Frame::PushPromise(_)) {
                self.decoder
                    .decode(&block, |h| headers.push(h))
                    .map_err(|e| format!("our header block does not decode: {e:?}"))?;
            }
            self.transcript.frames.push(describe(&frame, &headers));
            self.frames.push((frame, headers));
        }
    }
}

/// If `bytes` is one SETTINGS frame (not an ACK), its SETTINGS_HEADER_TABLE_SIZE, if any.
fn peer_settings_table_size(bytes: &[u8]) -> Option<Option<u32>> {
    if bytes.len() < 9 || bytes[3] != 0x4 || bytes[4] & 0x1 != 0 {
        return None;
    }
    let len = u32::from_be_bytes([0, bytes[0], bytes[1], bytes[2]]) as usize;
    let payload = bytes.get(9..9 + len)?;
    let mut size = None;
    for p in payload.chunks_exact(6) {
        if u16::from_be_bytes([p[0], p[1]]) == 0x1 {
            size = Some(u32::from_be_bytes([p[2], p[3], p[4], p[5]]));
        }
    }
    Some(size)
}

/// If `bytes` is one SETTINGS frame (not an ACK), the last value it carries for parameter `id`.
fn peer_settings_value(bytes: &[u8], id: u16) -> Option<Option<u32>> {
    if bytes.len() < 9 || bytes[3] != 0x4 || bytes[4] & 0x1 != 0 {
        return None;
    }
    let len = u32::from_be_bytes([0, bytes[0], bytes[1], bytes[2]]) as usize;
    let payload = bytes.get(9..9 + len)?;
    Some(
        payload
            .chunks_exact(6)
            .rev()
            .find(|p| u16::from_be_bytes([p[0], p[1]]) == id)
            .map(|p| u32::from_be_bytes([p[2], p[3], p[4], p[5]])),
    )
}

fn describe(frame: &Frame, headers: &[Header]) -> String {
    let mut s = match frame {
        Frame::Data(d) => format!(
            "DATA stream={} len={} end_stream={}",
            d.stream_id.value(),
            d.data.len(),
            d.end_stream
        ),
        Frame::Headers(h) => format!(
            "HEADERS stream={} end_stream={}",
            h.stream_id.value(),
            h.end_stream
        ),
        other => format!("{other:?}"),
    };
    for h in headers {
        s.push_str(&format!(
            " {}: {}",
            String::from_utf8_lossy(&h.name),
            String::from_utf8_lossy(&h.value)
        ));
    }
    s
}

/// Plays `scenario` against `harness`. Returns the transcript, or what went wrong, with the
/// step number and what was seen instead.
pub fn run(scenario: &Scenario, harness: &mut dyn Harness) -> Result<Transcript, String> {
    let mut peer = Peer::new();
    'steps: for (i, step) in scenario.steps.iter().enumerate() {
        let sent = harness.take_sent();
        peer.absorb(sent)
            .map_err(|e| format!("{} [{}]: step {i}: {e}", scenario.name, scenario.section))?;
        for e in harness.take_events() {
            peer.transcript.events.push(format!("{e:?}"));
            peer.events.push(e);
        }
        let fail = |what: String| {
            Err(format!(
                "{} [{}]: step {i} {:?}: {what}",
                scenario.name, scenario.section, step
            ))
        };
        match step {
            Step::PeerSends(frames) => {
                let mut bytes = BytesMut::new();
                for f in frames {
                    bytes.extend_from_slice(&peer.encode(f));
                }
                harness.peer_send(bytes.freeze());
            }
            Step::ExpectSent(want) => {
                let mut at = 0;
                for w in want {
                    match peer.frames[at..].iter().position(|(f, h)| w.matches(f, h)) {
                        Some(p) => at += p + 1,
                        None => {
                            return fail(format!(
                                "no frame matches {w:?}; sent since last check: {:#?}",
                                peer.frames
                                    .iter()
                                    .map(|(f, h)| describe(f, h))
                                    .collect::<Vec<_>>()
                            ))
                        }
                    }
                }
                peer.frames.drain(..at);
            }
            Step::ExpectNotSent(w) => {
                if let Some((f, h)) = peer.frames.iter().find(|(f, h)| w.matches(f, h)) {
                    return fail(format!("unexpected frame {}", describe(f, h)));
                }
            }
            Step::ExpectEvents(want) => {
                let mut at = 0;
                for w in want {
                    match peer.events[at..].iter().position(|e| w.matches(e)) {
                        Some(p) => at += p + 1,
                        None => {
                            return fail(format!(
                                "no event matches {w:?}; events since last check: {:#?}",
                                peer.events
                            ))
                        }
                    }
                }
                peer.events.drain(..at);
            }
            Step::ExpectNoEvent(w) => {
                if let Some(e) = peer.events.iter().find(|e| w.matches(e)) {
                    return fail(format!("unexpected event {e:?}"));
                }
            }
            Step::App(cmd, want) => {
                let before = peer.frames.len();
                let got = harness.app(cmd);
                match (want, &got) {
                    (AppResult::Ok, Ok(())) | (AppResult::UserError, Err(_)) => {}
                    _ => return fail(format!("command returned {got:?}")),
                }
                if *want == AppResult::UserError {
                    // A refused command sends nothing.
                    peer.absorb(harness.take_sent())
                        .map_err(|e| format!("step {i}: {e}"))?;
                    if let Some((f, h)) = peer.frames.get(before) {
                        return fail(format!("sent {} after a UserError", describe(f, h)));
                    }
                }
            }
            Step::Advance(d) => harness.advance(*d),
            Step::PeerEof => harness.peer_eof(),
            Step::ExpectClosed => {
                if !harness.is_closed() {
                    return fail("the connection is still open".into());
                }
            }
            Step::ExpectOpen => {
                if harness.is_closed() {
                    return fail("the connection closed".into());
                }
            }
            Step::PeerStopsReading => {
                if !harness.set_peer_reading(false) {
                    // This harness cannot hold the peer's reading back: the rest of the
                    // scenario does not apply to it.
                    break 'steps;
                }
            }
            Step::PeerReads => {
                harness.set_peer_reading(true);
            }
        }
    }
    let sent = harness.take_sent();
    peer.absorb(sent)?;
    for e in harness.take_events() {
        peer.transcript.events.push(format!("{e:?}"));
    }
    Ok(peer.transcript)
}
