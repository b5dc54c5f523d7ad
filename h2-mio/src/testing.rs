//! Runs the core inside the real event loop for the shared scenario corpus: the scenario drives
//! the core with closures and sees its raw events, while bytes, the timer and the loop are the
//! adapter's own. The loop is turned by the caller, on the caller's thread, with the caller's
//! clock.

use crate::conn::Start;
use crate::event_loop::EventLoop;
use crate::remote::{Msg, Role};
use bytes::BytesMut;
use h2_http::drive::Command;
use h2core::{Config, Connection, Event};
use std::sync::mpsc;
use std::time::Duration;

pub use crate::event_loop::Clock;
pub use crate::io::Io;
pub use h2_http::drive::CoreCall;

/// An event loop with one tapped HTTP/2 connection.
pub struct Tap {
    ev: EventLoop,
    events: mpsc::Receiver<Event>,
}

impl Tap {
    /// A loop over `io` whose connection's events are tapped; `clock` is its only time source.
    pub fn new(io: Box<dyn Io>, config: Config, clock: Clock) -> std::io::Result<Tap> {
        let (tx, events) = mpsc::channel();
        let now = clock();
        let mut ev = EventLoop::new(clock, |_| Role::Tap { events: tx })?;
        let conn = Connection::new(config, now);
        ev.add(io, None, BytesMut::new(), Start::Http2(Box::new(conn)))?;
        let mut tap = Tap { ev, events };
        tap.settle();
        Ok(tap)
    }

    /// Runs `call` on the core inside the loop, then lets the loop settle.
    pub fn call(&mut self, call: CoreCall) {
        let cmd = Command::Core(call);
        self.ev.message(Msg::Conn { key: None, cmd });
        self.settle();
    }

    /// Turns the loop until it has nothing left to do right now.
    pub fn settle(&mut self) {
        for _ in 0..4 {
            let _ = self.ev.turn(Some(Duration::ZERO));
        }
        self.ev.drive_all();
        for _ in 0..8 {
            let _ = self.ev.turn(Some(Duration::ZERO));
        }
    }

    /// The core's events so far.
    pub fn events(&mut self) -> Vec<Event> {
        std::iter::from_fn(|| self.events.try_recv().ok()).collect()
    }

    /// True once the loop dropped the connection.
    pub fn finished(&self) -> bool {
        self.ev.connections() == 0
    }
}
