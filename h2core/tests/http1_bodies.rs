//! HTTP/1.1 bodies (RFC 9112 §6, §7.1): Content-Length, chunked with extensions and trailers,
//! close-delimited; what a closed connection means for each; and what we write.

use bytes::{Bytes, BytesMut};
use h2core::http1::{
    BodyDecoder, BodyEncoder, BodyEvent, BodyKind, EncodeError, Http1Error, Limits,
};
use h2core::Header;

/// A body as the handler sees it: all data joined, trailers, whether it ended.
#[derive(Debug, Default, PartialEq, Eq)]
struct Received {
    data: Vec<u8>,
    trailers: Vec<Header>,
    ended: bool,
}

/// Feeds `input` in pieces of the given sizes (the rest as one piece), decoding after each.
fn receive(
    kind: BodyKind,
    input: &[u8],
    pieces: &[usize],
) -> Result<(Received, BytesMut), Http1Error> {
    let mut decoder = BodyDecoder::new(kind, &Limits::default());
    let mut buf = BytesMut::new();
    let mut got = Received::default();
    let mut rest = input;
    let mut sizes = pieces.iter().copied().chain(std::iter::once(usize::MAX));
    while !got.ended {
        let n = sizes.next().unwrap_or(usize::MAX).min(rest.len());
        buf.extend_from_slice(&rest[..n]);
        rest = &rest[n..];
        while let Some(event) = decoder.decode(&mut buf)? {
            match event {
                BodyEvent::Data(d) => {
                    assert!(!d.is_empty());
                    got.data.extend_from_slice(&d);
                }
                BodyEvent::Trailers(t) => got.trailers = t,
                BodyEvent::End => {
                    got.ended = true;
                    break;
                }
            }
        }
        if rest.is_empty() && !got.ended {
            break;
        }
    }
    buf.extend_from_slice(rest);
    Ok((got, buf))
}

const CHUNKED: &[u8] = b"7;lang=en\r\nMozilla\r\n\
9 ; ext=\"quoted\"\r\nDeveloper\r\n\
7\r\nNetwork\r\n\
0;final\r\n\
Expires: Wed, 21 Oct 2015 07:28:00 GMT\r\n\
X-Checksum: abc\r\n\
\r\n\
NEXT";

fn expected_chunked() -> Received {
    Received {
        data: b"MozillaDeveloperNetwork".to_vec(),
        trailers: vec![
            Header::new("expires", "Wed, 21 Oct 2015 07:28:00 GMT"),
            Header::new("x-checksum", "abc"),
        ],
        ended: true,
    }
}

#[test]
fn content_length_body_then_the_next_message() {
    let (got, rest) = receive(BodyKind::ContentLength(11), b"hello worldGET /", &[]).unwrap();
    assert_eq!(got.data, b"hello world");
    assert!(got.ended);
    assert_eq!(&rest[..], b"GET /");
}

#[test]
fn content_length_body_byte_at_a_time() {
    let ones = [1; 11];
    let (got, rest) = receive(BodyKind::ContentLength(11), b"hello worldX", &ones).unwrap();
    assert_eq!(
        (got.data.as_slice(), got.ended),
        (&b"hello world"[..], true)
    );
    assert_eq!(&rest[..], b"X");
}

#[test]
fn chunked_with_extensions_trailers_and_last_chunk() {
    let (got, rest) = receive(BodyKind::Chunked, CHUNKED, &[]).unwrap();
    assert_eq!(got, expected_chunked());
    assert_eq!(&rest[..], b"NEXT");
}

#[test]
fn chunked_split_at_every_byte_boundary_gives_the_same_result() {
    for split in 0..=CHUNKED.len() {
        let (got, rest) = receive(BodyKind::Chunked, CHUNKED, &[split]).unwrap();
        assert_eq!(got, expected_chunked(), "split at {split}");
        assert_eq!(&rest[..], b"NEXT", "split at {split}");
    }
    let ones = vec![1; CHUNKED.len()];
    let (got, rest) = receive(BodyKind::Chunked, CHUNKED, &ones).unwrap();
    assert_eq!(got, expected_chunked(), "byte at a time");
    assert_eq!(&rest[..], b"NEXT");
}

#[test]
fn chunked_without_trailers_ends_without_a_trailers_event() {
    let (got, rest) = receive(BodyKind::Chunked, b"3\r\nabc\r\n0\r\n\r\n", &[]).unwrap();
    assert_eq!(
        got,
        Received {
            data: b"abc".to_vec(),
            trailers: vec![],
            ended: true
        }
    );
    assert!(rest.is_empty());
}

#[test]
fn truncated_chunked_body_at_eof_is_incomplete() {
    for cut in 0..CHUNKED.len() - 4 {
        let mut decoder = BodyDecoder::new(BodyKind::Chunked, &Limits::default());
        let mut buf = BytesMut::from(&CHUNKED[..cut]);
        while let Some(event) = decoder.decode(&mut buf).unwrap() {
            assert_ne!(event, BodyEvent::End, "ended early at cut {cut}");
            if let BodyEvent::Trailers(_) = event {
                panic!("trailers before their final CRLF, cut {cut}");
            }
        }
        assert_eq!(decoder.eof(), Err(Http1Error::IncompleteBody), "cut {cut}");
    }
}

#[test]
fn short_content_length_body_at_eof_is_incomplete() {
    let mut decoder = BodyDecoder::new(BodyKind::ContentLength(10), &Limits::default());
    let mut buf = BytesMut::from(&b"only5"[..]);
    assert_eq!(
        decoder.decode(&mut buf),
        Ok(Some(BodyEvent::Data(Bytes::from_static(b"only5"))))
    );
    assert_eq!(decoder.decode(&mut buf), Ok(None));
    let err = decoder.eof().unwrap_err();
    assert_eq!((err, err.status()), (Http1Error::IncompleteBody, 400));
}

#[test]
fn close_delimited_body_ends_at_eof() {
    let mut decoder = BodyDecoder::new(BodyKind::CloseDelimited, &Limits::default());
    let mut buf = BytesMut::new();
    let mut data = Vec::new();
    for piece in [&b"first "[..], b"second"] {
        buf.extend_from_slice(piece);
        while let Some(BodyEvent::Data(d)) = decoder.decode(&mut buf).unwrap() {
            data.extend_from_slice(&d);
        }
    }
    assert!(!decoder.is_done());
    assert_eq!(decoder.eof(), Ok(Some(BodyEvent::End)));
    assert!(decoder.is_done());
    assert_eq!(data, b"first second");
}

#[test]
fn encoder_writes_the_last_chunk_and_trailers() {
    let mut enc = BodyEncoder::new(BodyKind::Chunked);
    let mut wire = BytesMut::new();
    for piece in [&b"Hello, "[..], b"", b"world!"] {
        enc.encode(Bytes::copy_from_slice(piece))
            .unwrap()
            .write_to(&mut wire);
    }
    let trailers = [
        Header::new("x-checksum", "42"),
        Header::new("grpc-status", "0"),
    ];
    wire.extend_from_slice(&enc.finish(Some(&trailers)).unwrap().unwrap());
    assert_eq!(
        &wire[..],
        &b"7\r\nHello, \r\n6\r\nworld!\r\n0\r\nx-checksum: 42\r\ngrpc-status: 0\r\n\r\n"[..]
    );
    let (got, rest) = receive(BodyKind::Chunked, &wire, &[]).unwrap();
    assert_eq!(got.data, b"Hello, world!");
    assert_eq!(got.trailers, trailers);
    assert!(rest.is_empty());
}

#[test]
fn encoder_parts_reference_the_callers_data() {
    let mut enc = BodyEncoder::new(BodyKind::Chunked);
    let data = Bytes::from(vec![7u8; 4096]);
    let chunk = enc.encode(data.clone()).unwrap();
    let parts: Vec<Bytes> = chunk.into_parts().collect();
    assert_eq!(parts.len(), 3);
    assert_eq!(&parts[0][..], b"1000\r\n");
    assert_eq!(parts[1].as_ptr(), data.as_ptr());
    assert_eq!(&parts[2][..], b"\r\n");
}

#[test]
fn content_length_encoder_refuses_too_much_and_too_little() {
    let mut enc = BodyEncoder::new(BodyKind::ContentLength(4));
    assert_eq!(
        enc.encode(Bytes::from_static(b"12345")),
        Err(EncodeError::LengthExceeded)
    );
    let chunk = enc.encode(Bytes::from_static(b"12")).unwrap();
    assert_eq!((chunk.prefix.len(), chunk.suffix.len()), (0, 0));
    assert_eq!(
        enc.finish(None),
        Err(EncodeError::LengthShort { missing: 2 })
    );
    let _ = enc.encode(Bytes::from_static(b"34")).unwrap();
    assert_eq!(enc.finish(None), Ok(None));
}
