//! Every HTTP/2 attack of SECURITY.md against a real `h2_mio::Server` over TCP: the tests are
//! shared with every adapter in `h2_testkit::socket_attacks`, listed by
//! `h2_testkit::attack_tests!`; this file only starts the server (its event loop on a thread).

mod common;

use h2_mio::{Body, Server};
use h2_testkit::socket_attacks::{AttackCounters, AttackRoute, AttackTarget, HELLO};
use h2core::Config;
use http::{Request, Response};
use std::sync::Arc;

h2_testkit::attack_tests!(start: start);

/// Serves the attack routes with `config` on 127.0.0.1 port 0, the event loop on a thread of
/// its own, until the target is dropped (graceful shutdown).
fn start(config: Config) -> AttackTarget {
    let server = Server::bind("127.0.0.1:0").expect("bind").config(config);
    let counters = Arc::new(AttackCounters::default());
    let handler_counters = counters.clone();
    let running = common::start(server, move |req| route(&handler_counters, req));
    AttackTarget::new(running.addr, counters, move || drop(running))
}

/// `/` → `hello\n`; `/bytes/N` → N bytes from a thread, as the server takes them
/// (`send_data` blocks while 64 KiB wait); `/echo` → the request body, streamed back as it
/// arrives.
fn route(counters: &Arc<AttackCounters>, req: Request<Body>) -> Response<Body> {
    match counters.request(req.uri().path()) {
        AttackRoute::Hello => Response::new(Body::from(HELLO)),
        AttackRoute::Echo => Response::new(req.into_body()),
        AttackRoute::Bytes(n) => {
            let (mut tx, body) = Body::channel();
            let mut producer = counters.producer(n);
            std::thread::spawn(move || {
                while let Some(chunk) = producer.next_chunk() {
                    if tx.send_data(chunk).is_err() {
                        return producer.cut();
                    }
                }
            });
            Response::new(body)
        }
    }
}
