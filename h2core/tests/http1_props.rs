//! Property tests of the HTTP/1.1 codec: no input makes the head parser or the chunked decoder
//! panic, and a chunked body survives encode → decode however the bytes are split.

use bytes::{Bytes, BytesMut};
use h2core::http1::{
    parse_request, parse_response, BodyDecoder, BodyEncoder, BodyEvent, BodyKind, Limits,
    ServerConn,
};
use h2core::Header;
use proptest::prelude::*;

/// Bytes biased towards HTTP/1.1 syntax so the parsers get past their first checks.
fn http_like() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b"GET / HTTP/1.1\r\n".to_vec()),
        Just(b"Host: a\r\n".to_vec()),
        Just(b"Transfer-Encoding: chunked\r\n".to_vec()),
        Just(b"Content-Length: 5\r\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"5\r\n".to_vec()),
        Just(b";ext=1".to_vec()),
        Just(b"0\r\n".to_vec()),
        Just(b"ffffffffffffffffff".to_vec()),
        prop::collection::vec(any::<u8>(), 0..8),
    ];
    prop::collection::vec(piece, 0..16).prop_map(|pieces| pieces.concat())
}

fn any_input() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![prop::collection::vec(any::<u8>(), 0..512), http_like()]
}

fn small_limits() -> Limits {
    Limits {
        max_head_size: 256,
        max_headers: 8,
    }
}

proptest! {
    #[test]
    fn parse_request_never_panics(input in any_input(), split in 0usize..512) {
        let mut buf = BytesMut::from(&input[..input.len().min(split)]);
        let _ = parse_request(&mut buf, &small_limits());
        buf.extend_from_slice(&input[input.len().min(split)..]);
        if let Ok(Some(head)) = parse_request(&mut buf, &small_limits()) {
            let _ = head.body_kind();
            let _ = head.to_h2_headers("http");
            let _ = head.h2c_upgrade();
            let _ = head.keep_alive();
        }
        let _ = parse_response(&mut BytesMut::from(&input[..]), &small_limits());
    }

    #[test]
    fn chunked_decoder_never_panics(input in any_input(), split in 0usize..512) {
        let mut decoder = BodyDecoder::new(BodyKind::Chunked, &small_limits());
        let mut buf = BytesMut::from(&input[..input.len().min(split)]);
        let mut rest = &input[input.len().min(split)..];
        loop {
            match decoder.decode(&mut buf) {
                Ok(Some(BodyEvent::End)) | Err(_) => break,
                Ok(Some(_)) => {}
                Ok(None) if rest.is_empty() => {
                    let _ = decoder.eof();
                    break;
                }
                Ok(None) => {
                    buf.extend_from_slice(rest);
                    rest = &[];
                }
            }
        }
    }

    #[test]
    fn chunked_round_trip_at_any_split(
        pieces in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..64), 0..8),
        trailer in prop::option::of("[a-z]{1,8}"),
        split in 0usize..1024,
    ) {
        let mut enc = BodyEncoder::new(BodyKind::Chunked);
        let mut wire = BytesMut::new();
        for piece in &pieces {
            enc.encode(Bytes::copy_from_slice(piece)).unwrap().write_to(&mut wire);
        }
        let trailers: Vec<Header> = trailer
            .iter()
            .map(|v| Header::new(format!("x-{v}"), v.clone()))
            .collect();
        wire.extend_from_slice(&enc.finish(Some(&trailers)).unwrap().unwrap());

        let mut decoder = BodyDecoder::new(BodyKind::Chunked, &Limits::default());
        let split = split.min(wire.len());
        let mut buf = BytesMut::from(&wire[..split]);
        let mut rest = &wire[split..];
        let (mut data, mut got_trailers) = (Vec::new(), Vec::new());
        loop {
            match decoder.decode(&mut buf).unwrap() {
                Some(BodyEvent::Data(d)) => data.extend_from_slice(&d),
                Some(BodyEvent::Trailers(t)) => got_trailers = t,
                Some(BodyEvent::End) => break,
                None => {
                    prop_assert!(!rest.is_empty(), "decoder wants more than was encoded");
                    buf.extend_from_slice(rest);
                    rest = &[];
                }
            }
        }
        prop_assert_eq!(data, pieces.concat());
        prop_assert_eq!(got_trailers, trailers);
        prop_assert!(buf.is_empty() && rest.is_empty());
    }

    #[test]
    fn server_conn_never_panics_or_spins(input in any_input(), piece in 1usize..64) {
        let mut c = ServerConn::new(small_limits());
        let mut buf = BytesMut::new();
        let mut out = BytesMut::new();
        for bytes in input.chunks(piece) {
            buf.extend_from_slice(bytes);
            for _ in 0..input.len() + 2 {
                match c.read_head(&mut buf) {
                    Ok(Some(_)) => {}
                    Ok(None) | Err(_) => break,
                }
                let _ = c.take_continue();
                while let Ok(Some(event)) = c.read_body(&mut buf) {
                    if event == BodyEvent::End {
                        break;
                    }
                }
                let _ = c.write_response_head(200, None, &[], None, &mut out);
                let _ = c.send_data(Bytes::from_static(b"ok"));
                let _ = c.finish_response(None);
            }
            if c.should_close() {
                break;
            }
        }
        let _ = c.read_eof();
    }
}
