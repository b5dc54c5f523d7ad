//! The load test's peer: a server on hyperium's `h2` (h2c by prior knowledge, RFC 9113 §3.3)
//! written the way `h2`'s own `examples/server.rs` is: an accept loop, a task per connection
//! doing `h2::server::handshake` with `h2`'s default settings, `while let Some(request) =
//! connection.accept().await`, and a task per request that reads the request body to its end
//! (releasing its capacity) and then answers. Only the routes differ: those of `h2-tokio`'s
//! example server that the load test uses (`/bytes/N` allocates its N bytes like that example
//! does). One addition: TCP_NODELAY, as our servers set it.
//!
//! ```sh
//! cargo run --release -p benches --bin h2_peer_server -- [--listen 127.0.0.1:PORT]
//! ```
//! Routes: `GET /` → `hello\n`; `GET /bytes/N` → N bytes; 404 otherwise. The runtime is
//! `#[tokio::main]`'s: one worker per CPU the process may run on. `load.sh` reads the SETTINGS
//! it sends off the wire and counts its threads, and lists both beside ours.

use std::error::Error;

use bytes::Bytes;
use h2::server::{self, SendResponse};
use h2::RecvStream;
use http::{Request, Response, StatusCode};
use tokio::net::{TcpListener, TcpStream};

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error + Send + Sync>> {
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
    // The same first line as the example servers print.
    println!("listening on {}", listener.local_addr()?);

    loop {
        if let Ok((socket, _peer_addr)) = listener.accept().await {
            let _ = socket.set_nodelay(true);
            tokio::spawn(async move {
                if let Err(e) = serve(socket).await {
                    eprintln!("  -> err={e:?}");
                }
            });
        }
    }
}

async fn serve(socket: TcpStream) -> Result<(), Box<dyn Error + Send + Sync>> {
    let mut connection = server::handshake(socket).await?;
    while let Some(result) = connection.accept().await {
        let (request, respond) = result?;
        tokio::spawn(async move {
            if let Err(e) = handle_request(request, respond).await {
                eprintln!("error while handling request: {e}");
            }
        });
    }
    Ok(())
}

async fn handle_request(
    mut request: Request<RecvStream>,
    mut respond: SendResponse<Bytes>,
) -> Result<(), Box<dyn Error + Send + Sync>> {
    let body = request.body_mut();
    while let Some(data) = body.data().await {
        let data = data?;
        let _ = body.flow_control().release_capacity(data.len());
    }

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
        .body(())?;
    let mut send = respond.send_response(response, body.is_empty())?;
    if !body.is_empty() {
        send.send_data(body, true)?;
    }
    Ok(())
}
