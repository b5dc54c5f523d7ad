//! The shared scenario corpus of the workspace (see `design.md`, "One test corpus").
//!
//! A [`Scenario`] is a script of steps between a scripted peer and the connection under test:
//! the peer sends frames ([`dsl`]), we expect frames back, the application issues commands,
//! time advances. [`run`] plays a scenario against any [`Harness`]: the core directly
//! ([`CoreHarness`], whole input and one byte at a time) and, later, every adapter. Each run
//! yields a transcript, so two ways of feeding the same scenario can be compared.
//!
//! [`pipe`] runs the corpus through an async adapter's connection task over an in-memory
//! pipe, for any runtime.
//!
//! [`interop`] holds the other half shared by every adapter: its demo server and client
//! against real peers (curl, nghttp, nghttpd, h2load, python-hyper's `h2`), with
//! [`interop_tests!`] expanding to the whole list of those tests; [`demo`] holds what those
//! demo examples share (routes, command lines, output).
//!
//! [`axum`] and [`websocket`] are the axum and WebSocket tests of every async adapter, with
//! [`axum_tests!`] and [`websocket_tests!`] expanding to them for an adapter's test file (the
//! router itself, `axum::app`, under the feature `axum`).
//!
//! [`socket_attacks`] runs every attack of SECURITY.md over TCP against each adapter's server,
//! with [`attack_tests!`] expanding to the whole list for an adapter's test file.

pub mod api;
pub mod axum;
pub mod corpus;
/// What the demo examples share (routes, command lines, output): the `h2-demo` crate.
pub use h2_demo as demo;
pub mod demo_async;
pub mod dsl;
pub mod engine;
mod harness;
pub mod hpack_stories;
pub mod hyperium;
pub mod interop;
pub mod memory;
pub mod pipe;
mod runner;
pub mod socket_attacks;
pub mod websocket;

pub use dsl::{ExpectEvent, ExpectFrame, PeerFrame};
pub use harness::{apply, AppCommand, AppResult, CoreHarness, Harness};
pub use runner::{run, Transcript};

use h2core::{Config, Role};
use std::time::Duration;

/// One step of a scenario.
#[derive(Debug, Clone)]
pub enum Step {
    /// The peer writes these frames (header blocks are HPACK-encoded with the peer's encoder).
    PeerSends(Vec<PeerFrame>),
    /// We must have sent frames matching these, in this order (other frames may come between).
    /// Frames matched are consumed; later expectations look at later frames.
    ExpectSent(Vec<ExpectFrame>),
    /// No frame sent since the last `ExpectSent` matches this.
    ExpectNotSent(ExpectFrame),
    /// The application must have seen events matching these, in order (others may come between).
    ExpectEvents(Vec<ExpectEvent>),
    /// No event since the last `ExpectEvents` matches this.
    ExpectNoEvent(ExpectEvent),
    /// The application does something; the result must match.
    App(AppCommand, AppResult),
    /// Time passes.
    Advance(Duration),
    /// The peer closes its side of the transport.
    PeerEof,
    /// The connection is over: nothing more will be written.
    ExpectClosed,
    /// The connection is still running.
    ExpectOpen,
    /// The peer stops reading: the adapter takes at most one more batch from `poll_transmit`
    /// (it cannot finish writing it) and then none until [`Step::PeerReads`]. A harness that
    /// cannot emulate this ends the scenario here (socket tests cover those adapters).
    PeerStopsReading,
    /// The peer reads again: everything held and queued is delivered.
    PeerReads,
}

/// A named script, with the role and configuration of the connection under test.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// What it checks, in the RFC's words where possible.
    pub name: &'static str,
    /// The RFC section it covers (e.g. "RFC 9113 §6.5").
    pub section: &'static str,
    /// Our configuration.
    pub config: Config,
    /// The script.
    pub steps: Vec<Step>,
}

impl Scenario {
    /// A scenario where we are the server, with default configuration.
    pub fn server(section: &'static str, name: &'static str) -> Scenario {
        Scenario {
            name,
            section,
            config: Config::server(),
            steps: Vec::new(),
        }
    }

    /// A scenario where we are the client, with default configuration.
    pub fn client(section: &'static str, name: &'static str) -> Scenario {
        Scenario {
            name,
            section,
            config: Config::client(),
            steps: Vec::new(),
        }
    }

    /// Changes the configuration.
    pub fn config(mut self, f: impl FnOnce(&mut Config)) -> Scenario {
        f(&mut self.config);
        self
    }

    /// The usual opening: prefaces and SETTINGS both ways, both acknowledged.
    pub fn handshake(self) -> Scenario {
        self.handshake_with(Vec::new())
    }

    /// The opening, with the peer announcing `settings`.
    pub fn handshake_with(self, settings: Vec<(u16, u32)>) -> Scenario {
        let role = self.config.role;
        let mut s = self;
        if role == Role::Server {
            s = s.peer(vec![PeerFrame::Preface, PeerFrame::settings(settings)]);
        } else {
            s = s.peer(vec![PeerFrame::settings(settings)]);
        }
        s.expect(vec![ExpectFrame::settings(), ExpectFrame::settings_ack()])
            .peer(vec![PeerFrame::SettingsAck])
            .events(vec![ExpectEvent::SettingsAcknowledged])
    }

    /// Adds a step.
    pub fn step(mut self, step: Step) -> Scenario {
        self.steps.push(step);
        self
    }

    /// Adds `PeerSends`.
    pub fn peer(self, frames: Vec<PeerFrame>) -> Scenario {
        self.step(Step::PeerSends(frames))
    }

    /// Adds `ExpectSent`.
    pub fn expect(self, frames: Vec<ExpectFrame>) -> Scenario {
        self.step(Step::ExpectSent(frames))
    }

    /// Adds `ExpectNotSent`.
    pub fn expect_not(self, frame: ExpectFrame) -> Scenario {
        self.step(Step::ExpectNotSent(frame))
    }

    /// Adds `ExpectEvents`.
    pub fn events(self, events: Vec<ExpectEvent>) -> Scenario {
        self.step(Step::ExpectEvents(events))
    }

    /// Adds `ExpectNoEvent`.
    pub fn no_event(self, event: ExpectEvent) -> Scenario {
        self.step(Step::ExpectNoEvent(event))
    }

    /// Adds an application command that must succeed.
    pub fn app(self, cmd: AppCommand) -> Scenario {
        self.step(Step::App(cmd, AppResult::Ok))
    }

    /// Adds an application command that must fail with a `UserError`.
    pub fn app_err(self, cmd: AppCommand) -> Scenario {
        self.step(Step::App(cmd, AppResult::UserError))
    }

    /// Adds `Advance`.
    pub fn advance(self, d: Duration) -> Scenario {
        self.step(Step::Advance(d))
    }

    /// Adds `PeerStopsReading`.
    pub fn stop_reading(self) -> Scenario {
        self.step(Step::PeerStopsReading)
    }

    /// Adds `PeerReads`.
    pub fn resume_reading(self) -> Scenario {
        self.step(Step::PeerReads)
    }

    /// The connection must end with GOAWAY(`reason`) and close.
    pub fn expect_goaway(self, reason: h2core::Reason) -> Scenario {
        self.expect(vec![ExpectFrame::goaway(reason)])
            .step(Step::ExpectClosed)
    }

    /// The stream must be reset with RST_STREAM(`reason`) while the connection goes on.
    pub fn expect_rst(self, stream: u32, reason: h2core::Reason) -> Scenario {
        self.expect(vec![ExpectFrame::rst(stream, reason)])
            .expect_not(ExpectFrame::any_goaway())
            .step(Step::ExpectOpen)
    }
}
