//! The tower side of the ecosystem: `Server::serve_service` serves a `tower::Service` whose
//! response body is another crate's `http_body::Body`, and the `Client` is called as a
//! `Service` through `ServiceExt`.

use bytes::Bytes;
use h2_tokio::{Body, Client, Server};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use tower::ServiceExt;

#[tokio::test]
async fn a_tower_service_is_served_and_the_client_is_a_service() {
    // A service as tower users write them; its body type is http_body_util's, not ours.
    let service = tower::service_fn(|req: Request<Body>| async move {
        if req.uri().path() == "/fail" {
            return Err("no such thing");
        }
        let body = req.into_body().bytes().await.map_err(|_| "body")?;
        let answer = format!("got {} bytes", body.len());
        Ok::<_, &str>(Response::new(Full::new(Bytes::from(answer))))
    });
    let server = Server::bind("127.0.0.1:0").await.expect("bind");
    let addr = server.local_addr().expect("addr");
    let stop = server.shutdown_handle();
    let serving = tokio::spawn(server.serve_service(service));

    let client = Client::connect(addr).await.expect("connect");
    let post = Request::post(format!("http://{addr}/"))
        .body(Body::from("12345"))
        .expect("request");
    let response = client.clone().oneshot(post).await.expect("response");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-length"], "11");
    let body = BodyExt::collect(response.into_body()).await.expect("body");
    assert_eq!(body.to_bytes(), "got 5 bytes");

    // A service error is a 500, and the connection goes on.
    let fail = Request::get(format!("http://{addr}/fail"))
        .body(Body::empty())
        .expect("request");
    let response = client.clone().oneshot(fail).await.expect("response");
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);

    // The client takes any http_body::Body as a request body: here http_body_util's, with a
    // length the server sees as content-length.
    let other = Request::post(format!("http://{addr}/"))
        .body(Full::new(Bytes::from_static(b"abcdefg")))
        .expect("request");
    let response = client.clone().oneshot(other).await.expect("response");
    let body = BodyExt::collect(response.into_body()).await.expect("body");
    assert_eq!(body.to_bytes(), "got 7 bytes");

    client.close().await;
    stop.shutdown();
    serving.await.expect("task").expect("serve");
}

#[tokio::test]
async fn a_requests_grpc_timeout_reaches_the_service_as_a_deadline() {
    // gRPC's `grpc-timeout: 60S` becomes Deadline(arrival + 60 s) in the extensions; a
    // request without one (or with a malformed one) has none.
    let service = tower::service_fn(|req: Request<Body>| async move {
        let seen = match req.extensions().get::<h2_tokio::Deadline>() {
            Some(d) => {
                let left = d.remaining(std::time::Instant::now());
                assert!(left <= std::time::Duration::from_secs(60), "{left:?}");
                "deadline"
            }
            None => "none",
        };
        Ok::<_, &str>(Response::new(Full::new(Bytes::from(seen))))
    });
    let server = Server::bind("127.0.0.1:0").await.expect("bind");
    let addr = server.local_addr().expect("addr");
    let stop = server.shutdown_handle();
    let serving = tokio::spawn(server.serve_service(service));

    let client = Client::connect(addr).await.expect("connect");
    for (timeout, seen) in [
        (Some("60S"), "deadline"),
        (None, "none"),
        (Some("60"), "none"),
    ] {
        let mut req = Request::post(format!("http://{addr}/routeguide.RouteGuide/GetFeature"));
        if let Some(timeout) = timeout {
            req = req.header("grpc-timeout", timeout);
        }
        let req = req.body(Body::empty()).expect("request");
        let response = client.send(req).await.expect("response");
        let body = response.into_body().bytes().await.expect("body");
        assert_eq!(body, seen, "grpc-timeout {timeout:?}");
    }
    client.close().await;
    stop.shutdown();
    serving.await.expect("task").expect("serve");
}

#[tokio::test]
async fn a_service_that_replaces_the_body_finds_the_stream_handle_in_the_extensions() {
    // axum and tower layers map the body type before the handler runs: the handle, carried
    // in our body otherwise, is in the extensions too.
    let service = tower::service_fn(|req: Request<Body>| async move {
        let req = req.map(|_| ());
        let found = match req.extensions().get::<h2_tokio::StreamHandle>() {
            Some(handle) => handle.connection_info().await.is_ok(),
            None => false,
        };
        Ok::<_, &str>(Response::new(Full::new(Bytes::from(found.to_string()))))
    });
    let server = Server::bind("127.0.0.1:0").await.expect("bind");
    let addr = server.local_addr().expect("addr");
    let stop = server.shutdown_handle();
    let serving = tokio::spawn(server.serve_service(service));

    let client = Client::connect(addr).await.expect("connect");
    let get = Request::get(format!("http://{addr}/"))
        .body(Body::empty())
        .expect("request");
    let response = client.clone().oneshot(get).await.expect("response");
    let body = BodyExt::collect(response.into_body()).await.expect("body");
    assert_eq!(body.to_bytes(), "true", "a handle reaching its connection");

    client.close().await;
    stop.shutdown();
    serving.await.expect("task").expect("serve");
}
