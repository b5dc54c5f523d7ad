//! HTTP/1.1 meets HTTP/2: the request as an HTTP/2 field list for the shared handler
//! (RFC 9113 §8.2.2, §8.3.1), the response back (§8.3.2), and `Upgrade: h2c` (RFC 7540 §3.2).

use bytes::{Bytes, BytesMut};
use h2core::http1::{
    encode_h2c_upgrade_request, parse_request, response_head_from_h2, BodyKind, H2cUpgrade, Limits,
    RequestHead, ServerConn, SWITCHING_PROTOCOLS,
};
use h2core::Header;

fn request(text: &str) -> RequestHead {
    parse_request(&mut BytesMut::from(text.as_bytes()), &Limits::default())
        .unwrap()
        .unwrap()
}

fn names(headers: &[Header]) -> Vec<String> {
    headers
        .iter()
        .map(|h| String::from_utf8(h.name.to_vec()).unwrap())
        .collect()
}

/// `AAMAAABkAAQAAP__` is SETTINGS_MAX_CONCURRENT_STREAMS = 100, SETTINGS_INITIAL_WINDOW_SIZE =
/// 65535 (curl sends this shape).
const SETTINGS_B64: &str = "AAMAAABkAAQAAP__";
const SETTINGS: [u8; 12] = [0, 3, 0, 0, 0, 100, 0, 4, 0, 0, 0xff, 0xff];

fn upgrade_request(extra: &str) -> String {
    format!("GET / HTTP/1.1\r\nHost: a\r\n{extra}\r\n")
}

#[test]
fn to_h2_headers_maps_host_and_strips_hop_by_hop_fields() {
    let head = request(
        "POST /submit?x=1 HTTP/1.1\r\n\
         Host: example.com:8080\r\n\
         Connection: keep-alive, X-Private, Upgrade, HTTP2-Settings\r\n\
         Keep-Alive: timeout=5\r\n\
         Proxy-Connection: keep-alive\r\n\
         Transfer-Encoding: chunked\r\n\
         Upgrade: h2c\r\n\
         HTTP2-Settings: AAMAAABkAAQAAP__\r\n\
         TE: gzip\r\n\
         X-Private: secret\r\n\
         Content-Type: text/plain\r\n\
         Cookie: a=1\r\n\
         \r\n",
    );
    let h2 = head.to_h2_headers("http").unwrap();
    assert_eq!(
        &h2[..4],
        [
            Header::new(":method", "POST"),
            Header::new(":scheme", "http"),
            Header::new(":authority", "example.com:8080"),
            Header::new(":path", "/submit?x=1"),
        ]
    );
    assert_eq!(names(&h2[4..]), ["content-type", "cookie"]);
}

#[test]
fn te_trailers_is_kept_for_h2() {
    let head = request("GET / HTTP/1.1\r\nHost: a\r\nTE: trailers\r\n\r\n");
    let h2 = head.to_h2_headers("https").unwrap();
    assert_eq!(h2[1], Header::new(":scheme", "https"));
    assert_eq!(h2.last(), Some(&Header::new("te", "trailers")));
}

#[test]
fn http11_without_host_is_400() {
    let err = request("GET / HTTP/1.1\r\n\r\n")
        .to_h2_headers("http")
        .unwrap_err();
    assert_eq!(err.status(), 400);
}

#[test]
fn response_from_h2_becomes_an_http1_head() {
    let h2 = [
        Header::new(":status", "201"),
        Header::new("location", "/new"),
        Header::new("content-length", "0"),
    ];
    let (status, headers) = response_head_from_h2(&h2).unwrap();
    assert_eq!(status, 201);
    let mut c = ServerConn::new(Limits::default());
    let mut buf = BytesMut::from(&b"PUT /x HTTP/1.1\r\nHost: a\r\n\r\n"[..]);
    c.read_head(&mut buf).unwrap().unwrap();
    let mut out = BytesMut::new();
    c.write_response_head(status, None, &headers, None, &mut out)
        .unwrap();
    assert_eq!(
        &out[..],
        b"HTTP/1.1 201 Created\r\nlocation: /new\r\ncontent-length: 0\r\n\r\n"
    );
}

#[test]
fn h2c_upgrade_is_detected() {
    let head = request(&upgrade_request(&format!(
        "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: {SETTINGS_B64}\r\n"
    )));
    assert_eq!(
        head.h2c_upgrade(),
        Some(H2cUpgrade {
            settings_payload: Bytes::copy_from_slice(&SETTINGS)
        })
    );
}

#[test]
fn h2c_upgrade_tokens_are_case_insensitive_lists() {
    let head = request(&upgrade_request(&format!(
        "connection: keep-alive\r\nConnection: UPGRADE , http2-settings\r\nUpgrade: websocket, H2C\r\nHttp2-Settings: {SETTINGS_B64}\r\n"
    )));
    assert!(head.h2c_upgrade().is_some());
}

#[test]
fn h2c_upgrade_tolerates_padding_and_empty_settings() {
    let head = request(&upgrade_request(
        "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABk\r\n",
    ));
    assert_eq!(
        head.h2c_upgrade().unwrap().settings_payload,
        Bytes::from_static(&[0, 3, 0, 0, 0, 100])
    );
    let empty = request(&upgrade_request(
        "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings:\r\n",
    ));
    assert_eq!(empty.h2c_upgrade().unwrap().settings_payload, Bytes::new());
}

#[test]
fn h2c_upgrade_negative_cases() {
    let good_settings = format!("HTTP2-Settings: {SETTINGS_B64}\r\n");
    for (why, extra) in [
        (
            "missing HTTP2-Settings",
            "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n".to_owned(),
        ),
        (
            "two HTTP2-Settings",
            format!("Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n{good_settings}{good_settings}"),
        ),
        (
            "bad base64",
            "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: !!!!\r\n".to_owned(),
        ),
        (
            "standard alphabet",
            "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP//\r\n".to_owned(),
        ),
        (
            "not whole settings",
            "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMA\r\n".to_owned(),
        ),
        (
            "no Connection tokens",
            format!("Upgrade: h2c\r\n{good_settings}"),
        ),
        (
            "Connection without HTTP2-Settings",
            format!("Connection: Upgrade\r\nUpgrade: h2c\r\n{good_settings}"),
        ),
        (
            "Connection without Upgrade",
            format!("Connection: HTTP2-Settings\r\nUpgrade: h2c\r\n{good_settings}"),
        ),
        (
            "upgrade to something else",
            format!("Connection: Upgrade, HTTP2-Settings\r\nUpgrade: websocket\r\n{good_settings}"),
        ),
        (
            "h2 (TLS) is not h2c",
            format!("Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2\r\n{good_settings}"),
        ),
    ] {
        assert_eq!(request(&upgrade_request(&extra)).h2c_upgrade(), None, "{why}");
    }
    let http10 = request(&format!(
        "GET / HTTP/1.0\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n{good_settings}\r\n"
    ));
    assert_eq!(http10.h2c_upgrade(), None, "HTTP/1.0 Upgrade is ignored");
}

#[test]
fn client_upgrade_request_is_accepted_by_our_server_side() {
    let mut wire = BytesMut::new();
    encode_h2c_upgrade_request(
        "GET",
        "/",
        &[
            Header::new("host", "a"),
            Header::new("connection", "keep-alive"),
        ],
        &SETTINGS,
        BodyKind::Empty,
        &mut wire,
    )
    .unwrap();
    let text = String::from_utf8(wire.to_vec()).unwrap();
    assert_eq!(
        text,
        format!(
            "GET / HTTP/1.1\r\nhost: a\r\nconnection: Upgrade, HTTP2-Settings\r\nupgrade: h2c\r\nhttp2-settings: {SETTINGS_B64}\r\n\r\n"
        )
    );
    // The client preface follows the upgrade request at once; it stays in the buffer for the
    // HTTP/2 connection.
    wire.extend_from_slice(h2core::preface::PREFACE);
    let mut c = ServerConn::new(Limits::default());
    let req = c.read_head(&mut wire).unwrap().unwrap();
    assert_eq!(
        req.head.h2c_upgrade().unwrap().settings_payload,
        Bytes::copy_from_slice(&SETTINGS)
    );
    assert_eq!(
        c.read_body(&mut wire),
        Ok(Some(h2core::http1::BodyEvent::End))
    );
    assert_eq!(&wire[..], &h2core::preface::PREFACE[..]);
    assert!(SWITCHING_PROTOCOLS.starts_with(b"HTTP/1.1 101 "));
}
