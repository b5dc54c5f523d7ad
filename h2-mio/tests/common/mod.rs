//! A mio server on its own thread for the in-process tests (`mod common;` in each).

use h2_mio::server::ShutdownHandle;
use h2_mio::{Body, Server};
use http::{Request, Response};
use std::net::SocketAddr;

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

/// Runs `server` (bound, configured) with `handler` on a thread; it listens from `bind` on,
/// and its [`ShutdownHandle`] stops it when the returned value is dropped.
pub fn start<F>(server: Server, handler: F) -> Running
where
    F: Fn(Request<Body>) -> Response<Body> + Send + Sync + 'static,
{
    let addr = server.local_addr().expect("local addr");
    let shutdown = server.shutdown_handle();
    std::thread::spawn(move || server.serve(handler));
    Running { addr, shutdown }
}
