//! The frame reader (RFC 9113 §4, §6) on any bytes, whole and split at an input-chosen point:
//! never a panic, and the same frames either way.
#![no_main]

use bytes::BytesMut;
use h2core::frame::FrameReader;
use h2core::ProtocolError;
use libfuzzer_sys::fuzz_target;

fn frames(chunks: &[&[u8]], max_frame_size: u32) -> Vec<String> {
    let mut reader = FrameReader::new();
    reader.set_max_frame_size(max_frame_size);
    let mut buf = BytesMut::new();
    let mut seen = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        loop {
            match reader.read(&mut buf) {
                Ok(Some(f)) => seen.push(format!("{f:?}")),
                Ok(None) => break,
                // A connection error ends the connection (an oversized frame is not even
                // consumed); any other rejected frame was consumed and reading goes on.
                Err(e) => {
                    seen.push(format!("error {:?}", e.error));
                    if matches!(e.error, ProtocolError::Connection(_)) {
                        return seen;
                    }
                }
            }
        }
    }
    seen
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let max = if first & 1 == 0 { 16_384 } else { 1 << 20 };
    let split = (first as usize * 7) % (rest.len() + 1);
    let whole = frames(&[rest], max);
    let split = frames(&[&rest[..split], &rest[split..]], max);
    assert_eq!(whole, split);
});
