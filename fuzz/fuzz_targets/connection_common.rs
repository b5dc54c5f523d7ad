//! Shared by the two connection targets: feed the input in chunks chosen by the input,
//! with ticks of time, and check the memory bounds after each call.

use bytes::{Bytes, BytesMut};
use h2core::{Config, Connection, Header, Role};
use std::time::{Duration, Instant};

fn h(n: &'static str, v: &'static str) -> Header {
    Header::new(
        Bytes::from_static(n.as_bytes()),
        Bytes::from_static(v.as_bytes()),
    )
}

pub fn run(role: Role, data: &[u8]) {
    let Some((&mode, data)) = data.split_first() else {
        return;
    };
    let mut now = Instant::now();
    let config = Config::new(role);
    let limits = config.limits.clone();
    let mut c = Connection::new(config, now);
    let mut input = BytesMut::new();
    if mode & 1 == 1 {
        // Start past the preface so most inputs reach the frame handlers.
        if role == Role::Server {
            input.extend_from_slice(h2core::preface::PREFACE);
        }
        input.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 0, 0]);
    }
    if role == Role::Client {
        for path in ["/", "/a"] {
            let req = vec![
                h(":method", "GET"),
                h(":scheme", "https"),
                h(":authority", "a"),
                h(":path", path),
            ];
            let _ = c.send_request(req, path == "/");
        }
    }
    let chunk = 1 + (mode as usize >> 1) % 64;
    for piece in data.chunks(chunk) {
        input.extend_from_slice(piece);
        let _ = c.handle_input(now, &mut input);
        // The application answers what it can, so the send side runs too.
        while let Some(e) = c.poll_event() {
            if let h2core::Event::RequestReceived { stream, .. } = e {
                let _ = c.send_response(stream, vec![h(":status", "200")], false);
                let _ = c.send_data(stream, Bytes::from_static(b"hello"), true);
            }
            if let h2core::Event::DataReceived {
                stream,
                flow_controlled_len,
                ..
            } = e
            {
                c.release_capacity(stream, flow_controlled_len as usize);
            }
        }
        if mode & 0x80 == 0 {
            let mut out = Vec::new();
            while c.poll_transmit(now, &mut out) > 0 {
                out.clear();
            }
        }
        let (local, remote) = c.active_streams();
        assert!(remote <= 100 && local <= 2);
        assert!(
            c.tracked_streams()
                <= 2 + 100 + limits.max_reserved_streams + limits.max_closed_streams_remembered
        );
        assert!(c.queued_output() <= 2 * data.len() + 4096);
        if piece.first() == Some(&0) {
            now += Duration::from_millis(700);
            c.handle_timeout(now);
        }
    }
    c.handle_eof(now);
    while c.poll_event().is_some() {}
}
