//! The demo client: h2c by prior knowledge for `http://` (HTTP/1.1 `Upgrade: h2c` with
//! `--upgrade`), h2 over TLS for `https://` (ALPN `h2`; `--insecure` accepts any certificate,
//! e.g. the demo server's self-signed one). Several URLs go concurrently over one connection:
//! every request is sent, then every response awaited. Bodies go to stdout; status lines and
//! errors to stderr; the exit status is non-zero on any failure.
//!
//! ```sh
//! cargo run --release -p h2-mio --example client -- [--upgrade] [--insecure] [-X METHOD] [-d DATA] URL...
//! ```

use bytes::Bytes;
use h2_mio::{Client, Trailers};
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

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    std::process::exit(match run(args) {
        Ok(true) => 0,
        Ok(false) => 1,
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    });
}

type Outcome = Result<http::Response<Bytes>, h2_mio::Error>;

fn run(args: Args) -> Result<bool, Box<dyn std::error::Error>> {
    let first = &args.urls[0];
    let https = first.scheme_str() == Some("https");
    let host = first.host().ok_or("URL without host")?.to_owned();
    let port = first.port_u16().unwrap_or(if https { 443 } else { 80 });
    let addr = (host.as_str(), port)
        .to_socket_addrs()?
        .next()
        .ok_or("no address")?;
    let request = |uri: &Uri| {
        Request::builder()
            .method(args.method.clone())
            .uri(uri.clone())
            .body(args.data.clone().unwrap_or_default())
    };
    let mut done: Vec<(Uri, Option<Outcome>)> = Vec::new();
    let mut pending = Vec::new();
    let (client, rest) = if https {
        let config = if args.insecure {
            h2_mio::tls::insecure_client_config()
        } else {
            return Err("https without --insecure needs a trust store; use --insecure for self-signed servers".into());
        };
        (Client::connect_tls(addr, &host, config)?, &args.urls[..])
    } else if args.upgrade {
        // The first request carries the upgrade; the others follow on the HTTP/2 connection.
        let (client, resp) = h2_mio::client::upgrade(addr, request(first)?)?;
        done.push((first.clone(), Some(Ok(resp))));
        (client, &args.urls[1..])
    } else {
        (Client::connect(addr)?, &args.urls[..])
    };
    for uri in rest {
        pending.push((uri.clone(), client.start(request(uri)?)));
    }
    for (uri, p) in pending {
        done.push((uri, Some(p.and_then(|p| p.wait()))));
    }
    let mut ok = true;
    for (uri, outcome) in done {
        match outcome.expect("every request has an outcome") {
            Ok(resp) => {
                eprintln!("{uri}: {:?} {}", resp.version(), resp.status());
                ok &= resp.status().is_success();
                if let Some(Trailers(t)) = resp.extensions().get::<Trailers>() {
                    for (k, v) in t {
                        eprintln!("trailer {k}: {}", v.to_str().unwrap_or("?"));
                    }
                }
                std::io::stdout().write_all(resp.body())?;
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
