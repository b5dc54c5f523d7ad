//! The demo server: the same routes over HTTP/1.1, h2c (prior knowledge or Upgrade) and h2 over
//! TLS, every body streamed under flow control.
//!
//! ```sh
//! cargo run --release -p h2-tokio --example server -- [--listen ADDR] [--tls | --cert PEM --key PEM] [--max-concurrent-streams N] [--h2-only] [--root DIR]
//! ```
//! Routes: `GET /` → `hello\n`; `GET /bytes/N` → N bytes, cut from one static buffer as the
//! client can take them; `POST|PUT /echo` → the body streamed back as it arrives; `GET
//! /stream?n=K&interval_ms=T` → headers at once, then K chunks T ms apart; `GET /push` → 200
//! and a push of `/pushed.css` when the client allows; `GET /trailers` → a body then trailers;
//! `/ws` → a WebSocket echo over HTTP/2 (extended CONNECT) or HTTP/1.1 (`Upgrade`), whose first
//! message names the protocol that carried it with `?announce=1`; `GET /ws.html` → a page whose
//! script opens `wss://` (same origin) to `/ws` and shows the echo; 404 otherwise (the routes
//! as data are `h2_demo::Route`). With `--root DIR`, a GET or HEAD for a file under DIR serves
//! it, read from disk as the client takes it. Ctrl-C shuts down gracefully.

use h2_demo::{Lookup, Route, ServerArgs, StaticFile};
use h2_tokio::{Body, Server, StreamHandle, Upgraded};
use http::{Method, Request, Response, StatusCode};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Answers `req`: a file under `root` if it names one, else a demo route.
///
/// Most answers are ready at once; the two that wait on the connection come as boxed
/// futures. A future holds the state of every await in its body, so awaiting them inline would
/// make every request's future (allocated once per request) several times larger.
async fn serve_file_or_route(req: Request<Body>, root: Arc<Option<PathBuf>>) -> Response<Body> {
    match answer(req, root.as_deref()) {
        Answer::Now(response) => response,
        Answer::Later(response) => response.await,
    }
}

/// A response, or a future of one for a route that waits on the connection.
enum Answer {
    Now(Response<Body>),
    Later(Pin<Box<dyn Future<Output = Response<Body>> + Send>>),
}

/// A file under `root` if `req` names one, else a demo route.
fn answer(req: Request<Body>, root: Option<&Path>) -> Answer {
    let Some(root) = root else {
        return route(req);
    };
    Answer::Now(match StaticFile::lookup(root, req.method(), req.uri()) {
        Lookup::File(file) if req.method() == Method::HEAD => file.response(Body::empty()),
        Lookup::File(file) => match file.chunks() {
            // Read from disk only as flow control lets the bytes go out.
            Ok(chunks) => file.response(Body::chunks(file.len, chunks)),
            Err(_) => status(StatusCode::INTERNAL_SERVER_ERROR),
        },
        Lookup::Refused => status(StatusCode::BAD_REQUEST),
        Lookup::Missing => return route(req),
    })
}

fn status(code: StatusCode) -> Response<Body> {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = code;
    r
}

/// Answers `req`. The handler runs when the head arrived; bodies stream both ways.
fn route(req: Request<Body>) -> Answer {
    if let Some(accept) = h2_demo::websocket_accept(&req) {
        return Answer::Later(Box::pin(websocket(req, accept)));
    }
    let route = Route::of(req.method(), req.uri());
    let body = match route {
        // A body of known length, taken from the iterator only as flow control allows: no
        // task, nothing held in memory in proportion to N.
        Route::Bytes(n) => Body::chunks(n as u64, h2_demo::fill(n)),
        // The request body is the response body: each chunk goes back out as it arrives.
        Route::Echo => req.into_body(),
        Route::Stream { n, interval } => {
            // Produced by a task: headers go out at once, each chunk when it is sent.
            let (mut tx, body) = Body::channel();
            tokio::spawn(async move {
                for i in 0..n {
                    tokio::time::sleep(interval).await;
                    if tx.send_data(h2_demo::event(i)).await.is_err() {
                        return; // The client went away (the stream was reset).
                    }
                }
            });
            body
        }
        Route::Trailers => {
            let (mut tx, body) = Body::channel();
            tokio::spawn(async move {
                let _ = tx.send_data(h2_demo::TRAILERS_BODY.into()).await;
                let _ = tx.send_trailers(h2_demo::trailers()).await;
            });
            body
        }
        Route::Push => return Answer::Later(Box::pin(push_page(req))),
        _ => route.fixed_body().map(Body::from).unwrap_or_default(),
    };
    Answer::Now(route.response(body))
}

/// `/ws`: the WebSocket echo over the stream of an extended CONNECT (HTTP/2), or the
/// connection after the 101 (HTTP/1.1), as one AsyncRead + AsyncWrite.
/// With `?announce=1` the first message says which protocol carried the WebSocket and,
/// over HTTP/2, how many streams its connection has carried (a page's too, if shared).
async fn websocket(req: Request<Body>, accept: Response<()>) -> Response<Body> {
    let streams = match StreamHandle::of(&req) {
        Some(handle) => handle.connection_info().await.ok(),
        None => None,
    };
    let streams = streams.map(|info| info.stats.streams_opened);
    let announcement = h2_demo::ws_announcement(&req, streams);
    let (tx, body) = Body::channel();
    let mut ws = Upgraded::new(req.into_body(), tx);
    tokio::spawn(async move {
        let mut echo = h2_demo::WsEcho::new();
        if let Some(text) = announcement {
            if ws.write_all(&echo.text(&text)).await.is_err() {
                return;
            }
        }
        let mut buf = vec![0; 16 * 1024];
        while let Ok(n @ 1..) = ws.read(&mut buf).await {
            let (out, over) = echo.input(&buf[..n]);
            if ws.write_all(&out).await.is_err() || over {
                break;
            }
        }
        let _ = ws.shutdown().await;
    });
    accept.map(|()| body)
}

/// `GET /push`: the page, and a push of its stylesheet. HTTP/2 requests carry a
/// `StreamHandle`; a push the client refused is no error for the page itself.
async fn push_page(req: Request<Body>) -> Response<Body> {
    if let Some(handle) = StreamHandle::of(&req) {
        let css = h2_demo::pushed_response(Body::from(h2_demo::PUSHED_CSS));
        let _ = handle.push(h2_demo::push_request(req.uri()), css).await;
    }
    Route::Push.response(Body::from(h2_demo::PUSH_PAGE))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args = ServerArgs::parse(std::env::args());
    let mut server = Server::bind(&args.listen)
        .await?
        .config(args.config.clone())
        .enable_connect_protocol();
    if args.h2_only {
        server = server.http2_only();
    }
    if let Some(pem) = args.pem()? {
        let tls = h2_tokio::tls::server_config_from_pem(&pem.cert, &pem.key)
            .map_err(std::io::Error::other)?;
        server = server.tls(tls);
    }
    let server = server.with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
        eprintln!("shutting down gracefully");
    });
    // Tests read the port back from this line.
    println!("listening on {}", server.local_addr()?);
    let root = Arc::new(args.root.clone());
    server
        .serve(move |req| serve_file_or_route(req, root.clone()))
        .await
}
