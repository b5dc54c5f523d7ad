//! The demo client: h2c by prior knowledge for `http://` (HTTP/1.1 `Upgrade: h2c` with
//! `--upgrade`), ALPN `h2` for `https://`. Several URLs go concurrently over one connection.
//! Bodies go to stdout; status lines and errors to stderr; the exit status is non-zero on any
//! failure.
//!
//! ```sh
//! cargo run --release -p h2-async-std --example client -- [--upgrade] [--insecure] [-X METHOD] [-d DATA] URL...
//! ```

use bytes::Bytes;
use h2_async_std::{Body, Client};
use http::{Method, Request, Uri};
use std::io::Write;
use std::net::ToSocketAddrs;

struct Args {
    upgrade: bool,
    insecure: bool,
    method: Method,
    data: Option<Bytes>,
    urls: Vec<Uri>,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        upgrade: false,
        insecure: false,
        method: Method::GET,
        data: None,
        urls: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    let mut method = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--upgrade" => a.upgrade = true,
            "--insecure" | "-k" => a.insecure = true,
            "-X" => method = Some(args.next().ok_or("-X METHOD")?),
            "-d" => a.data = Some(Bytes::from(args.next().ok_or("-d DATA")?)),
            url => a.urls.push(url.parse().map_err(|e| format!("{url}: {e}"))?),
        }
    }
    a.method = match method {
        Some(m) => m.parse().map_err(|_| "bad method")?,
        None if a.data.is_some() => Method::POST,
        None => Method::GET,
    };
    if a.urls.is_empty() {
        return Err("usage: client [--upgrade] [--insecure] [-X METHOD] [-d DATA] URL...".into());
    }
    Ok(a)
}

#[async_std::main]
async fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    std::process::exit(match run(args).await {
        Ok(true) => 0,
        Ok(false) => 1,
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    });
}

async fn run(args: Args) -> Result<bool, Box<dyn std::error::Error>> {
    let first = &args.urls[0];
    let host = first.host().ok_or("URL without host")?.to_owned();
    let https = first.scheme_str() == Some("https");
    let port = first.port_u16().unwrap_or(if https { 443 } else { 80 });
    let addr = (host.as_str(), port)
        .to_socket_addrs()?
        .next()
        .ok_or("no address")?;
    let request = |uri: &Uri| {
        let body = args.data.clone().map(Body::from).unwrap_or_default();
        Request::builder()
            .method(args.method.clone())
            .uri(uri.clone())
            .body(body)
    };
    let mut responses = Vec::new();
    if args.upgrade && !https {
        // The first request carries the upgrade; the others follow on the HTTP/2 connection.
        let (client, first_response) =
            h2_async_std::client::upgrade::<h2_async_std::AsyncStd>(addr, request(first)?).await?;
        responses.push((
            first.clone(),
            async_std::task::spawn(async move { Ok::<_, h2_async_std::Error>(first_response) }),
        ));
        for uri in &args.urls[1..] {
            let req = request(uri)?;
            let c = client.clone();
            responses.push((
                uri.clone(),
                async_std::task::spawn(async move { c.send(req).await }),
            ));
        }
    } else {
        let client = if https {
            let config = if args.insecure {
                h2_async_std::tls::insecure_client_config()
            } else {
                return Err("https without --insecure needs a trust store; use --insecure for self-signed servers".into());
            };
            Client::connect_tls(addr, &host, config).await?
        } else {
            Client::connect(addr).await?
        };
        for uri in &args.urls {
            let req = request(uri)?;
            let c = client.clone();
            responses.push((
                uri.clone(),
                async_std::task::spawn(async move { c.send(req).await }),
            ));
        }
    }
    let mut ok = true;
    for (uri, task) in responses {
        match task.await {
            Ok(resp) => {
                eprintln!("{uri}: {:?} {}", resp.version(), resp.status());
                ok &= resp.status().is_success();
                let (body, trailers) = resp.into_body().collect().await?;
                std::io::stdout().write_all(&body)?;
                if let Some(t) = trailers {
                    for (k, v) in &t {
                        eprintln!("trailer {k}: {}", v.to_str().unwrap_or("?"));
                    }
                }
            }
            Err(e) => {
                eprintln!("{uri}: {e}");
                ok = false;
            }
        }
    }
    std::io::stdout().flush()?;
    Ok(ok)
}
