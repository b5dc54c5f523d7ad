//! A wire tap: reads the frame headers (RFC 9113 §4.1) of one direction's byte stream as it
//! passes, without touching the endpoints, for the transcript and the window meter. DATA
//! payloads are skipped, never copied; control payloads are parsed with `h2core::frame`.

use bytes::{Bytes, BytesMut};
use h2core::frame::{Frame, FrameType, Head, SettingId, HEADER_LEN};
use std::fmt;
use std::time::Duration;

/// Which way a frame went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Client to server.
    Up,
    /// Server to client.
    Down,
}

/// What a frame changes in flow control (RFC 9113 §6.9), when it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowSignal {
    /// WINDOW_UPDATE with this increment.
    Increment(u32),
    /// SETTINGS (not an ACK) carrying SETTINGS_INITIAL_WINDOW_SIZE.
    InitialWindowSize(u32),
}

/// One frame, as the tap saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameRecord {
    /// Virtual time its last byte passed the tap.
    pub at: Duration,
    /// Which way it went.
    pub direction: Direction,
    /// Frame type.
    pub kind: FrameType,
    /// Stream identifier (0: the connection).
    pub stream: u32,
    /// Flags as on the wire.
    pub flags: u8,
    /// Payload length (for DATA, what counts against flow control, §6.9.1).
    pub length: u32,
    /// Its effect on flow-control windows.
    pub window: Option<WindowSignal>,
}

impl fmt::Display for FrameRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let arrow = match self.direction {
            Direction::Up => "c->s",
            Direction::Down => "s->c",
        };
        write!(f, "{:>12}ns {arrow} ", self.at.as_nanos())?;
        match self.kind.name() {
            Some(name) => write!(f, "{name}")?,
            None => write!(f, "type={:#x}", self.kind.0)?,
        }
        write!(
            f,
            " stream={} flags={:#04x} len={}",
            self.stream, self.flags, self.length
        )?;
        match self.window {
            Some(WindowSignal::Increment(n)) => write!(f, " +{n}"),
            Some(WindowSignal::InitialWindowSize(n)) => write!(f, " initial_window_size={n}"),
            None => Ok(()),
        }
    }
}

/// Reads frames from one direction's bytes, fed in any pieces.
#[derive(Debug)]
pub(crate) struct FrameTap {
    direction: Direction,
    /// Client preface bytes still to skip (§3.4).
    preface: usize,
    head: [u8; HEADER_LEN],
    head_len: usize,
    current: Option<Head>,
    /// Payload bytes of the current frame still to come.
    remaining: usize,
    /// The current frame's payload, kept only when it is not DATA.
    payload: BytesMut,
}

impl FrameTap {
    pub(crate) fn new(direction: Direction) -> FrameTap {
        FrameTap {
            direction,
            preface: match direction {
                Direction::Up => h2core::preface::PREFACE.len(),
                Direction::Down => 0,
            },
            head: [0; HEADER_LEN],
            head_len: 0,
            current: None,
            remaining: 0,
            payload: BytesMut::new(),
        }
    }

    /// Reads `data`, which passed the tap at `at`, appending every frame it completes to `out`.
    pub(crate) fn feed(&mut self, at: Duration, mut data: &[u8], out: &mut Vec<FrameRecord>) {
        while !data.is_empty() {
            if self.preface > 0 {
                let n = self.preface.min(data.len());
                self.preface -= n;
                data = &data[n..];
                continue;
            }
            let Some(head) = self.current else {
                let n = (HEADER_LEN - self.head_len).min(data.len());
                self.head[self.head_len..self.head_len + n].copy_from_slice(&data[..n]);
                self.head_len += n;
                data = &data[n..];
                if self.head_len == HEADER_LEN {
                    self.head_len = 0;
                    let head = Head::parse(&self.head);
                    self.current = Some(head);
                    self.remaining = head.length as usize;
                    self.payload.clear();
                    if self.remaining == 0 {
                        self.complete(at, out);
                    }
                }
                continue;
            };
            let n = self.remaining.min(data.len());
            if head.kind != FrameType::DATA {
                self.payload.extend_from_slice(&data[..n]);
            }
            self.remaining -= n;
            data = &data[n..];
            if self.remaining == 0 {
                self.complete(at, out);
            }
        }
    }

    fn complete(&mut self, at: Duration, out: &mut Vec<FrameRecord>) {
        let Some(head) = self.current.take() else {
            return;
        };
        let window = match head.kind {
            FrameType::WINDOW_UPDATE | FrameType::SETTINGS => {
                let payload = Bytes::from(std::mem::take(&mut self.payload));
                match Frame::parse(head, payload) {
                    Ok(Frame::WindowUpdate(w)) => Some(WindowSignal::Increment(w.increment)),
                    Ok(Frame::Settings(s)) if !s.ack => s
                        .get(SettingId::INITIAL_WINDOW_SIZE)
                        .map(WindowSignal::InitialWindowSize),
                    _ => None,
                }
            }
            _ => None,
        };
        out.push(FrameRecord {
            at,
            direction: self.direction,
            kind: head.kind,
            stream: head.stream_id.value(),
            flags: head.flags,
            length: head.length,
            window,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use h2core::frame::{Data, Setting, Settings, StreamId, WindowUpdate};

    #[test]
    fn frames_fed_one_byte_at_a_time_are_read_whole() {
        let mut wire = BytesMut::new();
        wire.extend_from_slice(h2core::preface::PREFACE);
        Settings::new([Setting::new(SettingId::INITIAL_WINDOW_SIZE, 1000)]).encode(&mut wire);
        Data::new(StreamId::new(1), Bytes::from_static(b"hello")).encode(&mut wire);
        WindowUpdate::new(StreamId::ZERO, 77).encode(&mut wire);
        let mut tap = FrameTap::new(Direction::Up);
        let mut out = Vec::new();
        for b in wire.iter() {
            tap.feed(Duration::ZERO, &[*b], &mut out);
        }
        let kinds: Vec<_> = out
            .iter()
            .map(|r| (r.kind, r.stream, r.length, r.window))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (
                    FrameType::SETTINGS,
                    0,
                    6,
                    Some(WindowSignal::InitialWindowSize(1000))
                ),
                (FrameType::DATA, 1, 5, None),
                (
                    FrameType::WINDOW_UPDATE,
                    0,
                    4,
                    Some(WindowSignal::Increment(77))
                ),
            ]
        );
    }
}
