//! The connection shell (`h2core::shell`) against its public API: every deadline from an
//! `Instant` the test picks, no sockets.

// A test picks its starting instant; the shell still only receives time as an argument.
#![allow(clippy::disallowed_methods)]

mod accept {
    use bytes::BytesMut;

    use h2core::shell::*;
    use h2core::Config;

    use h2core::preface::PREFACE;
    use std::time::{Duration, Instant};

    fn config() -> Config {
        let mut c = Config::server();
        c.handshake_timeout = Duration::from_secs(10);
        c
    }

    #[test]
    fn preface_is_http2_and_anything_else_http1() {
        let now = Instant::now();
        let mut a = Accept::cleartext(config(), now);
        assert!(a.poll(now, b"PRI * HTTP/2", false).is_none());
        assert!(matches!(
            a.poll(now, PREFACE, false),
            Some(Accepted::Http2(_))
        ));
        assert_eq!(a.poll_timeout(), None, "decided: no deadline left");

        let mut a = Accept::cleartext(config(), now);
        assert!(matches!(
            a.poll(now, b"GET / HTTP/1.1\r\n", false),
            Some(Accepted::Http1 { secure: false })
        ));
    }

    #[test]
    fn absent_preface_closes_silently_at_the_deadline() {
        let now = Instant::now();
        let mut a = Accept::cleartext(config(), now);
        assert_eq!(a.poll_timeout(), Some(now + Duration::from_secs(10)));
        assert!(a
            .handle_timeout(now + Duration::from_secs(9), b"")
            .is_none());
        assert!(matches!(
            a.handle_timeout(now + Duration::from_secs(10), b""),
            Some(Accepted::Close)
        ));
    }

    #[test]
    fn peer_leaving_before_a_whole_preface_closes() {
        let now = Instant::now();
        let mut a = Accept::cleartext(config(), now);
        assert!(matches!(a.poll(now, b"PRI", true), Some(Accepted::Close)));
    }

    #[test]
    fn slow_preface_becomes_http2_that_fails_at_once_with_settings_timeout() {
        let now = Instant::now();
        let mut a = Accept::cleartext(config(), now);
        let late = now + Duration::from_secs(10);
        let Some(Accepted::Http2(mut conn)) = a.handle_timeout(late, b"PRI * HTTP") else {
            panic!("a partial preface is HTTP/2");
        };
        let mut buf = BytesMut::from(&b"PRI * HTTP"[..]);
        let _ = conn.handle_input(late, &mut buf);
        conn.handle_timeout(late);
        let mut reason = None;
        while let Some(ev) = conn.poll_event() {
            if let h2core::Event::ConnectionTerminated { reason: r, .. } = ev {
                reason = Some(r);
            }
        }
        assert_eq!(reason, Some(h2core::Reason::SETTINGS_TIMEOUT));
        let mut out = Vec::new();
        let _ = conn.poll_transmit(late, &mut out);
        let wire: Vec<u8> = out.iter().flat_map(|b| b.to_vec()).collect();
        // Our SETTINGS, then a GOAWAY (type 7) saying so.
        assert!(wire.windows(2).any(|w| w == [0x07, 0x00]), "{wire:?}");
    }

    #[test]
    fn time_spent_sniffing_counts_against_the_preface_deadline() {
        let now = Instant::now();
        let mut a = Accept::cleartext(config(), now);
        let later = now + Duration::from_secs(7);
        let Some(Accepted::Http2(conn)) = a.poll(later, PREFACE, false) else {
            panic!("preface");
        };
        assert_eq!(
            conn.poll_timeout(),
            Some(now + Duration::from_secs(10)),
            "3 s left, not 10"
        );
    }

    #[test]
    fn tls_alpn_decides() {
        let now = Instant::now();
        let mut a = Accept::tls(config(), now);
        assert!(
            a.poll(now, b"GET", false).is_none(),
            "bytes do not decide TLS"
        );
        assert!(matches!(
            a.tls_handshake_done(now, Some(ALPN_H2)),
            Some(Accepted::Http2(_))
        ));
        let mut a = Accept::tls(config(), now);
        assert!(matches!(
            a.tls_handshake_done(now, Some(ALPN_HTTP11)),
            Some(Accepted::Http1 { secure: true })
        ));
        let mut a = Accept::tls(config(), now);
        assert!(matches!(
            a.tls_handshake_done(now, None),
            Some(Accepted::Http1 { secure: true })
        ));
        let mut a = Accept::tls(config(), now);
        assert!(matches!(
            a.handle_timeout(now + Duration::from_secs(10), b""),
            Some(Accepted::Close)
        ));
    }

    #[test]
    fn http2_only_sends_http1_to_the_core_which_refuses_it() {
        let now = Instant::now();
        let mut a = Accept::cleartext(config(), now).http2_only();
        let Some(Accepted::Http2(mut conn)) = a.poll(now, b"GET / HTTP/1.1\r\n\r\n", false) else {
            panic!("http2 only");
        };
        let mut buf = BytesMut::from(&b"GET / HTTP/1.1\r\n\r\nxxxxxxxxx"[..]);
        let _ = conn.handle_input(now, &mut buf);
        let mut terminated = None;
        while let Some(ev) = conn.poll_event() {
            if let h2core::Event::ConnectionTerminated { reason, .. } = ev {
                terminated = Some(reason);
            }
        }
        assert_eq!(terminated, Some(h2core::Reason::PROTOCOL_ERROR));
    }
}

mod http1 {

    use h2core::shell::*;
    use h2core::Config;

    use std::time::{Duration, Instant};

    #[test]
    fn idle_then_head_deadlines() {
        let mut config = Config::server();
        config.idle_timeout = Some(Duration::from_secs(120));
        config.handshake_timeout = Duration::from_secs(10);
        let now = Instant::now();
        let mut t = Http1Timer::new(&config, now);
        assert_eq!(t.poll_timeout(), Some(now + Duration::from_secs(120)));
        let later = now + Duration::from_secs(30);
        t.head_bytes(later, true);
        assert_eq!(t.poll_timeout(), Some(later + Duration::from_secs(10)));
        t.head_bytes(later + Duration::from_secs(5), true);
        assert_eq!(t.poll_timeout(), Some(later + Duration::from_secs(10)));
        assert_eq!(t.handle_timeout(later + Duration::from_secs(9)), None);
        assert_eq!(
            t.handle_timeout(later + Duration::from_secs(10)),
            Some(Expired::Head)
        );
    }

    #[test]
    fn an_exchange_has_no_deadline_and_idling_restarts_after_it() {
        let mut config = Config::server();
        config.idle_timeout = Some(Duration::from_secs(5));
        let now = Instant::now();
        let mut t = Http1Timer::new(&config, now);
        t.head_bytes(now, true);
        t.head_received();
        assert_eq!(t.poll_timeout(), None);
        let later = now + Duration::from_secs(60);
        t.await_head(later);
        assert_eq!(
            t.handle_timeout(later + Duration::from_secs(5)),
            Some(Expired::Idle)
        );
    }

    #[test]
    fn without_an_idle_timeout_only_a_begun_head_has_a_deadline() {
        let mut config = Config::server();
        config.idle_timeout = None;
        let now = Instant::now();
        let mut t = Http1Timer::new(&config, now);
        assert_eq!(t.poll_timeout(), None);
        t.head_bytes(now, false);
        assert_eq!(t.poll_timeout(), None);
    }
}

mod pool {
    use bytes::BytesMut;
    use h2_testkit::dsl::{encode_frames, PeerFrame};

    use h2core::shell::pool::*;

    use h2core::{Config, Connection, StreamId};

    use std::time::Instant;

    /// A client connection that received SETTINGS with MAX_CONCURRENT_STREAMS `max`.
    fn ready(max: u32) -> (Connection, Slots) {
        let now = Instant::now();
        let mut conn = Connection::new(Config::client(), now);
        let mut out = Vec::new();
        let _ = conn.poll_transmit(now, &mut out);
        // SETTINGS_MAX_CONCURRENT_STREAMS (0x3).
        let settings = PeerFrame::settings(vec![(0x3, max)]);
        let mut frame = BytesMut::from(&encode_frames(&[settings])[..]);
        conn.handle_input(now, &mut frame).unwrap();
        let slots = Slots::new();
        while let Some(ev) = conn.poll_event() {
            let _ = slots.observe(&conn, &ev);
        }
        (conn, slots)
    }

    #[test]
    fn no_request_before_the_servers_settings() {
        let slots = Slots::new();
        assert!(!slots.try_reserve());
        assert_eq!(pick([&slots], 0), Pick::Open);
        assert_eq!(pick([&slots], 1), Pick::Wait);
    }

    #[test]
    fn reservations_respect_max_concurrent_streams() {
        let (mut conn, slots) = ready(2);
        assert!(slots.is_ready());
        assert_eq!(pick([&slots], 0), Pick::Use(0));
        assert_eq!(pick([&slots], 0), Pick::Use(0));
        assert_eq!(pick([&slots], 0), Pick::Open, "two reserved: full");
        let req = vec![
            h2core::Header::new(":method", "GET"),
            h2core::Header::new(":scheme", "http"),
            h2core::Header::new(":authority", "a"),
            h2core::Header::new(":path", "/"),
        ];
        conn.send_request(req, true).unwrap();
        slots.release();
        assert!(!slots.update(&conn));
        assert!(!slots.has_room(), "one active, one reserved");
        slots.release();
        assert!(slots.has_room());
    }

    #[test]
    fn a_goaway_closes_the_connection_to_new_requests() {
        let (mut conn, slots) = ready(100);
        let mut frame = bytes::BytesMut::new();
        h2core::frame::GoAway {
            last_stream_id: StreamId::ZERO,
            error_code: h2core::Reason::NO_ERROR,
            debug_data: bytes::Bytes::new(),
        }
        .encode(&mut frame);
        conn.handle_input(Instant::now(), &mut frame).unwrap();
        let mut woke = false;
        while let Some(ev) = conn.poll_event() {
            woke |= slots.observe(&conn, &ev);
        }
        assert!(woke);
        assert!(slots.is_closing());
        assert!(!slots.try_reserve());
    }

    #[test]
    fn refused_requests_are_sent_four_times_in_all() {
        let mut r = Retry::new(false, false);
        assert!(r.again(Failure::Refused, true));
        assert!(r.again(Failure::Refused, true));
        assert!(r.again(Failure::Refused, true));
        assert_eq!(r.attempts(), MAX_ATTEMPTS);
        assert!(!r.again(Failure::Refused, true));
    }

    #[test]
    fn a_failed_connection_is_retried_once_for_bodiless_idempotent_requests_only() {
        let mut get = Retry::new(true, true);
        assert!(get.again(Failure::ConnectionFailed, true));
        assert!(!get.again(Failure::ConnectionFailed, true));
        let mut post = Retry::new(false, true);
        assert!(!post.again(Failure::ConnectionFailed, true));
        let mut put_with_body = Retry::new(true, false);
        assert!(!put_with_body.again(Failure::ConnectionFailed, true));
    }

    #[test]
    fn a_body_partly_read_is_never_sent_again() {
        let mut r = Retry::new(true, false);
        assert!(!r.again(Failure::Refused, false));
        assert!(!Retry::new(true, true).again(Failure::Other, true));
    }
}

mod transport {
    use bytes::Bytes;

    use h2core::shell::*;
    use h2core::{Config, Connection};
    use std::io::IoSlice;
    use std::time::{Duration, Instant};

    fn written(t: &Transport) -> Vec<u8> {
        let mut slices = [IoSlice::new(&[]); 8];
        let n = t.io_slices(&mut slices);
        slices[..n].iter().flat_map(|s| s.to_vec()).collect()
    }

    #[test]
    fn queue_hands_out_chunks_and_advances_across_them() {
        let mut t = Transport::new();
        t.push(Bytes::from_static(b"abc"));
        t.push(Bytes::new());
        t.push(Bytes::from_static(b"defg"));
        assert_eq!(t.queued(), 7);
        assert_eq!(written(&t), b"abcdefg");
        t.advance(4);
        assert_eq!(t.queued(), 3);
        assert_eq!(written(&t), b"efg");
        t.advance(3);
        assert!(t.is_empty());
    }

    #[test]
    #[should_panic(expected = "advanced past the write queue")]
    fn advancing_past_the_queue_is_a_bug() {
        let mut t = Transport::new();
        t.push(Bytes::from_static(b"ab"));
        t.advance(3);
    }

    #[test]
    fn close_flushes_then_sends_fin_then_lingers_until_peer_eof() {
        let now = Instant::now();
        let mut t = Transport::new();
        t.push(Bytes::from_static(b"goaway"));
        t.close(now);
        assert_eq!(
            t.poll_timeout(),
            Some(now + CLOSE_FLUSH_GRACE),
            "flushing has a deadline"
        );
        assert_eq!(t.poll_close(now, false), None, "bytes still queued");
        t.advance(6);
        assert_eq!(t.poll_close(now, true), None, "TLS records still held");
        assert_eq!(t.poll_close(now, false), Some(CloseAction::ShutdownWrite));
        assert!(t.is_lingering());
        assert_eq!(t.poll_timeout(), Some(now + LINGER));
        t.handle_eof();
        assert!(t.is_done());
    }

    #[test]
    fn a_peer_that_never_reads_loses_our_last_bytes_after_the_grace() {
        let now = Instant::now();
        let mut t = Transport::new();
        t.push(Bytes::from_static(b"stuck"));
        t.close(now);
        t.handle_timeout(now + CLOSE_FLUSH_GRACE - Duration::from_millis(1));
        assert!(!t.is_done());
        t.handle_timeout(now + CLOSE_FLUSH_GRACE);
        assert!(t.is_done());
        assert!(t.is_empty());
    }

    #[test]
    fn a_peer_that_never_closes_is_dropped_after_the_linger() {
        let now = Instant::now();
        let mut t = Transport::new();
        t.close(now);
        assert_eq!(t.poll_close(now, false), Some(CloseAction::ShutdownWrite));
        t.handle_timeout(now + LINGER);
        assert!(t.is_done());
    }

    #[test]
    fn pump_queues_the_core_output_one_batch_at_a_time() {
        let now = Instant::now();
        let mut conn = Connection::new(Config::client(), now);
        let mut t = Transport::new();
        assert!(t.pump(&mut conn, now), "the client preface is queued");
        let preface = t.queued();
        assert!(preface >= 24);
        conn.ping(*b"12345678", now).unwrap();
        assert!(
            !t.pump(&mut conn, now),
            "the previous batch is not written yet"
        );
        t.advance(preface);
        assert!(t.pump(&mut conn, now), "now the PING");
        assert_eq!(t.queued(), 9 + 8);
        assert!(!t.is_closing());
    }

    #[test]
    fn the_goaway_of_a_core_that_failed_mid_write_is_still_flushed() {
        let now = Instant::now();
        let mut conn = Connection::new(Config::client(), now);
        let mut t = Transport::new();
        t.pump(&mut conn, now);
        let preface = t.queued();
        // The server's first frame is not SETTINGS: a connection error (RFC 9113 §3.4) while
        // our preface is still being written.
        let mut input = bytes::BytesMut::from(&[0u8, 0, 0, 0, 0, 0, 0, 0, 0][..]);
        let _ = conn.handle_input(now, &mut input);
        while let Some(ev) = conn.poll_event() {
            t.observe(&conn, &ev);
        }
        t.pump(&mut conn, now);
        assert!(t.is_closing());
        assert_eq!(
            t.queued(),
            preface,
            "the batch being written is not topped up"
        );
        t.advance(preface);
        assert!(t.pump(&mut conn, now), "the GOAWAY is taken while flushing");
        let wire = written(&t);
        assert_eq!(wire[3], 0x07, "GOAWAY: {wire:?}");
        t.advance(t.queued());
        assert_eq!(t.poll_close(now, false), Some(CloseAction::ShutdownWrite));
    }

    #[test]
    fn pump_starts_closing_once_the_core_is_closed() {
        let now = Instant::now();
        let mut conn = Connection::new(Config::client(), now);
        let mut t = Transport::new();
        t.pump(&mut conn, now);
        t.advance(t.queued());
        conn.handle_eof(now);
        while let Some(ev) = conn.poll_event() {
            t.observe(&conn, &ev);
        }
        t.pump(&mut conn, now);
        assert!(t.is_closing());
    }
}

mod upgrade {
    use bytes::BytesMut;
    use h2core::http1::{BodyKind, SWITCHING_PROTOCOLS};

    use h2core::shell::*;
    use h2core::{Config, Event, Header, StreamId};

    use h2core::http1::{encode_h2c_upgrade_request, Limits, ServerConn};
    use std::time::Instant;

    fn request(
        framing: BodyKind,
        extra: &[Header],
    ) -> (ServerConn, BytesMut, h2core::http1::IncomingRequest) {
        let mut buf = BytesMut::new();
        let mut headers = vec![Header::new("host", "a")];
        headers.extend_from_slice(extra);
        let payload = [0u8, 3, 0, 0, 0, 7];
        encode_h2c_upgrade_request("POST", "/x", &headers, &payload, framing, &mut buf).unwrap();
        let mut sc = ServerConn::new(Limits::default());
        let req = sc.read_head(&mut buf).unwrap().unwrap();
        (sc, buf, req)
    }

    #[test]
    fn small_body_switches_and_the_request_is_stream_1() {
        let (mut sc, mut buf, req) = request(BodyKind::ContentLength(5), &[]);
        buf.extend_from_slice(b"hello");
        let mut switch = H2cSwitch::offer(&req, false).expect("upgrade");
        while let Some(ev) = sc.read_body(&mut buf).unwrap() {
            match ev {
                h2core::http1::BodyEvent::Data(d) => switch.body_data(&d),
                h2core::http1::BodyEvent::End => break,
                h2core::http1::BodyEvent::Trailers(_) => {}
            }
        }
        let now = Instant::now();
        let (answer, mut conn, body) = switch.switch(Config::server(), now).unwrap();
        assert_eq!(answer, SWITCHING_PROTOCOLS);
        assert_eq!(&body[..], b"hello");
        assert_eq!(conn.remote_settings().max_concurrent_streams, Some(7));
        match conn.poll_event() {
            Some(Event::RequestReceived {
                stream, headers, ..
            }) => {
                assert_eq!(stream, StreamId::new(1));
                assert_eq!(headers[0].value, "POST");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn over_tls_or_too_large_or_chunked_is_served_over_http1() {
        let (_, _, req) = request(BodyKind::Empty, &[]);
        assert!(H2cSwitch::offer(&req, true).is_none(), "TLS: ALPN decides");
        assert!(H2cSwitch::offer(&req, false).is_some());
        let (_, _, req) = request(BodyKind::ContentLength(MAX_UPGRADE_BODY + 1), &[]);
        assert!(H2cSwitch::offer(&req, false).is_none());
        let (_, _, req) = request(BodyKind::Chunked, &[]);
        assert!(H2cSwitch::offer(&req, false).is_none());
    }

    #[test]
    fn a_client_skips_interim_answers_and_switches_on_101() {
        let mut c = H2cUpgradeClient::new(Config::client(), false);
        let now = Instant::now();
        let mut buf = BytesMut::from(&b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 101 Switch"[..]);
        assert!(
            c.poll(now, &mut buf).unwrap().is_none(),
            "101 not whole yet"
        );
        buf.extend_from_slice(b"ing Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n");
        buf.extend_from_slice(b"\0\0\0\x04\0\0\0\0\0");
        let conn = c.poll(now, &mut buf).unwrap().expect("switched");
        assert_eq!(
            &buf[..],
            b"\0\0\0\x04\0\0\0\0\0",
            "the server's SETTINGS stay"
        );
        assert_eq!(
            conn.stream_state(StreamId::new(1)),
            Some(h2core::StreamState::HalfClosedLocal)
        );
        assert!(c.poll(now, &mut buf).unwrap().is_none());
    }

    #[test]
    fn a_server_that_stays_with_http1_is_an_error_naming_its_status() {
        let mut c = H2cUpgradeClient::new(Config::client(), false);
        let mut buf = BytesMut::from(&b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"[..]);
        assert_eq!(
            c.poll(Instant::now(), &mut buf).unwrap_err(),
            UpgradeError::NotSwitched(200)
        );
        let mut buf = BytesMut::from(&b"HTTP/9 nonsense\r\n\r\n"[..]);
        assert!(matches!(
            H2cUpgradeClient::new(Config::client(), false).poll(Instant::now(), &mut buf),
            Err(UpgradeError::Malformed(_))
        ));
    }
}
