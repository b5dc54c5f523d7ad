//! The frame layer (RFC 9113 §4.1, §6): frame headers and whole frames read from a receive
//! buffer holding many frames.
//!
//! - `frame/head-parse`: 9-octet frame headers (§4.1) of 2,000 small frames, walked by length;
//!   throughput counts header octets;
//! - `frame/read-data-16k`: [`FrameReader::read`] over 1,000 DATA frames of 16 KiB (§6.1), each
//!   payload a slice of the buffer;
//! - `frame/read-small`: [`FrameReader::read`] over 1,000 HEADERS (§6.2) and 1,000
//!   WINDOW_UPDATE (§6.9) frames, interleaved.
//!
//! The receive buffer is rebuilt outside the timed part of each iteration.

use bytes::{Bytes, BytesMut};
use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use h2core::frame::{Data, FrameReader, Head, Headers, StreamId, WindowUpdate, HEADER_LEN};
use h2core::hpack::{Encoder, Header};

const FRAMES: usize = 1000;

fn data_frames() -> BytesMut {
    let payload = Bytes::from(vec![0x5a; 16 * 1024]);
    let mut buf = BytesMut::new();
    for i in 0..FRAMES {
        let stream = StreamId::new(1 + 2 * (i as u32 % 16));
        Data::new(stream, payload.clone()).encode(&mut buf);
    }
    buf
}

fn small_frames() -> BytesMut {
    // A typical request's field block, as our encoder sends it.
    let request = [
        Header::new(":method", "GET"),
        Header::new(":scheme", "https"),
        Header::new(":authority", "www.example.com"),
        Header::new(":path", "/index.html"),
        Header::new("accept", "*/*"),
    ];
    let mut block = BytesMut::new();
    Encoder::new().encode(&request, &mut block);
    let block = block.freeze();
    let mut buf = BytesMut::new();
    for i in 0..FRAMES {
        let stream = StreamId::new(1 + 2 * i as u32);
        Headers::new(stream, block.clone()).encode(&mut buf);
        WindowUpdate::new(stream, 65_535).encode(&mut buf);
    }
    buf
}

fn head_parse(c: &mut Criterion) {
    let buf = small_frames().freeze();
    let mut group = c.benchmark_group("frame");
    group.throughput(Throughput::Bytes((2 * FRAMES * HEADER_LEN) as u64));
    group.bench_function("head-parse", |b| {
        b.iter(|| {
            let buf: &[u8] = black_box(&buf);
            let (mut pos, mut total) = (0, 0u64);
            while let Some(header) = buf[pos..].first_chunk::<HEADER_LEN>() {
                let head = Head::parse(header);
                total += u64::from(head.stream_id.value()) + u64::from(head.flags);
                pos += HEADER_LEN + head.length as usize;
            }
            total
        })
    });
    group.finish();
}

/// Reads every frame of `buf`; returns how many (the frames are dropped as read, as a
/// connection would after handling them).
fn read_all(reader: &mut FrameReader, mut buf: BytesMut) -> usize {
    let mut frames = 0;
    while let Some(frame) = reader.read(&mut buf).expect("valid frames") {
        black_box(frame.stream_id());
        frames += 1;
    }
    assert!(buf.is_empty());
    frames
}

fn reader(c: &mut Criterion) {
    let mut group = c.benchmark_group("frame");
    for (name, input, batch) in [
        // A 16 MiB buffer per iteration: one at a time, not a batch of copies in memory.
        ("read-data-16k", data_frames(), BatchSize::PerIteration),
        ("read-small", small_frames(), BatchSize::LargeInput),
    ] {
        let expected = if name == "read-small" {
            2 * FRAMES
        } else {
            FRAMES
        };
        assert_eq!(read_all(&mut FrameReader::new(), input.clone()), expected);
        group.throughput(Throughput::Bytes(input.len() as u64));
        group.bench_function(name, |b| {
            let mut reader = FrameReader::new();
            b.iter_batched(|| input.clone(), |buf| read_all(&mut reader, buf), batch)
        });
    }
    group.finish();
}

criterion_group!(benches, head_parse, reader);
criterion_main!(benches);
