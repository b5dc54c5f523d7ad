//! A real browser on the demo server (examples/server.rs) over TLS: headless Chromium loads
//! `GET /ws.html`, whose script opens `wss://` to `/ws` on the page's own origin, sends a
//! message and shows the echo in the DOM. The test reads the DOM through the DevTools protocol
//! (`--dump-dom` does not wait for a WebSocket: it dumps as soon as the page's virtual time
//! budget runs out, whatever the socket is doing) and asserts that
//!
//! * the echo came back equal to what the page sent;
//! * the page itself came over HTTP/2 (`nextHopProtocol` is `h2`, ALPN on our TLS server);
//! * the WebSocket was an HTTP/2 extended CONNECT (RFC 8441), not an HTTP/1.1 `Upgrade`: the
//!   server's first WebSocket message (`/ws?announce=1`) names the request's version and
//!   method as the server got them (`HTTP/2.0 CONNECT`), and the number of streams its
//!   connection had opened by then, which is more than one: the page's own requests and the
//!   WebSocket shared one connection.
//!
//! Chromium is a required peer, like curl in `h2_testkit::interop`: missing, the test fails
//! (`H2_ALLOW_MISSING_PEERS=1` turns that into a recorded skip); `scripts/test.sh` installs it.
//! The server and the browser run as child processes, killed when the test ends, failed or not;
//! every wait is bounded. Nothing the browser writes (profile, crash database) lands outside
//! the test's scratch directory.

use h2_testkit::interop::{self, Scratch, ServerProcess, ServerSpec};
use serde_json::{json, Value};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::{self, Message, WebSocket};

const SERVER: ServerSpec = ServerSpec::new("h2-tokio", "server");

/// From the browser's start to its DevTools endpoint being up.
const DEVTOOLS_LIMIT: Duration = Duration::from_secs(30);
/// From the DevTools connection to the page showing the outcome of its WebSocket.
const PAGE_LIMIT: Duration = Duration::from_secs(30);
/// For every process of the browser to be gone once it was killed.
const EXIT_LIMIT: Duration = Duration::from_secs(10);

/// Headless Chromium with its DevTools endpoint, in `scratch`; killed on drop.
struct Chromium {
    child: Child,
    /// Every path the browser writes under; each of its processes names it on its command line.
    dir: PathBuf,
    stderr: PathBuf,
}

impl Chromium {
    /// Starts `bin` headless on `url`, with a profile and a home of its own in `scratch`.
    fn launch(bin: &Path, scratch: &Scratch, url: &str) -> Chromium {
        let dir = scratch.path("chromium");
        let home = dir.join("home");
        std::fs::create_dir_all(&home).expect("browser home");
        let stderr = scratch.path("chromium.stderr");
        let child = Command::new(bin)
            .args([
                "--headless",
                // Root in CI (a container): Chromium's sandbox refuses to run as root.
                "--no-sandbox",
                // The demo server's certificate is self-signed (`--tls`).
                "--ignore-certificate-errors",
                "--disable-gpu",
                // Containers often have a tiny /dev/shm.
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                // No traffic of the browser's own (updates, safe browsing) besides the page's.
                "--disable-background-networking",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", dir.join("profile").display()))
            .arg(url)
            // The crash reporter's database goes under $HOME/.config, the singleton socket's
            // directory under $TMPDIR: keep both in the scratch.
            .env("HOME", &home)
            .env("TMPDIR", &home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_CACHE_HOME", home.join(".cache"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).expect("browser stderr file"))
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", bin.display()));
        Chromium { child, dir, stderr }
    }

    /// What the browser wrote on stderr, for failure messages.
    fn stderr(&self) -> String {
        let all = std::fs::read_to_string(&self.stderr).unwrap_or_default();
        interop::tail(&all, 8000).to_owned()
    }

    /// The browser's DevTools WebSocket URL, from `DevToolsActivePort` in its profile (port,
    /// then path), which it writes once the endpoint listens (`--remote-debugging-port=0`).
    fn devtools_url(&mut self) -> String {
        let file = self.dir.join("profile").join("DevToolsActivePort");
        let deadline = Instant::now() + DEVTOOLS_LIMIT;
        loop {
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            if let [port, path, ..] = text.lines().collect::<Vec<_>>()[..] {
                return format!("ws://127.0.0.1:{port}{path}");
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("chromium exited ({status}) early:\n{}", self.stderr());
            }
            assert!(
                Instant::now() < deadline,
                "no DevTools endpoint within {DEVTOOLS_LIMIT:?}:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Kills the browser and waits (bounded) until none of its processes (renderers, GPU,
    /// network service, crash handler: each names our scratch directory on its command line)
    /// is left. Their pids, if some outlived the wait.
    fn kill(&mut self) -> Vec<u32> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let deadline = Instant::now() + EXIT_LIMIT;
        loop {
            let left = processes_naming(&self.dir);
            if left.is_empty() || Instant::now() >= deadline {
                return left;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        let left = self.kill();
        if !left.is_empty() {
            eprintln!("chromium processes outlived the browser: {left:?}");
        }
    }
}

/// The pids of processes whose command line contains `dir`.
fn processes_naming(dir: &Path) -> Vec<u32> {
    let needle = dir.to_string_lossy().into_owned();
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    procs
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|cmd| String::from_utf8_lossy(&cmd).contains(&needle))
        })
        .collect()
}

/// A DevTools protocol connection to the browser (one WebSocket; pages are reached through
/// flat sessions, `Target.attachToTarget` with `flatten`).
struct DevTools {
    ws: WebSocket<TcpStream>,
    next_id: u64,
}

impl DevTools {
    fn connect(url: &str) -> DevTools {
        let addr = url
            .strip_prefix("ws://")
            .and_then(|rest| rest.split('/').next())
            .expect("ws://HOST:PORT/...");
        let tcp = TcpStream::connect(addr).expect("connect to DevTools");
        // Every read is bounded: a browser that stops answering fails the test.
        tcp.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("read timeout");
        let (ws, _) = tungstenite::client(url, tcp).expect("DevTools handshake");
        DevTools { ws, next_id: 1 }
    }

    /// Calls `method` (in the page session `session`, if given) and returns its `result`;
    /// events arriving meanwhile are passed over.
    fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let mut msg = json!({ "id": id, "method": method, "params": params });
        if let Some(session) = session {
            msg["sessionId"] = json!(session);
        }
        self.ws
            .send(Message::text(msg.to_string()))
            .expect("send to DevTools");
        loop {
            let reply = self.ws.read().expect("read from DevTools");
            let Message::Text(text) = reply else { continue };
            let reply: Value = serde_json::from_str(&text).expect("DevTools sends JSON");
            if reply["id"] != json!(id) {
                continue;
            }
            if let Some(error) = reply.get("error") {
                panic!("{method}: {error}");
            }
            return reply["result"].clone();
        }
    }
}

/// The page's outcome as its DOM shows it.
#[derive(Debug)]
struct PageState {
    /// `#status`: `connecting`, `open`, then `echoed` (the echo equals what was sent), or what
    /// went wrong.
    status: String,
    /// `#echo`: what came back.
    echo: String,
    /// `#carrier`: the server's announcement (`HTTP/2.0 CONNECT; streams on its connection: N`).
    carrier: String,
    /// How the page itself was fetched (`h2`, `http/1.1`).
    page_protocol: String,
}

impl PageState {
    fn finished(&self) -> bool {
        !matches!(self.status.as_str(), "" | "connecting" | "open")
    }
}

/// Reads the page's state, or None while the page is not loaded yet.
fn page_state(devtools: &mut DevTools, session: &str) -> Option<PageState> {
    const READ: &str = r#"(() => {
        const text = (id) => document.getElementById(id)?.textContent ?? "";
        const nav = performance.getEntriesByType("navigation")[0];
        return {
            url: location.href,
            status: text("status"),
            echo: text("echo"),
            carrier: text("carrier"),
            protocol: nav ? nav.nextHopProtocol : "",
        };
    })()"#;
    let result = devtools.call(
        Some(session),
        "Runtime.evaluate",
        json!({ "expression": READ, "returnByValue": true }),
    );
    let value = &result["result"]["value"];
    let field = |k: &str| value[k].as_str().unwrap_or_default().to_owned();
    field("url")
        .ends_with(h2_demo::WS_PAGE_PATH)
        .then(|| PageState {
            status: field("status"),
            echo: field("echo"),
            carrier: field("carrier"),
            page_protocol: field("protocol"),
        })
}

/// Attaches to the browser's page target (the one it was started on) once it exists.
fn attach_to_page(devtools: &mut DevTools) -> String {
    let deadline = Instant::now() + PAGE_LIMIT;
    loop {
        let targets = devtools.call(None, "Target.getTargets", json!({}));
        let page = targets["targetInfos"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|t| t["type"] == "page");
        if let Some(page) = page {
            let attached = devtools.call(
                None,
                "Target.attachToTarget",
                json!({ "targetId": page["targetId"], "flatten": true }),
            );
            return attached["sessionId"]
                .as_str()
                .expect("a session id")
                .to_owned();
        }
        assert!(Instant::now() < deadline, "no page target: {targets}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn chromium_opens_wss_to_the_same_origin_over_h2_extended_connect() {
    let Some(chromium) = interop::require("chromium") else {
        return;
    };
    let scratch = Scratch::new("browser");
    let server = ServerProcess::start(&SERVER, &scratch, &["--tls"]);
    let url = server.url(h2_demo::WS_PAGE_PATH);
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");

    let mut browser = Chromium::launch(&chromium, &scratch, &url);
    let mut devtools = DevTools::connect(&browser.devtools_url());
    let session = attach_to_page(&mut devtools);
    let deadline = Instant::now() + PAGE_LIMIT;
    let state = loop {
        match page_state(&mut devtools, &session) {
            Some(state) if state.finished() => break state,
            state => assert!(
                Instant::now() < deadline,
                "the page showed no outcome within {PAGE_LIMIT:?}: {state:?}\n--- browser \
                 stderr:\n{}\n--- server stderr:\n{}",
                browser.stderr(),
                server.stderr()
            ),
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let report = || {
        format!(
            "{state:?}\n--- browser stderr:\n{}\n--- server stderr:\n{}",
            browser.stderr(),
            server.stderr()
        )
    };

    // The echo arrived, equal to what the page sent.
    assert_eq!(state.status, "echoed", "{}", report());
    assert_eq!(state.echo, h2_demo::WS_PAGE_MESSAGE, "{}", report());
    // The page came over HTTP/2 (ALPN h2).
    assert_eq!(state.page_protocol, "h2", "{}", report());
    // The WebSocket was an extended CONNECT on HTTP/2, as the server saw it, on the page's
    // connection: that connection had opened the page's stream (at least) before this one.
    let (carrier, streams) = state
        .carrier
        .split_once(h2_demo::WS_STREAMS_PREFIX)
        .unwrap_or_else(|| {
            panic!(
                "the WebSocket was not an HTTP/2 extended CONNECT (the server did not count \
                 HTTP/2 streams for it): {}",
                report()
            )
        });
    assert_eq!(carrier, "HTTP/2.0 CONNECT", "{}", report());
    let streams: u64 = streams.parse().expect("a stream count");
    assert!(
        streams >= 2,
        "the WebSocket had a connection of its own: {}",
        report()
    );

    println!("the page showed: {state:?}");
    drop(devtools);
    let left = browser.kill();
    assert!(left.is_empty(), "browser processes left running: {left:?}");
}
