//! The demo client on async-std: h2c by prior knowledge for `http://` (HTTP/1.1 `Upgrade: h2c` with
//! `--upgrade`), ALPN `h2` for `https://`. Several URLs go concurrently over one connection.
//! Bodies go to stdout; status lines and errors to stderr; the exit status is non-zero on any
//! failure (the command line and output are `h2_demo`'s, shared by every adapter's client).
//!
//! ```sh
//! cargo run --release -p h2-async-std --example client -- [--upgrade] [--insecure] [-X METHOD] [-d DATA] URL...
//! ```

use async_std::task::JoinHandle;
use h2_async_std::{Body, Client, Error};
use h2_demo::ClientArgs;
use http::{Response, Uri};

#[async_std::main]
async fn main() {
    let args = ClientArgs::parse(std::env::args());
    h2_demo::client_exit(run(args).await)
}

/// A request on its way, as a task.
type Sent = JoinHandle<Result<Response<Body>, Error>>;

/// Sends every URL at once (each request a task), then prints the responses in order.
async fn run(args: ClientArgs) -> Result<bool, Box<dyn std::error::Error>> {
    let target = args.target()?;
    let request = |uri: &Uri| {
        let body = args.data.clone().map(Body::from).unwrap_or_default();
        args.request(uri, body)
    };
    let mut responses: Vec<(Uri, Sent)> = Vec::new();
    let mut urls = args.urls.iter();
    let client = if args.upgrade && !target.https {
        // The first request asks for the switch over HTTP/1.1; its response comes on stream 1.
        let first = urls.next().expect("one URL at least");
        let (client, response) =
            h2_async_std::client::upgrade(target.addr, request(first)?).await?;
        responses.push((
            first.clone(),
            async_std::task::spawn(async { Ok(response) }),
        ));
        ClientHandle::Upgraded(client)
    } else if target.https {
        if !args.insecure {
            return Err("https without --insecure needs a trust store; use --insecure for self-signed servers".into());
        }
        let tls = h2_async_std::tls::insecure_client_config();
        ClientHandle::Pool(Box::new(
            Client::connect_tls(target.addr, &target.host, tls).await?,
        ))
    } else {
        ClientHandle::Pool(Box::new(Client::connect(target.addr).await?))
    };
    for uri in urls {
        let req = request(uri)?;
        let sent = match client.clone() {
            ClientHandle::Pool(c) => async_std::task::spawn(async move { c.send(req).await }),
            ClientHandle::Upgraded(c) => async_std::task::spawn(async move { c.send(req).await }),
        };
        responses.push((uri.clone(), sent));
    }
    let mut ok = true;
    for (uri, sent) in responses {
        match sent.await {
            Ok(response) => {
                ok &= h2_demo::print_head(&uri, &response);
                let (body, trailers) = response.into_body().collect().await?;
                h2_demo::print_body(&body, trailers.as_ref())?;
            }
            Err(e) => {
                h2_demo::print_failure(&uri, &e);
                ok = false;
            }
        }
    }
    // A graceful close: GOAWAY, and the server's last frames answered before we go.
    match client {
        ClientHandle::Pool(c) => c.close().await,
        ClientHandle::Upgraded(c) => c.close().await,
    }
    Ok(ok)
}

/// A pooled client, or the one connection an `Upgrade: h2c` made.
#[derive(Clone)]
enum ClientHandle {
    /// Boxed: a `Client` holds its whole configuration.
    Pool(Box<Client>),
    Upgraded(h2_async_std::SendRequest),
}
