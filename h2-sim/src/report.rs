//! What a run measured: each stream's timeline, each side's peaks, the windows the client kept
//! open, and (when asked) the transcript of every frame.

use crate::link::LinkConfig;
use crate::tap::FrameRecord;
use h2core::Reason;
use std::time::Duration;

/// How a stream ended, as one side saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Still open when the run stopped (or, for a request, never sent).
    Open,
    /// Complete: the whole response arrived (client), or was handed out to be written
    /// (server).
    Complete,
    /// Reset (RST_STREAM, or the connection ended under it, §5.4): `remote` when the peer or the
    /// transport ended it.
    Reset {
        /// The error code.
        reason: Reason,
        /// Not our own doing.
        remote: bool,
    },
}

impl Outcome {
    /// The stream ended with an error.
    pub fn is_error(&self) -> bool {
        matches!(self, Outcome::Reset { .. })
    }
}

/// One request as the client saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamReport {
    /// Index in the script.
    pub index: usize,
    /// The stream, once the request was sent.
    pub stream: Option<u32>,
    /// When the application sent the request.
    pub requested_at: Option<Duration>,
    /// When the response head arrived.
    pub response_at: Option<Duration>,
    /// When the first body byte arrived.
    pub first_byte_at: Option<Duration>,
    /// When the response ended (END_STREAM) or the stream was reset.
    pub ended_at: Option<Duration>,
    /// Body bytes received.
    pub bytes: u64,
    /// Body bytes the application consumed.
    pub consumed: u64,
    /// How it ended.
    pub outcome: Outcome,
    /// Each DATA frame's arrival: (time, payload bytes).
    pub arrivals: Vec<(Duration, u64)>,
}

impl StreamReport {
    /// Time to first byte: from sending the request to the first body byte.
    pub fn time_to_first_byte(&self) -> Option<Duration> {
        Some(self.first_byte_at? - self.requested_at?)
    }
}

/// One endpoint's figures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SideReport {
    /// The most bytes held at once on the application's behalf: received and not consumed,
    /// queued to send in the core, and written by the core but not yet taken by the link.
    pub peak_buffered: usize,
    /// The most bytes its direction's link queue held at once.
    pub peak_link_queue: usize,
    /// How each stream ended on this side, by stream id.
    pub streams: Vec<(u32, Outcome)>,
    /// The connection's end, if it ended: its code, and whether the peer (or the transport)
    /// ended it.
    pub terminated: Option<(Reason, bool)>,
    /// Streams found ready to send, with output room, that the connection did not send
    /// (the scheduler must never leave one): (time, stream).
    pub stalls: Vec<(Duration, u32)>,
}

/// Everything one run measured.
#[derive(Debug, Clone)]
pub struct Report {
    /// The link the run used.
    pub link: LinkConfig,
    /// Virtual time when the run stopped.
    pub elapsed: Duration,
    /// Each request, in script order.
    pub requests: Vec<StreamReport>,
    /// The client's figures.
    pub client: SideReport,
    /// The server's figures.
    pub server: SideReport,
    /// The largest stream window the client kept open beyond what had arrived (§6.9).
    pub peak_stream_window: u64,
    /// The same for the connection window.
    pub peak_connection_window: u64,
    /// Every frame, at its arrival, when the scenario asked for a transcript.
    pub transcript: Vec<FrameRecord>,
}

impl Report {
    /// Body bytes the client received per `interval`, from time zero: the connection's
    /// throughput over time, in bytes per interval.
    pub fn throughput(&self, interval: Duration) -> Vec<u64> {
        let mut buckets = Vec::new();
        for r in &self.requests {
            add_to_buckets(&mut buckets, &r.arrivals, interval);
        }
        buckets
    }

    /// The same for request `index` alone.
    pub fn stream_throughput(&self, index: usize, interval: Duration) -> Vec<u64> {
        let mut buckets = Vec::new();
        add_to_buckets(&mut buckets, &self.requests[index].arrivals, interval);
        buckets
    }

    /// Body bytes the client received in all.
    pub fn bytes_received(&self) -> u64 {
        self.requests.iter().map(|r| r.bytes).sum()
    }

    /// From the first request to the last body byte or end of any stream.
    pub fn transfer_time(&self) -> Option<Duration> {
        let start = self.requests.iter().filter_map(|r| r.requested_at).min()?;
        let end = self.requests.iter().filter_map(|r| r.ended_at).max()?;
        Some(end.saturating_sub(start))
    }

    /// Percent of the down link's capacity the body bytes used over the transfer time.
    pub fn link_utilization(&self) -> f64 {
        match self.transfer_time() {
            Some(t) if !t.is_zero() => {
                let capacity = self.link.down.bandwidth as f64 / 8.0 * t.as_secs_f64();
                100.0 * self.bytes_received() as f64 / capacity
            }
            _ => 0.0,
        }
    }

    /// The frames of the transcript, one per line.
    pub fn transcript_text(&self) -> String {
        self.transcript.iter().map(|f| format!("{f}\n")).collect()
    }
}

fn add_to_buckets(buckets: &mut Vec<u64>, arrivals: &[(Duration, u64)], interval: Duration) {
    let width = interval.as_nanos().max(1);
    for (at, n) in arrivals {
        let i = (at.as_nanos() / width) as usize;
        if buckets.len() <= i {
            buckets.resize(i + 1, 0);
        }
        buckets[i] += n;
    }
}
