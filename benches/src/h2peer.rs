//! hyperium's `h2` client and server over `tokio::io::duplex`, doing what [`crate::pair`]
//! does with h2core: the server answers each request at once with a response and a body, the
//! client releases flow-control capacity as it reads.
//!
//! Both run on one current-thread runtime built once; [`H2Pair::run`] times only requests. The
//! settings are h2core's defaults (MAX_CONCURRENT_STREAMS 100, 1 MiB stream windows, 2 MiB
//! connection windows), so flow control costs the same round trips on both sides, and the
//! duplex pipe holds 4 MiB, more than ever is in flight, so it never throttles `h2`.

use bytes::Bytes;
use h2::client::SendRequest;
use http::{Request, Response};
use tokio::runtime::Runtime;

/// h2core's defaults (see `h2core::Config::new`), applied to `h2`.
pub const STREAM_WINDOW: u32 = 1 << 20;
/// h2core's default connection window.
pub const CONNECTION_WINDOW: u32 = 2 << 20;
/// h2core's default SETTINGS_MAX_CONCURRENT_STREAMS.
pub const MAX_CONCURRENT_STREAMS: u32 = 100;
const DUPLEX_BYTES: usize = 4 << 20;

/// A connected `h2` client and server on their own runtime.
pub struct H2Pair {
    rt: Runtime,
    client: SendRequest<Bytes>,
}

impl H2Pair {
    /// Builds the runtime, starts the server (answering with `body`) and completes the
    /// handshake.
    pub fn new(body: Bytes) -> H2Pair {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let client = rt.block_on(async move {
            let (client_io, server_io) = tokio::io::duplex(DUPLEX_BYTES);
            tokio::spawn(serve(server_io, body));
            let (send, conn) = h2::client::Builder::new()
                .initial_window_size(STREAM_WINDOW)
                .initial_connection_window_size(CONNECTION_WINDOW)
                .handshake::<_, Bytes>(client_io)
                .await
                .expect("h2 client handshake");
            tokio::spawn(async move {
                if let Err(e) = conn.await {
                    panic!("h2 client connection: {e}");
                }
            });
            send.ready().await.expect("h2 client ready")
        });
        H2Pair { rt, client }
    }

    /// Runs `n` request/response pairs with `concurrency` streams in flight (that many tasks,
    /// each sending its share one after another). Returns the body bytes read.
    pub fn run(&mut self, n: usize, concurrency: usize) -> u64 {
        let client = self.client.clone();
        self.rt.block_on(async move {
            if concurrency <= 1 {
                return requests(client, n).await;
            }
            let mut tasks = Vec::with_capacity(concurrency);
            for i in 0..concurrency {
                // The first `n % concurrency` tasks take one more, so the total is `n`.
                let share = n / concurrency + usize::from(i < n % concurrency);
                tasks.push(tokio::spawn(requests(client.clone(), share)));
            }
            let mut read = 0;
            for t in tasks {
                read += t.await.expect("request task");
            }
            read
        })
    }
}

/// `n` GETs, one after another, each body read to the end.
async fn requests(mut client: SendRequest<Bytes>, n: usize) -> u64 {
    let mut read = 0;
    for _ in 0..n {
        client = client.ready().await.expect("h2 ready");
        let request = Request::get("http://localhost/")
            .body(())
            .expect("valid request");
        let (response, _) = client.send_request(request, true).expect("h2 send_request");
        let mut body = response.await.expect("h2 response").into_body();
        while let Some(chunk) = body.data().await {
            let chunk = chunk.expect("h2 body");
            read += chunk.len() as u64;
            let _ = body.flow_control().release_capacity(chunk.len());
        }
    }
    read
}

/// The server: every request is answered inside the accept loop, without a task of its own.
async fn serve(io: tokio::io::DuplexStream, body: Bytes) {
    let mut conn = h2::server::Builder::new()
        .initial_window_size(STREAM_WINDOW)
        .initial_connection_window_size(CONNECTION_WINDOW)
        .max_concurrent_streams(MAX_CONCURRENT_STREAMS)
        .handshake::<_, Bytes>(io)
        .await
        .expect("h2 server handshake");
    let length = body.len().to_string();
    while let Some(request) = conn.accept().await {
        let (_request, mut respond) = request.expect("h2 accept");
        let response = Response::builder()
            .status(200)
            .header("content-length", length.as_str())
            .body(())
            .expect("valid response");
        let mut send = respond
            .send_response(response, body.is_empty())
            .expect("h2 send_response");
        if !body.is_empty() {
            send.send_data(body.clone(), true).expect("h2 send_data");
        }
    }
}
