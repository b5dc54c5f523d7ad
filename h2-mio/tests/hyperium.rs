//! hyperium's `h2` (only a test peer, on its own tokio threads) against our blocking client
//! and our mio server: the halves of `h2_testkit::hyperium` that need no async runtime on our
//! side.

mod common;

use h2_mio::{Body, Client, Server};
use h2_testkit::demo::Route;
use h2_testkit::hyperium;
use http::{Request, Response};

/// The demo routes the hyperium client asks for: `/`, `/bytes/N` and `POST /echo`.
fn handler(req: Request<Body>) -> Response<Body> {
    let route = Route::of(req.method(), req.uri());
    let body = match route {
        Route::Echo => req.into_body(),
        Route::Bytes(n) => Body::chunks(n as u64, h2_testkit::demo::fill(n)),
        _ => Body::from(route.fixed_body().unwrap_or_default()),
    };
    route.response(body)
}

/// Our server on 127.0.0.1 port 0; shut down when the handle drops.
fn serve() -> common::Running {
    let server = Server::bind("127.0.0.1:0").expect("bind");
    common::start(server, handler)
}

#[test]
fn our_client_sends_fifty_concurrent_requests_to_hyperium_h2_server() {
    let addr = hyperium::spawn_hyperium_server();
    let client = Client::connect(addr).expect("connect");
    // Every request is started before any response is awaited: they share the connection.
    let pending: Vec<_> = hyperium::fifty_requests(addr)
        .into_iter()
        .map(|req| client.start(req.map(Body::from)).expect("start"))
        .collect();
    for (i, p) in pending.into_iter().enumerate() {
        let resp = p.wait().expect("response");
        let status = resp.status();
        hyperium::check_fifty(i, status, &resp.into_body().bytes().expect("body"));
    }
    // h2's server sets no concurrency limit: everything went over one connection.
    assert_eq!(client.connections(), 1);
}

#[test]
fn hyperium_h2_client_concurrent_requests_and_echo_against_our_server() {
    let server = serve();
    hyperium::wait_hyperium(hyperium::hyperium_client_checks(server.addr));
}
