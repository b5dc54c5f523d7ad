//! Every HTTP/2 attack of SECURITY.md against a real `h2_tokio::Server` over TCP: the tests are
//! shared with every adapter in `h2_testkit::socket_attacks`, listed by
//! `h2_testkit::attack_tests!`; this file only starts the server, which serves
//! `socket_attacks::async_route`.

use h2_testkit::socket_attacks::{async_route, AttackCounters, AttackTarget};
use h2_tokio::{Server, Tokio};
use h2core::Config;
use std::sync::{mpsc, Arc};
use tokio::sync::oneshot;

h2_testkit::attack_tests!(start: start);

/// Serves the attack routes with `config` on 127.0.0.1 port 0, on a runtime of its own (two
/// workers) on its own thread, until the target is dropped (graceful shutdown).
fn start(config: Config) -> AttackTarget {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime for the server");
    let (ready_tx, ready_rx) = mpsc::channel();
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    std::thread::spawn(move || {
        rt.block_on(async move {
            let server = Server::bind("127.0.0.1:0")
                .await
                .expect("bind")
                .config(config)
                .with_graceful_shutdown(async {
                    let _ = stop_rx.await;
                });
            let addr = server.local_addr().expect("local addr");
            let counters = Arc::new(AttackCounters::default());
            let _ = ready_tx.send((addr, counters.clone()));
            let _ = server
                .serve(move |req| async_route::<Tokio>(counters.clone(), req))
                .await;
        });
    });
    let (addr, counters) = ready_rx.recv().expect("the server started");
    AttackTarget::new(addr, counters, move || {
        let _ = stop_tx.send(());
    })
}
