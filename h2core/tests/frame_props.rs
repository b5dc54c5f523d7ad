//! Property tests of the frame codec (RFC 9113 §4, §6): no input makes the reader panic, and
//! every legal frame survives encode → read unchanged, however the bytes are chunked.

use bytes::{Bytes, BytesMut};
use h2core::frame::{
    Continuation, Data, Frame, FrameReader, GoAway, Headers, Ping, Priority, PrioritySpec,
    PriorityUpdate, PushPromise, RstStream, Setting, SettingId, Settings, Unknown, WindowUpdate,
    MAX_MAX_FRAME_SIZE,
};
use h2core::{ProtocolError, Reason, StreamId};
use proptest::prelude::*;

fn any_stream() -> impl Strategy<Value = StreamId> {
    any::<u32>().prop_map(StreamId::new)
}

fn nonzero_stream() -> impl Strategy<Value = StreamId> {
    (1..=StreamId::MAX.value()).prop_map(StreamId::new)
}

fn bytes(max: usize) -> impl Strategy<Value = Bytes> {
    prop::collection::vec(any::<u8>(), 0..max).prop_map(Bytes::from)
}

fn spec() -> impl Strategy<Value = PrioritySpec> {
    (any_stream(), any::<bool>(), any::<u8>()).prop_map(|(dependency, exclusive, weight)| {
        PrioritySpec {
            dependency,
            exclusive,
            weight,
        }
    })
}

/// A spec for `stream` that does not depend on it (§5.3.1).
fn spec_for(stream: StreamId) -> impl Strategy<Value = PrioritySpec> {
    spec().prop_filter("a stream cannot depend on itself", move |s| {
        s.dependency != stream
    })
}

/// A setting with a value legal for its identifier (§6.5.2).
fn setting() -> impl Strategy<Value = Setting> {
    (any::<u16>(), any::<u32>()).prop_map(|(id, value)| {
        let id = SettingId(id % 12);
        let value = match id {
            SettingId::ENABLE_PUSH
            | SettingId::ENABLE_CONNECT_PROTOCOL
            | SettingId::NO_RFC7540_PRIORITIES => value % 2,
            SettingId::INITIAL_WINDOW_SIZE => value >> 1,
            SettingId::MAX_FRAME_SIZE => (1 << 14) + value % ((1 << 24) - (1 << 14)),
            _ => value,
        };
        Setting::new(id, value)
    })
}

fn data() -> impl Strategy<Value = Frame> {
    (
        nonzero_stream(),
        bytes(300),
        any::<bool>(),
        any::<Option<u8>>(),
    )
        .prop_map(|(stream_id, data, end_stream, pad_len)| {
            Frame::Data(Data {
                stream_id,
                data,
                end_stream,
                pad_len,
            })
        })
}

fn headers() -> impl Strategy<Value = Frame> {
    nonzero_stream().prop_flat_map(|stream_id| {
        (
            prop::option::of(spec_for(stream_id)),
            bytes(300),
            any::<bool>(),
            any::<bool>(),
            any::<Option<u8>>(),
        )
            .prop_map(
                move |(priority, header_block, end_stream, end_headers, pad_len)| {
                    Frame::Headers(Headers {
                        stream_id,
                        priority,
                        header_block,
                        end_stream,
                        end_headers,
                        pad_len,
                    })
                },
            )
    })
}

fn priority() -> impl Strategy<Value = Frame> {
    nonzero_stream().prop_flat_map(|stream_id| {
        spec_for(stream_id).prop_map(move |spec| Frame::Priority(Priority { stream_id, spec }))
    })
}

fn push_promise() -> impl Strategy<Value = Frame> {
    (
        nonzero_stream(),
        any_stream(),
        bytes(300),
        any::<bool>(),
        any::<Option<u8>>(),
    )
        .prop_map(
            |(stream_id, promised_id, header_block, end_headers, pad_len)| {
                Frame::PushPromise(PushPromise {
                    stream_id,
                    promised_id,
                    header_block,
                    end_headers,
                    pad_len,
                })
            },
        )
}

fn settings() -> impl Strategy<Value = Frame> {
    prop_oneof![
        Just(Frame::Settings(Settings::ack())),
        prop::collection::vec(setting(), 0..20).prop_map(|s| Frame::Settings(Settings::new(s))),
    ]
}

fn unknown() -> impl Strategy<Value = Frame> {
    (0xa..=0xffu8, any::<u8>(), any_stream(), bytes(100))
        .prop_filter("PRIORITY_UPDATE is known", |(kind, ..)| *kind != 0x10)
        .prop_map(|(kind, flags, stream_id, payload)| {
            Frame::Unknown(Unknown {
                kind,
                flags,
                stream_id,
                payload,
            })
        })
}

/// Any frame that is legal on its own (§6), with arbitrary field values.
fn frame() -> impl Strategy<Value = Frame> {
    prop_oneof![
        data(),
        headers(),
        priority(),
        (nonzero_stream(), any::<u32>())
            .prop_map(|(id, code)| Frame::RstStream(RstStream::new(id, Reason(code)))),
        settings(),
        push_promise(),
        (any::<bool>(), any::<[u8; 8]>())
            .prop_map(|(ack, payload)| Frame::Ping(Ping { ack, payload })),
        (any_stream(), any::<u32>(), bytes(100)).prop_map(|(last, code, debug_data)| {
            Frame::GoAway(GoAway {
                last_stream_id: last,
                error_code: Reason(code),
                debug_data,
            })
        }),
        (any_stream(), 1..=StreamId::MAX.value())
            .prop_map(|(id, inc)| Frame::WindowUpdate(WindowUpdate::new(id, inc))),
        (nonzero_stream(), bytes(300), any::<bool>()).prop_map(
            |(stream_id, header_block, end_headers)| {
                Frame::Continuation(Continuation {
                    stream_id,
                    header_block,
                    end_headers,
                })
            }
        ),
        (nonzero_stream(), bytes(100)).prop_map(|(id, field_value)| {
            Frame::PriorityUpdate(PriorityUpdate {
                prioritized_stream_id: id,
                field_value,
            })
        }),
        unknown(),
    ]
}

/// Reads frames until the buffer runs dry or a connection error, as a connection would (a stream
/// error resets one stream and reading goes on). Every read consumes at least a header, so the
/// bound only guards against a reader bug.
fn read_all(
    reader: &mut FrameReader,
    buf: &mut BytesMut,
) -> (Vec<Result<Frame, ProtocolError>>, bool) {
    let mut out = Vec::new();
    for _ in 0..10_000 {
        let before = buf.len();
        match reader.read(buf) {
            Ok(None) => return (out, false),
            Ok(Some(frame)) => out.push(Ok(frame)),
            Err(e) if e.error.is_connection_error() => {
                out.push(Err(e.error));
                return (out, true);
            }
            Err(e) => out.push(Err(e.error)),
        }
        assert!(buf.len() < before, "a frame read must consume bytes");
    }
    panic!("reader did not terminate");
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic_the_reader(
        input in prop::collection::vec(any::<u8>(), 0..2048),
        max in prop_oneof![Just(0u32), 0..64u32, Just(u32::MAX)],
    ) {
        let mut reader = FrameReader::new();
        reader.set_max_frame_size(max);
        let mut buf = BytesMut::from(&input[..]);
        let (frames, _) = read_all(&mut reader, &mut buf);
        // Whatever parsed re-encodes to something that parses to the same frame.
        for frame in frames.into_iter().flatten() {
            let mut again = BytesMut::new();
            frame.encode(&mut again);
            let mut reader = FrameReader::new();
            reader.set_max_frame_size(MAX_MAX_FRAME_SIZE);
            prop_assert_eq!(reader.read(&mut again).map_err(|e| e.error), Ok(Some(frame)));
        }
    }

    #[test]
    fn arbitrary_frame_bodies_never_panic_the_parser(
        kind in prop_oneof![0..=0x10u8, any::<u8>()],
        flags in any::<u8>(),
        stream in any::<u32>(),
        payload in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let mut buf = BytesMut::new();
        h2core::frame::Head {
            length: payload.len() as u32,
            kind: h2core::frame::FrameType(kind),
            flags,
            stream_id: StreamId::new(stream),
        }
        .encode(&mut buf);
        buf.extend_from_slice(&payload);
        let result = FrameReader::new().read(&mut buf);
        // A whole frame was there, so it was consumed, whatever the verdict.
        prop_assert!(!matches!(result, Ok(None)));
        prop_assert!(buf.is_empty());
    }

    #[test]
    fn every_legal_frame_round_trips(frame in frame()) {
        let mut buf = BytesMut::new();
        frame.encode(&mut buf);
        let mut reader = FrameReader::new();
        reader.set_max_frame_size(MAX_MAX_FRAME_SIZE);
        prop_assert_eq!(reader.read(&mut buf), Ok(Some(frame)));
        prop_assert!(buf.is_empty());
    }

    #[test]
    fn chunking_does_not_change_the_frames_read(
        frames in prop::collection::vec(frame(), 0..8),
        chunk_sizes in prop::collection::vec(1..64usize, 1..16),
    ) {
        let mut input = BytesMut::new();
        for frame in &frames {
            frame.encode(&mut input);
        }
        let mut reader = FrameReader::new();
        reader.set_max_frame_size(MAX_MAX_FRAME_SIZE);
        let mut buf = BytesMut::new();
        let mut read = Vec::new();
        let mut rest = &input[..];
        let mut sizes = chunk_sizes.iter().cycle();
        while !rest.is_empty() {
            let n = (*sizes.next().unwrap()).min(rest.len());
            buf.extend_from_slice(&rest[..n]);
            rest = &rest[n..];
            while let Some(frame) = reader.read(&mut buf).map_err(|e| e.error).unwrap() {
                read.push(frame);
            }
        }
        prop_assert_eq!(read, frames);
        prop_assert!(buf.is_empty());
    }
}
