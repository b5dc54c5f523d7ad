//! SETTINGS synchronization (RFC 9113 §6.5).
//!
//! Each side's parameters, the values in force, and our SETTINGS frames that wait for the peer's
//! ACK. Our changes take effect only when acknowledged (§6.5.3); the peer's take effect on receipt.

use crate::flow::DEFAULT_WINDOW;
use crate::frame::DEFAULT_MAX_FRAME_SIZE;
use crate::frame::{Setting, SettingId, Settings as SettingsFrame};
use smallvec::SmallVec;
use std::collections::VecDeque;
use std::time::Instant;

/// The values of the SETTINGS parameters of one endpoint (§6.5.2, RFC 8441, RFC 9218).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SettingsValues {
    /// SETTINGS_HEADER_TABLE_SIZE (default 4096).
    pub header_table_size: u32,
    /// SETTINGS_ENABLE_PUSH (default true).
    pub enable_push: bool,
    /// SETTINGS_MAX_CONCURRENT_STREAMS (default unlimited).
    pub max_concurrent_streams: Option<u32>,
    /// SETTINGS_INITIAL_WINDOW_SIZE (default 65,535).
    pub initial_window_size: u32,
    /// SETTINGS_MAX_FRAME_SIZE (default 16,384).
    pub max_frame_size: u32,
    /// SETTINGS_MAX_HEADER_LIST_SIZE (default unlimited).
    pub max_header_list_size: Option<u32>,
    /// RFC 8441 SETTINGS_ENABLE_CONNECT_PROTOCOL (default false).
    pub enable_connect_protocol: bool,
    /// RFC 9218 SETTINGS_NO_RFC7540_PRIORITIES (default false).
    pub no_rfc7540_priorities: bool,
}

impl Default for SettingsValues {
    fn default() -> Self {
        SettingsValues {
            header_table_size: 4096,
            enable_push: true,
            max_concurrent_streams: None,
            initial_window_size: DEFAULT_WINDOW,
            max_frame_size: DEFAULT_MAX_FRAME_SIZE,
            max_header_list_size: None,
            enable_connect_protocol: false,
            no_rfc7540_priorities: false,
        }
    }
}

impl SettingsValues {
    /// Applies the parameters of a received SETTINGS frame in order (§6.5.3: "processed in
    /// the order they appear"). Unknown identifiers are ignored (§6.5.2). Values were range
    /// checked by the frame parser.
    pub fn apply(&mut self, settings: &[Setting]) {
        for s in settings {
            match s.id {
                SettingId::HEADER_TABLE_SIZE => self.header_table_size = s.value,
                SettingId::ENABLE_PUSH => self.enable_push = s.value == 1,
                SettingId::MAX_CONCURRENT_STREAMS => self.max_concurrent_streams = Some(s.value),
                SettingId::INITIAL_WINDOW_SIZE => self.initial_window_size = s.value,
                SettingId::MAX_FRAME_SIZE => self.max_frame_size = s.value,
                SettingId::MAX_HEADER_LIST_SIZE => self.max_header_list_size = Some(s.value),
                SettingId::ENABLE_CONNECT_PROTOCOL => self.enable_connect_protocol = s.value == 1,
                SettingId::NO_RFC7540_PRIORITIES => self.no_rfc7540_priorities = s.value == 1,
                _ => {}
            }
        }
    }

    /// The parameters that differ from `base`, as they go in a SETTINGS frame.
    pub fn diff(&self, base: &SettingsValues) -> SmallVec<[Setting; 8]> {
        let mut out = SmallVec::new();
        let mut put = |id, value| out.push(Setting { id, value });
        if self.header_table_size != base.header_table_size {
            put(SettingId::HEADER_TABLE_SIZE, self.header_table_size);
        }
        if self.enable_push != base.enable_push {
            put(SettingId::ENABLE_PUSH, self.enable_push as u32);
        }
        if self.max_concurrent_streams != base.max_concurrent_streams {
            if let Some(n) = self.max_concurrent_streams {
                put(SettingId::MAX_CONCURRENT_STREAMS, n);
            }
        }
        if self.initial_window_size != base.initial_window_size {
            put(SettingId::INITIAL_WINDOW_SIZE, self.initial_window_size);
        }
        if self.max_frame_size != base.max_frame_size {
            put(SettingId::MAX_FRAME_SIZE, self.max_frame_size);
        }
        if self.max_header_list_size != base.max_header_list_size {
            if let Some(n) = self.max_header_list_size {
                put(SettingId::MAX_HEADER_LIST_SIZE, n);
            }
        }
        if self.enable_connect_protocol != base.enable_connect_protocol {
            put(
                SettingId::ENABLE_CONNECT_PROTOCOL,
                self.enable_connect_protocol as u32,
            );
        }
        if self.no_rfc7540_priorities != base.no_rfc7540_priorities {
            put(
                SettingId::NO_RFC7540_PRIORITIES,
                self.no_rfc7540_priorities as u32,
            );
        }
        out
    }
}

/// Our SETTINGS frames in flight: each waits for one ACK, in order (§6.5.3).
#[derive(Debug, Default)]
pub(crate) struct PendingSettings {
    queue: VecDeque<(SettingsValues, Instant)>,
}

impl PendingSettings {
    /// We sent a SETTINGS frame that, once acknowledged, makes `values` the values in force.
    pub(crate) fn sent(&mut self, values: SettingsValues, now: Instant) {
        self.queue.push_back((values, now));
    }

    /// The peer acknowledged our oldest SETTINGS frame; returns the values now in force, or
    /// `None` for an ACK nobody asked for.
    pub(crate) fn acknowledged(&mut self) -> Option<SettingsValues> {
        self.queue.pop_front().map(|(v, _)| v)
    }

    /// When the oldest unacknowledged SETTINGS frame was sent.
    pub(crate) fn oldest(&self) -> Option<Instant> {
        self.queue.front().map(|(_, t)| *t)
    }

    /// The values that will be in force once every pending SETTINGS is acknowledged.
    pub(crate) fn latest(&self) -> Option<&SettingsValues> {
        self.queue.back().map(|(v, _)| v)
    }
}

/// Builds the SETTINGS frame announcing `values` relative to the protocol defaults or `base`.
pub(crate) fn frame_for(values: &SettingsValues, base: &SettingsValues) -> SettingsFrame {
    SettingsFrame {
        ack: false,
        settings: values.diff(base),
    }
}
