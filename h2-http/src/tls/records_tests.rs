//! A rustls client and server in memory, joined by two [`Wire`]s: no sockets.

use super::*;
use crate::tls::{insecure_client_config, server_config_from_pem, ALPN_H2};
use rustls::pki_types::ServerName;
use rustls::{ClientConnection, ServerConnection};

/// One direction of an in-memory transport: `WouldBlock` when empty, EOF once shut.
#[derive(Default)]
struct Wire {
    bytes: Vec<u8>,
    shut: bool,
}

impl Read for Wire {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.bytes.is_empty() {
            return if self.shut {
                Ok(0)
            } else {
                Err(io::ErrorKind::WouldBlock.into())
            };
        }
        let n = out.len().min(self.bytes.len());
        out[..n].copy_from_slice(&self.bytes[..n]);
        self.bytes.drain(..n);
        Ok(n)
    }
}

impl Write for Wire {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.bytes.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn pair() -> (Records, Records) {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("rcgen");
    let server = server_config_from_pem(
        cert.cert.pem().as_bytes(),
        cert.signing_key.serialize_pem().as_bytes(),
    )
    .expect("server config");
    let name = ServerName::try_from("localhost").expect("name");
    let client = ClientConnection::new(insecure_client_config(), name).expect("client");
    let server = ServerConnection::new(server).expect("server");
    (Records::new(client), Records::new(server))
}

/// Moves everything `from` has to write into `to`, and what `to` then reads.
fn deliver(from: &mut Records, to: &mut Records, plain: &mut BytesMut) -> Vec<Received> {
    let mut wire = Wire::default();
    while from.wants_write() {
        from.write_to(&mut wire).expect("write to memory");
    }
    read_all(to, &mut wire, plain)
}

fn read_all(to: &mut Records, wire: &mut Wire, plain: &mut BytesMut) -> Vec<Received> {
    let mut seen = Vec::new();
    loop {
        match to.read_from(wire, plain) {
            Ok(r) => {
                seen.push(r);
                if matches!(
                    r,
                    Received::CloseNotify | Received::Truncated | Received::Failed
                ) {
                    return seen;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return seen,
            Err(e) => panic!("read: {e}"),
        }
    }
}

fn handshake(c: &mut Records, s: &mut Records) {
    let mut plain = BytesMut::new();
    for _ in 0..8 {
        deliver(c, s, &mut plain);
        deliver(s, c, &mut plain);
    }
    assert!(plain.is_empty());
    assert!(c.alpn().is_some() && s.alpn().is_some(), "handshake done");
}

/// Writes `data` from `from` to `to` in steps, as a socket would; returns what arrived and
/// the most ciphertext `from` held at once.
fn transfer(from: &mut Records, to: &mut Records, data: &[u8]) -> (BytesMut, usize) {
    let (mut plain, mut sent, mut most) = (BytesMut::new(), 0, 0);
    while sent < data.len() || from.wants_write() {
        // Encrypt until rustls's buffer is full: nothing drains it meanwhile.
        loop {
            let taken = from
                .write_plaintext(&[IoSlice::new(&data[sent..])])
                .expect("encrypt");
            sent += taken;
            if taken == 0 {
                break;
            }
        }
        let mut wire = Wire::default();
        while from.wants_write() {
            from.write_to(&mut wire).expect("write to memory");
        }
        most = most.max(wire.bytes.len());
        for r in read_all(to, &mut wire, &mut plain) {
            // `Records`: part of a record was read, the rest comes with the next read.
            let ok = matches!(r, Received::Data(n) if n <= READ_CHUNK) || r == Received::Records;
            assert!(ok, "{r:?}");
        }
    }
    (plain, most)
}

#[test]
fn handshake_selects_h2_by_alpn_on_both_sides() {
    let (mut c, mut s) = pair();
    assert_eq!(s.alpn(), None, "handshaking");
    handshake(&mut c, &mut s);
    assert_eq!(c.alpn(), Some(Some(ALPN_H2)));
    assert_eq!(s.alpn(), Some(Some(ALPN_H2)));
}

#[test]
fn plaintext_waits_in_the_callers_queue_while_the_handshake_runs() {
    let (mut c, _s) = pair();
    let taken = c
        .write_plaintext(&[IoSlice::new(b"PRI * HTTP/2.0")])
        .unwrap();
    assert_eq!(taken, 0);
}

#[test]
fn application_data_goes_both_ways_from_several_slices() {
    let (mut c, mut s) = pair();
    handshake(&mut c, &mut s);
    let parts = [IoSlice::new(b"frame head "), IoSlice::new(b"and payload")];
    assert_eq!(c.write_plaintext(&parts).unwrap(), 22);
    let mut plain = BytesMut::new();
    assert_eq!(deliver(&mut c, &mut s, &mut plain), [Received::Data(22)]);
    assert_eq!(&plain[..], b"frame head and payload");
    plain.clear();
    assert_eq!(s.write_plaintext(&[IoSlice::new(b"reply")]).unwrap(), 5);
    assert_eq!(deliver(&mut s, &mut c, &mut plain), [Received::Data(5)]);
    assert_eq!(&plain[..], b"reply");
}

#[test]
fn more_than_the_buffer_limit_goes_through_in_bounded_steps() {
    let (mut c, mut s) = pair();
    handshake(&mut c, &mut s);
    let data: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    let (plain, most) = transfer(&mut s, &mut c, &data);
    assert_eq!(&plain[..], &data[..]);
    // rustls's 64 KiB buffer limit, plus the record that crossed it.
    assert!(most <= 64 * 1024 + 17 * 1024, "{most} bytes held at once");
    let (plain, _) = transfer(&mut c, &mut s, &data[..100_000]);
    assert_eq!(&plain[..], &data[..100_000]);
}

#[test]
fn close_notify_is_a_clean_end_after_the_last_plaintext() {
    let (mut c, mut s) = pair();
    handshake(&mut c, &mut s);
    assert_eq!(s.write_plaintext(&[IoSlice::new(b"last")]).unwrap(), 4);
    assert!(!s.is_sealed());
    s.close_notify();
    s.close_notify();
    assert!(s.is_sealed());
    assert!(s.wants_write(), "close_notify pending output");
    assert_eq!(s.write_plaintext(&[IoSlice::new(b"late")]).unwrap(), 0);
    let mut plain = BytesMut::new();
    let seen = deliver(&mut s, &mut c, &mut plain);
    assert_eq!(seen, [Received::Data(4), Received::CloseNotify]);
    assert_eq!(&plain[..], b"last");
}

#[test]
fn eof_without_close_notify_is_a_truncation() {
    let (mut c, mut s) = pair();
    handshake(&mut c, &mut s);
    let mut wire = Wire {
        shut: true,
        ..Wire::default()
    };
    let mut plain = BytesMut::new();
    assert_eq!(
        read_all(&mut c, &mut wire, &mut plain),
        [Received::Truncated]
    );
}

#[test]
fn a_corrupted_record_fails_and_its_alert_is_written_before_the_close() {
    let (mut c, mut s) = pair();
    handshake(&mut c, &mut s);
    assert_eq!(c.write_plaintext(&[IoSlice::new(&[7; 100])]).unwrap(), 100);
    let mut wire = Wire::default();
    while c.wants_write() {
        c.write_to(&mut wire).unwrap();
    }
    let last = wire.bytes.len() - 1;
    wire.bytes[last] ^= 0x55; // the AEAD tag no longer matches (bad_record_mac)
    let mut plain = BytesMut::new();
    assert_eq!(read_all(&mut s, &mut wire, &mut plain), [Received::Failed]);
    assert!(plain.is_empty());
    assert!(s.wants_write(), "the alert is pending output");
    assert!(s.is_sealed());
    assert_eq!(s.write_plaintext(&[IoSlice::new(b"x")]).unwrap(), 0);
    // The peer reads the alert: its session fails too, it does not see a mere EOF.
    assert_eq!(deliver(&mut s, &mut c, &mut plain), [Received::Failed]);
    let mut more = Wire::default();
    assert_eq!(
        s.read_from(&mut more, &mut plain).unwrap(),
        Received::Failed
    );
}

#[test]
fn an_empty_transport_is_would_block_passed_through() {
    let (_c, mut s) = pair();
    let err = s
        .read_from(&mut Wire::default(), &mut BytesMut::new())
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
}

/// Reads with [`Records::read_available`] until `wire` would block or the input ended.
fn read_available_all(to: &mut Records, wire: &mut Wire, plain: &mut BytesMut) -> Vec<Received> {
    let mut seen = Vec::new();
    while let Some(r) = to.read_available(wire, plain).expect("read") {
        seen.push(r);
        if !matches!(r, Received::Data(_)) {
            break;
        }
    }
    seen
}

#[test]
fn a_transport_queue_goes_through_the_records_and_ends_with_close_notify() {
    let (mut c, mut s) = pair();
    handshake(&mut c, &mut s);
    let data: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
    let mut queue = Transport::new();
    queue.push(bytes::Bytes::from(data.clone()));
    let (mut wire, mut plain) = (Wire::default(), BytesMut::new());
    while !queue.is_empty() {
        assert!(c.flush_transport(&mut queue, &mut wire).expect("flush"));
        read_available_all(&mut s, &mut wire, &mut plain);
    }
    assert_eq!(&plain[..], &data[..]);
    // Closing with an empty queue: close_notify, written by the next flush.
    c.close_after(&queue);
    assert!(!c.is_sealed(), "the queue is not closing yet");
    queue.close(std::time::Instant::now());
    c.close_after(&queue);
    assert!(c.is_sealed());
    assert!(c.flush_transport(&mut queue, &mut wire).expect("flush"));
    assert!(!c.wants_write());
    let end = read_available_all(&mut s, &mut wire, &mut plain);
    assert_eq!(end, [Received::CloseNotify]);
}

#[test]
fn a_blocked_writer_keeps_the_rest_queued_and_a_sealed_session_drops_it() {
    struct Blocked;
    impl Write for Blocked {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::ErrorKind::WouldBlock.into())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let (mut c, mut s) = pair();
    handshake(&mut c, &mut s);
    let mut queue = Transport::new();
    queue.push(bytes::Bytes::from(vec![1u8; 200_000]));
    assert!(!c.flush_transport(&mut queue, &mut Blocked).expect("flush"));
    assert!(
        queue.queued() > 0,
        "rustls's bounded buffer took only part of it"
    );
    assert!(c.wants_write());
    assert_eq!(
        s.read_available(&mut Wire::default(), &mut BytesMut::new())
            .unwrap(),
        None
    );
    c.close_notify();
    let _ = c.flush_transport(&mut queue, &mut Blocked).expect("flush");
    assert!(queue.is_empty(), "nothing more is encrypted: dropped");
}
