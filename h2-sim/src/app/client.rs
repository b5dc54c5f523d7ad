//! The client's application: sends the script's requests when due and reads each response as
//! its [`Read`] says, returning consumed bytes to flow control (`release_capacity`).

use super::{App, Now};
use crate::report::{Outcome, StreamReport};
use crate::script::{path_for, Read, Request};
use h2core::{Connection, Event, Header, StreamId};
use std::collections::HashMap;
use std::time::Duration;

/// The least a rate-limited reader consumes at once, so it does not wake per byte.
const READ_QUANTUM: u64 = 16 * 1024;

#[derive(Debug)]
pub(crate) struct ClientApp {
    script: Vec<Request>,
    pub(crate) reports: Vec<StreamReport>,
    by_stream: HashMap<u32, usize>,
    /// Received and not yet consumed, summed over streams.
    unread: u64,
    /// The connection ended: no request will be sent any more.
    over: bool,
    /// How the connection ended, if it did (code, and whether the peer or the transport ended it).
    pub(crate) terminated: Option<(h2core::Reason, bool)>,
}

impl ClientApp {
    pub(crate) fn new(script: Vec<Request>) -> ClientApp {
        let reports = (0..script.len())
            .map(|index| StreamReport {
                index,
                stream: None,
                requested_at: None,
                response_at: None,
                first_byte_at: None,
                ended_at: None,
                bytes: 0,
                consumed: 0,
                outcome: Outcome::Open,
                arrivals: Vec::new(),
            })
            .collect();
        ClientApp {
            script,
            reports,
            by_stream: HashMap::new(),
            unread: 0,
            over: false,
            terminated: None,
        }
    }

    /// How many bytes request `i`'s reader may consume at `t`.
    fn readable(&self, i: usize, t: Duration) -> u64 {
        let r = &self.reports[i];
        let unread = r.bytes - r.consumed;
        match self.script[i].read {
            Read::All => unread,
            Read::StopAfter(n) => unread.min(n.saturating_sub(r.consumed)),
            Read::PauseUntil { after, resume_at } => {
                if t >= resume_at {
                    unread
                } else {
                    unread.min(after.saturating_sub(r.consumed))
                }
            }
            Read::Rate(rate) => {
                let Some(start) = r.first_byte_at else {
                    return 0;
                };
                let allowed = (rate as u128 * (t - start).as_nanos() / 1_000_000_000) as u64;
                unread.min(allowed.saturating_sub(r.consumed))
            }
        }
    }

    fn send(&mut self, conn: &mut Connection, i: usize, now: Now) {
        let req = self.script[i];
        let mut headers = vec![
            Header::new(":method", "GET"),
            Header::new(":scheme", "http"),
            Header::new(":authority", "sim"),
            Header::new(":path", path_for(req.response_size)),
        ];
        if let Some(u) = req.urgency {
            // RFC 9218 §4: the priority header field.
            headers.push(Header::new("priority", format!("u={u}")));
        }
        let report = &mut self.reports[i];
        report.requested_at = Some(now.t);
        match conn.send_request(headers, true) {
            Ok(id) => {
                report.stream = Some(id.value());
                self.by_stream.insert(id.value(), i);
            }
            Err(_) => {
                // The connection is going away (GOAWAY): the request never goes out.
                report.outcome = Outcome::Reset {
                    reason: h2core::Reason::REFUSED_STREAM,
                    remote: true,
                };
                report.ended_at = Some(now.t);
            }
        }
    }

    fn end(&mut self, stream: StreamId, outcome: Outcome, t: Duration) {
        if let Some(&i) = self.by_stream.get(&stream.value()) {
            let r = &mut self.reports[i];
            if r.outcome == Outcome::Open {
                r.outcome = outcome;
                r.ended_at = Some(t);
            }
        }
    }
}

impl App for ClientApp {
    fn poll(&mut self, conn: &mut Connection, now: Now) -> bool {
        let mut progress = false;
        for i in 0..self.script.len() {
            if self.reports[i].requested_at.is_none() && self.script[i].at <= now.t && !self.over {
                self.send(conn, i, now);
                progress = true;
            }
            let n = self.readable(i, now.t);
            if n > 0 {
                let r = &mut self.reports[i];
                r.consumed += n;
                self.unread -= n;
                if let Some(id) = r.stream {
                    conn.release_capacity(StreamId::new(id), n as usize);
                }
                progress = true;
            }
        }
        progress
    }

    fn event(&mut self, _conn: &mut Connection, event: Event, now: Now) {
        match event {
            Event::ResponseReceived { stream, .. } => {
                if let Some(&i) = self.by_stream.get(&stream.value()) {
                    self.reports[i].response_at.get_or_insert(now.t);
                }
            }
            Event::DataReceived { stream, data, .. } => {
                if let Some(&i) = self.by_stream.get(&stream.value()) {
                    let r = &mut self.reports[i];
                    if !data.is_empty() {
                        r.first_byte_at.get_or_insert(now.t);
                        r.arrivals.push((now.t, data.len() as u64));
                    }
                    r.bytes += data.len() as u64;
                    self.unread += data.len() as u64;
                }
            }
            Event::StreamEnded { stream } => self.end(stream, Outcome::Complete, now.t),
            Event::StreamReset {
                stream,
                reason,
                remote,
            } => self.end(stream, Outcome::Reset { reason, remote }, now.t),
            Event::ConnectionTerminated { reason, remote, .. } => {
                self.over = true;
                self.terminated = Some((reason, remote));
                // Streams the connection took down without a StreamReset of their own (not yet
                // opened) end with the connection's code.
                for r in self
                    .reports
                    .iter_mut()
                    .filter(|r| r.outcome == Outcome::Open)
                {
                    r.outcome = Outcome::Reset { reason, remote };
                    r.ended_at = Some(now.t);
                }
            }
            _ => {}
        }
    }

    fn next_wake(&self) -> Option<Duration> {
        let mut wake: Option<Duration> = None;
        let mut at = |t: Duration| wake = Some(wake.map_or(t, |w| w.min(t)));
        for (req, r) in self.script.iter().zip(&self.reports) {
            if r.requested_at.is_none() && !self.over {
                at(req.at);
            }
            if let Read::PauseUntil { resume_at, .. } = req.read {
                if r.bytes > r.consumed && r.outcome == Outcome::Open {
                    at(resume_at);
                }
            }
            if let (Read::Rate(rate), Some(start)) = (req.read, r.first_byte_at) {
                let unread = r.bytes - r.consumed;
                if unread > 0 && rate > 0 {
                    // When the reader may take the next quantum (or what is left).
                    let goal = r.consumed + unread.min(READ_QUANTUM);
                    let nanos = (goal as u128 * 1_000_000_000).div_ceil(rate as u128);
                    at(start + Duration::from_nanos(nanos as u64));
                }
            }
        }
        wake
    }

    fn held(&self, _conn: &Connection) -> usize {
        self.unread as usize
    }

    fn done(&self) -> bool {
        self.reports.iter().all(|r| r.outcome != Outcome::Open)
    }
}
