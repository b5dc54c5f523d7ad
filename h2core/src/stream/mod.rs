//! Streams (RFC 9113 §5.1): their state, windows and queued data.

pub(crate) mod state;
mod store;

pub use store::IdHasher;
pub(crate) use store::{IdMap, Store};

use crate::flow::{RecvWindow, Window};
use crate::frame::StreamId;
use crate::hpack::Header;
use bytes::Bytes;
use state::State;
use std::collections::VecDeque;

/// Where a stream's received message is: which header block comes next (§8.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RecvPhase {
    /// The request or response header block has not arrived.
    Head,
    /// A 1xx arrived; the final response has not (§8.1: any number of 1xx, then the final).
    Informational,
    /// The final header block arrived; DATA and then trailers may follow.
    Body,
}

/// Where our side of a stream's message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SendPhase {
    /// Nothing sent yet.
    Head,
    /// One or more 1xx sent, the final response not yet.
    Informational,
    /// The final header block is sent (or queued); DATA and trailers may follow.
    Body,
}

/// One stream.
#[derive(Debug)]
pub(crate) struct Stream {
    pub id: StreamId,
    pub state: State,
    /// §6.9: what we may still send on this stream.
    pub send_window: Window,
    /// §6.9: what the peer may still send, and bytes to return to it.
    pub recv: RecvWindow,
    pub recv_phase: RecvPhase,
    pub send_phase: SendPhase,
    /// Our request waits for a MAX_CONCURRENT_STREAMS slot (§5.1.2); its header block is here.
    pub pending_open: Option<(Vec<Header>, bool)>,
    /// DATA queued by the application, not yet sent: slices of its buffers, never copies.
    pub send_buf: VecDeque<Bytes>,
    pub send_buffered: usize,
    /// END_STREAM goes out after `send_buf` drains.
    pub send_end: bool,
    /// Trailers go out (with END_STREAM) after `send_buf` drains.
    pub send_trailers: Option<Vec<Header>>,
    /// §8.1.1: the peer's content-length, checked against the DATA it sends.
    pub recv_content_length: Option<u64>,
    pub recv_data_len: u64,
    /// Client: our request was HEAD, so the response has no content (§8.1.1 content-length
    /// does not bind it).
    pub head_request: bool,
    /// The peer promised this stream (client) or we did (server).
    pub pushed: bool,
    /// The application reads no more of this stream (`Connection::stop_receiving`): DATA goes
    /// back to flow control as it arrives, and our END_STREAM is followed by RST_STREAM
    /// NO_ERROR (RFC 9113 §8.1).
    pub discard_recv: bool,
    /// When the application gives up on the stream (`Connection::set_deadline`); indexed in
    /// `Store::deadlines`.
    pub deadline: Option<std::time::Instant>,
}

impl Stream {
    pub(crate) fn new(id: StreamId, send_window: u32, recv_window: u32) -> Stream {
        Stream {
            id,
            state: State::Idle,
            send_window: Window::new(send_window),
            recv: RecvWindow::new(recv_window),
            recv_phase: RecvPhase::Head,
            send_phase: SendPhase::Head,
            pending_open: None,
            send_buf: VecDeque::new(),
            send_buffered: 0,
            send_end: false,
            send_trailers: None,
            recv_content_length: None,
            recv_data_len: 0,
            head_request: false,
            pushed: false,
            discard_recv: false,
            deadline: None,
        }
    }

    /// Makes a freed record (see `Store`) the record of a new stream, as [`Stream::new`]
    /// would, in place: nothing is moved or dropped, and its emptied send queue keeps its
    /// memory. Every field is named, so a field added to `Stream` must be given a value here.
    pub(crate) fn reuse(&mut self, id: StreamId, send_window: u32, recv_window: u32) {
        let Stream {
            id: record_id,
            state,
            send_window: record_send_window,
            recv,
            recv_phase,
            send_phase,
            pending_open,
            send_buf,
            send_buffered,
            send_end,
            send_trailers,
            recv_content_length,
            recv_data_len,
            head_request,
            pushed,
            discard_recv,
            deadline,
        } = self;
        *record_id = id;
        *state = State::Idle;
        *record_send_window = Window::new(send_window);
        *recv = RecvWindow::new(recv_window);
        *recv_phase = RecvPhase::Head;
        *send_phase = SendPhase::Head;
        *pending_open = None;
        send_buf.clear();
        *send_buffered = 0;
        *send_end = false;
        *send_trailers = None;
        *recv_content_length = None;
        *recv_data_len = 0;
        *head_request = false;
        *pushed = false;
        *discard_recv = false;
        *deadline = None;
    }

    /// Queued DATA can go out now, as far as this stream is concerned.
    pub(crate) fn wants_send(&self) -> bool {
        self.send_buffered > 0 && self.send_window.available() > 0 && self.pending_open.is_none()
    }
}
