//! The demo server and client on the async engine (`h2-async`), for any of its runtimes: an
//! async adapter's examples are then `serve::<ItsRuntime>` and `run_client::<ItsRuntime>`,
//! plus the runtime's own `main` and Ctrl-C.

use crate::demo::{self, ClientArgs, Route, ServerArgs};
use h2_async::rt::Runtime;
use h2_async::{Body, Client, Server, StreamHandle};
use http::{Request, Response, Uri};
use std::future::Future;
use std::time::Duration;
use tokio::sync::oneshot;

/// Answers `req` as every adapter's demo server does.
pub async fn route<R: Runtime>(req: Request<Body>) -> Response<Body> {
    if let Some(accept) = demo::websocket_accept(&req) {
        let streams = match StreamHandle::of(&req) {
            Some(handle) => handle.connection_info().await.ok(),
            None => None,
        };
        let streams = streams.map(|info| info.stats.streams_opened);
        let announcement = demo::ws_announcement(&req, streams);
        return accept.map(|()| websocket::<R>(req.into_body(), announcement));
    }
    let route = Route::of(req.method(), req.uri());
    let body = match route {
        Route::Echo => req.into_body(),
        Route::Stream { n, interval } => stream::<R>(n, interval),
        Route::Trailers => trailers::<R>(),
        Route::Push => {
            push(&req).await;
            Body::from(demo::PUSH_PAGE)
        }
        Route::Bytes(n) => Body::chunks(n as u64, demo::fill(n)),
        _ => route.fixed_body().map(Body::from).unwrap_or_default(),
    };
    route.response(body)
}

/// `n` chunks, each after `interval`, from a task: the headers go out before the first.
fn stream<R: Runtime>(n: u64, interval: Duration) -> Body {
    let (mut tx, body) = Body::channel();
    R::spawn(async move {
        for i in 0..n {
            R::sleep_until(R::now() + interval).await;
            if tx.send_data(demo::event(i)).await.is_err() {
                return;
            }
        }
    });
    body
}

/// The `/ws` echo: what the peer sends on `rx` (the request body: the extended CONNECT's
/// stream, or the connection after a 101) goes through a [`demo::WsEcho`], its answer out on
/// the returned response body; ending that body ends the WebSocket's side (END_STREAM, or the
/// connection's close). `announcement`, if any, is the first message.
fn websocket<R: Runtime>(mut rx: Body, announcement: Option<String>) -> Body {
    let (mut tx, body) = Body::channel();
    R::spawn(async move {
        let mut echo = demo::WsEcho::new();
        if let Some(text) = announcement {
            if tx.send_data(echo.text(&text)).await.is_err() {
                return;
            }
        }
        while let Some(Ok(data)) = rx.data().await {
            let (out, over) = echo.input(&data);
            if !out.is_empty() && tx.send_data(out).await.is_err() || over {
                return;
            }
        }
    });
    body
}

/// The body, then the trailers.
fn trailers<R: Runtime>() -> Body {
    let (mut tx, body) = Body::channel();
    R::spawn(async move {
        let _ = tx.send_data(demo::TRAILERS_BODY.into()).await;
        let _ = tx.send_trailers(demo::trailers()).await;
    });
    body
}

/// Pushes the stylesheet over HTTP/2 (over HTTP/1.1 the push fails, and the page is served).
async fn push(req: &Request<Body>) {
    if let Some(handle) = StreamHandle::of(req) {
        let css = demo::pushed_response(Body::from(demo::PUSHED_CSS));
        // Refused when the client disabled push: the page is served all the same.
        let _ = handle.push(demo::push_request(req.uri()), css).await;
    }
}

/// The demo server: binds `args.listen`, prints `listening on ADDR` (tests read the port back
/// from it), serves [`route`] until `shutdown` completes, then shuts down gracefully.
pub async fn serve<R: Runtime>(
    args: ServerArgs,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut server = Server::<R>::bind(&args.listen)
        .await?
        .config(args.config.clone())
        .enable_connect_protocol();
    if args.h2_only {
        server = server.http2_only();
    }
    if let Some(pem) = args.pem()? {
        let config = h2_async::tls::server_config_from_pem(&pem.cert, &pem.key)
            .map_err(std::io::Error::other)?;
        server = server.tls(config);
    }
    let server = server.with_graceful_shutdown(async {
        shutdown.await;
        eprintln!("shutting down gracefully");
    });
    println!("listening on {}", server.local_addr()?);
    server.serve(route::<R>).await
}

type Outcome = Result<Response<Body>, h2_async::Error>;

/// Runs `send` as its own task; its outcome arrives on the receiver.
fn spawn_send<R: Runtime>(
    send: impl Future<Output = Outcome> + Send + 'static,
) -> oneshot::Receiver<Outcome> {
    let (tx, rx) = oneshot::channel();
    R::spawn(async move {
        let _ = tx.send(send.await);
    });
    rx
}

/// The demo client: sends every URL of `args` concurrently over one connection (h2c by prior
/// knowledge, `Upgrade: h2c` with `--upgrade`, ALPN `h2` for `https://`), prints what
/// [`demo`] prints; `Ok(false)` when a request failed or was not a success.
pub async fn run_client<R: Runtime>(args: ClientArgs) -> Result<bool, Box<dyn std::error::Error>> {
    let first = &args.urls[0];
    let target = args.target()?;
    let request = |uri: &Uri| {
        let body = args.data.clone().map(Body::from).unwrap_or_default();
        args.request(uri, body)
    };
    let mut responses = Vec::new();
    // Run once every response is read: a graceful close that answers the server's last frames.
    let close: std::pin::Pin<Box<dyn Future<Output = ()> + Send>>;
    if args.upgrade && !target.https {
        // The first request carries the upgrade; the others follow on the HTTP/2 connection.
        let (client, first_response) =
            h2_async::client::upgrade::<R>(target.addr, request(first)?).await?;
        responses.push((first.clone(), spawn_send::<R>(async { Ok(first_response) })));
        for uri in &args.urls[1..] {
            let req = request(uri)?;
            let c = client.clone();
            responses.push((
                uri.clone(),
                spawn_send::<R>(async move { c.send(req).await }),
            ));
        }
        close = Box::pin(async move { client.close().await });
    } else {
        let client = if target.https {
            let config = if args.insecure {
                h2_async::tls::insecure_client_config()
            } else {
                return Err("https without --insecure needs a trust store; use --insecure for self-signed servers".into());
            };
            Client::<R>::connect_tls(target.addr, &target.host, config).await?
        } else {
            Client::<R>::connect(target.addr).await?
        };
        for uri in &args.urls {
            let req = request(uri)?;
            let c = client.clone();
            responses.push((
                uri.clone(),
                spawn_send::<R>(async move { c.send(req).await }),
            ));
        }
        close = Box::pin(async move { client.close().await });
    }
    let mut ok = true;
    for (uri, outcome) in responses {
        match outcome.await? {
            Ok(resp) => {
                ok &= demo::print_head(&uri, &resp);
                let (body, trailers) = resp.into_body().collect().await?;
                demo::print_body(&body, trailers.as_ref())?;
            }
            Err(e) => {
                demo::print_failure(&uri, &e);
                ok = false;
            }
        }
    }
    close.await;
    Ok(ok)
}
