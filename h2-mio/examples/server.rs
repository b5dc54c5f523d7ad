//! The demo server: the same routes as h2-tokio's, over HTTP/1.1 and h2c (prior knowledge or
//! Upgrade, or h2 / HTTP/1.1 over TLS as ALPN selects), served by one mio event loop thread and
//! a pool of handler threads.
//!
//! ```sh
//! cargo run --release -p h2-mio --example server -- [--listen ADDR] [--tls | --cert PEM --key PEM] [--max-concurrent-streams N]
//! ```
//! `--tls` makes a self-signed certificate for `localhost` and `127.0.0.1` at start.
//! Routes: `GET /` → `hello\n`; `GET /bytes/N` → N bytes; `POST|PUT /echo` → the body streamed back;
//! `GET /stream?n=K&interval_ms=T` → headers at once, then K chunks T ms apart; `GET /push` →
//! 200 and a push of `/pushed.css` when the client allows; `GET /trailers` → a body then
//! trailers; 404 otherwise.

use bytes::Bytes;
use h2_mio::{Body, Pusher, Server};
use http::{Method, Request, Response, StatusCode};
use std::time::Duration;

fn response(status: StatusCode, body: impl Into<Body>) -> Response<Body> {
    let mut r = Response::new(body.into());
    *r.status_mut() = status;
    r
}

fn query(req: &Request<Bytes>, key: &str) -> Option<u64> {
    req.uri()
        .query()?
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == key)
        .and_then(|(_, v)| v.parse().ok())
}

fn route(req: Request<Bytes>) -> Response<Body> {
    let path = req.uri().path().to_owned();
    match (req.method().clone(), path.as_str()) {
        (Method::GET, "/") => response(StatusCode::OK, "hello\n"),
        (Method::POST | Method::PUT, "/echo") => {
            // Streamed back, as h2-tokio's echo does: no length known up front (chunked over
            // HTTP/1.1).
            let (tx, body) = Body::channel();
            let data = req.into_body();
            std::thread::spawn(move || {
                for piece in data.chunks(64 * 1024) {
                    if tx.send(data.slice_ref(piece)).is_err() {
                        return;
                    }
                }
            });
            response(StatusCode::OK, body)
        }
        (Method::GET, p) if p.starts_with("/bytes/") => match p["/bytes/".len()..].parse::<usize>()
        {
            Ok(n) if n <= 1 << 31 => response(StatusCode::OK, Bytes::from(vec![b'x'; n])),
            _ => response(StatusCode::BAD_REQUEST, "bad length\n"),
        },
        (Method::GET, "/stream") => {
            let n = query(&req, "n").unwrap_or(10);
            let interval = Duration::from_millis(query(&req, "interval_ms").unwrap_or(1000));
            let (tx, body) = Body::channel();
            std::thread::spawn(move || {
                for i in 0..n {
                    std::thread::sleep(interval);
                    if tx.send(Bytes::from(format!("event {i}\n"))).is_err() {
                        return;
                    }
                }
            });
            response(StatusCode::OK, body)
        }
        (Method::GET, "/push") => {
            if let Some(pusher) = req.extensions().get::<Pusher>() {
                let authority = req
                    .uri()
                    .authority()
                    .map_or("localhost".into(), |a| a.to_string());
                let pushed = Request::get(format!("http://{authority}/pushed.css"))
                    .body(())
                    .expect("valid request");
                let css = Response::builder()
                    .header("content-type", "text/css")
                    .body(Body::from("body { color: teal }\n"))
                    .expect("valid response");
                // Refused when the client disabled push: the page is served all the same.
                let _ = pusher.push(pushed, css);
            }
            response(StatusCode::OK, "<link rel=stylesheet href=/pushed.css>\n")
        }
        (Method::GET, "/trailers") => {
            let (tx, body) = Body::channel();
            std::thread::spawn(move || {
                let _ = tx.send(Bytes::from_static(b"body before trailers\n"));
                let mut t = http::HeaderMap::new();
                t.insert("x-checksum", "42".parse().expect("valid value"));
                let _ = tx.send_trailers(t);
            });
            let mut r = response(StatusCode::OK, body);
            r.headers_mut()
                .insert("trailer", "x-checksum".parse().expect("valid value"));
            r
        }
        _ => response(StatusCode::NOT_FOUND, "not found\n"),
    }
}

fn main() -> std::io::Result<()> {
    let mut listen = "127.0.0.1:8080".to_string();
    let mut config = h2core::Config::server();
    let mut tls = false;
    let (mut cert, mut key) = (None, None);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--listen" => listen = args.next().expect("--listen ADDR"),
            "--max-concurrent-streams" => {
                let n = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .expect("--max-concurrent-streams N");
                config.settings.max_concurrent_streams = Some(n);
            }
            "--tls" => tls = true,
            "--cert" => cert = args.next(),
            "--key" => key = args.next(),
            other => {
                eprintln!("unknown argument {other}");
                eprintln!(
                    "usage: server [--listen ADDR] [--tls | --cert PEM --key PEM] [--max-concurrent-streams N]"
                );
                std::process::exit(2);
            }
        }
    }
    let mut server = Server::bind(&listen)?.config(config);
    let pem = match (cert, key) {
        (Some(c), Some(k)) => Some((std::fs::read(c)?, std::fs::read(k)?)),
        (Some(_), None) | (None, Some(_)) => {
            eprintln!("--cert and --key go together");
            std::process::exit(2);
        }
        _ if tls => {
            // A self-signed certificate for localhost, made at start.
            let cert =
                rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
                    .map_err(std::io::Error::other)?;
            Some((
                cert.cert.pem().into_bytes(),
                cert.signing_key.serialize_pem().into_bytes(),
            ))
        }
        _ => None,
    };
    if let Some((cert, key)) = pem {
        let config =
            h2_mio::tls::server_config_from_pem(&cert, &key).map_err(std::io::Error::other)?;
        server = server.tls(config);
    }
    // Tests read the port back from this line.
    println!("listening on {}", server.local_addr()?);
    server.serve(route)
}
