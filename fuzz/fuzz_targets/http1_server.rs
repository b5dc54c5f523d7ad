//! The HTTP/1.1 server codec (RFC 9112) on any bytes, split where the input says: never a
//! panic, never a loop without progress.
#![no_main]

use bytes::{Bytes, BytesMut};
use h2core::http1::{BodyEvent, Limits, ServerConn};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&first, data)) = data.split_first() else {
        return;
    };
    let limits = if first & 1 == 0 {
        Limits::default()
    } else {
        Limits {
            max_head_size: 256,
            max_headers: 8,
        }
    };
    let mut c = ServerConn::new(limits);
    let mut buf = BytesMut::new();
    let mut out = BytesMut::new();
    let piece = 1 + (first as usize >> 1) % 64;
    for bytes in data.chunks(piece) {
        buf.extend_from_slice(bytes);
        for _ in 0..data.len() + 2 {
            match c.read_head(&mut buf) {
                Ok(Some(req)) => {
                    let _ = req.head.to_h2_headers("http");
                    let _ = req.head.h2c_upgrade();
                }
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
            return;
        }
    }
    let _ = c.read_eof();
});
