//! The engine's TCP stream on async-io sends our FIN when the engine shuts its side down: the
//! close sequence (last bytes, FIN, then read until the peer's FIN) depends on it, and
//! async-io's own `poll_close` only flushes. It reads only when the socket may hold bytes,
//! and still sees every byte the peer sends.

use h2_async::rt::{AsyncRead, AsyncWrite, ReadBuf, Runtime};
use h2_async_std::{AsyncStd, AsyncTcp};
use std::io::{Read, Write};
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

/// One read of up to 64 bytes.
async fn read(ours: &mut AsyncTcp) -> Vec<u8> {
    let mut buf = [0u8; 64];
    std::future::poll_fn(|cx| {
        let mut read = ReadBuf::new(&mut buf);
        std::task::ready!(Pin::new(&mut *ours).poll_read(cx, &mut read))?;
        std::task::Poll::Ready(Ok::<_, std::io::Error>(read.filled().to_vec()))
    })
    .await
    .expect("read")
}

#[test]
fn reads_after_a_short_read_see_every_later_byte() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    async_std::task::block_on(async {
        let mut ours = AsyncStd::connect(addr).await.expect("connect");
        let (mut peer, _) = listener.accept().expect("accept");
        // Queued before the first read, which comes back short.
        peer.write_all(b"one").expect("write");
        assert_eq!(read(&mut ours).await, b"one");
        // Sent after a short read, before the next read asks for readiness.
        peer.write_all(b"two").expect("write");
        assert_eq!(read(&mut ours).await, b"two");
        // Sent while the read waits for the reactor.
        let peer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            peer.write_all(b"three").expect("write");
            peer
        });
        assert_eq!(read(&mut ours).await, b"three");
        let mut peer = peer.join().expect("writer");
        // After a read the reactor's event led to, whose event async-io still holds.
        peer.write_all(b"four").expect("write");
        assert_eq!(read(&mut ours).await, b"four");
        // A read that fills the buffer leaves the rest to the next one.
        peer.write_all(&[7; 100]).expect("write");
        let mut got = read(&mut ours).await;
        while got.len() < 100 {
            got.extend(read(&mut ours).await);
        }
        assert_eq!(got, [7; 100]);
        // The end of the stream, after a short read.
        drop(peer);
        assert_eq!(read(&mut ours).await, b"");
    });
}
