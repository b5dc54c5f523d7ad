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

/// A server on the core alone (no adapter of ours) over one accepted `socket`, for tests that
/// need a peer doing something our servers never do: `on_event` sees each of the core's events
/// and may act on the core (answer, refuse, send 1xx). Ends when the connection closes, or
/// after `bound`.
#[allow(dead_code)] // Not every test file uses it.
pub fn serve_core(
    mut socket: std::net::TcpStream,
    bound: std::time::Duration,
    mut on_event: impl FnMut(&mut h2core::Connection, h2core::Event),
) {
    use std::io::{ErrorKind, Read, Write};
    use std::time::{Duration, Instant};
    let mut conn = h2core::Connection::new(h2core::Config::server(), Instant::now());
    let (mut buf, mut out) = (bytes::BytesMut::new(), Vec::new());
    let mut chunk = [0u8; 16 * 1024];
    let deadline = Instant::now() + bound;
    let _ = socket.set_read_timeout(Some(Duration::from_millis(20)));
    while Instant::now() < deadline && !conn.is_closed() {
        out.clear();
        let _ = conn.poll_transmit(Instant::now(), &mut out);
        for b in &out {
            if socket.write_all(b).is_err() {
                return;
            }
        }
        match socket.read(&mut chunk) {
            Ok(0) => conn.handle_eof(Instant::now()),
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                let _ = conn.handle_input(Instant::now(), &mut buf);
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                conn.handle_timeout(Instant::now());
            }
            Err(_) => return,
        }
        while let Some(ev) = conn.poll_event() {
            on_event(&mut conn, ev);
        }
    }
}
