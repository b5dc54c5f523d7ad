//! GOAWAY and graceful shutdown (RFC 9113 §6.8).
//!
//! Shutdown is two-step, as §6.8 suggests: first GOAWAY with last-stream-id 2^31-1 (no new
//! streams please, but those in flight are still welcome), then after one PING round trip (or a
//! grace deadline) the final GOAWAY with the real last stream id. Streams the peer opened above
//! it are ignored. When every stream is done we keep reading, answering PINGs, until the peer
//! closes the transport or a short drain deadline passes: we never just drop the connection.

use super::{Connection, Phase};
use crate::config::Role;
use crate::error::UserError;
use crate::frame::{Reason, StreamId};
use bytes::Bytes;
use std::time::Instant;

/// Where a graceful shutdown (RFC 9113 §6.8) is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShutdownState {
    /// No shutdown started.
    Running,
    /// First GOAWAY sent; waiting for a PING round trip or the grace deadline.
    Announced,
    /// Final GOAWAY sent; streams in flight finish.
    Final,
}

#[derive(Debug, Default)]
pub(crate) struct GoAway {
    /// The last-stream-id of the GOAWAY we sent, if any.
    pub sent: Option<StreamId>,
    /// The last-stream-id of the GOAWAY the peer sent, if any.
    pub received: Option<StreamId>,
    /// A first GOAWAY(2^31-1) went out; the final one is due at this time (or at the PING ACK).
    pub final_due: Option<Instant>,
    /// Set when the final GOAWAY is out.
    pub final_sent: bool,
}

/// The PING payload that marks the shutdown round trip.
pub(crate) const SHUTDOWN_PING: [u8; 8] = *b"h2shutdn";

impl GoAway {
    pub(crate) fn deadline(&self) -> Option<Instant> {
        if self.final_sent {
            None
        } else {
            self.final_due
        }
    }
}

impl Connection {
    /// Starts a graceful shutdown (§6.8). Server: GOAWAY(2^31-1) and a PING, then the final
    /// GOAWAY with the last stream processed. Client: GOAWAY with the last pushed stream. In both
    /// roles no new streams start, streams in flight finish, then the connection drains.
    pub fn shutdown(&mut self, now: Instant) -> Result<(), UserError> {
        if matches!(self.phase, Phase::Closed | Phase::Draining(_)) {
            return Err(UserError::ConnectionClosed);
        }
        if self.goaway.sent.is_some() {
            return Ok(());
        }
        match self.role {
            Role::Server => {
                self.write_goaway(StreamId::MAX, Reason::NO_ERROR, Bytes::new());
                self.goaway.sent = Some(StreamId::MAX);
                if self.ping.outstanding.is_none() {
                    self.ping.outstanding = Some((SHUTDOWN_PING, now));
                    self.write_ping(false, SHUTDOWN_PING);
                }
                self.goaway.final_due = Some(now + self.config.shutdown_grace);
            }
            Role::Client => self.send_final_goaway(),
        }
        // Requests that never got a slot will not go out now. (A server's promised responses
        // waiting for a slot still go out: the client knows those streams.)
        if self.role == Role::Client {
            for id in std::mem::take(&mut self.pending_open) {
                self.close_stream_with_event(id, Reason::REFUSED_STREAM, false);
            }
        }
        self.maybe_finish_shutdown_at(now);
        Ok(())
    }

    /// Ends the connection at once with GOAWAY(`reason`) and `debug` data (§6.8, §5.4.1).
    pub fn go_away(
        &mut self,
        reason: Reason,
        debug: Bytes,
        _now: Instant,
    ) -> Result<(), UserError> {
        if self.phase == Phase::Closed {
            return Err(UserError::ConnectionClosed);
        }
        let last = self.goaway_last_id();
        self.write_goaway(last, reason, debug);
        self.goaway.sent = Some(last);
        self.goaway.final_sent = true;
        let ids: Vec<StreamId> = self.streams.ids().collect();
        for id in ids {
            let active = self.streams.get(id).is_some_and(|s| {
                !s.state.is_closed() && s.state != crate::stream::state::State::Idle
            });
            if active {
                self.close_stream_with_event(id, reason, false);
            }
        }
        self.terminate(reason, false, "closed by the application".into());
        Ok(())
    }

    /// Where a graceful shutdown (RFC 9113 §6.8) is.
    pub fn shutdown_state(&self) -> ShutdownState {
        match (self.goaway.sent, self.goaway.final_sent) {
            (None, _) => ShutdownState::Running,
            (Some(_), false) => ShutdownState::Announced,
            (Some(_), true) => ShutdownState::Final,
        }
    }

    /// The last-stream-id for a GOAWAY sent now: the last stream the peer opened, but never
    /// above a GOAWAY already sent (§6.8: it MUST NOT increase; streams opened above it were
    /// ignored).
    pub(crate) fn goaway_last_id(&self) -> StreamId {
        self.goaway
            .sent
            .map_or(self.last_peer_id, |sent| sent.min(self.last_peer_id))
    }

    pub(crate) fn send_final_goaway(&mut self) {
        if self.goaway.final_sent {
            return;
        }
        let last = self.goaway_last_id();
        self.write_goaway(last, Reason::NO_ERROR, Bytes::new());
        self.goaway.sent = Some(last);
        self.goaway.final_sent = true;
    }

    pub(crate) fn goaway_timeout(&mut self, now: Instant) {
        if let Some(due) = self.goaway.final_due {
            if !self.goaway.final_sent && now >= due {
                self.send_final_goaway();
                self.maybe_finish_shutdown_at(now);
            }
        }
    }

    /// The shutdown PING came back: one round trip has passed, the final GOAWAY can go.
    pub(crate) fn shutdown_ping_acked(&mut self, now: Instant) {
        if self.goaway.sent.is_some() && !self.goaway.final_sent {
            self.send_final_goaway();
            self.maybe_finish_shutdown_at(now);
        }
    }

    pub(crate) fn maybe_finish_shutdown(&mut self) {
        self.maybe_finish_shutdown_at(self.now);
    }

    /// When both sides are done with every stream after GOAWAY, start draining: keep reading
    /// until the peer closes or the drain deadline.
    pub(crate) fn maybe_finish_shutdown_at(&mut self, now: Instant) {
        if self.phase != Phase::Open {
            return;
        }
        let goaway = self.goaway.sent.is_some() || self.goaway.received.is_some();
        if !goaway
            || self.streams.active_local + self.streams.active_remote > 0
            || !self.pending_open.is_empty()
        {
            return;
        }
        if self.goaway.received.is_some() && self.goaway.sent.is_none() {
            // The peer asked to close: say we agree, so it knows no stream of ours is lost.
            self.send_final_goaway();
        }
        if !self.goaway.final_sent {
            return;
        }
        if self.goaway.received.is_some() {
            // Both sides have said GOAWAY and nothing is in flight: there is nothing left to
            // wait for, so close as soon as our GOAWAY is written (the peer may be waiting
            // for us to close).
            self.terminate(Reason::NO_ERROR, false, "closed after GOAWAY".into());
            return;
        }
        // We asked to close: keep reading (and answering PINGs) until the peer closes the
        // transport or the drain deadline passes.
        self.phase = Phase::Draining(now + self.config.drain_timeout);
    }
}
