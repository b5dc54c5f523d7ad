//! The send scheduler seen from the wire: RFC 7540 §5.3.2 weights share bandwidth.

use bytes::{Bytes, BytesMut};
use h2core::frame::{
    Frame, FrameReader, Headers, PrioritySpec, Setting, SettingId, Settings, StreamId, WindowUpdate,
};
use h2core::hpack::Encoder;
use h2core::{Config, Connection, Event, Header};
use std::collections::HashMap;
use std::time::Instant;

fn request(enc: &mut Encoder, id: u32, prio: Option<(u32, u8)>) -> Frame {
    let hs = h2_testkit::dsl::get("/");
    let mut b = BytesMut::new();
    enc.encode(hs.iter(), &mut b);
    Frame::Headers(Headers {
        stream_id: StreamId::new(id),
        priority: prio.map(|(dep, w)| PrioritySpec {
            dependency: StreamId::new(dep),
            exclusive: false,
            weight: w,
        }),
        header_block: b.freeze(),
        end_stream: true,
        end_headers: true,
        pad_len: None,
    })
}

#[test]
fn siblings_weighted_4_and_12_share_bandwidth_1_to_3() {
    let now = Instant::now();
    let mut server = Connection::new(Config::server(), now);
    let mut enc = Encoder::new();
    let mut input = BytesMut::new();
    input.extend_from_slice(h2core::preface::PREFACE);
    // The peer opens every window as wide as the RFC allows, so only priority decides.
    Frame::Settings(Settings {
        ack: false,
        settings: [Setting {
            id: SettingId::INITIAL_WINDOW_SIZE,
            value: (1 << 31) - 1,
        }]
        .into_iter()
        .collect(),
    })
    .encode(&mut input);
    Frame::WindowUpdate(WindowUpdate {
        stream_id: StreamId::ZERO,
        increment: (1 << 31) - 1 - 65_535,
    })
    .encode(&mut input);
    // A (1) is the parent; B (3, weight 4) and C (5, weight 12) depend on it.
    request(&mut enc, 1, None).encode(&mut input);
    request(&mut enc, 3, Some((1, 3))).encode(&mut input);
    request(&mut enc, 5, Some((1, 11))).encode(&mut input);
    server.handle_input(now, &mut input).unwrap();
    while let Some(e) = server.poll_event() {
        if let Event::RequestReceived { stream, .. } = e {
            let status = vec![Header::new(":status", "200")];
            server.send_response(stream, status, false).unwrap();
            if stream.value() != 1 {
                // 4 MB each: both stay backlogged through the measured megabyte.
                server
                    .send_data(stream, Bytes::from(vec![0u8; 4 << 20]), true)
                    .unwrap();
            }
        }
    }
    let mut reader = FrameReader::new();
    let mut wire = BytesMut::new();
    let mut out = Vec::new();
    let mut bytes: HashMap<u32, usize> = HashMap::new();
    let mut total = 0;
    while total < 1 << 20 {
        out.clear();
        assert!(server.poll_transmit(now, &mut out) > 0, "server stalled");
        for c in &out {
            wire.extend_from_slice(c);
        }
        while let Some(f) = reader.read(&mut wire).unwrap() {
            if let Frame::Data(d) = f {
                *bytes.entry(d.stream_id.value()).or_default() += d.data.len();
                total += d.data.len();
            }
        }
    }
    let (b, c) = (bytes[&3] as f64, bytes[&5] as f64);
    let ratio = c / b;
    assert!(
        (ratio - 3.0).abs() / 3.0 <= 0.05,
        "B {b} C {c}: ratio {ratio}, want 3 ±5%"
    );
}
