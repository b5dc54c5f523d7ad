//! Our server and our client on the same runtime, once on async-std and once on smol: the
//! demo routes (echo, trailers, a stream from a task with the runtime's timer), then a
//! graceful shutdown that lets a stream in flight finish.

use bytes::Bytes;
use h2_async::rt::{self, Runtime};
use h2_async::{Body, Client, Server};
use http::{Request, StatusCode};
use std::time::Duration;
use tokio::sync::oneshot;

async fn exercise<R: Runtime>() {
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
            let r = server.serve(h2_testkit::demo_async::route::<R>).await;
            let _ = done_tx.send(r.is_ok());
        });
        let client = Client::<R>::connect(addr).await.expect("connect");
        let url = |p: &str| format!("http://{addr}{p}");

        let sent = Bytes::from(h2_testkit::interop::pattern(1 << 20));
        let req = Request::post(url("/echo")).body(Body::from(sent.clone()));
        let resp = client.send(req.expect("request")).await.expect("echo");
        assert_eq!(resp.status(), StatusCode::OK);
        assert!(resp.into_body().bytes().await.expect("body") == sent);

        let req = Request::get(url("/trailers")).body(Body::empty());
        let resp = client.send(req.expect("request")).await.expect("trailers");
        let (body, trailers) = resp.into_body().collect().await.expect("body");
        assert_eq!(&body[..], h2_testkit::demo::TRAILERS_BODY.as_bytes());
        let trailers = trailers.expect("trailers");
        assert_eq!(trailers[h2_testkit::demo::TRAILER_NAME], "42");

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

#[test]
fn server_and_client_on_async_std() {
    async_std::task::block_on(exercise::<h2_async_std::AsyncStd>());
}

#[test]
fn server_and_client_on_smol() {
    smol::block_on(exercise::<h2_async_std::Smol>());
}
