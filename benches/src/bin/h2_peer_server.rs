//! The load test's peer: a server on hyperium's `h2` (h2c by prior knowledge, RFC 9113 §3.3)
//! with the routes of `h2-tokio`'s example server that the load test uses, doing the same work
//! per request (a task per request, as `h2-tokio` and hyper do; `/bytes/N` allocates its N
//! bytes like the example does).
//!
//! ```sh
//! cargo run --release -p benches --bin h2_peer_server -- [--listen 127.0.0.1:PORT]
//! ```
//! Routes: `GET /` → `hello\n`; `GET /bytes/N` → N bytes; 404 otherwise. Settings are
//! h2core's defaults (MAX_CONCURRENT_STREAMS 100, 1 MiB stream and 2 MiB connection windows).

use benches::h2peer::{CONNECTION_WINDOW, MAX_CONCURRENT_STREAMS, STREAM_WINDOW};
use bytes::Bytes;
use h2::server::SendResponse;
use http::{Request, Response, StatusCode};
use tokio::net::{TcpListener, TcpStream};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut listen = "127.0.0.1:8081".to_string();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--listen" => listen = args.next().expect("--listen ADDR"),
            other => {
                eprintln!("unknown argument {other}\nusage: h2_peer_server [--listen ADDR]");
                std::process::exit(2);
            }
        }
    }
    let listener = TcpListener::bind(&listen).await?;
    // load.sh reads the port back from this line (same as the example server's).
    println!("listening on {}", listener.local_addr()?);
    loop {
        let (socket, _) = listener.accept().await?;
        let _ = socket.set_nodelay(true);
        tokio::spawn(async move {
            if let Err(e) = connection(socket).await {
                eprintln!("connection: {e}");
            }
        });
    }
}

async fn connection(socket: TcpStream) -> Result<(), h2::Error> {
    let mut conn = h2::server::Builder::new()
        .initial_window_size(STREAM_WINDOW)
        .initial_connection_window_size(CONNECTION_WINDOW)
        .max_concurrent_streams(MAX_CONCURRENT_STREAMS)
        .handshake::<_, Bytes>(socket)
        .await?;
    while let Some(request) = conn.accept().await {
        let (request, respond) = request?;
        tokio::spawn(async move {
            if let Err(e) = answer(request, respond) {
                eprintln!("stream: {e}");
            }
        });
    }
    Ok(())
}

fn answer(
    request: Request<h2::RecvStream>,
    mut respond: SendResponse<Bytes>,
) -> Result<(), h2::Error> {
    let path = request.uri().path();
    let (status, body) = if request.method() != http::Method::GET {
        (StatusCode::NOT_FOUND, Bytes::from_static(b"not found\n"))
    } else if path == "/" {
        (StatusCode::OK, Bytes::from_static(b"hello\n"))
    } else if let Some(n) = path.strip_prefix("/bytes/") {
        match n.parse::<usize>() {
            Ok(n) if n <= 1 << 31 => (StatusCode::OK, Bytes::from(vec![b'x'; n])),
            _ => (StatusCode::BAD_REQUEST, Bytes::from_static(b"bad length\n")),
        }
    } else {
        (StatusCode::NOT_FOUND, Bytes::from_static(b"not found\n"))
    };
    let response = Response::builder()
        .status(status)
        .header("content-length", body.len())
        .body(())
        .expect("valid response");
    let mut send = respond.send_response(response, body.is_empty())?;
    if !body.is_empty() {
        send.send_data(body, true)?;
    }
    Ok(())
}
