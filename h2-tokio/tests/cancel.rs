//! Cancellation reaches the wire (RFC 9113 §8.1, §5.4.2): a client that drops a response (its
//! body, or the `send` future before the head) resets the stream with CANCEL; a stream the peer
//! resets drops its handler; `BodySender::abort(reason)` resets with that reason. Real TCP on
//! 127.0.0.1 port 0, the peer either ours, hyperium's h2 or raw frames (h2-testkit's DSL);
//! every wait is bounded, nothing asserts on timing.

use bytes::{Bytes, BytesMut};
use h2_testkit::dsl::{encode_frames, PeerFrame as P};
use h2_tokio::{Body, Client, Server};
use h2core::{Config, Reason};
use http::{Request, Response};
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::timeout;

/// How long the other side may take to see what we did (a loaded machine, a debug build).
const PROMPTLY: Duration = Duration::from_secs(10);

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const HEADERS: u8 = 0x1;
const RST_STREAM: u8 = 0x3;

async fn within<F: Future>(what: &str, f: F) -> F::Output {
    timeout(PROMPTLY, f)
        .await
        .unwrap_or_else(|_| panic!("{what}: not within {PROMPTLY:?}"))
}

/// A frame as it came off the wire.
#[derive(Debug)]
struct Frame {
    kind: u8,
    stream: u32,
    payload: Bytes,
}

/// One end of a connection speaking raw frames.
struct Raw {
    s: TcpStream,
    buf: BytesMut,
}

impl Raw {
    /// A client: preface, empty SETTINGS, and the ACK of the server's.
    async fn client(addr: SocketAddr) -> Raw {
        let mut raw = Raw {
            s: TcpStream::connect(addr).await.expect("connect"),
            buf: BytesMut::new(),
        };
        raw.send(&[P::Preface, P::settings(vec![]), P::SettingsAck])
            .await;
        raw
    }

    /// A server: takes the client's preface, sends SETTINGS and the ACK of the client's.
    async fn server(listener: &TcpListener) -> Raw {
        let (s, _) = within("accept", listener.accept()).await.expect("accept");
        let mut raw = Raw {
            s,
            buf: BytesMut::new(),
        };
        while raw.buf.len() < PREFACE.len() {
            raw.read_more().await;
        }
        assert_eq!(&raw.buf[..PREFACE.len()], PREFACE);
        let _ = raw.buf.split_to(PREFACE.len());
        raw.send(&[P::settings(vec![]), P::SettingsAck]).await;
        raw
    }

    async fn send(&mut self, frames: &[P]) {
        self.s
            .write_all(&encode_frames(frames))
            .await
            .expect("write");
    }

    async fn read_more(&mut self) {
        let n = within("read", self.s.read_buf(&mut self.buf))
            .await
            .expect("read");
        assert!(n > 0, "the peer closed the connection");
    }

    /// The next frame of type `kind`, skipping others.
    async fn next(&mut self, kind: u8) -> Frame {
        loop {
            while self.buf.len() >= 9 {
                let len = u32::from_be_bytes([0, self.buf[0], self.buf[1], self.buf[2]]) as usize;
                if self.buf.len() < 9 + len {
                    break;
                }
                let head = self.buf.split_to(9);
                let payload = self.buf.split_to(len).freeze();
                let stream = u32::from_be_bytes([head[5], head[6], head[7], head[8]]) & !(1 << 31);
                if head[3] == kind {
                    return Frame {
                        kind,
                        stream,
                        payload,
                    };
                }
            }
            self.read_more().await;
        }
    }

    /// The next RST_STREAM: its stream and error code.
    async fn rst(&mut self) -> (u32, Reason) {
        let f = self.next(RST_STREAM).await;
        assert_eq!(f.kind, RST_STREAM);
        let code = u32::from_be_bytes(f.payload[..4].try_into().expect("code"));
        (f.stream, Reason(code))
    }
}

/// Our server on port 0 with `handler`.
async fn our_server<F, Fut>(handler: F) -> SocketAddr
where
    F: Fn(Request<Body>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    let server = Server::bind("127.0.0.1:0").await.expect("bind");
    let addr = server.local_addr().expect("addr");
    tokio::spawn(server.serve(handler));
    addr
}

fn get(addr: SocketAddr, path: &str) -> Request<Body> {
    Request::get(format!("http://{addr}{path}"))
        .body(Body::empty())
        .expect("request")
}

/// Reads about 100 KB of `body`, then drops it.
async fn read_some_then_drop(mut body: Body) {
    let mut read = 0;
    while read < 100_000 {
        let chunk = within("body data", body.data())
            .await
            .expect("more data")
            .expect("data");
        read += chunk.len();
    }
}

#[tokio::test]
async fn dropping_a_response_body_midway_cancels_the_stream_and_the_handlers_sender_fails() {
    let (failed_tx, mut failed) = mpsc::unbounded_channel();
    let addr = our_server(move |_req| {
        let failed_tx = failed_tx.clone();
        async move {
            let (mut tx, body) = Body::channel();
            tokio::spawn(async move {
                // Endless: only the client's CANCEL stops it.
                let chunk = Bytes::from(vec![b'x'; 16 * 1024]);
                loop {
                    if let Err(e) = tx.send_data(chunk.clone()).await {
                        let _ = failed_tx.send(e.to_string());
                        return;
                    }
                }
            });
            Response::new(body)
        }
    })
    .await;
    let client = Client::connect(addr).await.expect("connect");
    let resp = within("response head", client.send(get(addr, "/endless")))
        .await
        .expect("response");
    read_some_then_drop(resp.into_body()).await;
    within("the handler's send_data failing", failed.recv())
        .await
        .expect("the handler reports");
}

#[tokio::test]
async fn dropping_a_response_body_midway_sends_cancel_to_hyperiums_server() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (reset_tx, mut reset) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let (socket, _) = listener.accept().await.expect("accept");
        let mut conn = h2::server::handshake(socket).await.expect("h2 handshake");
        let (_req, mut respond) = conn.accept().await.expect("a request").expect("request");
        tokio::spawn(async move { while conn.accept().await.is_some() {} });
        let mut send = respond
            .send_response(Response::new(()), false)
            .expect("head");
        // More than the client reads; hyperium buffers what the window does not allow yet.
        for _ in 0..64 {
            send.send_data(Bytes::from(vec![b'y'; 16 * 1024]), false)
                .expect("queued");
        }
        let reason = std::future::poll_fn(|cx| send.poll_reset(cx)).await;
        let _ = reset_tx.send(reason.expect("a reset"));
    });
    let client = Client::connect(addr).await.expect("connect");
    let resp = within("response head", client.send(get(addr, "/")))
        .await
        .expect("response");
    read_some_then_drop(resp.into_body()).await;
    let reason = within("hyperium seeing the reset", reset.recv())
        .await
        .expect("reported");
    assert_eq!(reason, h2::Reason::CANCEL);
}

/// Sends on drop: the handler's future is gone.
struct DropGuard(mpsc::UnboundedSender<()>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        let _ = self.0.send(());
    }
}

#[tokio::test]
async fn a_stream_the_peer_resets_drops_its_waiting_handler() {
    let (started_tx, mut started) = mpsc::unbounded_channel();
    let (dropped_tx, mut dropped) = mpsc::unbounded_channel();
    let addr = our_server(move |_req| {
        let guard = DropGuard(dropped_tx.clone());
        let started_tx = started_tx.clone();
        async move {
            let _guard = guard;
            let _ = started_tx.send(());
            std::future::pending::<()>().await;
            Response::new(Body::empty())
        }
    })
    .await;
    let mut raw = Raw::client(addr).await;
    raw.send(&[P::get(1, "/forever").eos()]).await;
    within("the handler starting", started.recv())
        .await
        .expect("started");
    raw.send(&[P::rst(1, Reason::CANCEL)]).await;
    within("the handler's future being dropped", dropped.recv())
        .await
        .expect("dropped");
}

#[tokio::test]
async fn dropping_the_send_future_before_the_head_sends_cancel() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let socket = TcpStream::connect(addr).await.expect("connect");
    let (handle, _pushes, driver) = h2_tokio::client::handshake(socket, Config::client());
    tokio::spawn(driver);
    let mut raw = Raw::server(&listener).await;
    let mut send = Box::pin(handle.send(get(addr, "/never-answered")));
    // Poll the request out until the server has its HEADERS, then give up on it.
    tokio::select! {
        _ = &mut send => panic!("the server never answers"),
        f = raw.next(HEADERS) => assert_eq!(f.stream, 1),
    }
    drop(send);
    assert_eq!(within("RST_STREAM", raw.rst()).await, (1, Reason::CANCEL));
}

#[tokio::test]
async fn abort_resets_the_stream_with_the_reason_given() {
    let addr = our_server(|_req| async {
        let (mut tx, body) = Body::channel();
        tokio::spawn(async move {
            let _ = tx.send_data(Bytes::from_static(b"partial")).await;
            let _ = tx.abort(Reason::ENHANCE_YOUR_CALM).await;
        });
        Response::new(body)
    })
    .await;
    let mut raw = Raw::client(addr).await;
    raw.send(&[P::get(1, "/aborted").eos()]).await;
    assert_eq!(
        within("RST_STREAM", raw.rst()).await,
        (1, Reason::ENHANCE_YOUR_CALM)
    );

    // Our client sees the same reason.
    let client = Client::connect(addr).await.expect("connect");
    let resp = within("head", client.send(get(addr, "/aborted")))
        .await
        .expect("response");
    let err = within("body", resp.into_body().bytes())
        .await
        .expect_err("aborted");
    assert!(
        matches!(err, h2_tokio::Error::Reset(Reason::ENHANCE_YOUR_CALM)),
        "{err:?}"
    );
}
