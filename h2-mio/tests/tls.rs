//! TLS in process: the mio server with a rustls config (a self-signed certificate from
//! `h2_testkit::demo`) against our blocking client and against rustls's own blocking stream, for ALPN's two
//! choices, a refused ALPN (ours and the client's), and a client that never completes the handshake.

use bytes::Bytes;
mod common;

use common::Running;
use h2_mio::tls::{self, rustls};
use h2_mio::{Body, Client, Server};
use http::{Request, Response, StatusCode, Version};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

/// A read that takes longer than this fails the test instead of hanging it.
const READ_BOUND: Duration = Duration::from_secs(20);

fn self_signed() -> (Vec<u8>, Vec<u8>) {
    let pem = h2_testkit::demo::self_signed().expect("self-signed certificate");
    (pem.cert, pem.key)
}

fn handler(req: Request<Body>) -> Response<Body> {
    let body = match req.uri().path() {
        "/echo" => req.into_body(),
        "/scheme" => Body::from(req.uri().scheme_str().unwrap_or("none").to_owned()),
        _ => Body::from("hello\n"),
    };
    Response::new(body)
}

fn serve(tls: Arc<rustls::ServerConfig>, config: h2core::Config) -> Running {
    let server = Server::bind("127.0.0.1:0").expect("bind");
    let server = server.config(config).handler_threads(4).tls(tls);
    common::start(server, handler)
}

fn serve_pem() -> (Running, Vec<u8>) {
    let (cert, key) = self_signed();
    let config = tls::server_config_from_pem(&cert, &key).expect("server config");
    (serve(config, h2core::Config::server()), cert)
}

#[test]
fn client_over_tls_gets_http2_responses_after_alpn_h2() {
    let (server, _) = serve_pem();
    let client = Client::connect_tls(server.addr, "localhost", tls::insecure_client_config())
        .expect("connect_tls");
    let resp = client
        .send(
            Request::get("https://localhost/")
                .body(Body::empty())
                .unwrap(),
        )
        .expect("response");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.version(), Version::HTTP_2);
    assert_eq!(resp.into_body().bytes().expect("body"), "hello\n");
    // More than rustls's 64 KiB buffer each way: backpressure through TLS.
    let body = Bytes::from(
        (0..3_000_000u32)
            .map(|i| (i % 251) as u8)
            .collect::<Vec<u8>>(),
    );
    let resp = client
        .send(
            Request::post("https://localhost/echo")
                .body(Body::from(body.clone()))
                .unwrap(),
        )
        .expect("echo");
    assert_eq!(resp.into_body().bytes().expect("body"), body);
}

#[test]
fn client_trusting_the_servers_certificate_connects_by_name() {
    let (server, cert) = serve_pem();
    let config = tls::client_config_with_roots(&cert).expect("client config");
    let client = Client::connect_tls(server.addr, "localhost", config).expect("connect_tls");
    let resp = client
        .send(
            Request::get("https://localhost/")
                .body(Body::empty())
                .unwrap(),
        )
        .expect("response");
    assert_eq!(resp.into_body().bytes().expect("body"), "hello\n");
}

#[test]
fn client_fails_clearly_when_the_server_does_not_select_h2() {
    let (cert, key) = self_signed();
    let mut config = (*tls::server_config_from_pem(&cert, &key).expect("config")).clone();
    config.alpn_protocols = vec![tls::ALPN_HTTP11.to_vec()];
    let server = serve(Arc::new(config), h2core::Config::server());
    // Offering h2 only: rustls's server refuses the handshake (no_application_protocol).
    let err = Client::connect_tls(server.addr, "localhost", tls::insecure_client_config())
        .err()
        .expect("no h2, no client");
    assert!(err.to_string().contains("did not select h2"), "{err}");
    // Offering both: the server picks http/1.1, and the client refuses to go on.
    let mut both = (*tls::insecure_client_config()).clone();
    both.alpn_protocols = vec![tls::ALPN_H2.to_vec(), tls::ALPN_HTTP11.to_vec()];
    let err = Client::connect_tls(server.addr, "localhost", Arc::new(both))
        .err()
        .expect("no h2, no client");
    assert!(err.to_string().contains("did not select h2"), "{err}");
}

/// A blocking rustls client offering only `alpn`, over which `request` is written whole; returns
/// everything the server sent until it closed.
fn http11_over_tls(addr: SocketAddr, alpn: Option<&[u8]>, request: &[u8]) -> String {
    let mut config = (*tls::insecure_client_config()).clone();
    config.alpn_protocols = alpn.into_iter().map(<[u8]>::to_vec).collect();
    let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
    let session = rustls::ClientConnection::new(Arc::new(config), name).expect("session");
    let socket = TcpStream::connect(addr).expect("connect");
    socket.set_read_timeout(Some(READ_BOUND)).expect("timeout");
    let mut stream = rustls::StreamOwned::new(session, socket);
    stream.write_all(request).expect("write");
    let mut out = Vec::new();
    // The server closes (connection: close) after its response; close_notify ends the read.
    match stream.read_to_end(&mut out) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {}
        Err(e) => panic!("read: {e} after {:?}", String::from_utf8_lossy(&out)),
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn alpn_http11_and_no_alpn_are_served_http11_by_the_same_handler() {
    let (server, _) = serve_pem();
    let request = b"GET /scheme HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n";
    for alpn in [Some(tls::ALPN_HTTP11), None] {
        let out = http11_over_tls(server.addr, alpn, request);
        assert!(out.starts_with("HTTP/1.1 200"), "{alpn:?}: {out}");
        assert!(out.ends_with("https"), "{alpn:?}: {out}");
    }
}

#[test]
fn upgrade_h2c_over_tls_is_ignored() {
    // RFC 9113 §3.2: h2c is HTTP/2 over cleartext; over TLS only ALPN selects HTTP/2.
    let (server, _) = serve_pem();
    let settings = "AAMAAABkAAQCAAAAAAIAAAAA";
    let request = format!(
        "GET / HTTP/1.1\r\nhost: localhost\r\nconnection: Upgrade, HTTP2-Settings, close\r\n\
         upgrade: h2c\r\nhttp2-settings: {settings}\r\n\r\n"
    );
    let out = http11_over_tls(server.addr, Some(tls::ALPN_HTTP11), request.as_bytes());
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    assert!(out.ends_with("hello\n"), "{out}");
}

#[test]
fn a_handshake_that_fails_ends_with_the_servers_alert() {
    // RFC 7301 §3.2: no protocol in common is a no_application_protocol alert, which the
    // client must read before the connection closes (not a bare EOF).
    let (server, _) = serve_pem();
    let mut config = (*tls::insecure_client_config()).clone();
    config.alpn_protocols = vec![b"spdy/3".to_vec()];
    let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
    let mut session = rustls::ClientConnection::new(Arc::new(config), name).expect("session");
    let mut socket = TcpStream::connect(server.addr).expect("connect");
    socket.set_read_timeout(Some(READ_BOUND)).expect("timeout");
    let err = loop {
        if let Err(e) = session.complete_io(&mut socket) {
            break e;
        }
    };
    assert_alert(&err, rustls::AlertDescription::NoApplicationProtocol);
}

#[test]
fn a_corrupted_record_is_answered_with_an_alert_before_the_close() {
    // RFC 8446 §5.2: a record that fails to decrypt ends the session with bad_record_mac,
    // which the client reads before the connection closes, at once. The record comes with the
    // handshake's last flight, so the server fails while it still decides what to speak.
    let (server, _) = serve_pem();
    let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
    let config = tls::insecure_client_config();
    let mut session = rustls::ClientConnection::new(config, name).expect("session");
    let mut socket = TcpStream::connect(server.addr).expect("connect");
    socket.set_read_timeout(Some(READ_BOUND)).expect("timeout");
    let mut record = vec![0x17, 0x03, 0x03, 0x00, 0x40]; // application data, 64 bytes
    record.extend([0x5a; 0x40]);
    loop {
        if session.wants_write() {
            let mut out = Vec::new();
            session.write_tls(&mut out).expect("records");
            let done = !session.is_handshaking();
            if done {
                out.extend_from_slice(&record);
            }
            socket.write_all(&out).expect("write");
            if done {
                break;
            }
            continue;
        }
        session.read_tls(&mut socket).expect("read");
        session.process_new_packets().expect("handshake");
    }
    let err = loop {
        if let Err(e) = session.complete_io(&mut socket) {
            break e;
        }
        // Plaintext before the alert, if any, is taken, so rustls reads on.
        let mut plain = [0u8; 4096];
        match session.reader().read(&mut plain) {
            Ok(0) => panic!("close_notify instead of an alert"),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("{e} instead of an alert"),
        }
    };
    assert_alert(&err, rustls::AlertDescription::BadRecordMac);
    // Then our FIN, at once: not after the SETTINGS ACK timeout (10 s) and the flush grace,
    // with SETTINGS that cannot be sent (about 15 s). A read bound of 10 s tells them apart.
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    match socket.read_to_end(&mut Vec::new()) {
        Ok(_) => {}
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}"),
    }
}

/// Asserts that `err`, from a rustls client's I/O, is the server's alert `expected`.
fn assert_alert(err: &std::io::Error, expected: rustls::AlertDescription) {
    let alert = err
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>());
    assert!(
        matches!(alert, Some(rustls::Error::AlertReceived(a)) if *a == expected),
        "{err}, expected the alert {expected:?}"
    );
}

#[test]
fn a_client_that_never_completes_the_handshake_is_dropped_after_the_handshake_timeout() {
    let (cert, key) = self_signed();
    let mut config = h2core::Config::server();
    config.handshake_timeout = Duration::from_millis(200);
    let tls = tls::server_config_from_pem(&cert, &key).expect("config");
    let server = serve(tls, config);
    // Silent, and half a ClientHello: both closed by the server, not by our read bound.
    for first_bytes in [&b""[..], &[0x16, 0x03, 0x01, 0x00, 0xc8, 0x01][..]] {
        let mut socket = TcpStream::connect(server.addr).expect("connect");
        socket.set_read_timeout(Some(READ_BOUND)).expect("timeout");
        socket.write_all(first_bytes).expect("write");
        let mut buf = [0u8; 64];
        match socket.read(&mut buf) {
            Ok(n) => assert_eq!(n, 0, "the server sent {:?}", &buf[..n]),
            Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}"),
        }
    }
}
