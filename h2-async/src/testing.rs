//! Runs the core inside a real connection task for the shared scenario corpus: the scenario
//! drives the core with closures and sees its raw events, while bytes, the timer and the task
//! are the adapter's own.

use crate::driver::Driver;
use crate::rt::Runtime;
use crate::session::Command;
use crate::session::RoleState;
use crate::shared::Shared;
use bytes::BytesMut;
use h2_http::drive::CoreCall;
use h2core::{Config, Connection, Event};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;

/// Sends calls into a tapped connection task.
pub struct Tap {
    tx: mpsc::UnboundedSender<Command>,
}

impl Tap {
    /// Runs `call` on the core inside the task, in order with everything else it does.
    pub fn call(&self, call: CoreCall) {
        let _ = self.tx.send(Command::Core(call));
    }
}

/// A connection task over `io` whose events are tapped.
#[allow(clippy::type_complexity)]
pub fn tap<R, IO>(io: IO, config: Config) -> (Tap, mpsc::UnboundedReceiver<Event>, Driver<IO, R>)
where
    R: Runtime,
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let conn = Connection::new(config, R::now());
    let (tx, rx) = mpsc::unbounded_channel();
    let (ev_tx, ev_rx) = mpsc::unbounded_channel();
    let driver = Driver::new(
        conn,
        io,
        BytesMut::new(),
        rx,
        RoleState::Tap { events: ev_tx },
        std::sync::Arc::new(Shared::default()),
    );
    (Tap { tx }, ev_rx, driver)
}
