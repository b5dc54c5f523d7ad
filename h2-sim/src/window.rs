//! The window meter: how much the client let the server send beyond what had arrived (RFC 9113
//! §6.9), per stream and on the connection, from the frames the tap saw. The receiver's credit
//! is its initial window plus every WINDOW_UPDATE it sent, minus the DATA it received; the
//! peak of that credit is the window the receiver needed to keep open (the figure adaptive
//! windows will size).

use crate::tap::{FrameRecord, WindowSignal};
use h2core::frame::FrameType;
use std::collections::HashMap;

/// RFC 9113 §6.9.2: every window starts at 65,535 until SETTINGS or WINDOW_UPDATE change it.
const DEFAULT_WINDOW: i64 = 65_535;

/// The receiver's open windows and their peaks.
#[derive(Debug)]
pub(crate) struct WindowMeter {
    initial: i64,
    streams: HashMap<u32, i64>,
    connection: i64,
    pub(crate) peak_stream: i64,
    pub(crate) peak_connection: i64,
}

impl WindowMeter {
    pub(crate) fn new() -> WindowMeter {
        WindowMeter {
            initial: DEFAULT_WINDOW,
            streams: HashMap::new(),
            connection: DEFAULT_WINDOW,
            peak_stream: 0,
            peak_connection: DEFAULT_WINDOW,
        }
    }

    /// A frame the receiver sent: its grants.
    pub(crate) fn sent(&mut self, frame: &FrameRecord) {
        match frame.window {
            Some(WindowSignal::Increment(n)) if frame.stream == 0 => {
                self.connection += n as i64;
                self.peak_connection = self.peak_connection.max(self.connection);
            }
            Some(WindowSignal::Increment(n)) => {
                let w = self.stream(frame.stream);
                *w += n as i64;
                let w = *w;
                self.peak_stream = self.peak_stream.max(w);
            }
            Some(WindowSignal::InitialWindowSize(v)) => {
                // §6.9.2: a new initial size moves every open stream's window by the difference.
                let delta = v as i64 - self.initial;
                self.initial = v as i64;
                for w in self.streams.values_mut() {
                    *w += delta;
                    self.peak_stream = self.peak_stream.max(*w);
                }
            }
            None if frame.kind == FrameType::HEADERS => {
                let w = *self.stream(frame.stream);
                self.peak_stream = self.peak_stream.max(w);
            }
            None => {}
        }
    }

    /// A frame the receiver received: DATA uses up credit.
    pub(crate) fn received(&mut self, frame: &FrameRecord) {
        if frame.kind == FrameType::DATA {
            *self.stream(frame.stream) -= frame.length as i64;
            self.connection -= frame.length as i64;
        }
    }

    fn stream(&mut self, id: u32) -> &mut i64 {
        self.streams.entry(id).or_insert(self.initial)
    }
}
