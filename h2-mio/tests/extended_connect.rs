//! Extended CONNECT (RFC 8441) on the blocking adapter: a server that enables it hands the
//! stream to its handler as a blocking `Read + Write`, and our client opens one and uses its
//! stream the same way.

mod common;

use h2_mio::{Body, Client, Error, Protocol, Server, Upgraded};
use http::{Method, Request, Response};
use std::io::{Read, Write};

fn extended_connect(addr: std::net::SocketAddr, body: Body) -> Request<Body> {
    let mut req = Request::builder()
        .method(Method::CONNECT)
        .uri(format!("http://{addr}/echo"))
        .body(body)
        .expect("request");
    req.extensions_mut().insert(Protocol::from_static("echo"));
    req
}

#[test]
fn extended_connect_stream_echoes_a_mebibyte_then_both_sides_end() {
    let server = Server::bind("127.0.0.1:0")
        .expect("bind")
        .enable_connect_protocol();
    let running = common::start(server, |req: Request<Body>| {
        assert_eq!(req.method(), Method::CONNECT);
        assert_eq!(
            req.extensions().get::<Protocol>().map(Protocol::as_str),
            Some("echo")
        );
        let (tx, body) = Body::channel();
        let mut tunnel = Upgraded::new(req.into_body(), tx);
        std::thread::spawn(move || {
            // Echo until the client ends its side, then end ours (END_STREAM).
            let mut buf = [0; 8192];
            while let Ok(n @ 1..) = tunnel.read(&mut buf) {
                if tunnel.write_all(&buf[..n]).is_err() {
                    return;
                }
            }
            tunnel.shutdown();
        });
        Response::new(body)
    });
    let client = Client::connect(running.addr).expect("connect");
    let (tx, body) = Body::channel();
    let response = client
        .send(extended_connect(running.addr, body))
        .expect("response");
    assert_eq!(response.status(), 200);
    let mut tunnel = Upgraded::new(response.into_body(), tx);
    // More than the initial windows: received bytes must go back to flow control as read.
    let chunk: Vec<u8> = (0..16384u32).map(|i| i as u8).collect();
    for _ in 0..64 {
        tunnel.write_all(&chunk).expect("write");
        let mut back = vec![0; chunk.len()];
        tunnel.read_exact(&mut back).expect("read");
        assert_eq!(back, chunk);
    }
    tunnel.shutdown();
    let mut rest = Vec::new();
    tunnel
        .read_to_end(&mut rest)
        .expect("the server ends its side");
    assert!(rest.is_empty());
    client.close();
}

#[test]
fn extended_connect_without_the_servers_setting_fails_typed() {
    let server = Server::bind("127.0.0.1:0").expect("bind");
    let running = common::start(server, |_req: Request<Body>| Response::new(Body::empty()));
    let client = Client::connect(running.addr).expect("connect");
    let (_tx, body) = Body::channel();
    let err = client
        .send(extended_connect(running.addr, body))
        .expect_err("refused");
    assert!(
        matches!(err, Error::User(h2core::UserError::ExtendedConnectDisabled)),
        "{err:?}"
    );
    client.close();
}
