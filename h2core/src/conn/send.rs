//! Writing frames: control frames and header blocks go to one ordered buffer at once; DATA is
//! cut from the streams' queues at `poll_transmit` time, as the windows and the scheduler allow.

use super::{Connection, Phase};
use crate::frame::{
    Continuation, Data, FrameType, GoAway, Head, Headers, Ping, PrioritySpec, PushPromise, Reason,
    RstStream, StreamId, WindowUpdate, HEADER_LEN,
};
use crate::hpack::Header;
use crate::settings::{self, SettingsValues};
use crate::stream::state::{Input, State, Transition};
use bytes::Bytes;
use std::time::Instant;

/// Stop adding DATA to one `poll_transmit` batch beyond this many bytes, so writes stay
/// reasonably sized and control frames queued meanwhile are not delayed long.
const BATCH_BYTES: usize = 256 * 1024;

/// Which frame opens a header block.
pub(crate) enum BlockKind {
    Headers {
        end_stream: bool,
        priority: Option<PrioritySpec>,
    },
    PushPromise {
        promised: StreamId,
    },
}

impl Connection {
    /// Appends bytes to write to `out`, as `Bytes` chunks (a DATA payload is a slice of the
    /// application's buffer: write them with a vectored write). Returns the number of bytes
    /// appended; 0 when there is nothing to write.
    pub fn poll_transmit(&mut self, now: Instant, out: &mut Vec<Bytes>) -> usize {
        self.now = now;
        // The adapter came back: the previous batch is written. Replies queued since go out
        // in this batch and count as unwritten until the next call (see `guards`).
        let replies = std::mem::take(&mut self.unwritten.replies_queued);
        let mut total = 0;
        loop {
            if !self.out.is_empty() {
                let chunk = self.out.split().freeze();
                total += chunk.len();
                out.push(chunk);
            }
            if total >= BATCH_BYTES || self.phase == Phase::Closed {
                break;
            }
            let Some((id, payload, trailers, end_stream)) = self.next_data_frame() else {
                break;
            };
            let head = self.out.split().freeze();
            let payload_len = payload.len();
            total += head.len() + payload_len;
            out.push(head);
            if !payload.is_empty() {
                out.push(payload);
            }
            if let Some(trailers) = trailers {
                // After the last DATA payload: trailers end the stream (§8.1).
                self.write_trailers(id, &trailers);
            }
            if end_stream {
                // Only now, with the frame whole in `out`: closing the stream may open a
                // waiting one, whose HEADERS must not land inside this DATA frame. The
                // scheduler is charged for the frame there too, with the stream's close.
                let sent = Some(payload_len);
                self.local_state_after(id, Input::SendData { end_stream: true }, sent);
            }
        }
        self.unwritten.last_batch = total;
        self.after_transmit(now, total, replies);
        self.stats.bytes_sent += total as u64;
        total
    }

    /// Cuts the next DATA frame, writing its 9-byte header to `self.out`; returns the stream,
    /// the payload, the trailers that must follow it and whether it carries END_STREAM (the
    /// caller applies that to the stream state once the payload is out). None when no stream
    /// may send.
    fn next_data_frame(&mut self) -> Option<(StreamId, Bytes, Option<Vec<Header>>, bool)> {
        loop {
            if self.send_window.available() == 0 {
                return None;
            }
            let id = StreamId::new(self.scheduler.next()?);
            let max_frame = self.remote.max_frame_size as usize;
            let conn_avail = self.send_window.available() as usize;
            let Some(stream) = self.streams.get_mut(id) else {
                self.scheduler.remove(id.value());
                continue;
            };
            let avail = (stream.send_window.available() as usize)
                .min(conn_avail)
                .min(max_frame);
            let Some(front) = stream.send_buf.front_mut() else {
                self.scheduler.set_ready(id.value(), false);
                continue;
            };
            if avail == 0 {
                self.scheduler.set_ready(id.value(), false);
                continue;
            }
            let n = avail.min(front.len());
            let payload = if n == front.len() {
                stream.send_buf.pop_front().unwrap_or_default()
            } else {
                front.split_to(n)
            };
            stream.send_buffered -= n;
            stream.send_window.consume(n as u32);
            let drained = stream.send_buffered == 0;
            let end_stream = drained && stream.send_end && stream.send_trailers.is_none();
            let trailers = if drained {
                stream.send_trailers.take()
            } else {
                None
            };
            if end_stream {
                stream.send_end = false;
            }
            let still_ready = stream.wants_send();
            self.send_window.consume(n as u32);
            self.streams.send_buffered_total -= n;
            if still_ready {
                // `next` picks only ready streams: it stays queued as it was.
                self.scheduler.sent(id.value(), n);
            } else if end_stream {
                // Charged by the caller with the END_STREAM's transition (`local_state_after`):
                // a stream that closes leaves the scheduler and is charged in one step.
            } else {
                // Unqueued before it is charged: the charge then moves no queue entry of a
                // stream that leaves the queue anyway (the next pick is the same either way).
                self.scheduler.sent_last(id.value(), n);
            }
            self.stats.data_sent += n as u64;
            self.ping.answered_since = true;
            self.stats.frames_sent += 1;
            Head {
                length: n as u32,
                kind: crate::frame::FrameType::DATA,
                flags: if end_stream { Head::END_STREAM } else { 0 },
                stream_id: id,
            }
            .encode(&mut self.out);
            tracing::trace!(stream = id.value(), len = n, end_stream, "send DATA");
            return Some((id, payload, trailers, end_stream));
        }
    }

    /// Writes trailers: HEADERS with END_STREAM (§8.1).
    pub(crate) fn write_trailers(&mut self, id: StreamId, trailers: &[Header]) {
        self.write_header_block(
            id,
            BlockKind::Headers {
                end_stream: true,
                priority: None,
            },
            trailers,
        );
        self.local_state(id, Input::SendHeaders { end_stream: true });
    }

    /// Applies one of our own sends to the stream state table. Our sends were checked before
    /// being queued, so an illegal cell here would be a bug: it is logged and ignored.
    pub(crate) fn local_state(&mut self, id: StreamId, input: Input) {
        self.local_state_after(id, input, None);
    }

    /// [`Connection::local_state`] for an input that went out on a DATA frame of `sent` bytes
    /// not yet charged to the scheduler (it left the stream with nothing more to send): the
    /// charge goes with the transition, in one scheduler call when the stream closes.
    fn local_state_after(&mut self, id: StreamId, input: Input, sent: Option<usize>) {
        let local = self.is_local_id(id);
        let remember = self.config.limits.max_closed_streams_remembered;
        // Looked up once: the cell of the table is applied where the stream was found.
        let applied = self.streams.apply(id, input, local, remember);
        let closed = matches!(applied, Some((_, Transition::Next(next))) if next.is_closed());
        match sent {
            Some(n) if closed => self.scheduler.sent_and_remove(id.value(), n),
            Some(n) => self.scheduler.sent_last(id.value(), n),
            None if closed => self.scheduler.remove(id.value()),
            None => {}
        }
        let Some((state, cell)) = applied else {
            return;
        };
        match cell {
            Transition::Next(next) => {
                if next.is_closed() {
                    self.on_stream_closed();
                } else if local && next.can_recv() && !state.can_recv() {
                    // Our request went out: its response may come (adaptive windows).
                    self.cover_requests();
                }
                // Our side just ended (its END_STREAM is in the output) on a stream whose rest
                // the application does not want: ask the peer to stop sending (§8.1).
                if next == State::HalfClosedLocal
                    && self.streams.get(id).is_some_and(|s| s.discard_recv)
                {
                    let _ = self.reset(id, Reason::NO_ERROR);
                }
            }
            other => tracing::debug!(?state, ?input, ?other, "unexpected local transition"),
        }
    }

    /// HPACK-encodes `headers` and writes HEADERS or PUSH_PROMISE plus CONTINUATION frames no
    /// larger than the peer's SETTINGS_MAX_FRAME_SIZE (§4.2, §6.10). Blocks are encoded in the
    /// order they go on the wire, so the peer's decoder sees our table changes in order.
    pub(crate) fn write_header_block(&mut self, id: StreamId, kind: BlockKind, headers: &[Header]) {
        if let BlockKind::Headers {
            end_stream,
            priority: None,
        } = kind
        {
            // The usual block fits one HEADERS frame: it is encoded straight into the output,
            // after room for the frame header, which is filled in once the length is known:
            // the same octets as encoding the block apart and framing it, without the copy.
            let start = self.out.len();
            self.out.extend_from_slice(&[0; HEADER_LEN]);
            self.encoder.encode(headers.iter(), &mut self.out);
            let len = self.out.len() - start - HEADER_LEN;
            if len <= self.remote.max_frame_size as usize {
                self.stats.header_bytes_sent += len as u64;
                self.ping.answered_since = true;
                let mut flags = Head::END_HEADERS;
                if end_stream {
                    flags |= Head::END_STREAM;
                }
                let head = Head {
                    length: len as u32,
                    kind: FrameType::HEADERS,
                    flags,
                    stream_id: id,
                };
                self.out[start..start + HEADER_LEN].copy_from_slice(&head.to_bytes());
                self.stats.frames_sent += 1;
                tracing::trace!(stream = id.value(), "send header block");
                return;
            }
            // Too large for one frame: the block goes back out, to be cut into CONTINUATIONs.
            let block = self.out.split_off(start + HEADER_LEN).freeze();
            self.out.truncate(start);
            return self.frame_header_block(id, kind, block);
        }
        self.hpack_buf.clear();
        self.encoder.encode(headers.iter(), &mut self.hpack_buf);
        let block = self.hpack_buf.split().freeze();
        self.frame_header_block(id, kind, block);
    }

    /// Frames an encoded header block: HEADERS or PUSH_PROMISE, then CONTINUATION frames for
    /// what does not fit (RFC 9113 §6.2, §6.6, §6.10).
    fn frame_header_block(&mut self, id: StreamId, kind: BlockKind, mut block: Bytes) {
        self.stats.header_bytes_sent += block.len() as u64;
        self.ping.answered_since = true;
        let max = self.remote.max_frame_size as usize;
        let first_room = match &kind {
            BlockKind::Headers {
                priority: Some(_), ..
            } => max - 5,
            BlockKind::Headers { .. } => max,
            BlockKind::PushPromise { .. } => max - 4,
        };
        let first = block.split_to(block.len().min(first_room));
        let end_headers = block.is_empty();
        match kind {
            BlockKind::Headers {
                end_stream,
                priority,
            } => Headers {
                stream_id: id,
                priority,
                header_block: first,
                end_stream,
                end_headers,
                pad_len: None,
            }
            .encode(&mut self.out),
            BlockKind::PushPromise { promised } => PushPromise {
                stream_id: id,
                promised_id: promised,
                header_block: first,
                end_headers,
                pad_len: None,
            }
            .encode(&mut self.out),
        }
        self.stats.frames_sent += 1;
        while !block.is_empty() {
            let chunk = block.split_to(block.len().min(max));
            Continuation {
                stream_id: id,
                header_block: chunk,
                end_headers: block.is_empty(),
            }
            .encode(&mut self.out);
            self.stats.frames_sent += 1;
        }
        tracing::trace!(stream = id.value(), "send header block");
    }

    /// Writes DATA with nothing but END_STREAM (the application ended a stream whose queue is
    /// empty).
    pub(crate) fn write_empty_end_stream(&mut self, id: StreamId) {
        Data {
            stream_id: id,
            data: Bytes::new(),
            end_stream: true,
            pad_len: None,
        }
        .encode(&mut self.out);
        self.stats.frames_sent += 1;
    }

    pub(crate) fn write_settings(&mut self, values: SettingsValues, now: Instant) {
        let base = self
            .pending_settings
            .latest()
            .copied()
            .unwrap_or(self.local);
        // The first SETTINGS is relative to the protocol defaults; later ones to the last sent.
        let base = if self.stats.frames_sent == 0 {
            SettingsValues::default()
        } else {
            base
        };
        let frame = settings::frame_for(&values, &base);
        tracing::trace!(?frame, "send SETTINGS");
        frame.encode(&mut self.out);
        self.pending_settings.sent(values, now);
        self.stats.frames_sent += 1;
    }

    pub(crate) fn write_settings_ack(&mut self) {
        tracing::trace!("send SETTINGS ACK");
        self.unwritten.replies_queued += 1;
        crate::frame::Settings::ack().encode(&mut self.out);
        self.stats.frames_sent += 1;
    }

    pub(crate) fn write_window_update(&mut self, id: StreamId, increment: u32) {
        tracing::trace!(stream = id.value(), increment, "send WINDOW_UPDATE");
        WindowUpdate {
            stream_id: id,
            increment,
        }
        .encode(&mut self.out);
        self.stats.frames_sent += 1;
    }

    pub(crate) fn write_rst(&mut self, id: StreamId, reason: Reason) {
        tracing::trace!(stream = id.value(), ?reason, "send RST_STREAM");
        RstStream {
            stream_id: id,
            reason,
        }
        .encode(&mut self.out);
        self.stats.frames_sent += 1;
        self.stats.resets_sent += 1;
    }

    pub(crate) fn write_ping(&mut self, ack: bool, payload: [u8; 8]) {
        tracing::trace!(ack, ?payload, "send PING");
        if ack {
            self.unwritten.replies_queued += 1;
        }
        Ping { ack, payload }.encode(&mut self.out);
        self.stats.frames_sent += 1;
    }

    pub(crate) fn write_goaway(&mut self, last: StreamId, reason: Reason, debug: Bytes) {
        tracing::trace!(last = last.value(), ?reason, "send GOAWAY");
        GoAway {
            last_stream_id: last,
            error_code: reason,
            debug_data: debug,
        }
        .encode(&mut self.out);
        self.stats.frames_sent += 1;
        self.stats.goaways_sent += 1;
    }
}
