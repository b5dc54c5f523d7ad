//! The demo client: h2c by prior knowledge for `http://` (HTTP/1.1 `Upgrade: h2c` with
//! `--upgrade`), ALPN `h2` for `https://`. Several URLs go concurrently over one connection.
//! Bodies go to stdout; status lines and errors to stderr; the exit status is non-zero on any
//! failure (the command line and output are `h2_testkit::demo`'s, shared by every adapter).
//!
//! ```sh
//! cargo run --release -p h2-tokio --example client -- [--upgrade] [--insecure] [-X METHOD] [-d DATA] URL...
//! ```

use h2_testkit::demo::{self, ClientArgs};
use h2_tokio::{Body, Client};
use http::Uri;

#[tokio::main]
async fn main() {
    let args = ClientArgs::parse(std::env::args());
    demo::client_exit(run(args).await)
}

async fn run(args: ClientArgs) -> Result<bool, Box<dyn std::error::Error>> {
    let first = &args.urls[0];
    let target = args.target()?;
    let request = |uri: &Uri| {
        let body = args.data.clone().map(Body::from).unwrap_or_default();
        args.request(uri, body)
    };
    let mut responses = Vec::new();
    if args.upgrade && !target.https {
        // The first request carries the upgrade; the others follow on the HTTP/2 connection.
        let (client, first_response) =
            h2_tokio::client::upgrade(target.addr, request(first)?).await?;
        responses.push((
            first.clone(),
            tokio::spawn(async move { Ok::<_, h2_tokio::Error>(first_response) }),
        ));
        for uri in &args.urls[1..] {
            let req = request(uri)?;
            let c = client.clone();
            responses.push((uri.clone(), tokio::spawn(async move { c.send(req).await })));
        }
    } else {
        let client = if target.https {
            let config = if args.insecure {
                h2_tokio::tls::insecure_client_config()
            } else {
                return Err("https without --insecure needs a trust store; use --insecure for self-signed servers".into());
            };
            Client::connect_tls(target.addr, &target.host, config).await?
        } else {
            Client::connect(target.addr).await?
        };
        for uri in &args.urls {
            let req = request(uri)?;
            let c = client.clone();
            responses.push((uri.clone(), tokio::spawn(async move { c.send(req).await })));
        }
    }
    let mut ok = true;
    for (uri, task) in responses {
        match task.await? {
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
    Ok(ok)
}
