//! Every HTTP/2 attack of SECURITY.md against a real `h2_mio::Server` over TCP: the tests are
//! shared with every adapter in `h2_testkit::socket_attacks`, listed by
//! `h2_testkit::attack_tests!`; this file only starts the server (its event loop on a thread).

mod common;

use bytes::Bytes;
use h2_mio::{Body, Server};
use h2_testkit::socket_attacks::{AttackCounters, AttackRoute, AttackTarget, HELLO};
use h2core::Config;
use http::{Request, Response};
use std::sync::Arc;
use std::time::Duration;

// Each ignored test is an h2-mio bug or limitation found by the shared list, to be fixed in
// h2-mio (the test is kept as it is for every adapter).
h2_testkit::attack_tests!(
    start: start,
    ignore: {
        cve_2019_9511_data_dribble_gets_frames_as_small_as_its_windows_and_nothing_queues:
            "h2-mio: BodySender queues 256 KiB a stream before it blocks, so 50 streams with \
             1-octet windows hold 14,400 KiB of produced body (the check allows 6,400 KiB, \
             8 chunks a stream)",
        cve_2019_9512_ping_flood_from_a_peer_that_does_not_read_is_enhance_your_calm:
            "h2-mio: one 64 KiB read (3,855 PINGs) is fed to the core whole, so the limit is \
             reached before the socket buffers are full: GOAWAY ENHANCE_YOUR_CALM after exactly \
             1,024 ACKs (the check wants more; passes now and then when a read is short)",
        cve_2019_9512_many_pings_from_a_peer_that_reads_are_all_answered:
            "h2-mio: one 64 KiB read is fed to the core whole, so 2,000 PINGs in one write are \
             more than max_pending_control_frames (1,024) before any ACK is written: GOAWAY \
             ENHANCE_YOUR_CALM after 1,024 ACKs",
        window_update_overflow_on_a_stream_resets_it_and_the_connection_goes_on:
            "h2-mio: handlers get the request body collected, so POST /echo with its body \
             still open is never answered (no response HEADERS within 10 s) and the test \
             cannot reach its WINDOW_UPDATE",
    },
);

/// Serves the attack routes with `config` on 127.0.0.1 port 0, the event loop on a thread of
/// its own, until the target is dropped (graceful shutdown).
fn start(config: Config) -> AttackTarget {
    let server = Server::bind("127.0.0.1:0").expect("bind").config(config);
    let counters = Arc::new(AttackCounters::default());
    let handler_counters = counters.clone();
    let running = common::start(
        server,
        move |req| route(&handler_counters, req),
        Duration::from_secs(10),
    );
    AttackTarget::new(running.addr, counters, move || drop(running))
}

/// `/` → `hello\n`; `/bytes/N` → N bytes from a thread, as the server takes them (`send`
/// blocks while 256 KiB wait); `/echo` → the request body (handed to the handler whole).
fn route(counters: &Arc<AttackCounters>, req: Request<Bytes>) -> Response<Body> {
    match counters.request(req.uri().path()) {
        AttackRoute::Hello => Response::new(Body::from(HELLO)),
        AttackRoute::Echo => Response::new(Body::from(req.into_body())),
        AttackRoute::Bytes(n) => {
            let (tx, body) = Body::channel();
            let mut producer = counters.producer(n);
            std::thread::spawn(move || {
                while let Some(chunk) = producer.next_chunk() {
                    if tx.send(chunk).is_err() {
                        return producer.cut();
                    }
                }
            });
            Response::new(body)
        }
    }
}
