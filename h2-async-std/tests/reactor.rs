//! The sockets' reactor: one edge-triggered epoll for all of the adapter's TCP streams, its
//! descriptor watched by async-io. A task whose call would block is woken by the next event of
//! its own socket, and only of its own; a dropped socket leaves nothing behind. The stream
//! reads only when the socket may hold bytes, and still sees every byte the peer sends; its
//! shutdown sends our FIN (the close sequence depends on it: last bytes, FIN, then read until
//! the peer's FIN).
//!
//! Every wait is bounded: a wake that never comes fails the test instead of hanging it.

use h2_async::rt::{AsyncRead, AsyncWrite, ReadBuf, Runtime};
use h2_async_std::{AsyncStd, AsyncTcp, Smol};
use std::future::Future;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// Long enough for any wake on a loaded machine; a missed wake fails after it.
const GUARD: Duration = Duration::from_secs(20);

/// `fut`, or a failure after [`GUARD`].
async fn bounded<T>(what: &str, fut: impl Future<Output = T>) -> T {
    match async_std::future::timeout(GUARD, fut).await {
        Ok(t) => t,
        Err(_) => panic!("{what}: no wake within {GUARD:?}"),
    }
}

/// Our stream connected to a blocking peer socket (reads time out after [`GUARD`]).
async fn pair(listener: &TcpListener) -> (AsyncTcp, TcpStream) {
    let ours = AsyncStd::connect(listener.local_addr().expect("addr"))
        .await
        .expect("connect");
    let (peer, _) = listener.accept().expect("accept");
    peer.set_read_timeout(Some(GUARD)).expect("timeout");
    (ours, peer)
}

fn listener() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").expect("bind")
}

/// One read of up to 64 bytes, polled once: `None` if it would wait.
fn try_read(ours: &mut AsyncTcp) -> Option<io::Result<Vec<u8>>> {
    poll_read(ours, &mut Context::from_waker(Waker::noop()))
}

fn poll_read(ours: &mut AsyncTcp, cx: &mut Context<'_>) -> Option<io::Result<Vec<u8>>> {
    let mut buf = [0u8; 64];
    let mut read = ReadBuf::new(&mut buf);
    match Pin::new(ours).poll_read(cx, &mut read) {
        Poll::Ready(Ok(())) => Some(Ok(read.filled().to_vec())),
        Poll::Ready(Err(e)) => Some(Err(e)),
        Poll::Pending => None,
    }
}

/// One read of up to 64 bytes, waiting for the reactor.
async fn read(ours: &mut AsyncTcp) -> Vec<u8> {
    bounded(
        "read",
        std::future::poll_fn(|cx| match poll_read(ours, cx) {
            Some(result) => Poll::Ready(result),
            None => Poll::Pending,
        }),
    )
    .await
    .expect("read")
}

#[test]
fn a_read_that_would_block_is_woken_by_the_next_bytes() {
    let listener = listener();
    async_std::task::block_on(async {
        let (mut ours, mut peer) = pair(&listener).await;
        // Nothing queued: the read registers its waker and waits.
        assert!(try_read(&mut ours).is_none());
        let writer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            peer.write_all(b"late").expect("write");
            peer
        });
        assert_eq!(read(&mut ours).await, b"late");
        let mut peer = writer.join().expect("writer");
        // Nothing more: waiting again, and woken again.
        assert!(try_read(&mut ours).is_none());
        peer.write_all(b"again").expect("write");
        assert_eq!(read(&mut ours).await, b"again");
    });
}

#[test]
fn the_peers_close_is_delivered_as_end_of_stream_after_its_last_bytes() {
    let listener = listener();
    async_std::task::block_on(async {
        // Closed while our read waits.
        let (mut ours, peer) = pair(&listener).await;
        assert!(try_read(&mut ours).is_none());
        let closer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            drop(peer);
        });
        assert_eq!(read(&mut ours).await, b"");
        closer.join().expect("closer");
        // The end of the stream stays: a second read sees it without waiting.
        assert_eq!(read(&mut ours).await, b"");

        // Last bytes and the close in one go, after a short read emptied the queue.
        let (mut ours, mut peer) = pair(&listener).await;
        peer.write_all(b"first").expect("write");
        assert_eq!(read(&mut ours).await, b"first");
        peer.write_all(b"bye").expect("write");
        drop(peer);
        let mut got = read(&mut ours).await;
        if got.is_empty() {
            panic!("end of stream before the last bytes");
        }
        if got == b"bye" {
            got = read(&mut ours).await;
        }
        assert_eq!(got, b"");
    });
}

#[test]
fn many_sockets_each_woken_by_its_own_bytes() {
    const SOCKETS: usize = 200;
    let listener = listener();
    async_std::task::block_on(async {
        let mut peers = Vec::new();
        let mut readers = Vec::new();
        for i in 0..SOCKETS {
            let (mut ours, peer) = pair(&listener).await;
            peers.push(peer);
            readers.push(async_std::task::spawn(async move {
                let got = read(&mut ours).await;
                assert_eq!(got, format!("socket {i}").as_bytes());
                // No other socket's event woke this one into a read of bytes not its own.
                assert!(try_read(&mut ours).is_none());
                ours
            }));
        }
        // Every reader waits; then each peer writes, last one first.
        std::thread::sleep(Duration::from_millis(20));
        for (i, peer) in peers.iter_mut().enumerate().rev() {
            peer.write_all(format!("socket {i}").as_bytes())
                .expect("write");
        }
        for reader in readers {
            bounded("reader", reader).await;
        }
    });
}

#[test]
fn a_socket_dropped_while_waiting_leaves_its_place_to_the_next() {
    let listener = listener();
    async_std::task::block_on(async {
        let mut gone = Vec::new();
        for _ in 0..16 {
            let (mut ours, peer) = pair(&listener).await;
            // Registered, with a waker: then dropped before its event.
            assert!(try_read(&mut ours).is_none());
            drop(ours);
            gone.push(peer);
        }
        // Events for the dropped sockets: their peers write and close.
        for mut peer in gone {
            let _ = peer.write_all(b"to nobody");
            let mut rest = Vec::new();
            // Our side closed: the peer reads the end of stream (or a reset).
            let _ = peer.read_to_end(&mut rest);
            assert!(rest.is_empty());
        }
        // New sockets take the freed places; each sees its own bytes only.
        for i in 0..16 {
            let (mut ours, mut peer) = pair(&listener).await;
            assert!(try_read(&mut ours).is_none());
            peer.write_all(format!("new {i}").as_bytes())
                .expect("write");
            assert_eq!(read(&mut ours).await, format!("new {i}").as_bytes());
        }
    });
}

#[test]
fn a_write_to_a_full_send_buffer_is_woken_when_the_peer_reads() {
    let listener = listener();
    async_std::task::block_on(async {
        let (mut ours, mut peer) = pair(&listener).await;
        let chunk = vec![5u8; 64 * 1024];
        // Fill the send buffer and the peer's receive buffer; a few MiB on loopback.
        let mut sent = 0usize;
        let mut full = false;
        for _ in 0..100_000 {
            let mut cx = Context::from_waker(Waker::noop());
            match Pin::new(&mut ours).poll_write(&mut cx, &chunk) {
                Poll::Ready(Ok(n)) => sent += n,
                Poll::Ready(Err(e)) => panic!("write: {e}"),
                Poll::Pending => {
                    full = true;
                    break;
                }
            }
        }
        assert!(full, "the send buffer never filled ({sent} bytes)");
        // The peer reads everything we send, until our FIN.
        let reader = std::thread::spawn(move || {
            let mut total = 0usize;
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                match peer.read(&mut buf).expect("peer read") {
                    0 => return total,
                    n => {
                        assert!(buf[..n].iter().all(|&b| b == 5));
                        total += n;
                    }
                }
            }
        });
        // Woken as room frees up: another few buffers' worth goes out.
        let target = sent * 3;
        while sent < target {
            let n = bounded(
                "write",
                std::future::poll_fn(|cx| Pin::new(&mut ours).poll_write(cx, &chunk)),
            )
            .await
            .expect("write");
            sent += n;
        }
        std::future::poll_fn(|cx| Pin::new(&mut ours).poll_shutdown(cx))
            .await
            .expect("shutdown");
        assert_eq!(reader.join().expect("reader"), sent);
    });
}

#[test]
fn sockets_of_both_runtimes_share_the_reactor() {
    // Accepted on smol, connected on async-std: one reactor, whichever runtime came first.
    let addr: SocketAddr = "127.0.0.1:0".parse().expect("addr");
    smol::block_on(async {
        let listener = Smol::bind(addr).await.expect("bind");
        let addr = Smol::local_addr(&listener).expect("addr");
        let connect = async_std::task::spawn(AsyncStd::connect(addr));
        let (mut server, _) = bounded("accept", Smol::accept(&listener))
            .await
            .expect("accept");
        let mut client = bounded("connect", connect).await.expect("connect");
        std::future::poll_fn(|cx| Pin::new(&mut client).poll_write(cx, b"ping"))
            .await
            .expect("write");
        assert_eq!(read(&mut server).await, b"ping");
        std::future::poll_fn(|cx| Pin::new(&mut server).poll_write(cx, b"pong"))
            .await
            .expect("write");
        assert_eq!(read(&mut client).await, b"pong");
    });
}

#[test]
fn shutdown_sends_fin_while_the_stream_is_still_open() {
    let listener = listener();
    async_std::task::block_on(async {
        let (mut ours, mut peer) = pair(&listener).await;
        std::future::poll_fn(|cx| Pin::new(&mut ours).poll_shutdown(cx))
            .await
            .expect("shutdown");
        // End of stream, with `ours` alive: it came from the shutdown, not from a close.
        let mut buf = [0u8; 16];
        assert_eq!(peer.read(&mut buf).expect("read"), 0);
        drop(ours);
    });
}

#[test]
fn reads_after_a_short_read_see_every_later_byte() {
    let listener = listener();
    async_std::task::block_on(async {
        let (mut ours, mut peer) = pair(&listener).await;
        // Queued before the first read, which comes back short.
        peer.write_all(b"one").expect("write");
        assert_eq!(read(&mut ours).await, b"one");
        // Sent after a short read, before the next read waits for an event.
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
        // Right after a read that an event led to.
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
