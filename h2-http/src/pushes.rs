//! The responses a server pushes (RFC 9113 §8.4) as a client's user receives them, one type
//! for every runtime: the client's connections hand each [`PushPromise`] to the sink of a
//! [`channel`], and a task awaits [`Pushes`] while a thread blocks on it, as the body's mode
//! says. The connection never waits: the sink only queues and wakes.

use crate::body::{Async, Blocking, Mode};
use crate::reply::PushPromise;
use crate::session::PushSink;
use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

struct Queue<M: Mode> {
    state: Mutex<State<M>>,
    ready: Condvar,
}

struct State<M: Mode> {
    promises: VecDeque<PushPromise<M>>,
    /// The sink is gone: no connection can deliver any more.
    ended: bool,
    /// The receiver is gone: promises are refused (their streams cancelled).
    closed: bool,
    waker: Option<Waker>,
}

impl<M: Mode> Queue<M> {
    fn lock(&self) -> MutexGuard<'_, State<M>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wake(&self, mut s: MutexGuard<'_, State<M>>) {
        let waker = s.waker.take();
        drop(s);
        self.ready.notify_all();
        waker.into_iter().for_each(Waker::wake);
    }
}

/// Ends the receiver's wait when the sink that holds it is dropped.
struct SinkGuard<M: Mode>(Arc<Queue<M>>);

impl<M: Mode> Drop for SinkGuard<M> {
    fn drop(&mut self) {
        let mut s = self.0.lock();
        s.ended = true;
        self.0.wake(s);
    }
}

/// A new queue of pushed responses: give the sink to the client (`Client::listen`), keep the
/// receiver. The sink refuses a promise (returns false) once the receiver is dropped.
pub fn channel<M: Mode>() -> (PushSink<M>, Pushes<M>) {
    let queue = Arc::new(Queue {
        state: Mutex::new(State {
            promises: VecDeque::new(),
            ended: false,
            closed: false,
            waker: None,
        }),
        ready: Condvar::new(),
    });
    let guard = SinkGuard(queue.clone());
    let sink = Box::new(move |promise| {
        let mut s = guard.0.lock();
        if s.closed {
            return false;
        }
        s.promises.push_back(promise);
        guard.0.wake(s);
        true
    });
    (sink, Pushes(queue))
}

/// The responses a server pushes (RFC 9113 §8.4), from the client's `pushes` (or an async
/// client handshake): the next one, or `None` once no connection can deliver any more.
pub struct Pushes<M: Mode>(Arc<Queue<M>>);

impl<M: Mode> Pushes<M> {
    /// The next promise, `None` once the sink is gone, or not yet.
    fn take(s: &mut State<M>) -> Option<Option<PushPromise<M>>> {
        match s.promises.pop_front() {
            Some(p) => Some(Some(p)),
            None if s.ended => Some(None),
            None => None,
        }
    }
}

impl Pushes<Async> {
    /// The next promised response; `None` once no connection can deliver any more.
    pub async fn recv(&mut self) -> Option<PushPromise<Async>> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Polls for the next promised response.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<PushPromise<Async>>> {
        let mut s = self.0.lock();
        match Self::take(&mut s) {
            Some(next) => Poll::Ready(next),
            None => {
                s.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

impl Pushes<Blocking> {
    /// Blocks for the next promised response; `None` once no connection can deliver any more.
    pub fn recv(&mut self) -> Option<PushPromise<Blocking>> {
        let mut s = self.0.lock();
        loop {
            if let Some(next) = Self::take(&mut s) {
                return next;
            }
            s = self.0.ready.wait(s).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// As [`Pushes::recv`], waiting at most `timeout` (then `None`).
    pub fn recv_timeout(&mut self, timeout: Duration) -> Option<PushPromise<Blocking>> {
        let deadline = Instant::now() + timeout;
        let mut s = self.0.lock();
        loop {
            if let Some(next) = Self::take(&mut s) {
                return next;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            s = self
                .0
                .ready
                .wait_timeout(s, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

impl Iterator for Pushes<Blocking> {
    type Item = PushPromise<Blocking>;

    fn next(&mut self) -> Option<PushPromise<Blocking>> {
        self.recv()
    }
}

impl<M: Mode> Drop for Pushes<M> {
    fn drop(&mut self) {
        // Promises still queued are dropped with it: their streams are cancelled.
        let promises = {
            let mut s = self.0.lock();
            s.closed = true;
            std::mem::take(&mut s.promises)
        };
        drop(promises);
    }
}

impl<M: Mode> std::fmt::Debug for Pushes<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pushes").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reply::PushedResponse;

    fn promise<M: Mode>(path: &str) -> PushPromise<M> {
        let (_reply, pending) = crate::reply::channel(None);
        PushPromise {
            request: http::Request::get(path).body(()).unwrap(),
            response: PushedResponse(pending),
        }
    }

    #[test]
    fn a_thread_receives_promises_in_order_then_none_once_the_sink_is_gone() {
        let (sink, mut pushes) = channel::<Blocking>();
        assert!(pushes.recv_timeout(Duration::from_millis(5)).is_none());
        let feeder = std::thread::spawn(move || {
            assert!(sink(promise("/a")));
            std::thread::sleep(Duration::from_millis(10));
            assert!(sink(promise("/b")));
        });
        let paths: Vec<String> = pushes
            .by_ref()
            .map(|p| p.request.uri().to_string())
            .collect();
        assert_eq!(paths, ["/a", "/b"]);
        feeder.join().unwrap();
        assert!(pushes.recv().is_none());
    }

    #[test]
    fn a_task_is_woken_by_a_promise_and_a_dropped_receiver_refuses_the_next() {
        let (sink, mut pushes) = channel::<Async>();
        let feeder = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(10));
            assert!(sink(promise("/a")));
            sink
        });
        let first = crate::block::block_on(pushes.recv()).expect("a promise");
        assert_eq!(first.request.uri(), "/a");
        let sink = feeder.join().unwrap();
        drop(pushes);
        assert!(!sink(promise("/b")), "nobody listens: refused");
    }
}
