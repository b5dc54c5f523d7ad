//! The demo routes ([`h2_testkit::demo::Route`]) in tokio's bodies: a module of its own so the
//! mesh-proxy test can serve the same routes from its in-process upstream.

use h2_testkit::demo::{self, Route};
use h2_tokio::{Body, StreamHandle};
use http::{Request, Response};
use std::time::Duration;

/// Answers `req` as every adapter's demo server does.
pub async fn route(req: Request<Body>) -> Response<Body> {
    let route = Route::of(req.method(), req.uri());
    let body = match route {
        Route::Echo => req.into_body(),
        Route::Stream { n, interval } => stream(n, interval),
        Route::Trailers => trailers(),
        Route::Push => {
            push(&req).await;
            Body::from(demo::PUSH_PAGE)
        }
        _ => route.fixed_body().map(Body::from).unwrap_or_default(),
    };
    route.response(body)
}

/// `n` chunks, each after `interval`, from a task: the headers go out before the first.
fn stream(n: u64, interval: Duration) -> Body {
    let (mut tx, body) = Body::channel();
    tokio::spawn(async move {
        for i in 0..n {
            tokio::time::sleep(interval).await;
            if tx.send_data(demo::event(i)).await.is_err() {
                return;
            }
        }
    });
    body
}

/// The body, then the trailers.
fn trailers() -> Body {
    let (mut tx, body) = Body::channel();
    tokio::spawn(async move {
        let _ = tx.send_data(demo::TRAILERS_BODY.into()).await;
        let _ = tx.send_trailers(demo::trailers()).await;
    });
    body
}

/// Pushes the stylesheet over HTTP/2 (HTTP/1.1 requests carry no [`StreamHandle`]).
async fn push(req: &Request<Body>) {
    if let Some(handle) = req.extensions().get::<StreamHandle>() {
        let css = demo::pushed_response(Body::from(demo::PUSHED_CSS));
        // Refused when the client disabled push: the page is served all the same.
        let _ = handle.push(demo::push_request(req.uri()), css).await;
    }
}
