//! HTTP/1.1 message heads (RFC 9112 §2–§5): parsing however the bytes arrive, and what the head
//! says about the connection (§9.3 persistence, RFC 9110 §10.1.1 expectations).

use bytes::BytesMut;
use h2core::http1::{parse_request, parse_response, Http1Error, Limits, RequestHead, Version};
use h2core::Header;

const REQUEST: &[u8] = b"POST /upload?x=1 HTTP/1.1\r\n\
Host: example.com\r\n\
User-Agent: test\r\n\
Content-Length: 5\r\n\
Expect: 100-continue\r\n\
\r\n\
hello";

fn request(text: &str) -> RequestHead {
    parse_request(&mut BytesMut::from(text.as_bytes()), &Limits::default())
        .unwrap()
        .unwrap()
}

#[test]
fn request_head_arriving_one_byte_at_a_time_parses_once_complete() {
    let head_len = REQUEST.len() - 5;
    let mut buf = BytesMut::new();
    for (i, &b) in REQUEST.iter().enumerate() {
        buf.extend_from_slice(&[b]);
        let parsed = parse_request(&mut buf, &Limits::default()).unwrap();
        if i + 1 < head_len {
            assert_eq!(parsed, None, "complete after {} bytes", i + 1);
            assert_eq!(buf.len(), i + 1, "a partial head must stay in the buffer");
            continue;
        }
        let head = parsed.unwrap();
        assert_eq!(head.method, "POST");
        assert_eq!(head.target, "/upload?x=1");
        assert_eq!(head.version, Version::Http11);
        assert_eq!(head.header("content-length").unwrap(), "5");
        assert!(head.expects_continue());
        assert!(buf.is_empty());
        return;
    }
    panic!("never parsed");
}

#[test]
fn response_head_arriving_one_byte_at_a_time_parses_once_complete() {
    let response = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok";
    let mut buf = BytesMut::new();
    let mut parsed = None;
    for &b in response.iter() {
        buf.extend_from_slice(&[b]);
        if let Some(head) = parse_response(&mut buf, &Limits::default()).unwrap() {
            parsed = Some(head);
            break;
        }
    }
    let head = parsed.unwrap();
    assert_eq!(head.status, 200);
    assert_eq!(
        head.headers,
        [
            Header::new("content-type", "text/plain"),
            Header::new("content-length", "2")
        ]
    );
    assert!(buf.is_empty(), "the body byte has not arrived yet");
}

#[test]
fn parsed_fields_share_the_receive_buffer() {
    let mut buf = BytesMut::from(REQUEST);
    let start = buf.as_ptr() as usize;
    let head = parse_request(&mut buf, &Limits::default())
        .unwrap()
        .unwrap();
    let host = head.header("host").unwrap();
    assert_eq!(
        host.as_ptr() as usize,
        start
            + REQUEST
                .windows(11)
                .position(|w| w == b"example.com")
                .unwrap()
    );
}

#[test]
fn pipelined_requests_are_parsed_in_order() {
    let mut buf = BytesMut::from(
        &b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\nGET /c HTTP/1.1\r\nHo"[..],
    );
    let limits = Limits::default();
    let a = parse_request(&mut buf, &limits).unwrap().unwrap();
    let b = parse_request(&mut buf, &limits).unwrap().unwrap();
    assert_eq!((&a.target[..], &b.target[..]), (&b"/a"[..], &b"/b"[..]));
    assert_eq!(parse_request(&mut buf, &limits), Ok(None));
    buf.extend_from_slice(b"st: x\r\n\r\n");
    assert_eq!(
        parse_request(&mut buf, &limits).unwrap().unwrap().target,
        "/c"
    );
}

#[test]
fn keep_alive_decisions() {
    for (text, persistent) in [
        ("GET / HTTP/1.1\r\nHost: x\r\n\r\n", true),
        (
            "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            false,
        ),
        (
            "GET / HTTP/1.1\r\nHost: x\r\nConnection: foo, CLOSE\r\n\r\n",
            false,
        ),
        ("GET / HTTP/1.0\r\n\r\n", false),
        ("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true),
        (
            "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n",
            false,
        ),
    ] {
        assert_eq!(request(text).keep_alive(), persistent, "{text:?}");
    }
    let response = |text: &str| {
        parse_response(&mut BytesMut::from(text.as_bytes()), &Limits::default())
            .unwrap()
            .unwrap()
            .keep_alive()
    };
    assert!(response("HTTP/1.1 200 OK\r\n\r\n"));
    assert!(!response("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"));
    assert!(!response("HTTP/1.0 200 OK\r\n\r\n"));
    assert!(response(
        "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\n\r\n"
    ));
}

#[test]
fn expect_100_continue_flag() {
    assert!(
        request("PUT / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n").expects_continue()
    );
    assert!(
        !request("PUT / HTTP/1.1\r\nHost: x\r\nExpect: something-else\r\n\r\n").expects_continue()
    );
    assert!(!request("PUT / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n").expects_continue());
}

#[test]
fn limits_answer_431_and_bad_syntax_400() {
    let tight = Limits {
        max_head_size: 64,
        max_headers: 3,
    };
    let mut endless = BytesMut::from(&b"GET / HTTP/1.1\r\nX: "[..]);
    endless.extend_from_slice(&[b'a'; 100]);
    let err = parse_request(&mut endless, &tight).unwrap_err();
    assert_eq!((err, err.status()), (Http1Error::HeadTooLarge, 431));

    let mut many = BytesMut::from(&b"GET / HTTP/1.1\r\na: 1\r\nb: 2\r\nc: 3\r\nd: 4\r\n"[..]);
    let err = parse_request(&mut many, &tight).unwrap_err();
    assert_eq!((err, err.status()), (Http1Error::TooManyHeaders, 431));

    for bad in [
        &b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n"[..],
        b"GET / HTTP/1.1\r\nX: a\x00b\r\n\r\n",
        b"G\x01T / HTTP/1.1\r\n\r\n",
        b"GET / HTTP/1.1\r\nX: a\r\n folded\r\n\r\n",
    ] {
        let err = parse_request(&mut BytesMut::from(bad), &Limits::default()).unwrap_err();
        assert_eq!(err.status(), 400, "{:?}", String::from_utf8_lossy(bad));
    }
}
