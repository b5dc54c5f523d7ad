//! The demo server: the same routes and flags as every adapter's (`h2_demo`), over
//! HTTP/1.1 and h2c (prior knowledge or Upgrade), or h2 / HTTP/1.1 over TLS as ALPN selects,
//! served by one mio event loop thread per core, handlers running on the loops themselves.
//!
//! ```sh
//! cargo run --release -p h2-mio --example server -- [--listen ADDR] [--tls | --cert PEM --key PEM] [--max-concurrent-streams N] [--h2-only] [--root DIR]
//! ```
//! `--tls` makes a self-signed certificate for `localhost` and `127.0.0.1` at start.
//! `H2_MIO_EVENT_LOOPS=N` in the environment runs N event loops instead of one per core
//! (`benches/load.sh` compares one loop with two); the flags are every adapter's, so this
//! one setting, h2-mio's own, is not a flag.

use h2_demo::{self as demo, Lookup, Route, ServerArgs, StaticFile};
use h2_mio::{Body, Server, StreamHandle};
use http::{Method, Request, Response, StatusCode};
use std::path::Path;

/// Answers `req`: a file under `root` if it names one, else a demo route.
fn serve_file_or_route(req: Request<Body>, root: Option<&Path>) -> Response<Body> {
    let Some(root) = root else {
        return route(req);
    };
    match StaticFile::lookup(root, req.method(), req.uri()) {
        Lookup::File(file) if req.method() == Method::HEAD => file.response(Body::empty()),
        Lookup::File(file) => match file.chunks() {
            // Read from disk only as flow control lets the bytes go out.
            Ok(chunks) => file.response(Body::chunks(file.len, chunks)),
            Err(_) => status(StatusCode::INTERNAL_SERVER_ERROR),
        },
        Lookup::Refused => status(StatusCode::BAD_REQUEST),
        Lookup::Missing => route(req),
    }
}

fn status(code: StatusCode) -> Response<Body> {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = code;
    r
}

/// Answers `req` as every adapter's demo server does, with threads for the streamed bodies:
/// it runs on the event loop's thread when the request head arrives, so it never blocks.
fn route(req: Request<Body>) -> Response<Body> {
    let route = Route::of(req.method(), req.uri());
    let body = match route {
        // The request body is the response body: each chunk goes back out as it arrives and
        // is released to the client's flow control once sent, so the upload is never held
        // whole (no length known up front: chunked over HTTP/1.1).
        Route::Echo => req.into_body(),
        Route::Stream { n, interval } => {
            let (mut tx, body) = Body::channel();
            std::thread::spawn(move || {
                for i in 0..n {
                    std::thread::sleep(interval);
                    if tx.send_data(demo::event(i)).is_err() {
                        return;
                    }
                }
            });
            body
        }
        Route::Trailers => {
            let (mut tx, body) = Body::channel();
            std::thread::spawn(move || {
                let _ = tx.send_data(demo::TRAILERS_BODY.into());
                let _ = tx.send_trailers(demo::trailers());
            });
            body
        }
        Route::Push => {
            // A push waits for the connection to promise it, so it goes from a thread of its
            // own (the handler runs on the event loop), and the page follows it.
            let handle = StreamHandle::of(&req);
            let promised = demo::push_request(req.uri());
            let (mut tx, body) = Body::channel();
            std::thread::spawn(move || {
                if let Some(handle) = handle {
                    let css = demo::pushed_response(Body::from(demo::PUSHED_CSS));
                    let _ = handle.push(promised, css);
                }
                let _ = tx.send_data(demo::PUSH_PAGE.into());
            });
            body
        }
        Route::Bytes(n) => Body::chunks(n as u64, demo::fill(n)),
        _ => Body::from(route.fixed_body().unwrap_or_default()),
    };
    route.response(body)
}

/// `H2_MIO_EVENT_LOOPS`, when set: a number of event loops, at least one.
fn event_loops() -> std::io::Result<Option<usize>> {
    match std::env::var("H2_MIO_EVENT_LOOPS") {
        Err(std::env::VarError::NotPresent) => Ok(None),
        Ok(v) => match v.parse::<usize>() {
            Ok(n) if n >= 1 => Ok(Some(n)),
            _ => Err(std::io::Error::other(format!(
                "H2_MIO_EVENT_LOOPS={v}: expected a number of event loops, at least 1"
            ))),
        },
        Err(e) => Err(std::io::Error::other(format!("H2_MIO_EVENT_LOOPS: {e}"))),
    }
}

fn main() -> std::io::Result<()> {
    let args = ServerArgs::parse(std::env::args());
    // One event loop per core; every handler answers at once (what takes time runs on a
    // thread of its own), so it runs on its loop's thread, without a hop.
    let mut server = Server::bind(&args.listen)?
        .config(args.config.clone())
        .handler_threads(0);
    if let Some(n) = event_loops()? {
        server = server.event_loops(n);
    }
    if args.h2_only {
        server = server.http2_only();
    }
    if let Some(pem) = args.pem()? {
        let config = h2_mio::tls::server_config_from_pem(&pem.cert, &pem.key)
            .map_err(std::io::Error::other)?;
        server = server.tls(config);
    }
    // Tests read the port back from this line.
    println!("listening on {}", server.local_addr()?);
    let root = args.root.clone();
    server.serve(move |req| serve_file_or_route(req, root.as_deref()))
}
