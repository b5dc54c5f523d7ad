//! Our server against our client on one runtime, for every async adapter: what the engine
//! promises whatever the runtime. [`engine_tests!`](crate::engine_tests) lists them for an
//! adapter's test file.

use bytes::Bytes;
use h2_async::rt::{self, Runtime};
use h2_async::{Body, Client, Server};
use http::{Request, Response, StatusCode};
use std::time::Duration;
use tokio::sync::oneshot;

/// Our server and client on `R`: the demo routes (a 1 MiB echo, trailers, a stream from a task
/// sleeping on `R`'s timer), then a graceful shutdown that lets a stream in flight finish.
pub async fn server_and_client_round_trip<R: Runtime>() {
    let deadline = R::now() + Duration::from_secs(30);
    let test = async {
        let server = Server::<R>::bind("127.0.0.1:0").await.expect("bind");
        let addr = server.local_addr().expect("addr");
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let (done_tx, done_rx) = oneshot::channel();
        let server = server.with_graceful_shutdown(async move {
            let _ = stop_rx.await;
        });
        R::spawn(async move {
            let r = server.serve(crate::demo_async::route::<R>).await;
            let _ = done_tx.send(r.is_ok());
        });
        let client = Client::<R>::connect(addr).await.expect("connect");
        let url = |p: &str| format!("http://{addr}{p}");

        let sent = Bytes::from(crate::interop::pattern(1 << 20));
        let req = Request::post(url("/echo")).body(Body::from(sent.clone()));
        let resp = client.send(req.expect("request")).await.expect("echo");
        assert_eq!(resp.status(), StatusCode::OK);
        assert!(resp.into_body().bytes().await.expect("body") == sent);

        let req = Request::get(url("/trailers")).body(Body::empty());
        let resp = client.send(req.expect("request")).await.expect("trailers");
        let (body, trailers) = resp.into_body().collect().await.expect("body");
        assert_eq!(&body[..], crate::demo::TRAILERS_BODY.as_bytes());
        let trailers = trailers.expect("trailers");
        assert_eq!(trailers[crate::demo::TRAILER_NAME], "42");

        // Three chunks 20 ms apart, from a task sleeping on R's timer; the shutdown starts
        // after the head arrived and must let the body finish.
        let req = Request::get(url("/stream?n=3&interval_ms=20")).body(Body::empty());
        let resp = client.send(req.expect("request")).await.expect("stream");
        let _ = stop_tx.send(());
        let body = resp.into_body().bytes().await.expect("stream body");
        assert_eq!(&body[..], b"event 0\nevent 1\nevent 2\n");
        drop(client);
        assert!(done_rx.await.expect("serve returned"), "serve failed");
    };
    rt::timeout_at::<R, _>(deadline, test)
        .await
        .expect("test timed out");
}

/// A handler that panics gets its stream reset (INTERNAL_ERROR, RFC 9113 §8.1: the request is
/// answered with an error, never left hanging), and the connection goes on serving others.
pub async fn a_panicking_handler_resets_its_stream_only<R: Runtime>() {
    let deadline = R::now() + Duration::from_secs(30);
    let test = async {
        let server = Server::<R>::bind("127.0.0.1:0").await.expect("bind");
        let addr = server.local_addr().expect("addr");
        R::spawn(async move {
            let _ = server
                .serve(|req: Request<Body>| async move {
                    if req.uri().path() == "/panic" {
                        panic!("handler panics on purpose");
                    }
                    Response::new(Body::from("still here\n"))
                })
                .await;
        });
        let client = Client::<R>::connect(addr).await.expect("connect");
        let get = |p: &str| Request::get(format!("http://{addr}{p}")).body(Body::empty());
        let err = client
            .send(get("/panic").expect("request"))
            .await
            .expect_err("the stream is reset");
        assert!(
            matches!(err, h2_async::Error::Reset(h2core::Reason::INTERNAL_ERROR)),
            "{err}"
        );
        let resp = client
            .send(get("/").expect("request"))
            .await
            .expect("served");
        assert_eq!(
            &resp.into_body().bytes().await.expect("body")[..],
            b"still here\n"
        );
        assert_eq!(client.connections(), 1, "the same connection served both");
    };
    rt::timeout_at::<R, _>(deadline, test)
        .await
        .expect("test timed out");
}

/// Runs `f` on a multi-threaded tokio runtime (2 workers) of its own: the `block_on` of the
/// tokio adapter's tests.
pub fn on_tokio<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(f)
}

/// The engine tests for one adapter: `engine_tests!(runtime: h2_tokio::Tokio, block_on: run)`
/// where `run(future)` runs a future on that runtime to completion.
#[macro_export]
macro_rules! engine_tests {
    (runtime: $rt:ty, block_on: $block_on:expr $(,)?) => {
        #[test]
        fn server_and_client_round_trip() {
            $block_on($crate::engine::server_and_client_round_trip::<$rt>())
        }

        #[test]
        fn a_panicking_handler_resets_its_stream_only() {
            $block_on($crate::engine::a_panicking_handler_resets_its_stream_only::<$rt>())
        }
    };
}
