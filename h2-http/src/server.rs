//! What a server is told before it serves, the same on every adapter: the connections'
//! [`Config`], extended CONNECT (RFC 8441 §3), TLS with ALPN (RFC 7301; RFC 9113 §3.2), HTTP/2
//! only (RFC 9113 §3.4), and how a new connection is accepted; then its graceful shutdown
//! (RFC 9113 §6.8). Each adapter's `Server` builder keeps its own names and docs and holds a
//! [`ServerOptions`] and a [`ShutdownHandle`], so these rules are written once.

use h2core::shell::Accept;
use h2core::Config;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// A server's settings, as its builder sets them, and the rule that turns them into the
/// [`Accept`] every new connection starts with.
#[derive(Clone, Debug)]
pub struct ServerOptions {
    config: Config,
    /// Set for a TLS server: every accepted connection starts a handshake with it.
    #[cfg(feature = "tls")]
    tls: Option<Arc<rustls::ServerConfig>>,
    http2_only: bool,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions::new()
    }
}

impl ServerOptions {
    /// Cleartext, HTTP/2 and HTTP/1.1 on one port, with [`Config::server`].
    pub fn new() -> ServerOptions {
        ServerOptions {
            config: Config::server(),
            #[cfg(feature = "tls")]
            tls: None,
            http2_only: false,
        }
    }

    /// The config of every connection (SETTINGS, limits, timeouts).
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Replaces the config, SETTINGS included (so extended CONNECT, if wanted, is enabled
    /// after it).
    pub fn set_config(&mut self, config: Config) {
        self.config = config;
    }

    /// Extended CONNECT (RFC 8441 §3): every HTTP/2 connection announces
    /// SETTINGS_ENABLE_CONNECT_PROTOCOL = 1, so a `CONNECT` with `:protocol` is a request
    /// rather than a malformed one (reset with PROTOCOL_ERROR).
    pub fn enable_connect_protocol(&mut self) {
        self.config.settings.enable_connect_protocol = true;
    }

    /// Serves TLS with `config`: ALPN `h2` selects HTTP/2 (RFC 9113 §3.2), `http/1.1` or no
    /// ALPN the HTTP/1.1 path. A config that offers no protocol is given both
    /// ([`crate::tls::with_alpn`]): it would otherwise select none, and every client would
    /// get HTTP/1.1.
    #[cfg(feature = "tls")]
    pub fn set_tls(&mut self, config: Arc<rustls::ServerConfig>) {
        self.tls = Some(crate::tls::with_alpn(config));
    }

    /// The TLS config, with its ALPN protocols, if the server serves TLS.
    #[cfg(feature = "tls")]
    pub fn tls(&self) -> Option<&Arc<rustls::ServerConfig>> {
        self.tls.as_ref()
    }

    /// HTTP/2 only (RFC 9113 §3.4): whatever a client sends first is read as the preface, so
    /// anything else is a PROTOCOL_ERROR connection error; over TLS, HTTP/2 whatever ALPN chose.
    pub fn set_http2_only(&mut self) {
        self.http2_only = true;
    }

    /// True if the server speaks HTTP/2 only.
    pub fn is_http2_only(&self) -> bool {
        self.http2_only
    }

    /// What a connection accepted at `now` starts with: deciding, within the config's
    /// handshake timeout, what it speaks: from its first bytes in cleartext, from ALPN once the
    /// TLS handshake is done (RFC 9113 §3.2-3.4).
    pub fn accept(&self, now: Instant) -> Accept {
        #[cfg(feature = "tls")]
        let tls = self.tls.is_some();
        #[cfg(not(feature = "tls"))]
        let tls = false;
        let accept = match tls {
            false => Accept::cleartext(self.config.clone(), now),
            true => Accept::tls(self.config.clone(), now),
        };
        if self.http2_only {
            accept.http2_only()
        } else {
            accept
        }
    }
}

/// Stops a server gracefully: no new connections, GOAWAY on every HTTP/2 connection (RFC 9113
/// §6.8), and `serve` returns once all of them are closed. From the server's
/// `shutdown_handle`; clones stop the same server, from any thread or task. A shutdown asked
/// for before `serve` runs makes `serve` return at once.
#[derive(Clone, Default)]
pub struct ShutdownHandle(Arc<Mutex<Shutdown>>);

/// Whether a shutdown was asked for, and who is still to hear of it.
#[derive(Default)]
struct Shutdown {
    asked: bool,
    waiting: Vec<Box<dyn FnOnce() + Send>>,
}

impl ShutdownHandle {
    /// Starts the shutdown; returns at once (`serve` returns when it is done).
    pub fn shutdown(&self) {
        let waiting = {
            let mut state = self.0.lock().unwrap_or_else(|e| e.into_inner());
            state.asked = true;
            std::mem::take(&mut state.waiting)
        };
        // Outside the lock: `stop` may take others of its own.
        for stop in waiting {
            stop();
        }
    }

    /// Runs `stop` once, when the shutdown is asked for: at once if it already was. How a
    /// running `serve` (its loops, its accept task) hears of it.
    pub fn on_shutdown(&self, stop: impl FnOnce() + Send + 'static) {
        let mut state = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if state.asked {
            drop(state);
            stop();
        } else {
            state.waiting.push(Box::new(stop));
        }
    }
}

impl std::fmt::Debug for ShutdownHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShutdownHandle").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn enable_connect_protocol_after_set_config_announces_it() {
        let mut options = ServerOptions::new();
        options.enable_connect_protocol();
        options.set_config(Config::server());
        assert!(!options.config().settings.enable_connect_protocol);
        options.enable_connect_protocol();
        assert!(options.config().settings.enable_connect_protocol);
    }

    #[test]
    fn a_shutdown_reaches_every_serve_once_also_one_asked_before() {
        let handle = ShutdownHandle::default();
        let heard = Arc::new(AtomicUsize::new(0));
        let count = |heard: &Arc<AtomicUsize>| {
            let heard = heard.clone();
            move || {
                heard.fetch_add(1, Ordering::SeqCst);
            }
        };
        handle.on_shutdown(count(&heard));
        handle.clone().on_shutdown(count(&heard));
        assert_eq!(heard.load(Ordering::SeqCst), 0);
        handle.shutdown();
        handle.shutdown();
        assert_eq!(heard.load(Ordering::SeqCst), 2);
        handle.on_shutdown(count(&heard));
        assert_eq!(heard.load(Ordering::SeqCst), 3, "asked before: at once");
    }

    #[cfg(feature = "tls")]
    #[test]
    fn tls_without_alpn_offers_h2_and_http11() {
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("rcgen");
        let config = crate::tls::server_config_from_pem(
            cert.cert.pem().as_bytes(),
            cert.signing_key.serialize_pem().as_bytes(),
        )
        .expect("config");
        let mut bare = (*config).clone();
        bare.alpn_protocols.clear();
        let mut options = ServerOptions::new();
        options.set_tls(Arc::new(bare));
        let offered = &options.tls().expect("tls").alpn_protocols;
        assert_eq!(offered, &[b"h2".to_vec(), b"http/1.1".to_vec()]);
    }
}
