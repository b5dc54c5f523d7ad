//! A mio server on its own thread for the in-process tests (`mod common;` in each).

use h2_mio::server::ShutdownHandle;
use h2_mio::{Body, Server};
use http::{Request, Response};
use std::net::SocketAddr;
use std::sync::mpsc;
use std::time::Duration;

/// A running server; shut down when dropped.
pub struct Running {
    pub addr: SocketAddr,
    shutdown: ShutdownHandle,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.shutdown.shutdown();
    }
}

/// Runs `server` (bound, configured) with `handler` on a thread; returns once it listens, or
/// fails the test after `bound`.
pub fn start<F>(server: Server, handler: F, bound: Duration) -> Running
where
    F: Fn(Request<Body>) -> Response<Body> + Send + Sync + 'static,
{
    let addr = server.local_addr().expect("local addr");
    let (tx, rx) = mpsc::channel();
    let server = server.on_ready(move |h| {
        let _ = tx.send(h);
    });
    std::thread::spawn(move || server.serve(handler));
    let shutdown = rx.recv_timeout(bound).expect("server ready");
    Running { addr, shutdown }
}
