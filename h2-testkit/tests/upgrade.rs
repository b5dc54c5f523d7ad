//! `Upgrade: h2c` (RFC 7540 §3.2): the HTTP/1.1 request becomes stream 1.

use bytes::{Bytes, BytesMut};
use h2core::frame::{Frame, FrameReader, Headers, Settings, StreamId};
use h2core::hpack::{Decoder, Encoder};
use h2core::{h2c_settings_payload, Config, Connection, Event, Header, SettingsValues};
use std::time::Instant;

fn drain(conn: &mut Connection, now: Instant) -> Vec<Frame> {
    let mut out = Vec::new();
    let mut wire = BytesMut::new();
    while conn.poll_transmit(now, &mut out) > 0 {}
    for c in out {
        wire.extend_from_slice(&c);
    }
    if wire.starts_with(h2core::preface::PREFACE) {
        let _ = wire.split_to(24);
    }
    let mut reader = FrameReader::new();
    let mut frames = Vec::new();
    while let Some(f) = reader.read(&mut wire).unwrap() {
        frames.push(f);
    }
    frames
}

#[test]
fn upgraded_server_answers_the_http1_request_on_stream_1() {
    let now = Instant::now();
    let client_settings = SettingsValues {
        initial_window_size: 1000,
        ..SettingsValues::default()
    };
    let payload = h2c_settings_payload(&client_settings);
    let request = h2_testkit::dsl::get("/");
    let mut server =
        Connection::new_upgraded_server(Config::server(), now, payload, request).unwrap();
    assert_eq!(
        server.remote_settings().initial_window_size,
        1000,
        "HTTP2-Settings applied"
    );
    let events: Vec<Event> = std::iter::from_fn(|| server.poll_event()).collect();
    assert!(
        matches!(&events[0], Event::RequestReceived { stream, end_stream: true, .. } if stream.value() == 1)
    );
    // The client preface still follows the 101 (RFC 7540 §3.2).
    let mut input = BytesMut::from(&h2core::preface::PREFACE[..]);
    Frame::Settings(Settings::default()).encode(&mut input);
    server.handle_input(now, &mut input).unwrap();
    server
        .send_response(StreamId::new(1), vec![Header::new(":status", "200")], false)
        .unwrap();
    server
        .send_data(StreamId::new(1), Bytes::from(vec![7u8; 5000]), true)
        .unwrap();
    let frames = drain(&mut server, now);
    let data: usize = frames
        .iter()
        .filter_map(|f| match f {
            Frame::Data(d) if d.stream_id.value() == 1 => Some(d.data.len()),
            _ => None,
        })
        .sum();
    // The client's HTTP2-Settings window of 1000 bounds what stream 1 may carry.
    assert_eq!(data, 1000);
    // No SETTINGS ACK for HTTP2-Settings: the 101 acknowledged it; only the preface's SETTINGS
    // is acknowledged.
    let acks = frames
        .iter()
        .filter(|f| matches!(f, Frame::Settings(s) if s.ack))
        .count();
    assert_eq!(acks, 1);
}

#[test]
fn upgraded_client_receives_the_response_on_stream_1() {
    let now = Instant::now();
    let mut client = Connection::new_upgraded_client(Config::client(), now, false);
    let mut enc = Encoder::new();
    let mut block = BytesMut::new();
    enc.encode([Header::new(":status", "200")].iter(), &mut block);
    let mut input = BytesMut::new();
    Frame::Settings(Settings::default()).encode(&mut input);
    let mut h = Headers::new(StreamId::new(1), block.freeze());
    h.end_stream = true;
    Frame::Headers(h).encode(&mut input);
    client.handle_input(now, &mut input).unwrap();
    let events: Vec<Event> = std::iter::from_fn(|| client.poll_event()).collect();
    assert!(events
        .iter()
        .any(|e| matches!(e, Event::ResponseReceived { stream, .. } if stream.value() == 1)));
    // The next request takes stream 3.
    let id = client
        .send_request(h2_testkit::dsl::get("/next"), true)
        .unwrap();
    assert_eq!(id.value(), 3);
    let frames = drain(&mut client, now);
    let mut dec = Decoder::new(4096);
    let block = frames
        .iter()
        .find_map(|f| match f {
            Frame::Headers(h) if h.stream_id.value() == 3 => Some(h.header_block.clone()),
            _ => None,
        })
        .expect("request on stream 3");
    let mut paths = Vec::new();
    dec.decode(&block, |h| {
        if h.name == ":path" {
            paths.push(h.value)
        }
    })
    .unwrap();
    assert_eq!(paths, vec![Bytes::from_static(b"/next")]);
}
