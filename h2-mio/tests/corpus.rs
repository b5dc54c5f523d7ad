//! The whole h2-testkit scenario corpus through the mio event loop: a real loop over a Unix
//! socketpair, turned on the test's thread, with the test's clock as its only time source.
//!
//! A peer that stops reading (`Step::PeerStopsReading`) closes a gate on the loop's side of the
//! pair: every write is `WouldBlock`, as on a socket whose send buffer is full, until the peer
//! reads again; the loop then has one batch from `poll_transmit` it cannot finish and takes no
//! other, which is what the step means.

use bytes::{Bytes, BytesMut};
use h2_mio::testing::{Io, Tap};
use h2_testkit::{apply, corpus, run, AppCommand, Harness};
use h2core::{Config, Event};
use mio::event::Source;
use mio::{Interest, Registry, Token};
use std::io::{self, IoSlice, Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// The loop's end of the pair, with writes held back while the gate is closed.
struct Gated {
    io: mio::net::UnixStream,
    closed: Arc<AtomicBool>,
}

impl Read for Gated {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.read(buf)
    }
}

impl Write for Gated {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        self.io.write(buf)
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        self.io.write_vectored(bufs)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Source for Gated {
    fn register(&mut self, r: &Registry, t: Token, i: Interest) -> io::Result<()> {
        self.io.register(r, t, i)
    }

    fn reregister(&mut self, r: &Registry, t: Token, i: Interest) -> io::Result<()> {
        self.io.reregister(r, t, i)
    }

    fn deregister(&mut self, r: &Registry) -> io::Result<()> {
        self.io.deregister(r)
    }
}

impl Io for Gated {
    fn shutdown_write(&self) -> io::Result<()> {
        // Closing is not held back: a loop that gave up on the peer drops its output and goes.
        self.io.shutdown(std::net::Shutdown::Write)
    }
}

struct MioHarness {
    tap: Tap,
    peer: UnixStream,
    gate: Arc<AtomicBool>,
    clock: Arc<Mutex<Instant>>,
    received: BytesMut,
    /// The loop shut its side: it will write nothing more.
    eof: bool,
}

impl MioHarness {
    fn new(config: Config) -> MioHarness {
        let (ours, peer) = UnixStream::pair().expect("socketpair");
        ours.set_nonblocking(true).expect("nonblocking");
        peer.set_nonblocking(true).expect("nonblocking");
        let gate = Arc::new(AtomicBool::new(false));
        let io = Gated {
            io: mio::net::UnixStream::from_std(ours),
            closed: gate.clone(),
        };
        let clock = Arc::new(Mutex::new(Instant::now()));
        let c = clock.clone();
        let tap = Tap::new(
            Box::new(io),
            config,
            Arc::new(move || *c.lock().expect("clock")),
        )
        .expect("event loop");
        MioHarness {
            tap,
            peer,
            gate,
            clock,
            received: BytesMut::new(),
            eof: false,
        }
    }

    /// Reads what the loop wrote so far into `received`.
    fn drain(&mut self) {
        self.tap.settle();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match self.peer.read(&mut buf) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => {
                    self.received.extend_from_slice(&buf[..n]);
                    // Room in the pair again: let the loop write the rest.
                    self.tap.settle();
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(_) => {
                    self.eof = true;
                    break;
                }
            }
        }
    }
}

impl Harness for MioHarness {
    fn peer_send(&mut self, bytes: Bytes) {
        let mut at = 0;
        while at < bytes.len() {
            match self.peer.write(&bytes[at..]) {
                Ok(n) => at += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    // The pair is full: let the loop read (and write, which we take).
                    self.drain();
                }
                // The loop may already have closed its end; the scenario checks what it sent.
                Err(_) => break,
            }
        }
        self.tap.settle();
    }

    fn peer_eof(&mut self) {
        let _ = self.peer.shutdown(std::net::Shutdown::Write);
        self.tap.settle();
    }

    fn app(&mut self, cmd: &AppCommand) -> Result<(), String> {
        let (tx, rx) = mpsc::channel();
        let cmd = cmd.clone();
        self.tap.call(Box::new(move |conn, now| {
            let _ = tx.send(apply(conn, &cmd, now).map_err(|e| e.to_string()));
        }));
        rx.try_recv()
            .unwrap_or_else(|_| Err("the connection is gone".into()))
    }

    fn advance(&mut self, d: Duration) {
        *self.clock.lock().expect("clock") += d;
        self.tap.settle();
    }

    fn take_sent(&mut self) -> Bytes {
        self.drain();
        self.received.split().freeze()
    }

    fn take_events(&mut self) -> Vec<Event> {
        self.tap.settle();
        self.tap.events()
    }

    fn is_closed(&mut self) -> bool {
        self.drain();
        self.eof || self.tap.finished()
    }

    fn set_peer_reading(&mut self, reading: bool) -> bool {
        self.gate.store(!reading, Ordering::SeqCst);
        self.tap.settle();
        true
    }
}

#[test]
fn corpus_through_the_mio_event_loop() {
    let scenarios = corpus::all();
    let mut failures = Vec::new();
    for s in &scenarios {
        let mut h = MioHarness::new(s.config.clone());
        if let Err(e) = run(s, &mut h) {
            failures.push(e);
        }
    }
    println!("{} scenarios through h2-mio", scenarios.len());
    assert!(
        failures.is_empty(),
        "{} of {} scenarios failed through h2-mio:\n{}",
        failures.len(),
        scenarios.len(),
        failures.join("\n\n")
    );
}
