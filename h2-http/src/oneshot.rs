//! One value from a connection to whoever waits for it, on every runtime: a task awaits the
//! [`Receiver`] (it is a `Future`), a thread blocks on [`Receiver::wait`]. The connection
//! never waits: [`Sender::send`] only stores the value and wakes the receiver.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

/// Run when the receiver is dropped before a value came (e.g. to tell the connection nobody
/// waits any more).
pub type OnCancel = Box<dyn FnOnce() + Send>;

struct Slot<T> {
    state: Mutex<State<T>>,
    ready: Condvar,
}

struct State<T> {
    value: Option<T>,
    /// The sender is gone, with or without sending.
    sent: bool,
    /// The receiver is gone.
    closed: bool,
    waker: Option<Waker>,
}

impl<T> Slot<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A new channel for one value; `on_cancel` runs if the receiver is dropped first.
pub fn channel<T>(on_cancel: Option<OnCancel>) -> (Sender<T>, Receiver<T>) {
    let slot = Arc::new(Slot {
        state: Mutex::new(State {
            value: None,
            sent: false,
            closed: false,
            waker: None,
        }),
        ready: Condvar::new(),
    });
    (
        Sender(slot.clone()),
        Receiver {
            slot,
            on_cancel,
            done: false,
        },
    )
}

/// The sending end; dropped without sending, the receiver gets `None`.
pub struct Sender<T>(Arc<Slot<T>>);

impl<T> Sender<T> {
    /// Stores `value` for the receiver (dropped at once if the receiver is gone).
    pub fn send(self, value: T) {
        let mut s = self.0.lock();
        if !s.closed {
            s.value = Some(value);
        }
    }

    /// True once the receiver is gone.
    pub fn is_closed(&self) -> bool {
        self.0.lock().closed
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut s = self.0.lock();
        s.sent = true;
        if let Some(w) = s.waker.take() {
            w.wake();
        }
        drop(s);
        self.0.ready.notify_all();
    }
}

/// The receiving end: await it or [`wait`](Receiver::wait); `None` if the sender was dropped
/// without sending.
pub struct Receiver<T> {
    slot: Arc<Slot<T>>,
    on_cancel: Option<OnCancel>,
    done: bool,
}

impl<T> Receiver<T> {
    fn take(&mut self, s: &mut State<T>) -> Option<Option<T>> {
        if !s.sent {
            return None;
        }
        self.done = true;
        Some(s.value.take())
    }

    /// Blocks for the value.
    pub fn wait(&mut self) -> Option<T> {
        let slot = self.slot.clone();
        let mut s = slot.lock();
        loop {
            if let Some(value) = self.take(&mut s) {
                return value;
            }
            s = slot.ready.wait(s).unwrap_or_else(|e| e.into_inner());
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = Option<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let slot = self.slot.clone();
        let mut s = slot.lock();
        match self.take(&mut s) {
            Some(value) => Poll::Ready(value),
            None => {
                s.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

impl<T> Unpin for Receiver<T> {}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        // A value that came meanwhile is dropped here (a response body in it cancels its
        // stream).
        self.slot.lock().closed = true;
        if let Some(cancel) = self.on_cancel.take() {
            cancel();
        }
    }
}
