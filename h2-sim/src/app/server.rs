//! The server's application: a handler per request that answers `GET /bytes/N` with N bytes,
//! queued only as [`Connection::send_capacity`] allows (the core's backpressure), as the
//! adapters' bodies are produced.

use super::{App, Now};
use crate::report::Outcome;
use crate::script::size_from_path;
use bytes::Bytes;
use h2core::{Connection, Event, Header, Reason, SendState, StreamId};
use std::time::Duration;

/// The body's bytes: slices of one static buffer, never copied (as `Body::chunks` does).
static ZEROS: [u8; 64 * 1024] = [0; 64 * 1024];

#[derive(Debug)]
struct Handler {
    stream: StreamId,
    /// Body bytes not yet queued.
    remaining: u64,
    outcome: Outcome,
}

#[derive(Debug, Default)]
pub(crate) struct ServerApp {
    handlers: Vec<Handler>,
    /// Index of the first handler that may still be open (the ones before have all ended).
    first_open: usize,
    /// How the connection ended, if it did: its code, and whether the peer (or the
    /// transport) ended it.
    pub(crate) terminated: Option<(Reason, bool)>,
}

impl ServerApp {
    pub(crate) fn new() -> ServerApp {
        ServerApp::default()
    }

    pub(crate) fn outcomes(&self) -> Vec<(u32, Outcome)> {
        self.handlers
            .iter()
            .map(|h| (h.stream.value(), h.outcome))
            .collect()
    }

    fn open(&self) -> impl Iterator<Item = &Handler> {
        self.handlers[self.first_open..]
            .iter()
            .filter(|h| h.outcome == Outcome::Open)
    }

    fn handler(&mut self, stream: StreamId) -> Option<&mut Handler> {
        self.handlers.iter_mut().find(|h| h.stream == stream)
    }
}

impl App for ServerApp {
    fn poll(&mut self, conn: &mut Connection, _now: Now) -> bool {
        let mut progress = false;
        for h in self.handlers[self.first_open..].iter_mut() {
            if h.outcome != Outcome::Open {
                continue;
            }
            while h.remaining > 0 {
                let room = conn.send_capacity(h.stream) as u64;
                if room == 0 {
                    break;
                }
                let n = room.min(h.remaining).min(ZEROS.len() as u64);
                h.remaining -= n;
                let data = Bytes::from_static(&ZEROS[..n as usize]);
                if conn.send_data(h.stream, data, h.remaining == 0).is_err() {
                    break;
                }
                progress = true;
            }
            if h.remaining == 0 && conn.send_buffered(h.stream) == 0 {
                let closed = conn.stream_state(h.stream).is_none_or(|s| s.is_closed());
                if closed {
                    h.outcome = Outcome::Complete;
                }
            }
        }
        while self
            .handlers
            .get(self.first_open)
            .is_some_and(|h| h.outcome != Outcome::Open)
        {
            self.first_open += 1;
        }
        progress
    }

    fn event(&mut self, conn: &mut Connection, event: Event, _now: Now) {
        match event {
            Event::RequestReceived {
                stream, headers, ..
            } => {
                let size = headers
                    .iter()
                    .find(|h| h.name.as_ref() == b":path")
                    .and_then(|h| size_from_path(&h.value));
                let Some(size) = size else {
                    let _ = conn.send_response(stream, vec![Header::new(":status", "404")], true);
                    return;
                };
                let status = vec![Header::new(":status", "200")];
                if conn.send_response(stream, status, size == 0).is_ok() {
                    self.handlers.push(Handler {
                        stream,
                        remaining: size,
                        outcome: Outcome::Open,
                    });
                }
            }
            Event::StreamReset {
                stream,
                reason,
                remote,
            } => {
                if let Some(h) = self.handler(stream) {
                    if h.outcome == Outcome::Open {
                        h.outcome = Outcome::Reset { reason, remote };
                    }
                }
            }
            Event::ConnectionTerminated { reason, remote, .. } => {
                self.terminated = Some((reason, remote));
                // A stream the connection took down without a StreamReset of its own ends
                // with the connection's code, unless its response had gone out whole.
                for h in self.handlers[self.first_open..].iter_mut() {
                    if h.outcome != Outcome::Open {
                        continue;
                    }
                    let sent = h.remaining == 0
                        && conn.send_buffered(h.stream) == 0
                        && conn.stream_state(h.stream).is_none_or(|s| s.is_closed());
                    h.outcome = if sent {
                        Outcome::Complete
                    } else {
                        Outcome::Reset { reason, remote }
                    };
                }
            }
            _ => {}
        }
    }

    fn next_wake(&self) -> Option<Duration> {
        None
    }

    fn held(&self, conn: &Connection) -> usize {
        self.open().map(|h| conn.send_buffered(h.stream)).sum()
    }

    fn stalled(&self, conn: &Connection) -> Vec<u32> {
        self.open()
            .filter(|h| conn.stream_send_state(h.stream) == SendState::Ready)
            .map(|h| h.stream.value())
            .collect()
    }

    fn done(&self) -> bool {
        // Before the first request arrives the server has nothing to finish; the client's
        // script decides when a run is over.
        self.open().next().is_none()
    }
}
