//! What every adapter's demo examples share, and nothing runtime-specific: the server's
//! routes as data ([`Route`]), the command lines of `--example server` and `--example
//! client` ([`ServerArgs`], [`ClientArgs`]), and what the client prints. Each example turns a
//! [`Route`] into its own runtime's bodies with its adapter's public API.
//!
//! The interop tests (`h2-testkit`) drive those example binaries with curl, nghttp, h2load and
//! python-hyper's `h2`, so every adapter answers the same routes with the same bytes and
//! accepts the same flags.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

use bytes::Bytes;
use h2core::Config;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, Uri};
use std::io::{self, Write};
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

/// Body of `GET /`.
pub const HELLO: &str = "hello\n";
/// Body of every route not listed (status 404).
pub const NOT_FOUND: &str = "not found\n";
/// Body of `GET /bytes/N` when N is not a length we serve (status 400).
pub const BAD_LENGTH: &str = "bad length\n";
/// The largest N of `GET /bytes/N`: 2 GiB, so a typo cannot make the server allocate without
/// bound.
pub const MAX_BYTES: usize = 1 << 31;
/// The byte `GET /bytes/N` repeats.
pub const BYTES_FILL: u8 = b'x';
/// How many chunks `GET /stream` sends without `?n=`.
pub const STREAM_DEFAULT_N: u64 = 10;
/// The gap between chunks of `GET /stream` without `?interval_ms=`.
pub const STREAM_DEFAULT_INTERVAL: Duration = Duration::from_millis(1000);
/// Body of `GET /push`: the page that refers to the pushed stylesheet.
pub const PUSH_PAGE: &str = "<link rel=stylesheet href=/pushed.css>\n";
/// Path of the resource `GET /push` pushes (in the PUSH_PROMISE's `:path`).
pub const PUSHED_PATH: &str = "/pushed.css";
/// Body of the pushed response.
pub const PUSHED_CSS: &str = "body { color: teal }\n";
/// `content-type` of the pushed response.
pub const PUSHED_CONTENT_TYPE: &str = "text/css";
/// The body `GET /trailers` sends before its trailers.
pub const TRAILERS_BODY: &str = "body before trailers\n";
/// The one trailer field of `GET /trailers`, announced in the `trailer` header.
pub const TRAILER_NAME: &str = "x-checksum";
/// The value of [`TRAILER_NAME`].
pub const TRAILER_VALUE: &str = "42";

/// What the demo server does for a request: decided from the method and URI alone, so every
/// runtime routes alike and only produces the bodies its own way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `GET /`: [`HELLO`].
    Hello,
    /// `GET /bytes/N`: N times [`BYTES_FILL`], N at most [`MAX_BYTES`].
    Bytes(usize),
    /// `GET /bytes/N` with N not a number or above [`MAX_BYTES`]: 400 [`BAD_LENGTH`].
    BadLength,
    /// `POST|PUT /echo`: the request body streamed back as it arrives.
    Echo,
    /// `GET /stream?n=K&interval_ms=T`: headers at once, then K chunks [`event`]`(i)`, each
    /// after waiting T ms, so a client sees headers long before the first DATA.
    Stream {
        /// How many chunks.
        n: u64,
        /// The wait before each chunk.
        interval: Duration,
    },
    /// `GET /push`: [`PUSH_PAGE`], and a push of [`push_request`] / [`pushed_response`] when
    /// the client allows push (when it does not, the page is served all the same).
    Push,
    /// `GET /trailers`: [`TRAILERS_BODY`] then [`trailers`], announced by [`Route::response`].
    Trailers,
    /// `GET /ws.html` ([`WS_PAGE_PATH`]): [`WS_PAGE`], a page whose script opens a WebSocket to
    /// [`WS_PATH`] on its own origin and shows what came back.
    WsPage,
    /// Anything else: 404 [`NOT_FOUND`].
    NotFound,
}

impl Route {
    /// The route for a request.
    pub fn of(method: &Method, uri: &Uri) -> Route {
        let path = uri.path();
        match (method, path) {
            (&Method::GET, "/") => Route::Hello,
            (&Method::POST | &Method::PUT, "/echo") => Route::Echo,
            (&Method::GET, p) if p.starts_with("/bytes/") => {
                match p["/bytes/".len()..].parse::<usize>() {
                    Ok(n) if n <= MAX_BYTES => Route::Bytes(n),
                    _ => Route::BadLength,
                }
            }
            (&Method::GET, "/stream") => Route::Stream {
                n: query(uri, "n").unwrap_or(STREAM_DEFAULT_N),
                interval: query(uri, "interval_ms")
                    .map_or(STREAM_DEFAULT_INTERVAL, Duration::from_millis),
            },
            (&Method::GET, "/push") => Route::Push,
            (&Method::GET, "/trailers") => Route::Trailers,
            (&Method::GET, WS_PAGE_PATH) => Route::WsPage,
            _ => Route::NotFound,
        }
    }

    /// The response status.
    pub fn status(&self) -> StatusCode {
        match self {
            Route::BadLength => StatusCode::BAD_REQUEST,
            Route::NotFound => StatusCode::NOT_FOUND,
            _ => StatusCode::OK,
        }
    }

    /// The whole body when the request alone determines it and it is small; `None` for
    /// [`Route::Bytes`] (slices of one static buffer: [`fill`]), and for [`Route::Echo`],
    /// [`Route::Stream`] and [`Route::Trailers`], whose bodies the runtime produces over time.
    pub fn fixed_body(&self) -> Option<Bytes> {
        match self {
            Route::Hello => Some(Bytes::from_static(HELLO.as_bytes())),
            Route::Bytes(_) => None,
            Route::BadLength => Some(Bytes::from_static(BAD_LENGTH.as_bytes())),
            Route::Push => Some(Bytes::from_static(PUSH_PAGE.as_bytes())),
            Route::NotFound => Some(Bytes::from_static(NOT_FOUND.as_bytes())),
            Route::WsPage => Some(Bytes::from_static(WS_PAGE.as_bytes())),
            Route::Echo | Route::Stream { .. } | Route::Trailers => None,
        }
    }

    /// The response around `body`: its status and, for [`Route::Trailers`], the `trailer`
    /// header that announces [`TRAILER_NAME`] (HTTP/1.1 clients need it to accept the field;
    /// RFC 9110 §6.6.2); [`Route::WsPage`] says it is HTML, so a browser runs its script.
    pub fn response<B>(&self, body: B) -> Response<B> {
        let mut r = Response::new(body);
        *r.status_mut() = self.status();
        match self {
            Route::Trailers => {
                r.headers_mut().insert(
                    http::header::TRAILER,
                    HeaderValue::from_static(TRAILER_NAME),
                );
            }
            Route::WsPage => {
                r.headers_mut().insert(
                    http::header::CONTENT_TYPE,
                    HeaderValue::from_static("text/html; charset=utf-8"),
                );
            }
            _ => {}
        }
        r
    }
}

/// The number under `key` in the URI's query (`?n=3&interval_ms=10`), if there is one.
pub fn query(uri: &Uri, key: &str) -> Option<u64> {
    uri.query()?
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == key)
        .and_then(|(_, v)| v.parse().ok())
}

/// Chunk `i` (from 0) of [`Route::Stream`]: `event {i}\n`.
pub fn event(i: u64) -> Bytes {
    Bytes::from(format!("event {i}\n"))
}

/// The trailers of [`Route::Trailers`].
pub fn trailers() -> HeaderMap {
    let mut t = HeaderMap::new();
    t.insert(TRAILER_NAME, HeaderValue::from_static(TRAILER_VALUE));
    t
}

/// The request `GET /push` promises: [`PUSHED_PATH`] on the authority the client asked for
/// (`localhost` when it gave none), since a client refuses a push for another origin
/// (RFC 9113 §8.4).
pub fn push_request(parent: &Uri) -> Request<()> {
    let authority = parent
        .authority()
        .map_or("localhost".into(), |a| a.to_string());
    Request::get(format!("http://{authority}{PUSHED_PATH}"))
        .body(())
        .expect("an authority from a parsed URI makes a valid URI")
}

/// The pushed response around `body` (the runtime's body of [`PUSHED_CSS`]).
pub fn pushed_response<B>(body: B) -> Response<B> {
    let mut r = Response::new(body);
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(PUSHED_CONTENT_TYPE),
    );
    r
}

// ---------------------------------------------------------------------------------------------
// The server's command line.

/// The server's usage line, printed (after the error) with exit status 2.
pub const SERVER_USAGE: &str =
    "usage: server [--listen ADDR] [--tls | --cert PEM --key PEM] [--max-concurrent-streams N] [--h2-only] [--root DIR]";
/// Where the server listens without `--listen`.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// The demo server's command line:
/// `[--listen ADDR] [--tls | --cert PEM --key PEM] [--max-concurrent-streams N] [--h2-only]
/// [--root DIR]`.
#[derive(Debug, Clone)]
pub struct ServerArgs {
    /// `--listen ADDR`, else [`DEFAULT_LISTEN`]. The tests pass `127.0.0.1:0` and read the
    /// port back from the server's first line, `listening on ADDR`.
    pub listen: String,
    /// Server defaults, with `SETTINGS_MAX_CONCURRENT_STREAMS` from `--max-concurrent-streams`.
    pub config: Config,
    /// `--tls`: serve TLS with a self-signed certificate made at start (see [`ServerArgs::pem`]).
    pub self_signed: bool,
    /// `--cert PEM`: the certificate chain file.
    pub cert: Option<PathBuf>,
    /// `--key PEM`: the private key file.
    pub key: Option<PathBuf>,
    /// `--h2-only`: HTTP/2 by prior knowledge only, no HTTP/1.1 on the port
    /// (`Server::http2_only`).
    pub h2_only: bool,
    /// `--root DIR`: files under DIR are served for GET and HEAD ([`StaticFile::lookup`]);
    /// other requests go to the demo routes.
    pub root: Option<PathBuf>,
}

/// A certificate chain and its private key, PEM-encoded.
#[derive(Debug, Clone)]
pub struct Pem {
    /// The certificate chain.
    pub cert: Vec<u8>,
    /// The private key.
    pub key: Vec<u8>,
}

impl ServerArgs {
    /// Parses the process's arguments (`std::env::args()`: the first, the program, is
    /// skipped). On an unknown argument or a flag without its value, prints the error and
    /// [`SERVER_USAGE`] to stderr and exits with status 2, as a command-line tool does.
    /// `--help` (or `-h`) prints the usage to stdout and exits 0.
    pub fn parse(args: impl IntoIterator<Item = String>) -> ServerArgs {
        let args: Vec<String> = args.into_iter().collect();
        if wants_help(&args) {
            println!("{SERVER_USAGE}");
            std::process::exit(0)
        }
        ServerArgs::try_parse(args).unwrap_or_else(|e| {
            eprintln!("{e}");
            eprintln!("{SERVER_USAGE}");
            std::process::exit(2)
        })
    }

    /// [`ServerArgs::parse`] without exiting: the error is the line printed before the usage.
    pub fn try_parse(args: impl IntoIterator<Item = String>) -> Result<ServerArgs, String> {
        let mut a = ServerArgs {
            listen: DEFAULT_LISTEN.into(),
            config: Config::server(),
            self_signed: false,
            cert: None,
            key: None,
            h2_only: false,
            root: None,
        };
        let mut args = args.into_iter().skip(1);
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--listen" => a.listen = args.next().ok_or("--listen ADDR")?,
                "--max-concurrent-streams" => {
                    let n = args
                        .next()
                        .and_then(|n| n.parse().ok())
                        .ok_or("--max-concurrent-streams N")?;
                    a.config.settings.max_concurrent_streams = Some(n);
                }
                "--tls" => a.self_signed = true,
                "--h2-only" => a.h2_only = true,
                "--root" => a.root = Some(args.next().ok_or("--root DIR")?.into()),
                "--cert" => a.cert = Some(args.next().ok_or("--cert PEM")?.into()),
                "--key" => a.key = Some(args.next().ok_or("--key PEM")?.into()),
                other => return Err(format!("unknown argument {other}")),
            }
        }
        Ok(a)
    }

    /// Whether any TLS flag was given: an adapter without TLS refuses rather than serve
    /// cleartext to a client that expects TLS.
    pub fn tls_requested(&self) -> bool {
        self.self_signed || self.cert.is_some() || self.key.is_some()
    }

    /// The certificate to serve: the `--cert` and `--key` files when both are given, else a
    /// fresh [`self_signed`] one with `--tls`, else `None` (cleartext: HTTP/1.1 and h2c).
    pub fn pem(&self) -> io::Result<Option<Pem>> {
        match (&self.cert, &self.key) {
            (Some(cert), Some(key)) => Ok(Some(Pem {
                cert: std::fs::read(cert)?,
                key: std::fs::read(key)?,
            })),
            _ if self.self_signed => self_signed().map(Some),
            _ => Ok(None),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Static files (`--root DIR`).

/// A file under the root that a GET or HEAD names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticFile {
    /// Where it is (inside the root, symbolic links resolved).
    pub path: PathBuf,
    /// Its length: the response's `content-length`.
    pub len: u64,
    /// Its `content-type`, from the extension.
    pub content_type: &'static str,
}

/// What a request names under the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// A file to serve (a directory's `index.html` for the directory).
    File(StaticFile),
    /// A path that would leave the root (`..`, an encoded slash or NUL, a symbolic link out
    /// of it): answered 400, never looked up.
    Refused,
    /// Nothing there (or not GET/HEAD): the demo routes answer.
    Missing,
}

impl StaticFile {
    /// What `uri` names under `root`, for `method` (GET and HEAD only). The path is
    /// percent-decoded once; `.` and empty segments are skipped; `..`, `\`, and encoded
    /// `/`, `\` or NUL are refused; the file found is resolved (symbolic links followed) and
    /// must still be inside the resolved root, as nghttpd's `-d` and h2o's `file.dir` keep it.
    pub fn lookup(root: &std::path::Path, method: &Method, uri: &Uri) -> Lookup {
        if method != Method::GET && method != Method::HEAD {
            return Lookup::Missing;
        }
        let raw = uri.path();
        let lowered = raw.to_ascii_lowercase();
        if lowered.contains("%2f") || lowered.contains("%5c") || lowered.contains("%00") {
            return Lookup::Refused;
        }
        let Some(decoded) = percent_decode(raw) else {
            return Lookup::Refused;
        };
        let mut path = root.to_path_buf();
        for segment in decoded.split('/') {
            match segment {
                "" | "." => {}
                ".." => return Lookup::Refused,
                s if s.contains('\\') || s.contains('\0') => return Lookup::Refused,
                s => path.push(s),
            }
        }
        let (Ok(root), Ok(mut found)) = (root.canonicalize(), path.canonicalize()) else {
            return Lookup::Missing;
        };
        if !found.starts_with(&root) {
            return Lookup::Refused;
        }
        if found.is_dir() {
            found.push("index.html");
        }
        match std::fs::metadata(&found) {
            Ok(meta) if meta.is_file() => Lookup::File(StaticFile {
                content_type: content_type(&found),
                len: meta.len(),
                path: found,
            }),
            _ => Lookup::Missing,
        }
    }

    /// The response head for this file around `body` (empty for HEAD): 200 with
    /// `content-type` and `content-length` (also for HEAD, where it tells the length a GET
    /// would have, RFC 9110 §9.3.2).
    pub fn response<B>(&self, body: B) -> Response<B> {
        let mut r = Response::new(body);
        let headers = r.headers_mut();
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static(self.content_type),
        );
        headers.insert(http::header::CONTENT_LENGTH, HeaderValue::from(self.len));
        r
    }
}

impl StaticFile {
    /// The file's bytes, read from disk 16 KiB at a time as the iterator is pulled (for
    /// `Body::chunks`, which pulls only as flow control allows: a large file is never read
    /// whole, nor ahead of what the client takes). A read error ends it early, which fails
    /// the body.
    pub fn chunks(&self) -> io::Result<impl Iterator<Item = Bytes> + Send + 'static> {
        use std::io::Read;
        let mut file = std::fs::File::open(&self.path)?;
        Ok(std::iter::from_fn(move || {
            let mut buf = vec![0; 16 * 1024];
            match file.read(&mut buf) {
                Ok(0) | Err(_) => None,
                Ok(n) => {
                    buf.truncate(n);
                    Some(Bytes::from(buf))
                }
            }
        }))
    }
}

/// `%XX` escapes decoded; `None` when an escape is malformed or the result is not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The `content-type` of a file, from its extension.
fn content_type(path: &std::path::Path) -> &'static str {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    match ext.to_ascii_lowercase().as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css",
        "js" | "mjs" => "text/javascript",
        "json" => "application/json",
        "txt" => "text/plain; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "wasm" => "application/wasm",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}

/// Whether the command line asks for the usage (`--help` or `-h`, anywhere after the program).
fn wants_help(args: &[String]) -> bool {
    args.iter().skip(1).any(|a| a == "--help" || a == "-h")
}

/// A self-signed certificate for `localhost` and `127.0.0.1`, made now: clients accept it only
/// with `--insecure`, which is what the interop tests pass.
pub fn self_signed() -> io::Result<Pem> {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
        .map_err(io::Error::other)?;
    Ok(Pem {
        cert: made.cert.pem().into_bytes(),
        key: made.signing_key.serialize_pem().into_bytes(),
    })
}

// ---------------------------------------------------------------------------------------------
// The client's command line and output.

/// The client's usage line, printed with exit status 2 when no URL is given.
pub const CLIENT_USAGE: &str =
    "usage: client [--upgrade] [--insecure] [-X METHOD] [-d DATA] URL...";

/// The demo client's command line: `[--upgrade] [--insecure|-k] [-X METHOD] [-d DATA] URL...`.
#[derive(Debug, Clone)]
pub struct ClientArgs {
    /// `--upgrade`: for `http://`, HTTP/1.1 with `Upgrade: h2c` (RFC 7540 §3.2) instead of
    /// prior knowledge; the first request carries the upgrade.
    pub upgrade: bool,
    /// `--insecure` or `-k`: accept any server certificate (the demo server's is self-signed).
    pub insecure: bool,
    /// `-X METHOD`, else POST with `-d`, else GET.
    pub method: Method,
    /// `-d DATA`: the request body.
    pub data: Option<Bytes>,
    /// The URLs, all sent over the connection to the first one's host.
    pub urls: Vec<Uri>,
}

/// Where the client connects: the first URL's host.
#[derive(Debug, Clone)]
pub struct Target {
    /// The host, for TLS server name indication and certificate checks.
    pub host: String,
    /// Its first address, on the URL's port (443 for `https://`, 80 otherwise, by default).
    pub addr: SocketAddr,
    /// Whether the scheme is `https` (TLS with ALPN `h2`).
    pub https: bool,
}

impl ClientArgs {
    /// Parses the process's arguments (`std::env::args()`: the first, the program, is
    /// skipped). On an error, prints it (the usage when no URL is given) to stderr and exits
    /// with status 2.
    /// `--help` (or `-h`) prints the usage to stdout and exits 0.
    pub fn parse(args: impl IntoIterator<Item = String>) -> ClientArgs {
        let args: Vec<String> = args.into_iter().collect();
        if wants_help(&args) {
            println!("{CLIENT_USAGE}");
            std::process::exit(0)
        }
        ClientArgs::try_parse(args).unwrap_or_else(|e| {
            eprintln!("{e}");
            if e != CLIENT_USAGE {
                eprintln!("{CLIENT_USAGE}");
            }
            std::process::exit(2)
        })
    }

    /// [`ClientArgs::parse`] without exiting: the error is the line printed.
    pub fn try_parse(args: impl IntoIterator<Item = String>) -> Result<ClientArgs, String> {
        let mut a = ClientArgs {
            upgrade: false,
            insecure: false,
            method: Method::GET,
            data: None,
            urls: Vec::new(),
        };
        let mut args = args.into_iter().skip(1);
        let mut method = None;
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--upgrade" => a.upgrade = true,
                "--insecure" | "-k" => a.insecure = true,
                "-X" => method = Some(args.next().ok_or("-X METHOD")?),
                "-d" => a.data = Some(Bytes::from(args.next().ok_or("-d DATA")?)),
                flag if flag.starts_with('-') => return Err(format!("unknown argument {flag}")),
                url => a.urls.push(url.parse().map_err(|e| format!("{url}: {e}"))?),
            }
        }
        a.method = match method {
            Some(m) => m.parse().map_err(|_| "bad method")?,
            None if a.data.is_some() => Method::POST,
            None => Method::GET,
        };
        if a.urls.is_empty() {
            return Err(CLIENT_USAGE.into());
        }
        Ok(a)
    }

    /// Resolves the first URL's host.
    pub fn target(&self) -> io::Result<Target> {
        let first = &self.urls[0];
        let host = first
            .host()
            .ok_or_else(|| io::Error::other("URL without host"))?
            .to_owned();
        let https = first.scheme_str() == Some("https");
        let port = first.port_u16().unwrap_or(if https { 443 } else { 80 });
        let addr = (host.as_str(), port)
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| io::Error::other("no address"))?;
        Ok(Target { host, addr, https })
    }

    /// The request for `uri` with the method from the command line and `body`, the runtime's
    /// body of [`ClientArgs::data`] (left to the caller: an absent body and an empty one may
    /// differ on the wire).
    pub fn request<B>(&self, uri: &Uri, body: B) -> http::Result<Request<B>> {
        Request::builder()
            .method(self.method.clone())
            .uri(uri.clone())
            .body(body)
    }
}

/// Prints `URL: VERSION STATUS` to stderr, where the tests look for the protocol used, and
/// returns whether the status is a success.
pub fn print_head<B>(uri: &Uri, resp: &Response<B>) -> bool {
    eprintln!("{uri}: {:?} {}", resp.version(), resp.status());
    resp.status().is_success()
}

/// Writes a response body to stdout and its trailers to stderr, `trailer NAME: VALUE` a line.
pub fn print_body(body: &[u8], trailers: Option<&HeaderMap>) -> io::Result<()> {
    io::stdout().write_all(body)?;
    for (k, v) in trailers.into_iter().flatten() {
        eprintln!("trailer {k}: {}", v.to_str().unwrap_or("?"));
    }
    Ok(())
}

/// Prints a request that failed, `URL: ERROR`, to stderr.
pub fn print_failure(uri: &Uri, error: &dyn std::fmt::Display) {
    eprintln!("{uri}: {error}");
}

/// Ends the client: flushes stdout, then exits 0 when every response was a success, 1 when one
/// was not or a request failed, and 1 after printing `error: ...` on an error of the whole run.
pub fn client_exit(outcome: Result<bool, Box<dyn std::error::Error>>) -> ! {
    // `process::exit` runs no destructors: what stdout still buffers would be lost.
    let outcome = outcome.and_then(|ok| {
        io::stdout().flush()?;
        Ok(ok)
    });
    std::process::exit(match outcome {
        Ok(true) => 0,
        Ok(false) => 1,
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    })
}

/// One buffer of [`BYTES_FILL`] that every `GET /bytes/N` body is cut from.
static FILL: [u8; 16 * 1024] = [BYTES_FILL; 16 * 1024];

/// The body of `GET /bytes/N`: `n` bytes of [`BYTES_FILL`] as slices of one static buffer, so
/// serving it allocates nothing in proportion to `n` (for `Body::chunks`, which takes each
/// slice only when the peer can receive it).
pub fn fill(n: usize) -> impl Iterator<Item = Bytes> + Send + 'static {
    let full = n / FILL.len();
    let rest = n % FILL.len();
    std::iter::repeat_n(Bytes::from_static(&FILL), full)
        .chain((rest > 0).then(|| Bytes::from_static(&FILL[..rest])))
}

// ---------------------------------------------------------------------------------------------
// `/ws`: a WebSocket echo over HTTP/2 (extended CONNECT) and HTTP/1.1 (`Upgrade`).

/// The path of the WebSocket echo.
pub const WS_PATH: &str = "/ws";

/// The path of [`WS_PAGE`].
pub const WS_PAGE_PATH: &str = "/ws.html";

/// The query parameter of [`WS_PATH`] (`/ws?announce=1`) that makes the server's first message
/// [`ws_announcement`]: which protocol carried the WebSocket, as the server saw the request.
pub const WS_ANNOUNCE: &str = "announce";

/// The start of the announcement's text, the carrier after it (`carrier: HTTP/2.0 CONNECT`).
pub const WS_CARRIER_PREFIX: &str = "carrier: ";

/// The text of the echo [`WS_PAGE`] sends once the WebSocket is open.
pub const WS_PAGE_MESSAGE: &str = "hello from the browser";

/// `GET /ws.html`: opens `wss://` (or `ws://` on a cleartext page) to `/ws?announce=1` on the
/// page's own origin, sends [`WS_PAGE_MESSAGE`], and fills in `#carrier` (the server's
/// announcement), `#echo` (the echoed message) and `#status` (`echoed` once the echo came back
/// equal to what was sent, else what went wrong). Nothing but the page's own origin is used.
pub const WS_PAGE: &str = r#"<!doctype html>
<html>
<head><meta charset="utf-8"><title>WebSocket echo</title></head>
<body>
<h1>WebSocket echo</h1>
<p>carried by: <span id="carrier">-</span></p>
<p>echo: <span id="echo">-</span></p>
<p>status: <span id="status">connecting</span></p>
<script>
const MESSAGE = "hello from the browser";
const scheme = location.protocol === "https:" ? "wss:" : "ws:";
const ws = new WebSocket(scheme + "//" + location.host + "/ws?announce=1");
const show = (id, text) => { document.getElementById(id).textContent = text; };
let echoed = false;
ws.onopen = () => { show("status", "open"); ws.send(MESSAGE); };
ws.onmessage = (event) => {
  if (event.data.startsWith("carrier: ")) {
    show("carrier", event.data.slice("carrier: ".length));
    return;
  }
  show("echo", event.data);
  echoed = event.data === MESSAGE;
  show("status", echoed ? "echoed" : "wrong echo");
  ws.close(1000);
};
ws.onerror = () => show("status", "error");
ws.onclose = (event) => { if (!echoed) show("status", "closed " + event.code); };
</script>
</body>
</html>
"#;

/// The first message of a WebSocket that asked for it with [`WS_ANNOUNCE`]`=1`:
/// [`WS_CARRIER_PREFIX`] and the request's version and method as the server got them,
/// `HTTP/2.0 CONNECT` for an extended CONNECT (RFC 8441) and `HTTP/1.1 GET` for an
/// `Upgrade: websocket` (RFC 6455); over HTTP/2, with `connection_streams` (the streams its
/// connection opened so far, this one included: `ConnectionInfo::stats.streams_opened`), then
/// `; streams on its connection: N`, more than 1 when the WebSocket shares the connection of
/// earlier requests (a browser's page). None when the client did not ask.
pub fn ws_announcement<B>(req: &Request<B>, connection_streams: Option<u64>) -> Option<String> {
    if query(req.uri(), WS_ANNOUNCE) != Some(1) {
        return None;
    }
    let mut text = format!("{WS_CARRIER_PREFIX}{:?} {}", req.version(), req.method());
    if let Some(n) = connection_streams {
        text += &format!("{WS_STREAMS_PREFIX}{n}");
    }
    Some(text)
}

/// What comes before the stream count in a [`ws_announcement`].
pub const WS_STREAMS_PREFIX: &str = "; streams on its connection: ";

/// The response that accepts a WebSocket on [`WS_PATH`], if `req` opens one: an extended
/// CONNECT with `:protocol websocket` (RFC 8441 §5: 200, the stream is the WebSocket), or a
/// GET with `Upgrade: websocket` and a `Sec-WebSocket-Key` (RFC 6455 §4.2: 101 with
/// `Sec-WebSocket-Accept`, the connection is the WebSocket). The runtime answers with this
/// head around a streamed body and runs a [`WsEcho`] between the request body and that body.
pub fn websocket_accept<B>(req: &Request<B>) -> Option<Response<()>> {
    if req.uri().path() != WS_PATH {
        return None;
    }
    let websocket = |v: &[u8]| v.eq_ignore_ascii_case(b"websocket");
    if req.method() == Method::CONNECT {
        let protocol = req.extensions().get::<h2_http::Protocol>()?;
        return websocket(protocol.as_bytes()).then(|| Response::new(()));
    }
    let upgrade = req.headers().get(http::header::UPGRADE)?;
    let key = req.headers().get(http::header::SEC_WEBSOCKET_KEY)?;
    if req.method() != Method::GET || !websocket(upgrade.as_bytes()) {
        return None;
    }
    let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(http::header::UPGRADE, "websocket")
        .header(http::header::CONNECTION, "upgrade")
        .header(http::header::SEC_WEBSOCKET_ACCEPT, accept)
        .body(())
        .ok()
}

/// The server side of one WebSocket that echoes every text and binary message, sans-IO: fed
/// what the peer sent, it gives what to send back (RFC 6455 frames; pings are answered, a
/// close is echoed and ends it). Every runtime drives it between a request body and a
/// response body.
pub struct WsEcho {
    ws: tungstenite::WebSocket<Buffers>,
}

/// The bytes between [`WsEcho`] and the connection: reading finds what was fed (or
/// `WouldBlock`), writing collects what to send.
#[derive(Default)]
struct Buffers {
    input: std::collections::VecDeque<u8>,
    output: Vec<u8>,
}

impl io::Read for Buffers {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.input.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        io::Read::read(&mut self.input, buf)
    }
}

impl io::Write for Buffers {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.output.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Default for WsEcho {
    fn default() -> Self {
        WsEcho::new()
    }
}

impl WsEcho {
    /// A WebSocket whose handshake is done (the 101 or 200 was sent).
    pub fn new() -> WsEcho {
        let ws = tungstenite::WebSocket::from_raw_socket(
            Buffers::default(),
            tungstenite::protocol::Role::Server,
            None,
        );
        WsEcho { ws }
    }

    /// The bytes of a text message from us to the peer (sent before any echo, e.g. the
    /// [`ws_announcement`]).
    pub fn text(&mut self, text: &str) -> Bytes {
        // Buffered in memory: never blocks.
        let _ = self.ws.write(tungstenite::Message::text(text));
        let _ = self.ws.flush();
        Bytes::from(std::mem::take(&mut self.ws.get_mut().output))
    }

    /// Takes bytes the peer sent; gives the bytes to send back, and true once the WebSocket
    /// is over (the close was echoed, or the peer broke the protocol): then end our side.
    pub fn input(&mut self, data: &[u8]) -> (Bytes, bool) {
        use tungstenite::{Error, Message};
        self.ws.get_mut().input.extend(data);
        let mut over = false;
        loop {
            match self.ws.read() {
                Ok(m @ (Message::Text(_) | Message::Binary(_))) => {
                    // Buffered in memory: never blocks.
                    if self.ws.write(m).is_err() {
                        over = true;
                        break;
                    }
                }
                // Pings are answered and a close is echoed by tungstenite itself.
                Ok(_) => {}
                Err(Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(_) => {
                    over = true;
                    break;
                }
            }
        }
        let _ = self.ws.flush();
        over |= !self.ws.can_write();
        let out = std::mem::take(&mut self.ws.get_mut().output);
        (Bytes::from(out), over)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(method: Method, uri: &str) -> Route {
        Route::of(&method, &uri.parse().expect("valid URI"))
    }

    fn args(line: &str) -> impl Iterator<Item = String> + '_ {
        std::iter::once("prog")
            .chain(line.split_whitespace())
            .map(String::from)
    }

    #[test]
    fn routes_are_decided_by_method_and_path() {
        assert_eq!(route(Method::GET, "/"), Route::Hello);
        assert_eq!(route(Method::POST, "/"), Route::NotFound);
        assert_eq!(route(Method::POST, "/echo"), Route::Echo);
        assert_eq!(route(Method::PUT, "/echo"), Route::Echo);
        assert_eq!(route(Method::GET, "/echo"), Route::NotFound);
        assert_eq!(route(Method::GET, "/bytes/1000"), Route::Bytes(1000));
        assert_eq!(
            route(Method::GET, "/bytes/2147483648"),
            Route::Bytes(MAX_BYTES)
        );
        assert_eq!(route(Method::GET, "/bytes/2147483649"), Route::BadLength);
        assert_eq!(route(Method::GET, "/bytes/x"), Route::BadLength);
        assert_eq!(route(Method::GET, "/push"), Route::Push);
        assert_eq!(route(Method::GET, "/trailers"), Route::Trailers);
        assert_eq!(route(Method::GET, "/nope"), Route::NotFound);
        assert_eq!(route(Method::GET, "/ws.html"), Route::WsPage);
    }

    #[test]
    fn stream_takes_its_count_and_interval_from_the_query() {
        assert_eq!(
            route(Method::GET, "http://a/stream?n=3&interval_ms=5"),
            Route::Stream {
                n: 3,
                interval: Duration::from_millis(5)
            }
        );
        assert_eq!(
            route(Method::GET, "/stream?interval_ms=x"),
            Route::Stream {
                n: STREAM_DEFAULT_N,
                interval: STREAM_DEFAULT_INTERVAL
            }
        );
        assert_eq!(event(7), Bytes::from_static(b"event 7\n"));
    }

    #[test]
    fn responses_carry_status_and_the_trailer_announcement() {
        let r = Route::NotFound.response(());
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        assert_eq!(Route::BadLength.response(()).status(), 400);
        let r = Route::Trailers.response(());
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["trailer"], TRAILER_NAME);
        assert_eq!(trailers()[TRAILER_NAME], TRAILER_VALUE);
        assert_eq!(Route::Bytes(3).fixed_body(), None);
        let all: Vec<u8> = fill(40_000).flat_map(|b| b.to_vec()).collect();
        assert_eq!(all.len(), 40_000);
        assert!(all.iter().all(|&b| b == BYTES_FILL));
        assert_eq!(fill(0).count(), 0);
        assert_eq!(Route::Echo.fixed_body(), None);
    }

    #[test]
    fn the_websocket_page_and_its_announcement() {
        let r = Route::WsPage.response(());
        assert_eq!(r.headers()["content-type"], "text/html; charset=utf-8");
        let page = std::str::from_utf8(WS_PAGE.as_bytes()).expect("utf-8");
        // The page's constants are this module's.
        assert!(page.contains(&format!("const MESSAGE = \"{WS_PAGE_MESSAGE}\";")));
        assert!(page.contains(&format!("\"{WS_PATH}?{WS_ANNOUNCE}=1\"")));
        assert!(page.contains(&format!("startsWith(\"{WS_CARRIER_PREFIX}\")")));

        let connect = Request::builder()
            .method(Method::CONNECT)
            .version(http::Version::HTTP_2)
            .uri("https://a/ws?announce=1")
            .body(())
            .expect("request");
        let announced = ws_announcement(&connect, Some(2)).expect("asked for");
        assert_eq!(
            announced,
            "carrier: HTTP/2.0 CONNECT; streams on its connection: 2"
        );
        let upgrade = Request::get("/ws?announce=1").body(()).expect("request");
        assert_eq!(
            ws_announcement(&upgrade, None).as_deref(),
            Some("carrier: HTTP/1.1 GET")
        );
        let silent = Request::get("/ws").body(()).expect("request");
        assert_eq!(ws_announcement(&silent, Some(1)), None);

        // The announcement is a text frame from the server (unmasked): FIN + text, length.
        let frame = WsEcho::new().text(&announced);
        assert_eq!(&frame[..2], &[0x81, announced.len() as u8]);
        assert_eq!(&frame[2..], announced.as_bytes());
    }

    #[test]
    fn push_is_for_the_same_authority() {
        let p = push_request(&"http://127.0.0.1:9/push".parse().expect("uri"));
        assert_eq!(p.uri(), "http://127.0.0.1:9/pushed.css");
        let p = push_request(&"/push".parse().expect("uri"));
        assert_eq!(p.uri(), "http://localhost/pushed.css");
        let r = pushed_response(());
        assert_eq!(r.headers()["content-type"], PUSHED_CONTENT_TYPE);
    }

    #[test]
    fn server_arguments() {
        let a = ServerArgs::try_parse(args("")).expect("parses");
        assert_eq!(a.listen, DEFAULT_LISTEN);
        assert!(!a.tls_requested());
        assert!(a.pem().expect("no files").is_none());
        let a = ServerArgs::try_parse(args("--listen 127.0.0.1:0 --max-concurrent-streams 7"))
            .expect("parses");
        assert_eq!(a.listen, "127.0.0.1:0");
        assert_eq!(a.config.settings.max_concurrent_streams, Some(7));
        assert!(!a.h2_only);
        assert!(
            ServerArgs::try_parse(args("--h2-only"))
                .expect("parses")
                .h2_only
        );
        let a = ServerArgs::try_parse(args("--tls")).expect("parses");
        assert!(a.tls_requested());
        let pem = a.pem().expect("generated").expect("TLS");
        assert!(pem.cert.starts_with(b"-----BEGIN CERTIFICATE-----"));
        // A certificate without its key serves cleartext, as the demo always did.
        let a = ServerArgs::try_parse(args("--cert c.pem")).expect("parses");
        assert!(a.tls_requested());
        assert!(a.pem().expect("nothing read").is_none());
        assert_eq!(
            ServerArgs::try_parse(args("--bogus")).unwrap_err(),
            "unknown argument --bogus"
        );
        assert!(ServerArgs::try_parse(args("--max-concurrent-streams x")).is_err());
    }

    #[test]
    fn static_files_stay_inside_the_root() {
        let base = std::env::temp_dir().join(format!("h2-demo-root-{}", std::process::id()));
        let root = base.join("root");
        std::fs::create_dir_all(root.join("docs")).expect("dirs");
        std::fs::write(root.join("a.css"), "body{}").expect("file");
        std::fs::write(root.join("docs/index.html"), "<p>").expect("file");
        std::fs::write(base.join("secret"), "no").expect("file");
        std::os::unix::fs::symlink(base.join("secret"), root.join("out")).expect("symlink");
        let get = |path: &str| StaticFile::lookup(&root, &Method::GET, &path.parse().expect("uri"));
        match get("/a.css") {
            Lookup::File(f) => {
                assert_eq!((f.len, f.content_type), (6, "text/css"));
                let r = f.response(());
                assert_eq!(r.headers()["content-length"], "6");
            }
            other => panic!("{other:?}"),
        }
        assert!(
            matches!(get("/docs/"), Lookup::File(f) if f.content_type.starts_with("text/html"))
        );
        assert!(
            matches!(get("/%61.css"), Lookup::File(_)),
            "escapes are decoded"
        );
        for escape in [
            "/../secret",
            "/docs/../../secret",
            "/%2e%2e/secret",
            "/docs%2F..%2Fa.css",
            "/out",
            "/a%00.css",
        ] {
            assert_eq!(get(escape), Lookup::Refused, "{escape}");
        }
        assert_eq!(get("/nothing"), Lookup::Missing);
        let post = StaticFile::lookup(&root, &Method::POST, &"/a.css".parse().expect("uri"));
        assert_eq!(post, Lookup::Missing);
        let _ = std::fs::remove_dir_all(&base);
    }

    #[test]
    fn help_is_asked_for_anywhere_on_the_line() {
        let line = |l: &str| args(l).collect::<Vec<_>>();
        assert!(wants_help(&line("--help")));
        assert!(wants_help(&line("--listen 127.0.0.1:0 -h")));
        assert!(!wants_help(&line("--listen 127.0.0.1:0")));
        assert_eq!(
            ClientArgs::try_parse(args("--bogus http://a/")).unwrap_err(),
            "unknown argument --bogus"
        );
    }

    #[test]
    fn client_arguments() {
        let a = ClientArgs::try_parse(args("-k --upgrade http://a/ http://a/x")).expect("parses");
        assert!(a.insecure && a.upgrade);
        assert_eq!(a.method, Method::GET);
        assert_eq!(a.urls.len(), 2);
        let a = ClientArgs::try_parse(args("-d hi http://a/echo")).expect("parses");
        assert_eq!(a.method, Method::POST);
        assert_eq!(a.data.as_deref(), Some(&b"hi"[..]));
        let a = ClientArgs::try_parse(args("-X PUT -d hi http://a/echo")).expect("parses");
        assert_eq!(a.method, Method::PUT);
        assert_eq!(ClientArgs::try_parse(args("-k")).unwrap_err(), CLIENT_USAGE);
        assert_eq!(ClientArgs::try_parse(args("-X")).unwrap_err(), "-X METHOD");
        let t = ClientArgs::try_parse(args("https://127.0.0.1/"))
            .expect("parses")
            .target()
            .expect("resolves");
        assert!(t.https);
        assert_eq!(t.addr, "127.0.0.1:443".parse().expect("addr"));
    }
}
