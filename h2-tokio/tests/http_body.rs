//! Bodies of the Rust HTTP ecosystem through our server and client: a handler answers with
//! any `http_body::Body` (`Body::wrap`), and the client's body is read through
//! `http_body::Body` alone.

use bytes::Bytes;
use futures_util::stream;
use h2_tokio::{Body, Client, Error, Reason, Server};
use http::{Request, Response};
use http_body_util::{BodyExt, StreamBody};

async fn handler(req: Request<Body>) -> Response<Body> {
    let body = match req.uri().path() {
        "/full" => Body::wrap(http_body_util::Full::new(Bytes::from_static(b"whole body"))),
        // Bodies of the ecosystem's own kind: frames handed out one by one (data, then
        // trailers, or an error).
        "/fail" => Body::wrap(StreamBody::new(stream::iter([
            Ok(http_body::Frame::data(Bytes::from_static(b"part"))),
            Err(std::io::Error::other("the source failed")),
        ]))),
        _ => {
            let mut trailers = http::HeaderMap::new();
            trailers.insert("grpc-status", http::HeaderValue::from_static("0"));
            Body::wrap(StreamBody::new(stream::iter([
                Ok::<_, std::io::Error>(http_body::Frame::data(Bytes::from_static(b"one "))),
                Ok(http_body::Frame::data(Bytes::from_static(b"two"))),
                Ok(http_body::Frame::trailers(trailers)),
            ])))
        }
    };
    Response::new(body)
}

#[tokio::test]
async fn wrapped_bodies_cross_the_wire_with_length_trailers_and_errors() {
    let server = Server::bind("127.0.0.1:0").await.expect("bind");
    let addr = server.local_addr().expect("addr");
    let stop = server.shutdown_handle();
    let serving = tokio::spawn(server.serve(handler));
    let client = Client::connect(addr).await.expect("connect");
    let get = |path: &str| {
        Request::get(format!("http://{addr}{path}"))
            .body(Body::empty())
            .expect("request")
    };

    let full = client.send(get("/full")).await.expect("head");
    assert_eq!(
        full.headers()["content-length"],
        "10",
        "an exact size hint is the length"
    );
    let collected = BodyExt::collect(full.into_body()).await.expect("body");
    assert_eq!(collected.to_bytes(), "whole body");

    let framed = client.send(get("/frames")).await.expect("head");
    let collected = BodyExt::collect(framed.into_body()).await.expect("body");
    assert_eq!(collected.trailers().expect("trailers")["grpc-status"], "0");
    assert_eq!(collected.to_bytes(), "one two");

    // The source failing midway resets the stream (RFC 9113 §5.4.2): the client sees the
    // reset, never a body that looks complete.
    let failed = client.send(get("/fail")).await.expect("head");
    let err = BodyExt::collect(failed.into_body())
        .await
        .expect_err("reset");
    assert!(
        matches!(err, Error::Reset(Reason::INTERNAL_ERROR)),
        "{err:?}"
    );

    client.close().await;
    stop.shutdown();
    serving.await.expect("task").expect("serve");
}
