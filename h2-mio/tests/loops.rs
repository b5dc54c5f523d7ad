//! The server's threads: several event loops, the first dealing accepted connections to all
//! of them in turn, each serving its own; handlers may run on the loop's own thread (`handler_threads(0)`),
//! where a call that would wait for the loop fails at once instead of hanging it. Real TCP on
//! 127.0.0.1; every wait bounded.

mod common;

use bytes::Bytes;
use h2_mio::{Body, Client, Server, StreamHandle};
use http::{Request, Response, StatusCode};
use std::sync::{Arc, Mutex};

/// The name of the thread a request was answered on.
fn thread_name() -> String {
    std::thread::current().name().unwrap_or("?").to_owned()
}

#[test]
fn two_loops_take_connections_in_turn_and_answer_on_their_own_threads() {
    let server = Server::bind("127.0.0.1:0")
        .expect("bind")
        .event_loops(2)
        .handler_threads(0);
    let running = common::start(server, |req: Request<Body>| {
        // On the loop's thread: the echo is the request body itself, nothing blocks.
        let name = thread_name();
        let mut response = Response::new(req.into_body());
        response.headers_mut().insert(
            "x-thread",
            http::HeaderValue::from_str(&name).expect("name"),
        );
        response
    });
    let addr = running.addr;
    // The first loop deals connections round-robin: they alternate between the two.
    let mut threads = Vec::new();
    for i in 0..4 {
        let client = Client::connect(addr).expect("connect");
        let body = Bytes::from(format!("echo {i}"));
        let req = Request::post(format!("http://{addr}/echo"))
            .body(Body::from(body.clone()))
            .expect("request");
        let response = client.send(req).expect("send");
        assert_eq!(response.status(), StatusCode::OK);
        threads.push(response.headers()["x-thread"].to_str().unwrap().to_owned());
        assert_eq!(response.into_body().bytes().expect("body"), body);
        client.close();
    }
    assert_ne!(threads[0], threads[1], "{threads:?}");
    assert_eq!(threads[0], threads[2], "{threads:?}");
    assert_eq!(threads[1], threads[3], "{threads:?}");
    // The handler ran on the loops themselves, never on a handler thread.
    assert!(
        threads.iter().all(|t| !t.contains("handler")),
        "{threads:?}"
    );
}

#[test]
fn a_handler_on_the_loop_cannot_wait_for_it_and_is_told_so() {
    let outcome: Arc<Mutex<Option<String>>> = Arc::default();
    let seen = outcome.clone();
    let server = Server::bind("127.0.0.1:0")
        .expect("bind")
        .event_loops(1)
        .handler_threads(0);
    let running = common::start(server, move |req: Request<Body>| {
        let handle = StreamHandle::of(&req).expect("handle");
        let promised = Request::get("http://localhost/pushed").body(()).unwrap();
        // A push waits for the loop's answer: on the loop's own thread it fails at once.
        let pushed = handle.push(promised, Response::new(Body::empty()));
        *seen.lock().unwrap() = Some(format!("{pushed:?}"));
        Response::new(Body::from("answered"))
    });
    let client = Client::connect(running.addr).expect("connect");
    let response = client
        .send(
            Request::get(format!("http://{}/", running.addr))
                .body(Body::empty())
                .unwrap(),
        )
        .expect("send");
    assert_eq!(response.into_body().bytes().expect("body"), "answered");
    let outcome = outcome.lock().unwrap().clone().expect("the handler ran");
    assert!(outcome.contains("event loop"), "{outcome}");
    client.close();
}

#[test]
fn http1_is_answered_on_the_loop_too() {
    let server = Server::bind("127.0.0.1:0")
        .expect("bind")
        .event_loops(2)
        .handler_threads(0);
    let running = common::start(server, |req: Request<Body>| {
        Response::new(Body::from(format!("{} on a loop", req.uri().path())))
    });
    let answer = h2_testkit::api::http1_exchange(
        running.addr,
        "GET /plain HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("/plain on a loop"), "{answer}");
}

#[test]
fn shutdown_stops_every_loop() {
    let server = Server::bind("127.0.0.1:0").expect("bind").event_loops(3);
    let addr = server.local_addr().expect("addr");
    let stop = server.shutdown_handle();
    let serving = std::thread::spawn(move || {
        server.serve(|_req: Request<Body>| Response::new(Body::from("hi")))
    });
    let client = Client::connect(addr).expect("connect");
    let response = client
        .send(
            Request::get(format!("http://{addr}/"))
                .body(Body::empty())
                .unwrap(),
        )
        .expect("send");
    assert_eq!(response.into_body().bytes().expect("body"), "hi");
    client.close();
    stop.shutdown();
    serving.join().expect("serve thread").expect("serve");
    // Every loop's copy of the listener is closed: the port refuses.
    assert!(std::net::TcpStream::connect(addr).is_err());
}
