//! The whole h2-testkit scenario corpus through the tokio adapter: a real connection task over
//! an in-memory duplex pipe, with tokio's paused clock as the only time source.

use bytes::{Bytes, BytesMut};
use h2_testkit::{apply, corpus, run, AppCommand, Harness};
use h2core::{Config, Event};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio::runtime::Runtime;
use tokio::sync::mpsc;

struct TokioHarness {
    rt: Runtime,
    peer: DuplexStream,
    tap: h2_tokio::testing::Tap,
    events: mpsc::UnboundedReceiver<Event>,
    closed: Arc<AtomicBool>,
}

impl TokioHarness {
    fn new(config: Config) -> TokioHarness {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .expect("runtime");
        let (ours, peer) = tokio::io::duplex(1 << 22);
        let closed = Arc::new(AtomicBool::new(false));
        let (tap, events) = {
            let _guard = rt.enter();
            let (tap, events, driver) = h2_tokio::testing::tap(ours, config);
            let done = closed.clone();
            rt.spawn(async move {
                let _ = driver.await;
                done.store(true, Ordering::SeqCst);
            });
            (tap, events)
        };
        let mut h = TokioHarness {
            rt,
            peer,
            tap,
            events,
            closed,
        };
        h.settle();
        h
    }

    /// Lets the connection task run until it has nothing left to do.
    fn settle(&mut self) {
        self.rt.block_on(async {
            for _ in 0..64 {
                tokio::task::yield_now().await;
            }
        });
    }
}

impl Harness for TokioHarness {
    fn peer_send(&mut self, bytes: Bytes) {
        let peer = &mut self.peer;
        // The task may already have closed its end; the scenario then checks what it sent.
        let _ = self.rt.block_on(peer.write_all(&bytes));
        self.settle();
    }

    fn peer_eof(&mut self) {
        let _ = self.rt.block_on(self.peer.shutdown());
        self.settle();
    }

    fn app(&mut self, cmd: &AppCommand) -> Result<(), String> {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let cmd = cmd.clone();
        self.tap.call(Box::new(move |conn, now| {
            let _ = tx.send(apply(conn, &cmd, now).map_err(|e| e.to_string()));
        }));
        self.settle();
        rx.try_recv()
            .unwrap_or_else(|_| Err("the connection task is gone".into()))
    }

    fn advance(&mut self, d: Duration) {
        self.rt.block_on(tokio::time::advance(d));
        self.settle();
    }

    fn take_sent(&mut self) -> Bytes {
        self.settle();
        let peer = &mut self.peer;
        self.rt.block_on(async {
            let mut out = BytesMut::new();
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                tokio::select! {
                    biased;
                    r = peer.read(&mut buf) => match r {
                        Ok(0) | Err(_) => break,
                        Ok(n) => out.extend_from_slice(&buf[..n]),
                    },
                    _ = tokio::task::yield_now() => break,
                }
            }
            out.freeze()
        })
    }

    fn take_events(&mut self) -> Vec<Event> {
        self.settle();
        std::iter::from_fn(|| self.events.try_recv().ok()).collect()
    }

    fn is_closed(&mut self) -> bool {
        self.settle();
        self.closed.load(Ordering::SeqCst)
    }
}

#[test]
fn corpus_through_the_tokio_adapter() {
    let scenarios = corpus::all();
    let mut failures = Vec::new();
    for s in &scenarios {
        let mut h = TokioHarness::new(s.config.clone());
        if let Err(e) = run(s, &mut h) {
            failures.push(e);
        }
    }
    println!("{} scenarios through h2-tokio", scenarios.len());
    assert!(
        failures.is_empty(),
        "{} of {} scenarios failed through h2-tokio:\n{}",
        failures.len(),
        scenarios.len(),
        failures.join("\n\n")
    );
}
