//! The demo client: h2c by prior knowledge for `http://` (HTTP/1.1 `Upgrade: h2c` with
//! `--upgrade`), ALPN `h2` for `https://`. Several URLs go concurrently over one connection.
//! Bodies go to stdout; status lines and errors to stderr; the exit status is non-zero on any
//! failure (the command line and output are `h2_testkit::demo`'s, shared by every adapter).
//!
//! ```sh
//! cargo run --release -p h2-tokio --example client -- [--upgrade] [--insecure] [-X METHOD] [-d DATA] URL...
//! ```

use h2_testkit::demo::{self, ClientArgs};

#[tokio::main]
async fn main() {
    let args = ClientArgs::parse(std::env::args());
    demo::client_exit(h2_testkit::demo_async::run_client::<h2_tokio::Tokio>(args).await)
}
