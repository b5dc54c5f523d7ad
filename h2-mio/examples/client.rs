//! The demo client, blocking: h2c by prior knowledge for `http://` (HTTP/1.1 `Upgrade: h2c`
//! with `--upgrade`), ALPN `h2` for `https://`. Every request is sent, then every response
//! awaited, so several URLs go concurrently over one connection; each body is printed as it
//! arrives. The command line and output are `h2_demo`'s, shared by every adapter.
//!
//! ```sh
//! cargo run --release -p h2-mio --example client -- [--upgrade] [--insecure] [-X METHOD] [-d DATA] URL...
//! ```

use h2_demo::{self as demo, ClientArgs};
use h2_mio::{Body, Client, Frame};
use http::Uri;

fn main() {
    demo::client_exit(run(ClientArgs::parse(std::env::args())))
}

type Outcome = Result<http::Response<Body>, h2_mio::Error>;

fn run(args: ClientArgs) -> Result<bool, Box<dyn std::error::Error>> {
    let first = &args.urls[0];
    let target = args.target()?;
    let request = |uri: &Uri| {
        let body = args.data.clone().map(Body::from).unwrap_or_default();
        args.request(uri, body)
    };
    let mut done: Vec<(Uri, Outcome)> = Vec::new();
    let mut pending = Vec::new();
    let (client, rest) = if target.https {
        let config = if args.insecure {
            h2_mio::tls::insecure_client_config()
        } else {
            return Err("https without --insecure needs a trust store; use --insecure for self-signed servers".into());
        };
        (
            Client::connect_tls(target.addr, &target.host, config)?,
            &args.urls[..],
        )
    } else if args.upgrade {
        // The first request carries the upgrade; the others follow on the HTTP/2 connection.
        let (client, resp) = h2_mio::client::upgrade(target.addr, request(first)?)?;
        done.push((first.clone(), Ok(resp)));
        (client, &args.urls[1..])
    } else {
        (Client::connect(target.addr)?, &args.urls[..])
    };
    for uri in rest {
        pending.push((uri.clone(), client.start(request(uri)?)));
    }
    for (uri, p) in pending {
        done.push((uri, p.and_then(|p| p.wait())));
    }
    let mut ok = true;
    for (uri, outcome) in done {
        let failure = match outcome {
            Ok(resp) => {
                ok &= demo::print_head(&uri, &resp);
                print_streamed(resp.into_body()).err()
            }
            Err(e) => Some(e),
        };
        if let Some(e) = failure {
            demo::print_failure(&uri, &e);
            ok = false;
        }
    }
    // A graceful close before exiting: GOAWAY, and the server's last frames (a PING) answered.
    client.close();
    Ok(ok)
}

/// Prints each chunk as it arrives (a long-lived stream shows its events one by one), then
/// the trailers.
fn print_streamed(mut body: Body) -> Result<(), h2_mio::Error> {
    let mut trailers = None;
    while let Some(frame) = body.frame() {
        match frame? {
            Frame::Data(d) => demo::print_body(&d, None)?,
            Frame::Trailers(t) => trailers = Some(t),
        }
    }
    demo::print_body(&[], trailers.as_ref())?;
    Ok(())
}
