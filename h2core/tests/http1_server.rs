//! The server side of an HTTP/1.1 connection (RFC 9112 §9): request smuggling refused,
//! pipelining answered in order, persistence, 100-continue, HEAD, framing chosen by the codec.

use bytes::{Bytes, BytesMut};
use h2core::http1::{BodyEvent, BodyKind, Http1Error, Limits, ServerConn, CONTINUE};
use h2core::Header;

fn conn() -> ServerConn {
    ServerConn::new(Limits::default())
}

/// Writes a whole response with `body`, announcing its length or not.
fn respond(c: &mut ServerConn, body: &[u8], known_length: bool) -> Vec<u8> {
    let mut out = BytesMut::new();
    let length = known_length.then_some(body.len() as u64);
    c.write_response_head(200, None, &[Header::new("x-app", "1")], length, &mut out)
        .unwrap();
    c.send_data(Bytes::copy_from_slice(body))
        .unwrap()
        .write_to(&mut out);
    if let Some(end) = c.finish_response(None).unwrap() {
        out.extend_from_slice(&end);
    }
    out.to_vec()
}

/// Reads the current request body to its end.
fn read_all(c: &mut ServerConn, buf: &mut BytesMut) -> Vec<u8> {
    let mut data = Vec::new();
    loop {
        match c.read_body(buf).unwrap() {
            Some(BodyEvent::Data(d)) => data.extend_from_slice(&d),
            Some(BodyEvent::Trailers(_)) => {}
            Some(BodyEvent::End) => return data,
            None => panic!("body incomplete"),
        }
    }
}

#[test]
fn smuggling_attempts_are_rejected_and_close_the_connection() {
    for (head, status) in [
        (
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n",
            400,
        ),
        (
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n",
            400,
        ),
        (
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\n",
            400,
        ),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4, 5\r\n\r\n", 400),
        (
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n",
            400,
        ),
        (
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n",
            400,
        ),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n", 400),
        ("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +4\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501),
    ] {
        let mut c = conn();
        let mut buf = BytesMut::from(head.as_bytes());
        buf.extend_from_slice(b"0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n");
        let err = c.read_head(&mut buf).unwrap_err();
        assert_eq!(err.status(), status, "{head:?}");
        assert!(c.should_close(), "{head:?}");
        assert_eq!(c.read_head(&mut buf), Ok(None), "nothing after an error: {head:?}");

        let mut out = BytesMut::new();
        err.encode_response(&mut out);
        let text = String::from_utf8(out.to_vec()).unwrap();
        assert!(text.starts_with(&format!("HTTP/1.1 {status} ")), "{text}");
        assert!(text.ends_with("content-length: 0\r\nconnection: close\r\n\r\n"));
    }
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let mut c = conn();
    let mut buf = BytesMut::from(
        &b"POST /1 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nonePOST /2 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\ntwo\r\n0\r\n\r\nGET /3 HTTP/1.1\r\nHost: a\r\n\r\n"[..],
    );
    let mut seen = Vec::new();
    while let Some(req) = c.read_head(&mut buf).unwrap() {
        assert_eq!(c.read_head(&mut buf), Ok(None), "one exchange at a time");
        let body = read_all(&mut c, &mut buf);
        seen.push((String::from_utf8(req.head.target.to_vec()).unwrap(), body));
        let _ = respond(&mut c, b"ok", true);
    }
    assert_eq!(
        seen,
        [
            ("/1".to_owned(), b"one".to_vec()),
            ("/2".to_owned(), b"two".to_vec()),
            ("/3".to_owned(), vec![]),
        ]
    );
    assert!(buf.is_empty());
    assert!(!c.should_close());
}

#[test]
fn unread_request_body_is_drained_before_the_next_request() {
    let mut c = conn();
    let mut buf = BytesMut::from(
        &b"POST /1 HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\n\r\nignoreGET /2 HTTP/1.1\r\nHost: a\r\n\r\n"[..],
    );
    c.read_head(&mut buf).unwrap().unwrap();
    let _ = respond(&mut c, b"", true);
    assert!(!c.should_close());
    assert_eq!(c.read_head(&mut buf).unwrap().unwrap().head.target, "/2");
}

#[test]
fn large_unread_request_body_closes_instead_of_draining() {
    let mut c = conn();
    let mut buf =
        BytesMut::from(&b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000\r\n\r\n"[..]);
    c.read_head(&mut buf).unwrap().unwrap();
    let _ = respond(&mut c, b"", true);
    buf.extend_from_slice(&vec![b'x'; 100_000]);
    assert_eq!(c.read_head(&mut buf), Ok(None));
    assert!(c.should_close());
}

#[test]
fn http11_persists_and_connection_close_ends_it() {
    let mut c = conn();
    let mut buf = BytesMut::from(&b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"[..]);
    c.read_head(&mut buf).unwrap().unwrap();
    let out = respond(&mut c, b"hi", true);
    assert_eq!(
        out,
        b"HTTP/1.1 200 OK\r\nx-app: 1\r\ncontent-length: 2\r\n\r\nhi"
    );
    assert!(!c.should_close());

    buf.extend_from_slice(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    c.read_head(&mut buf).unwrap().unwrap();
    let out = respond(&mut c, b"hi", true);
    assert_eq!(
        out,
        b"HTTP/1.1 200 OK\r\nx-app: 1\r\nconnection: close\r\ncontent-length: 2\r\n\r\nhi"
    );
    assert!(c.should_close());
}

#[test]
fn handler_connection_close_ends_the_connection() {
    let mut c = conn();
    let mut buf = BytesMut::from(&b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"[..]);
    c.read_head(&mut buf).unwrap().unwrap();
    let mut out = BytesMut::new();
    c.write_response_head(
        200,
        None,
        &[Header::new("connection", "close")],
        Some(0),
        &mut out,
    )
    .unwrap();
    let _ = c.finish_response(None).unwrap();
    assert_eq!(
        &out[..],
        b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 0\r\n\r\n"
    );
    assert!(c.should_close());
}

#[test]
fn http10_closes_unless_keep_alive_and_a_known_length() {
    let mut c = conn();
    let mut buf = BytesMut::from(&b"GET / HTTP/1.0\r\n\r\n"[..]);
    c.read_head(&mut buf).unwrap().unwrap();
    let out = respond(&mut c, b"hi", true);
    assert!(String::from_utf8(out)
        .unwrap()
        .contains("connection: close\r\n"));
    assert!(c.should_close());

    let mut c = conn();
    let mut buf = BytesMut::from(&b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"[..]);
    c.read_head(&mut buf).unwrap().unwrap();
    let out = respond(&mut c, b"hi", true);
    assert!(String::from_utf8(out)
        .unwrap()
        .contains("connection: keep-alive\r\n"));
    assert!(!c.should_close());

    // Unknown length to HTTP/1.0: close-delimited, never chunked.
    buf.extend_from_slice(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    c.read_head(&mut buf).unwrap().unwrap();
    let out = respond(&mut c, b"streamed", false);
    assert_eq!(
        out,
        b"HTTP/1.1 200 OK\r\nx-app: 1\r\nconnection: close\r\n\r\nstreamed"
    );
    assert!(c.should_close());
}

#[test]
fn unknown_length_to_http11_is_chunked_with_the_last_chunk() {
    let mut c = conn();
    let mut buf = BytesMut::from(&b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"[..]);
    c.read_head(&mut buf).unwrap().unwrap();
    let mut out = BytesMut::new();
    c.write_response_head(200, None, &[], None, &mut out)
        .unwrap();
    c.send_data(Bytes::from_static(b"abc"))
        .unwrap()
        .write_to(&mut out);
    let trailers = [Header::new("x-done", "yes")];
    out.extend_from_slice(&c.finish_response(Some(&trailers)).unwrap().unwrap());
    assert_eq!(
        &out[..],
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nx-done: yes\r\n\r\n"
    );
    assert!(!c.should_close());
}

#[test]
fn handler_content_length_is_used_as_the_framing() {
    let mut c = conn();
    let mut buf = BytesMut::from(&b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"[..]);
    c.read_head(&mut buf).unwrap().unwrap();
    let mut out = BytesMut::new();
    c.write_response_head(
        200,
        None,
        &[Header::new("content-length", "3")],
        None,
        &mut out,
    )
    .unwrap();
    assert_eq!(&out[..], b"HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\n");
    assert!(c.send_data(Bytes::from_static(b"abcd")).is_err());
}

#[test]
fn head_response_declares_the_length_and_drops_the_body() {
    let mut c = conn();
    let mut buf = BytesMut::from(&b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\n"[..]);
    c.read_head(&mut buf).unwrap().unwrap();
    let out = respond(&mut c, b"not sent", true);
    assert_eq!(
        out,
        b"HTTP/1.1 200 OK\r\nx-app: 1\r\ncontent-length: 8\r\n\r\n"
    );
    assert!(!c.should_close());
}

#[test]
fn no_content_and_not_modified_have_no_framing_fields() {
    for status in [204, 304] {
        let mut c = conn();
        let mut buf = BytesMut::from(&b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"[..]);
        c.read_head(&mut buf).unwrap().unwrap();
        let mut out = BytesMut::new();
        c.write_response_head(status, None, &[], None, &mut out)
            .unwrap();
        assert!(c.send_data(Bytes::from_static(b"x")).is_err());
        assert_eq!(c.finish_response(None), Ok(None));
        let text = String::from_utf8(out.to_vec()).unwrap();
        assert!(!text.contains("content-length") && !text.contains("transfer-encoding"));
        assert!(!c.should_close());
    }
}

#[test]
fn expect_100_continue_is_sent_once_when_the_handler_reads() {
    let mut c = conn();
    let mut buf = BytesMut::from(
        &b"PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"[..],
    );
    let req = c.read_head(&mut buf).unwrap().unwrap();
    assert!(req.expect_continue);
    assert_eq!(c.read_body(&mut buf), Ok(None));
    assert_eq!(c.take_continue().as_deref(), Some(CONTINUE));
    assert_eq!(c.take_continue(), None);
    buf.extend_from_slice(b"data");
    assert_eq!(read_all(&mut c, &mut buf), b"data");
    let _ = respond(&mut c, b"", true);
    assert!(!c.should_close());
}

#[test]
fn answering_before_100_continue_closes_the_connection() {
    let mut c = conn();
    let mut buf = BytesMut::from(
        &b"PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"[..],
    );
    c.read_head(&mut buf).unwrap().unwrap();
    let mut out = BytesMut::new();
    c.write_response_head(417, None, &[], Some(0), &mut out)
        .unwrap();
    assert_eq!(
        c.take_continue(),
        None,
        "the final response already started"
    );
    let _ = c.finish_response(None).unwrap();
    assert!(
        c.should_close(),
        "the client may or may not send the body now"
    );
}

#[test]
fn expect_100_continue_without_a_body_or_from_http10_is_not_flagged() {
    let mut c = conn();
    let mut buf = BytesMut::from(&b"GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n"[..]);
    assert!(!c.read_head(&mut buf).unwrap().unwrap().expect_continue);
    assert_eq!(c.take_continue(), None);

    let mut c = conn();
    let mut buf = BytesMut::from(
        &b"PUT / HTTP/1.0\r\nContent-Length: 1\r\nExpect: 100-continue\r\n\r\nx"[..],
    );
    let req = c.read_head(&mut buf).unwrap().unwrap();
    assert_eq!(
        (req.expect_continue, req.body),
        (false, BodyKind::ContentLength(1))
    );
}

#[test]
fn informational_responses_go_to_http11_clients_only() {
    let mut c = conn();
    let mut buf = BytesMut::from(&b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"[..]);
    c.read_head(&mut buf).unwrap().unwrap();
    let mut out = BytesMut::new();
    c.write_informational(
        103,
        &[Header::new("link", "</s.css>; rel=preload")],
        &mut out,
    )
    .unwrap();
    assert_eq!(
        &out[..],
        b"HTTP/1.1 103 Early Hints\r\nlink: </s.css>; rel=preload\r\n\r\n"
    );

    let mut c = conn();
    let mut buf = BytesMut::from(&b"GET / HTTP/1.0\r\n\r\n"[..]);
    c.read_head(&mut buf).unwrap().unwrap();
    let mut out = BytesMut::new();
    c.write_informational(103, &[], &mut out).unwrap();
    assert!(out.is_empty());
}

#[test]
fn peer_closing_mid_body_is_an_error_for_the_handler() {
    let mut c = conn();
    let mut buf = BytesMut::from(
        &b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel"[..],
    );
    c.read_head(&mut buf).unwrap().unwrap();
    assert!(matches!(
        c.read_body(&mut buf),
        Ok(Some(BodyEvent::Data(_)))
    ));
    assert_eq!(c.read_body(&mut buf), Ok(None));
    assert_eq!(c.read_eof(), Err(Http1Error::IncompleteBody));
    assert!(c.should_close());
    assert!(!c.response_started());
}

#[test]
fn peer_half_close_after_a_complete_request_still_gets_its_response() {
    let mut c = conn();
    let mut buf = BytesMut::from(&b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"[..]);
    c.read_head(&mut buf).unwrap().unwrap();
    assert_eq!(c.read_body(&mut buf), Ok(Some(BodyEvent::End)));
    assert_eq!(c.read_eof(), Ok(None));
    assert!(!c.should_close(), "the response is still to be written");
    let out = respond(&mut c, b"bye", true);
    assert!(String::from_utf8(out)
        .unwrap()
        .contains("connection: close"));
    assert!(c.should_close());
}
