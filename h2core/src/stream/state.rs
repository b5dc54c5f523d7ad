//! The stream state machine of RFC 9113 §5.1, as a table.
//!
//! [`transition`] maps (state, input) to the next state or to the error §5.1 prescribes. Every
//! cell, including the illegal ones, is walked by a test. Frames that never change state and are
//! legal everywhere a stream exists (PRIORITY, and PRIORITY_UPDATE) do not go through the table.

use crate::frame::Reason;

/// The stream states of RFC 9113 §5.1 (figure 2). `Closed` remembers how the stream closed, because §5.1 treats
/// late frames differently after a reset we sent, a reset we received, or END_STREAM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Not yet used.
    Idle,
    /// We promised this stream with PUSH_PROMISE.
    ReservedLocal,
    /// The peer promised this stream with PUSH_PROMISE.
    ReservedRemote,
    /// Both sides may send.
    Open,
    /// We sent END_STREAM.
    HalfClosedLocal,
    /// The peer sent END_STREAM.
    HalfClosedRemote,
    /// Done; see [`Closed`].
    Closed(Closed),
}

/// How a stream reached `closed` (RFC 9113 §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Closed {
    /// Both END_STREAMs were seen, the peer's last: any frame but PRIORITY after the peer's
    /// END_STREAM is a connection error STREAM_CLOSED (§5.1 half-closed (remote)/closed).
    EndStreamReceived,
    /// Both END_STREAMs were seen, ours last: the peer may still send WINDOW_UPDATE or RST_STREAM
    /// for a short period (§5.1 closed).
    EndStreamSent,
    /// We sent RST_STREAM: frames already in flight MUST be ignored (§5.1 closed).
    ResetSent,
    /// The peer sent RST_STREAM: anything but PRIORITY is a stream error STREAM_CLOSED (§6.4).
    ResetReceived,
}

/// What happens on a stream, from our point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Input {
    /// The peer sent HEADERS (a request, response, 1xx or trailers).
    RecvHeaders {
        /// END_STREAM was set.
        end_stream: bool,
    },
    /// The peer sent DATA.
    RecvData {
        /// END_STREAM was set.
        end_stream: bool,
    },
    /// The peer sent RST_STREAM.
    RecvReset,
    /// The peer sent WINDOW_UPDATE for this stream.
    RecvWindowUpdate,
    /// The peer promised this stream (PUSH_PROMISE naming it as the promised stream).
    RecvPushPromise,
    /// We send HEADERS.
    SendHeaders {
        /// END_STREAM is set.
        end_stream: bool,
    },
    /// We send DATA.
    SendData {
        /// END_STREAM is set.
        end_stream: bool,
    },
    /// We send RST_STREAM.
    SendReset,
    /// We promise this stream with PUSH_PROMISE.
    SendPushPromise,
}

/// The outcome of one cell of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transition {
    /// Legal: the stream moves to this state (possibly the same).
    Next(State),
    /// Legal but to be dropped silently (late frames after we reset the stream).
    Ignore,
    /// §5.4.2: reset the stream with this code.
    StreamError(Reason),
    /// §5.4.1: fail the connection with this code.
    ConnectionError(Reason),
    /// The application tried something the state forbids (our own send side).
    UserError,
}

use self::Closed::{EndStreamReceived, EndStreamSent, ResetReceived, ResetSent};
use Input::*;
use State::*;
use Transition::*;

/// One cell of the §5.1 table.
pub(crate) fn transition(state: State, input: Input) -> Transition {
    match (state, input) {
        // idle (§5.1): HEADERS opens; a PUSH_PROMISE reserves; anything else from the peer is a
        // connection error PROTOCOL_ERROR.
        (Idle, RecvHeaders { end_stream }) => {
            Next(if end_stream { HalfClosedRemote } else { Open })
        }
        (Idle, SendHeaders { end_stream }) => Next(if end_stream { HalfClosedLocal } else { Open }),
        (Idle, RecvPushPromise) => Next(ReservedRemote),
        (Idle, SendPushPromise) => Next(ReservedLocal),
        (Idle, RecvData { .. } | RecvReset | RecvWindowUpdate) => {
            ConnectionError(Reason::PROTOCOL_ERROR)
        }
        (Idle, SendData { .. } | SendReset) => UserError,

        // reserved (local): we may send HEADERS (→ half-closed remote) or RST_STREAM; the peer
        // may send RST_STREAM, WINDOW_UPDATE and PRIORITY, anything else is PROTOCOL_ERROR.
        (ReservedLocal, SendHeaders { end_stream }) => Next(if end_stream {
            Closed(EndStreamSent)
        } else {
            HalfClosedRemote
        }),
        (ReservedLocal, SendReset) => Next(Closed(ResetSent)),
        (ReservedLocal, RecvReset) => Next(Closed(ResetReceived)),
        (ReservedLocal, RecvWindowUpdate) => Next(ReservedLocal),
        (ReservedLocal, RecvHeaders { .. } | RecvData { .. } | RecvPushPromise) => {
            ConnectionError(Reason::PROTOCOL_ERROR)
        }
        (ReservedLocal, SendData { .. } | SendPushPromise) => UserError,

        // reserved (remote): the peer may send HEADERS (→ half-closed local) or RST_STREAM;
        // anything else from it is PROTOCOL_ERROR. We may only reset (and send WINDOW_UPDATE).
        (ReservedRemote, RecvHeaders { end_stream }) => Next(if end_stream {
            Closed(EndStreamReceived)
        } else {
            HalfClosedLocal
        }),
        (ReservedRemote, RecvReset) => Next(Closed(ResetReceived)),
        (ReservedRemote, SendReset) => Next(Closed(ResetSent)),
        (ReservedRemote, RecvData { .. } | RecvWindowUpdate | RecvPushPromise) => {
            ConnectionError(Reason::PROTOCOL_ERROR)
        }
        (ReservedRemote, SendHeaders { .. } | SendData { .. } | SendPushPromise) => UserError,

        // open: anything goes; END_STREAM half-closes, RST_STREAM closes.
        (Open, RecvHeaders { end_stream } | RecvData { end_stream }) => {
            Next(if end_stream { HalfClosedRemote } else { Open })
        }
        (Open, SendHeaders { end_stream } | SendData { end_stream }) => {
            Next(if end_stream { HalfClosedLocal } else { Open })
        }
        (Open, RecvWindowUpdate) => Next(Open),
        (Open | HalfClosedLocal | HalfClosedRemote, RecvReset) => Next(Closed(ResetReceived)),
        (Open | HalfClosedLocal | HalfClosedRemote, SendReset) => Next(Closed(ResetSent)),

        // half-closed (local): we are done sending; the peer goes on.
        (HalfClosedLocal, RecvHeaders { end_stream } | RecvData { end_stream }) => {
            Next(if end_stream {
                Closed(EndStreamReceived)
            } else {
                HalfClosedLocal
            })
        }
        (HalfClosedLocal, RecvWindowUpdate) => Next(HalfClosedLocal),
        (HalfClosedLocal, SendHeaders { .. } | SendData { .. }) => UserError,

        // half-closed (remote): the peer is done; more DATA or HEADERS from it is a stream
        // error STREAM_CLOSED (§5.1). WINDOW_UPDATE still flows to us.
        (HalfClosedRemote, RecvHeaders { .. } | RecvData { .. }) => {
            StreamError(Reason::STREAM_CLOSED)
        }
        (HalfClosedRemote, RecvWindowUpdate) => Next(HalfClosedRemote),
        (HalfClosedRemote, SendHeaders { end_stream } | SendData { end_stream }) => {
            Next(if end_stream {
                Closed(EndStreamSent)
            } else {
                HalfClosedRemote
            })
        }

        // A PUSH_PROMISE can only name an idle stream (§6.6, §8.4): a promise of a stream in any
        // other state is a connection error PROTOCOL_ERROR.
        (Open | HalfClosedLocal | HalfClosedRemote | Closed(_), RecvPushPromise) => {
            ConnectionError(Reason::PROTOCOL_ERROR)
        }
        (Open | HalfClosedLocal | HalfClosedRemote | Closed(_), SendPushPromise) => UserError,

        // closed after our RST_STREAM: frames in flight MUST be ignored (§5.1).
        (
            Closed(ResetSent),
            RecvHeaders { .. } | RecvData { .. } | RecvWindowUpdate | RecvReset,
        ) => Ignore,
        // closed after the peer's RST_STREAM: §5.1 "any frame other than PRIORITY after
        // receiving a RST_STREAM" is a stream error STREAM_CLOSED.
        (Closed(ResetReceived), RecvHeaders { .. } | RecvData { .. } | RecvWindowUpdate) => {
            StreamError(Reason::STREAM_CLOSED)
        }
        (Closed(ResetReceived), RecvReset) => Ignore,
        // closed after END_STREAM both ways: the peer already sent END_STREAM, so HEADERS or
        // DATA from it cannot be in flight innocently; a connection error STREAM_CLOSED (§5.1
        // closed allows it; RFC 7540 §5.1 required it, and conformance testers check it). When
        // our END_STREAM came last the peer may still send WINDOW_UPDATE or RST_STREAM for a
        // while (§5.1 closed).
        (Closed(EndStreamReceived | EndStreamSent), RecvHeaders { .. } | RecvData { .. }) => {
            ConnectionError(Reason::STREAM_CLOSED)
        }
        (Closed(EndStreamReceived | EndStreamSent), RecvWindowUpdate | RecvReset) => Ignore,
        (Closed(_), SendHeaders { .. } | SendData { .. } | SendReset) => UserError,
    }
}

impl State {
    /// True in the states that count against SETTINGS_MAX_CONCURRENT_STREAMS (§5.1.2: open and
    /// both half-closed states).
    pub fn is_active(self) -> bool {
        matches!(self, Open | HalfClosedLocal | HalfClosedRemote)
    }

    /// True once the stream is closed.
    pub fn is_closed(self) -> bool {
        matches!(self, Closed(_))
    }

    /// True while we may still send DATA or HEADERS.
    pub fn can_send(self) -> bool {
        matches!(self, Open | HalfClosedRemote | ReservedLocal)
    }

    /// True while the peer may still send DATA or HEADERS.
    pub fn can_recv(self) -> bool {
        matches!(self, Open | HalfClosedLocal | ReservedRemote)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATES: [State; 10] = [
        Idle,
        ReservedLocal,
        ReservedRemote,
        Open,
        HalfClosedLocal,
        HalfClosedRemote,
        Closed(EndStreamReceived),
        Closed(EndStreamSent),
        Closed(ResetSent),
        Closed(ResetReceived),
    ];

    fn inputs() -> Vec<Input> {
        let mut v = vec![
            RecvReset,
            RecvWindowUpdate,
            RecvPushPromise,
            SendReset,
            SendPushPromise,
        ];
        for end_stream in [false, true] {
            v.push(RecvHeaders { end_stream });
            v.push(RecvData { end_stream });
            v.push(SendHeaders { end_stream });
            v.push(SendData { end_stream });
        }
        v
    }

    /// The whole table as the RFC reads, cell by cell; the test checks `transition` agrees on
    /// every one of the 10 × 13 cells.
    fn expected(state: State, input: Input) -> Transition {
        let es = |i: Input| match i {
            RecvHeaders { end_stream }
            | RecvData { end_stream }
            | SendHeaders { end_stream }
            | SendData { end_stream } => end_stream,
            _ => false,
        };
        let recv_hd = matches!(input, RecvHeaders { .. } | RecvData { .. });
        let send_hd = matches!(input, SendHeaders { .. } | SendData { .. });
        match state {
            Idle => match input {
                RecvHeaders { .. } => Next(if es(input) { HalfClosedRemote } else { Open }),
                SendHeaders { .. } => Next(if es(input) { HalfClosedLocal } else { Open }),
                RecvPushPromise => Next(ReservedRemote),
                SendPushPromise => Next(ReservedLocal),
                RecvData { .. } | RecvReset | RecvWindowUpdate => {
                    ConnectionError(Reason::PROTOCOL_ERROR)
                }
                _ => UserError,
            },
            ReservedLocal => match input {
                SendHeaders { .. } if es(input) => Next(Closed(EndStreamSent)),
                SendHeaders { .. } => Next(HalfClosedRemote),
                SendReset => Next(Closed(ResetSent)),
                RecvReset => Next(Closed(ResetReceived)),
                RecvWindowUpdate => Next(ReservedLocal),
                _ if recv_hd || input == RecvPushPromise => ConnectionError(Reason::PROTOCOL_ERROR),
                _ => UserError,
            },
            ReservedRemote => match input {
                RecvHeaders { .. } if es(input) => Next(Closed(EndStreamReceived)),
                RecvHeaders { .. } => Next(HalfClosedLocal),
                RecvReset => Next(Closed(ResetReceived)),
                SendReset => Next(Closed(ResetSent)),
                RecvData { .. } | RecvWindowUpdate | RecvPushPromise => {
                    ConnectionError(Reason::PROTOCOL_ERROR)
                }
                _ => UserError,
            },
            Open => match input {
                _ if recv_hd => Next(if es(input) { HalfClosedRemote } else { Open }),
                _ if send_hd => Next(if es(input) { HalfClosedLocal } else { Open }),
                RecvWindowUpdate => Next(Open),
                RecvReset => Next(Closed(ResetReceived)),
                SendReset => Next(Closed(ResetSent)),
                RecvPushPromise => ConnectionError(Reason::PROTOCOL_ERROR),
                _ => UserError,
            },
            HalfClosedLocal => match input {
                _ if recv_hd => Next(if es(input) {
                    Closed(EndStreamReceived)
                } else {
                    HalfClosedLocal
                }),
                RecvWindowUpdate => Next(HalfClosedLocal),
                RecvReset => Next(Closed(ResetReceived)),
                SendReset => Next(Closed(ResetSent)),
                RecvPushPromise => ConnectionError(Reason::PROTOCOL_ERROR),
                _ => UserError,
            },
            HalfClosedRemote => match input {
                _ if recv_hd => StreamError(Reason::STREAM_CLOSED),
                _ if send_hd => Next(if es(input) {
                    Closed(EndStreamSent)
                } else {
                    HalfClosedRemote
                }),
                RecvWindowUpdate => Next(HalfClosedRemote),
                RecvReset => Next(Closed(ResetReceived)),
                SendReset => Next(Closed(ResetSent)),
                RecvPushPromise => ConnectionError(Reason::PROTOCOL_ERROR),
                _ => UserError,
            },
            Closed(how) => match input {
                RecvPushPromise => ConnectionError(Reason::PROTOCOL_ERROR),
                SendHeaders { .. } | SendData { .. } | SendReset | SendPushPromise => UserError,
                _ => match (how, input) {
                    (ResetSent, _) => Ignore,
                    (ResetReceived, RecvReset) => Ignore,
                    (ResetReceived, _) => StreamError(Reason::STREAM_CLOSED),
                    (EndStreamReceived | EndStreamSent, RecvHeaders { .. } | RecvData { .. }) => {
                        ConnectionError(Reason::STREAM_CLOSED)
                    }
                    _ => Ignore,
                },
            },
        }
    }

    #[test]
    fn every_cell_of_the_stream_state_table() {
        let mut cells = 0;
        for state in STATES {
            for input in inputs() {
                assert_eq!(
                    transition(state, input),
                    expected(state, input),
                    "{state:?} × {input:?}"
                );
                cells += 1;
            }
        }
        assert_eq!(cells, 130);
    }

    #[test]
    fn data_on_idle_stream_is_connection_protocol_error() {
        assert_eq!(
            transition(Idle, RecvData { end_stream: false }),
            ConnectionError(Reason::PROTOCOL_ERROR)
        );
    }

    #[test]
    fn data_after_end_stream_is_stream_closed() {
        assert_eq!(
            transition(HalfClosedRemote, RecvData { end_stream: false }),
            StreamError(Reason::STREAM_CLOSED)
        );
    }

    #[test]
    fn frames_after_our_reset_are_ignored() {
        assert_eq!(
            transition(Closed(ResetSent), RecvData { end_stream: true }),
            Ignore
        );
    }
}
