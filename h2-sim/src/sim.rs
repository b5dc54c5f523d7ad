//! The simulation: a [`Scenario`] (link, seed, both sides' `Config`, the client's script, an
//! optional cut) run by a discrete-event loop in virtual time. At each instant the link
//! delivers what is due and both endpoints take turns until neither makes progress; then time
//! jumps to the next thing due: a segment leaving a queue or arriving, a connection's or
//! transport's deadline, a script's next action, or the cut. No thread, socket or clock.

use crate::app::{App, ClientApp, Now, ServerApp};
use crate::clock::Clock;
use crate::endpoint::Endpoint;
use crate::link::{Cut, LinkConfig, Pipe};
use crate::report::{Report, SideReport};
use crate::script::Request;
use crate::tap::{Direction, FrameRecord, FrameTap};
use crate::window::WindowMeter;
use h2core::{Config, Connection};
use std::time::Duration;

/// Both endpoints' turns repeat at one instant at most this often before time must move (a
/// guard against two endpoints feeding each other forever at one instant).
const MAX_TURNS_PER_INSTANT: usize = 10_000;

/// Everything one run needs.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The link.
    pub link: LinkConfig,
    /// Seeds the jitter: the same seed gives the same transcript.
    pub seed: u64,
    /// The client's connection configuration.
    pub client: Config,
    /// The server's connection configuration.
    pub server: Config,
    /// The client application's requests.
    pub requests: Vec<Request>,
    /// When and how the link breaks, if it does.
    pub cut: Option<(Duration, Cut)>,
    /// The run stops at this virtual time if it has not finished.
    pub limit: Duration,
    /// Record every frame in [`Report::transcript`].
    pub transcript: bool,
}

impl Scenario {
    /// Default client and server configurations over `link`, seed 0, no requests, no cut, a
    /// 10-minute limit, no transcript.
    pub fn new(link: LinkConfig) -> Scenario {
        Scenario {
            link,
            seed: 0,
            client: Config::client(),
            server: Config::server(),
            requests: Vec::new(),
            cut: None,
            limit: Duration::from_secs(600),
            transcript: false,
        }
    }

    /// Adds a request to the client's script.
    pub fn request(mut self, request: Request) -> Scenario {
        self.requests.push(request);
        self
    }

    /// Sets the jitter seed.
    pub fn seed(mut self, seed: u64) -> Scenario {
        self.seed = seed;
        self
    }

    /// Breaks the link at `at`, as `how` says.
    pub fn cut(mut self, at: Duration, how: Cut) -> Scenario {
        self.cut = Some((at, how));
        self
    }

    /// Records the transcript.
    pub fn with_transcript(mut self) -> Scenario {
        self.transcript = true;
        self
    }

    /// Runs the scenario to its end: every request ended (and every handler), the link and
    /// both connections idle, or the limit.
    pub fn run(&self) -> Report {
        Simulation::new(self).run()
    }
}

/// The running state of one scenario.
struct Simulation<'a> {
    scenario: &'a Scenario,
    clock: Clock,
    up: Pipe,
    down: Pipe,
    client: Endpoint,
    server: Endpoint,
    client_app: ClientApp,
    server_app: ServerApp,
    /// Arrival taps: `up` at the server, `down` at the client.
    up_tap: FrameTap,
    down_tap: FrameTap,
    meter: WindowMeter,
    transcript: Vec<FrameRecord>,
    arrived: Vec<FrameRecord>,
    cut_done: bool,
}

impl<'a> Simulation<'a> {
    fn new(scenario: &'a Scenario) -> Simulation<'a> {
        let clock = Clock::new();
        let at = clock.now();
        // Two streams of jitter from one seed, so the directions do not mirror each other.
        let up = Pipe::new(scenario.link.up, scenario.seed);
        let down = Pipe::new(scenario.link.down, scenario.seed ^ 0x5eed_d0e5_0000_0001);
        Simulation {
            scenario,
            up,
            down,
            client: Endpoint::new(
                Connection::new(scenario.client.clone(), at),
                FrameTap::new(Direction::Up),
            ),
            server: Endpoint::new(
                Connection::new(scenario.server.clone(), at),
                FrameTap::new(Direction::Down),
            ),
            client_app: ClientApp::new(scenario.requests.clone()),
            server_app: ServerApp::new(),
            up_tap: FrameTap::new(Direction::Up),
            down_tap: FrameTap::new(Direction::Down),
            meter: WindowMeter::new(),
            transcript: Vec::new(),
            arrived: Vec::new(),
            cut_done: false,
            clock,
        }
    }

    fn now(&self) -> Now {
        Now {
            t: self.clock.elapsed(),
            at: self.clock.now(),
        }
    }

    fn run(mut self) -> Report {
        loop {
            let now = self.now();
            if let Some((at, how)) = self.scenario.cut {
                if !self.cut_done && at <= now.t {
                    self.cut_done = true;
                    self.up.cut(how);
                    self.down.cut(how);
                    if how == Cut::Reset {
                        self.client.transport_failed(&mut self.client_app, now);
                        self.server.transport_failed(&mut self.server_app, now);
                    }
                }
            }
            for _ in 0..MAX_TURNS_PER_INSTANT {
                self.deliver(now);
                let mut progress = self.client.turn(&mut self.client_app, &mut self.up, now);
                progress |= self.server.turn(&mut self.server_app, &mut self.down, now);
                self.take_frames();
                if !progress {
                    break;
                }
            }
            if self.finished() {
                break;
            }
            match self.next_event() {
                Some(t) if t <= self.scenario.limit => self.clock.advance_to(t),
                _ => break,
            }
        }
        self.report()
    }

    /// Moves what the link has due into the endpoints' receive buffers.
    fn deliver(&mut self, now: Now) {
        self.up.advance(now.t);
        self.down.advance(now.t);
        while let Some(a) = self.up.deliver(now.t) {
            if let crate::link::Arrival::Bytes(b) = &a {
                self.up_tap.feed(now.t, b, &mut self.arrived);
            }
            self.server.receive(a);
        }
        while let Some(a) = self.down.deliver(now.t) {
            if let crate::link::Arrival::Bytes(b) = &a {
                self.down_tap.feed(now.t, b, &mut self.arrived);
            }
            self.client.receive(a);
        }
    }

    /// Feeds the frames the taps saw to the window meter and the transcript.
    fn take_frames(&mut self) {
        // Arrivals first: they were delivered before the turns that answered them.
        for f in self.arrived.drain(..) {
            if f.direction == Direction::Down {
                self.meter.received(&f);
            }
            if self.scenario.transcript {
                self.transcript.push(f);
            }
        }
        for f in self.client.sent.drain(..) {
            self.meter.sent(&f);
        }
        self.server.sent.clear();
    }

    fn finished(&self) -> bool {
        let cut_pending = self
            .scenario
            .cut
            .is_some_and(|(at, _)| !self.cut_done && at <= self.scenario.limit);
        !cut_pending && self.client_app.done() && self.server_app.done()
    }

    fn next_event(&self) -> Option<Duration> {
        let now = self.clock.elapsed();
        let deadlines = [self.client.deadline(), self.server.deadline()]
            .into_iter()
            .flatten()
            .map(|d| self.clock.offset(d));
        let cut = self
            .scenario
            .cut
            .filter(|_| !self.cut_done)
            .map(|(at, _)| at);
        let next = [
            self.up.next_event(),
            self.down.next_event(),
            self.client_app.next_wake(),
            self.server_app.next_wake(),
            cut,
        ]
        .into_iter()
        .flatten()
        .chain(deadlines)
        .min()?;
        // Something due now that made no progress (a deadline the core keeps) must not hold
        // time still.
        Some(next.max(now + Duration::from_nanos(1)))
    }

    fn report(self) -> Report {
        let side = |e: &Endpoint, pipe: &Pipe, streams, terminated| SideReport {
            peak_buffered: e.peak_buffered,
            peak_link_queue: pipe.peak_queued,
            streams,
            terminated,
            stalls: e.stalls.clone(),
        };
        let client_streams = self
            .client_app
            .reports
            .iter()
            .filter_map(|r| Some((r.stream?, r.outcome)))
            .collect();
        Report {
            link: self.scenario.link,
            elapsed: self.clock.elapsed(),
            client: side(
                &self.client,
                &self.up,
                client_streams,
                self.client_app.terminated,
            ),
            server: side(
                &self.server,
                &self.down,
                self.server_app.outcomes(),
                self.server_app.terminated,
            ),
            requests: self.client_app.reports,
            peak_stream_window: self.meter.peak_stream.max(0) as u64,
            peak_connection_window: self.meter.peak_connection.max(0) as u64,
            transcript: self.transcript,
        }
    }
}
