//! The whole h2-testkit scenario corpus through the tokio adapter: a real connection task over
//! an in-memory duplex pipe, with tokio's paused clock as the only time source.
//!
//! A peer that stops reading (`Step::PeerStopsReading`) closes a gate on the task's side of the
//! pipe: every write is Pending, as on a socket whose send buffer is full, until the peer reads
//! again. The task has then taken one batch from `poll_transmit` that it cannot finish writing
//! and takes no other, which is what the step means. (Merely not draining a small pipe would
//! not do: the task would go on writing small replies until the pipe is full, so how many PING
//! ACKs count as unwritten would depend on the pipe's size, not on the core's limit.)

use bytes::{Bytes, BytesMut};
use h2_testkit::{apply, corpus, run, AppCommand, Harness};
use h2core::{Config, Event};
use std::io::IoSlice;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, DuplexStream, ReadBuf};
use tokio::runtime::Runtime;
use tokio::sync::mpsc;

/// Whether the peer reads; the task waiting to write is woken when it reads again.
#[derive(Default)]
struct Gate {
    closed: AtomicBool,
    waiting: Mutex<Option<Waker>>,
}

impl Gate {
    fn set_reading(&self, reading: bool) {
        self.closed.store(!reading, Ordering::SeqCst);
        if reading {
            if let Some(w) = self.waiting.lock().expect("gate").take() {
                w.wake();
            }
        }
    }

    /// Ready when writes may go through; otherwise remembers who waits.
    fn poll_open(&self, cx: &mut Context<'_>) -> Poll<()> {
        if !self.closed.load(Ordering::SeqCst) {
            return Poll::Ready(());
        }
        *self.waiting.lock().expect("gate") = Some(cx.waker().clone());
        // Opened meanwhile: do not sleep through it.
        if self.closed.load(Ordering::SeqCst) {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    }
}

/// The connection task's end of the pipe, with writes held back while the gate is closed.
struct Gated {
    io: DuplexStream,
    gate: Arc<Gate>,
}

impl AsyncRead for Gated {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl AsyncWrite for Gated {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        std::task::ready!(self.gate.poll_open(cx));
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        std::task::ready!(self.gate.poll_open(cx));
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        std::task::ready!(self.gate.poll_open(cx));
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        // Closing is not held back: a task that gave up on the peer drops its output and goes.
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

struct TokioHarness {
    rt: Runtime,
    peer: DuplexStream,
    gate: Arc<Gate>,
    tap: h2_tokio::testing::Tap,
    events: mpsc::UnboundedReceiver<Event>,
    closed: Arc<AtomicBool>,
    /// Bytes read from the pipe and not yet taken.
    received: BytesMut,
    /// The task shut its side of the pipe: it will write nothing more (it may still linger,
    /// reading, before it ends).
    eof: bool,
}

impl TokioHarness {
    fn new(config: Config) -> TokioHarness {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .expect("runtime");
        let (ours, peer) = tokio::io::duplex(1 << 22);
        let gate = Arc::new(Gate::default());
        let ours = Gated {
            io: ours,
            gate: gate.clone(),
        };
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
            gate,
            tap,
            events,
            closed,
            received: BytesMut::new(),
            eof: false,
        };
        h.settle();
        h
    }

    /// Reads what the task wrote so far into `received`.
    fn drain(&mut self) {
        self.settle();
        let (peer, received, eof) = (&mut self.peer, &mut self.received, &mut self.eof);
        self.rt.block_on(async {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                tokio::select! {
                    biased;
                    r = peer.read(&mut buf) => match r {
                        Ok(0) | Err(_) => {
                            *eof = true;
                            break;
                        }
                        Ok(n) => received.extend_from_slice(&buf[..n]),
                    },
                    _ = tokio::task::yield_now() => break,
                }
            }
        });
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
        self.drain();
        self.received.split().freeze()
    }

    fn take_events(&mut self) -> Vec<Event> {
        self.settle();
        std::iter::from_fn(|| self.events.try_recv().ok()).collect()
    }

    fn is_closed(&mut self) -> bool {
        self.drain();
        self.eof || self.closed.load(Ordering::SeqCst)
    }

    fn set_peer_reading(&mut self, reading: bool) -> bool {
        self.gate.set_reading(reading);
        self.settle();
        true
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
