//! Every HTTP/2 attack of SECURITY.md against a real `h2_async_std::Server` over TCP, on
//! async-std's executor: the tests are shared with every adapter in
//! `h2_testkit::socket_attacks`, listed by `h2_testkit::attack_tests!`; this file only starts
//! the server, which serves `socket_attacks::async_route`.

use h2_async_std::{AsyncStd, Server};
use h2_testkit::socket_attacks::{async_route, AttackCounters, AttackTarget};
use h2core::Config;
use std::sync::Arc;
use tokio::sync::oneshot;

h2_testkit::attack_tests!(start: start);

/// Serves the attack routes with `config` on 127.0.0.1 port 0, as a task on async-std's
/// executor, until the target is dropped (graceful shutdown).
fn start(config: Config) -> AttackTarget {
    let server = async_std::task::block_on(Server::bind("127.0.0.1:0")).expect("bind");
    let addr = server.local_addr().expect("local addr");
    let counters = Arc::new(AttackCounters::default());
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let server = server.config(config).with_graceful_shutdown(async {
        let _ = stop_rx.await;
    });
    let handler_counters = counters.clone();
    async_std::task::spawn(async move {
        let _ = server
            .serve(move |req| async_route::<AsyncStd>(handler_counters.clone(), req))
            .await;
    });
    AttackTarget::new(addr, counters, move || {
        let _ = stop_tx.send(());
    })
}
