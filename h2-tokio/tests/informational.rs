//! 1xx responses reach the client (RFC 9113 §8.1, RFC 9110 §15.2): a handler sends 103 Early
//! Hints through its `StreamHandle`, and a client that put an `OnInformational` in the
//! request's extensions sees it, with its fields, before the final response. Real TCP on
//! 127.0.0.1 port 0; every wait is bounded.

use h2_tokio::{Body, Client, OnInformational, Server, StreamHandle};
use http::{Request, Response, StatusCode};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::timeout;

#[tokio::test]
async fn early_hints_reach_the_client_before_the_final_response() {
    let server = Server::bind("127.0.0.1:0").await.expect("bind");
    let addr = server.local_addr().expect("addr");
    tokio::spawn(server.serve(|req: Request<Body>| async move {
        let handle = StreamHandle::of(&req);
        if let Some(h) = handle {
            let hints = Response::builder()
                .status(StatusCode::EARLY_HINTS)
                .header("link", "</style.css>; rel=preload; as=style")
                .body(())
                .expect("103");
            h.informational(hints).expect("informational");
        }
        Response::new(Body::from("final\n"))
    }));

    let client = Client::connect(addr).await.expect("connect");
    let seen: Arc<Mutex<Vec<(StatusCode, String)>>> = Arc::default();
    let log = seen.clone();
    let mut req = Request::get(format!("http://{addr}/"))
        .body(Body::empty())
        .expect("request");
    req.extensions_mut().insert(OnInformational::new(move |r| {
        let link = r.headers()["link"].to_str().unwrap_or("").to_owned();
        log.lock().expect("log").push((r.status(), link));
    }));
    let resp = timeout(Duration::from_secs(10), client.send(req))
        .await
        .expect("in time")
        .expect("response");
    // Delivered before `send` returned: the 103 came ahead of the final HEADERS on the stream.
    assert_eq!(
        *seen.lock().expect("log"),
        vec![(
            StatusCode::EARLY_HINTS,
            "</style.css>; rel=preload; as=style".to_owned()
        )]
    );
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.into_body().bytes().await.expect("body"), "final\n");
}
