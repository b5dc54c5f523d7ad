//! SETTINGS frames (RFC 9113 §6.5), with the settings of RFC 8441 and RFC 9218.

use super::{
    FrameType, Head, Reason, StreamId, DEFAULT_MAX_FRAME_SIZE, HEADER_LEN, MAX_MAX_FRAME_SIZE,
    MAX_WINDOW_SIZE,
};
use crate::ProtocolError;
use bytes::{BufMut, Bytes, BytesMut};
use smallvec::SmallVec;
use std::fmt;

/// The identifier of a setting (RFC 9113 §6.5.1, §6.5.2). Unknown identifiers are kept: §6.5.2
/// says they MUST be ignored, which is the connection's job.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SettingId(pub u16);

impl SettingId {
    /// RFC 9113 §6.5.2 SETTINGS_HEADER_TABLE_SIZE.
    pub const HEADER_TABLE_SIZE: SettingId = SettingId(0x1);
    /// RFC 9113 §6.5.2 SETTINGS_ENABLE_PUSH (0 or 1).
    pub const ENABLE_PUSH: SettingId = SettingId(0x2);
    /// RFC 9113 §6.5.2 SETTINGS_MAX_CONCURRENT_STREAMS.
    pub const MAX_CONCURRENT_STREAMS: SettingId = SettingId(0x3);
    /// RFC 9113 §6.5.2 SETTINGS_INITIAL_WINDOW_SIZE (at most 2^31-1).
    pub const INITIAL_WINDOW_SIZE: SettingId = SettingId(0x4);
    /// RFC 9113 §6.5.2 SETTINGS_MAX_FRAME_SIZE (2^14..=2^24-1).
    pub const MAX_FRAME_SIZE: SettingId = SettingId(0x5);
    /// RFC 9113 §6.5.2 SETTINGS_MAX_HEADER_LIST_SIZE.
    pub const MAX_HEADER_LIST_SIZE: SettingId = SettingId(0x6);
    /// RFC 8441 §3 SETTINGS_ENABLE_CONNECT_PROTOCOL (0 or 1).
    pub const ENABLE_CONNECT_PROTOCOL: SettingId = SettingId(0x8);
    /// RFC 9218 §2.1 SETTINGS_NO_RFC7540_PRIORITIES (0 or 1).
    pub const NO_RFC7540_PRIORITIES: SettingId = SettingId(0x9);

    /// The name RFC 9113 §6.5.2 (or RFC 8441, RFC 9218) gives this setting, or `None` for one this crate does not know.
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            SettingId::HEADER_TABLE_SIZE => "SETTINGS_HEADER_TABLE_SIZE",
            SettingId::ENABLE_PUSH => "SETTINGS_ENABLE_PUSH",
            SettingId::MAX_CONCURRENT_STREAMS => "SETTINGS_MAX_CONCURRENT_STREAMS",
            SettingId::INITIAL_WINDOW_SIZE => "SETTINGS_INITIAL_WINDOW_SIZE",
            SettingId::MAX_FRAME_SIZE => "SETTINGS_MAX_FRAME_SIZE",
            SettingId::MAX_HEADER_LIST_SIZE => "SETTINGS_MAX_HEADER_LIST_SIZE",
            SettingId::ENABLE_CONNECT_PROTOCOL => "SETTINGS_ENABLE_CONNECT_PROTOCOL",
            SettingId::NO_RFC7540_PRIORITIES => "SETTINGS_NO_RFC7540_PRIORITIES",
            _ => return None,
        })
    }
}

impl fmt::Debug for SettingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "SettingId({:#x})", self.0),
        }
    }
}

/// One setting of a SETTINGS frame (RFC 9113 §6.5.1): Identifier (16), Value (32).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    /// Which setting.
    pub id: SettingId,
    /// Its value.
    pub value: u32,
}

impl Setting {
    /// Length of a setting on the wire.
    const LEN: usize = 6;

    /// RFC 9113 §6.5.1: the setting `id` with `value`.
    pub fn new(id: SettingId, value: u32) -> Setting {
        Setting { id, value }
    }

    /// RFC 9113 §6.5.2 (and RFC 8441 §3, RFC 9218 §2.1): the value ranges a receiver MUST
    /// enforce, each a connection error.
    fn check(&self) -> Result<(), ProtocolError> {
        let (ok, reason, detail) = match self.id {
            SettingId::ENABLE_PUSH => (
                self.value <= 1,
                Reason::PROTOCOL_ERROR,
                "SETTINGS_ENABLE_PUSH not 0 or 1",
            ),
            SettingId::INITIAL_WINDOW_SIZE => (
                self.value <= MAX_WINDOW_SIZE,
                Reason::FLOW_CONTROL_ERROR,
                "SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1",
            ),
            SettingId::MAX_FRAME_SIZE => (
                (DEFAULT_MAX_FRAME_SIZE..=MAX_MAX_FRAME_SIZE).contains(&self.value),
                Reason::PROTOCOL_ERROR,
                "SETTINGS_MAX_FRAME_SIZE out of range",
            ),
            SettingId::ENABLE_CONNECT_PROTOCOL => (
                self.value <= 1,
                Reason::PROTOCOL_ERROR,
                "SETTINGS_ENABLE_CONNECT_PROTOCOL not 0 or 1",
            ),
            SettingId::NO_RFC7540_PRIORITIES => (
                self.value <= 1,
                Reason::PROTOCOL_ERROR,
                "SETTINGS_NO_RFC7540_PRIORITIES not 0 or 1",
            ),
            _ => return Ok(()),
        };
        if ok {
            Ok(())
        } else {
            Err(ProtocolError::connection(reason, detail))
        }
    }
}

/// RFC 9113 §6.5 SETTINGS: the sender's configuration, or (with ACK) the acknowledgement of
/// the peer's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    /// ACK flag: acknowledges the peer's last SETTINGS; then `settings` is empty.
    pub ack: bool,
    /// The settings in wire order (§6.5.3: they MUST be processed in order, so a repeated
    /// identifier's last value wins), unknown identifiers included.
    pub settings: SmallVec<[Setting; 8]>,
}

impl Settings {
    /// RFC 9113 §6.5: a SETTINGS frame carrying `settings`, in that order.
    pub fn new(settings: impl IntoIterator<Item = Setting>) -> Settings {
        Settings {
            ack: false,
            settings: settings.into_iter().collect(),
        }
    }

    /// RFC 9113 §6.5.3: a SETTINGS with the ACK flag, acknowledging the peer's.
    pub fn ack() -> Settings {
        Settings {
            ack: true,
            settings: SmallVec::new(),
        }
    }

    /// The value of `id` after processing in order (§6.5.3: the last occurrence wins), or `None`
    /// when absent.
    pub fn get(&self, id: SettingId) -> Option<u32> {
        self.settings
            .iter()
            .rev()
            .find(|s| s.id == id)
            .map(|s| s.value)
    }

    /// RFC 9113 §6.5: reads a SETTINGS frame whose header is `head`, checking the values of the
    /// known settings (§6.5.2).
    pub(crate) fn parse(head: Head, payload: Bytes) -> Result<Settings, ProtocolError> {
        if !head.stream_id.is_zero() {
            // §6.5: SETTINGS on a stream MUST be a connection PROTOCOL_ERROR.
            return Err(ProtocolError::connection(
                Reason::PROTOCOL_ERROR,
                "SETTINGS on a stream",
            ));
        }
        let ack = head.has(Head::ACK);
        if ack && !payload.is_empty() {
            // §6.5: an ACK with a payload MUST be a connection FRAME_SIZE_ERROR.
            return Err(ProtocolError::connection(
                Reason::FRAME_SIZE_ERROR,
                "SETTINGS ACK with a payload",
            ));
        }
        if payload.len() % Setting::LEN != 0 {
            // §6.5: a length not a multiple of 6 MUST be a connection FRAME_SIZE_ERROR.
            return Err(ProtocolError::connection(
                Reason::FRAME_SIZE_ERROR,
                "SETTINGS length not a multiple of 6",
            ));
        }
        let mut settings = SmallVec::with_capacity(payload.len() / Setting::LEN);
        for chunk in payload.chunks_exact(Setting::LEN) {
            // chunks_exact guarantees 6 bytes: the `else` never runs.
            let Some(&[i0, i1, v0, v1, v2, v3]) = chunk.first_chunk::<6>() else {
                continue;
            };
            let setting = Setting::new(
                SettingId(u16::from_be_bytes([i0, i1])),
                u32::from_be_bytes([v0, v1, v2, v3]),
            );
            setting.check()?;
            settings.push(setting);
        }
        Ok(Settings { ack, settings })
    }

    /// Appends the frame (RFC 9113 §6.5) to `dst`.
    pub fn encode(&self, dst: &mut BytesMut) {
        let length = self.settings.len() * Setting::LEN;
        dst.reserve(HEADER_LEN + length);
        Head {
            length: length as u32,
            kind: FrameType::SETTINGS,
            flags: if self.ack { Head::ACK } else { 0 },
            stream_id: StreamId::ZERO,
        }
        .encode(dst);
        for setting in &self.settings {
            dst.put_u16(setting.id.0);
            dst.put_u32(setting.value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::head::testing::{assert_connection_error, parse, round_trip};
    use super::super::Frame;
    use super::*;

    const SETTINGS: u8 = 0x4;

    fn one(id: u16, value: u32) -> Vec<u8> {
        let mut v = id.to_be_bytes().to_vec();
        v.extend_from_slice(&value.to_be_bytes());
        v
    }

    #[test]
    fn settings_on_a_stream_is_protocol_error() {
        assert_connection_error(parse(SETTINGS, 0, 1, &[]), Reason::PROTOCOL_ERROR);
    }

    #[test]
    fn settings_ack_with_payload_is_frame_size_error() {
        assert_connection_error(
            parse(SETTINGS, Head::ACK, 0, &one(1, 4096)),
            Reason::FRAME_SIZE_ERROR,
        );
    }

    #[test]
    fn settings_length_not_multiple_of_six_is_frame_size_error() {
        assert_connection_error(
            parse(SETTINGS, 0, 0, &[0, 1, 0, 0, 0]),
            Reason::FRAME_SIZE_ERROR,
        );
        let mut seven = one(1, 4096);
        seven.push(0);
        assert_connection_error(parse(SETTINGS, 0, 0, &seven), Reason::FRAME_SIZE_ERROR);
    }

    #[test]
    fn settings_enable_push_above_one_is_protocol_error() {
        assert_connection_error(parse(SETTINGS, 0, 0, &one(2, 2)), Reason::PROTOCOL_ERROR);
    }

    #[test]
    fn settings_initial_window_size_above_max_window_is_flow_control_error() {
        assert_connection_error(
            parse(SETTINGS, 0, 0, &one(4, 1 << 31)),
            Reason::FLOW_CONTROL_ERROR,
        );
        assert!(parse(SETTINGS, 0, 0, &one(4, (1 << 31) - 1)).is_ok());
    }

    #[test]
    fn settings_max_frame_size_outside_legal_range_is_protocol_error() {
        assert_connection_error(
            parse(SETTINGS, 0, 0, &one(5, (1 << 14) - 1)),
            Reason::PROTOCOL_ERROR,
        );
        assert_connection_error(
            parse(SETTINGS, 0, 0, &one(5, 1 << 24)),
            Reason::PROTOCOL_ERROR,
        );
        assert!(parse(SETTINGS, 0, 0, &one(5, 1 << 14)).is_ok());
        assert!(parse(SETTINGS, 0, 0, &one(5, (1 << 24) - 1)).is_ok());
    }

    #[test]
    fn settings_enable_connect_protocol_above_one_is_protocol_error() {
        assert_connection_error(parse(SETTINGS, 0, 0, &one(8, 2)), Reason::PROTOCOL_ERROR);
    }

    #[test]
    fn settings_no_rfc7540_priorities_above_one_is_protocol_error() {
        assert_connection_error(parse(SETTINGS, 0, 0, &one(9, 2)), Reason::PROTOCOL_ERROR);
    }

    #[test]
    fn settings_keep_unknown_ids_and_wire_order() {
        let mut payload = one(0xabcd, u32::MAX);
        payload.extend(one(1, 100));
        payload.extend(one(1, 200));
        let Ok(Frame::Settings(settings)) = parse(SETTINGS, 0, 0, &payload) else {
            panic!()
        };
        assert_eq!(
            &settings.settings[..],
            &[
                Setting::new(SettingId(0xabcd), u32::MAX),
                Setting::new(SettingId::HEADER_TABLE_SIZE, 100),
                Setting::new(SettingId::HEADER_TABLE_SIZE, 200),
            ]
        );
        assert_eq!(settings.get(SettingId::HEADER_TABLE_SIZE), Some(200));
        assert_eq!(settings.get(SettingId::ENABLE_PUSH), None);
    }

    #[test]
    fn settings_round_trip() {
        round_trip(Frame::Settings(Settings::ack()));
        round_trip(Frame::Settings(Settings::default()));
        round_trip(Frame::Settings(Settings::new([
            Setting::new(SettingId::HEADER_TABLE_SIZE, 0),
            Setting::new(SettingId::ENABLE_PUSH, 0),
            Setting::new(SettingId::MAX_CONCURRENT_STREAMS, 100),
            Setting::new(SettingId::INITIAL_WINDOW_SIZE, (1 << 31) - 1),
            Setting::new(SettingId::MAX_FRAME_SIZE, (1 << 24) - 1),
            Setting::new(SettingId::MAX_HEADER_LIST_SIZE, u32::MAX),
            Setting::new(SettingId::ENABLE_CONNECT_PROTOCOL, 1),
            Setting::new(SettingId::NO_RFC7540_PRIORITIES, 1),
            Setting::new(SettingId(0xffff), 7),
        ])));
    }
}
