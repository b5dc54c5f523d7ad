//! The engine's TCP stream on async-io sends our FIN when the engine shuts its side down: the
//! close sequence (last bytes, FIN, then read until the peer's FIN) depends on it, and
//! async-io's own `poll_close` only flushes.

use h2_async::rt::{AsyncWrite, Runtime};
use h2_async_std::AsyncStd;
use std::io::Read;
use std::net::TcpListener;
use std::pin::Pin;
use std::time::Duration;

#[test]
fn shutdown_sends_fin_while_the_stream_is_still_open() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    async_std::task::block_on(async {
        let mut ours = AsyncStd::connect(addr).await.expect("connect");
        let (mut peer, _) = listener.accept().expect("accept");
        peer.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        std::future::poll_fn(|cx| Pin::new(&mut ours).poll_shutdown(cx))
            .await
            .expect("shutdown");
        // End of stream, with `ours` alive: it came from the shutdown, not from a close.
        let mut buf = [0u8; 16];
        assert_eq!(peer.read(&mut buf).expect("read"), 0);
        drop(ours);
    });
}
