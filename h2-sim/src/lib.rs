//! A client and a server [`h2core::Connection`] over a simulated link, in virtual time.
//!
//! Because the core is sans-IO, two connections can talk over a modeled link far faster than
//! real time, the same on every run: no socket, thread, sleep or clock. A [`Scenario`] names
//! the link ([`LinkConfig`]: one-way delay, bandwidth and a bounded send queue in each
//! direction, seeded jitter), both sides' [`h2core::Config`], the client's script of
//! [`Request`]s (each read as its [`Read`] says) and an optional [`Cut`] of the link;
//! [`Scenario::run`] returns a [`Report`]: each stream's timeline (time to first byte,
//! throughput over time), each side's peak bytes held for the application, the windows the
//! client kept open, and with [`Scenario::with_transcript`] every frame that crossed the link.
//! The same seed gives the same transcript.
//!
//! Each endpoint drives its connection exactly as the adapters do (`h2core::shell::Transport`,
//! the turn order documented on `Connection`); the server's handler answers `GET /bytes/N` with
//! N bytes, produced as the send capacity allows.
//!
//! ```
//! use h2_sim::{LinkConfig, Request, Scenario};
//! use std::time::Duration;
//!
//! // 20 ms round trip, 100 Mbit/s each way; one 1 MiB download.
//! let link = LinkConfig::symmetric(Duration::from_millis(20), 100_000_000);
//! let report = Scenario::new(link).request(Request::download(1 << 20)).run();
//! let download = &report.requests[0];
//! assert_eq!(download.bytes, 1 << 20);
//! // The first byte needs the handshake's and the request's round trips at the least.
//! assert!(download.time_to_first_byte().unwrap() >= Duration::from_millis(20));
//! ```
//!
//! Modules, each one concept: [`clock`] (virtual time), [`rng`] (the seeded generator),
//! [`link`] (the pipes), `tap` and `window` (frames and windows read off the wire), `script`
//! and `app` (the applications), `endpoint` (the adapter's turn), `sim` (the event loop),
//! [`report`] (what was measured).
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod app;
pub mod clock;
mod endpoint;
pub mod link;
pub mod report;
pub mod rng;
mod script;
mod sim;
mod tap;
mod window;

pub use link::{Cut, LinkConfig, PathConfig};
pub use report::{Outcome, Report, SideReport, StreamReport};
pub use script::{Read, Request};
pub use sim::Scenario;
pub use tap::{Direction, FrameRecord, WindowSignal};
