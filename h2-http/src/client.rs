//! A client for one origin, written once for every adapter: which connection takes a request
//! (the pool's rules, [`crate::pool`]), opening one and waiting for the server's SETTINGS
//! (RFC 9113 §6.5.2) within `OPEN_TIMEOUT`, sending a refused request again (§8.7), pushed
//! responses from every connection to one listener (§8.4), and closing every connection
//! (§6.8).
//!
//! An adapter says only what is its own, through [`Connector`]: how one connection is opened
//! (TCP, TLS, its task or loop thread) and reached ([`Conn`]), its clock, and how to wait on a
//! [`Signal`] with a deadline. The client is plain `async` code over std futures: an async
//! adapter awaits it on its runtime; a blocking one runs it with [`crate::block::block_on`],
//! its connector then blocking inside (on the caller's thread, never a runtime's).

use crate::body::{Body, Mode};
use crate::drive::Command;
use crate::handle::{ConnectionInfo, StreamCommand};
use crate::oneshot::Receiver;
use crate::pool::{Choice, ClientStats, Member, Pool, Running, Signal};
use crate::reply::{self, Pending, PushPromise, Reply};
use crate::session::PushSink;
use crate::{Error, RequestOptions};
use bytes::Bytes;
use h2core::shell::pool::{Failure, Retry, MAX_ATTEMPTS, OPEN_TIMEOUT};
use h2core::{Config, Header};
use http::{Request, Response};
use std::future::Future;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One connection of a client, as its task or loop is reached: a pool [`Member`] (its
/// request slots) that takes commands.
pub trait Conn<M: Mode>: Member + Send + Sync + 'static {
    /// Hands `cmd` to the connection; one that is gone gives it back.
    // Given back as it was (a request's body is sent elsewhere), not boxed: a channel's own
    // error is as large.
    #[allow(clippy::result_large_err)]
    fn send(&self, cmd: Command<M>) -> Result<(), Command<M>>;
    /// Starts a graceful close (GOAWAY, RFC 9113 §6.8): streams in flight finish.
    fn shutdown(&self);
}

/// What an adapter gives the client: opening a connection and waiting with its clock. An
/// async adapter's futures must never block (they run on a runtime's thread); a blocking
/// adapter's may, as they run on its caller's thread ([`crate::block::block_on`]).
pub trait Connector: Send + Sync + 'static {
    /// How the adapter's users wait on bodies.
    type Mode: Mode;
    /// One open connection.
    type Conn: Conn<Self::Mode>;

    /// The adapter's clock (a runtime's paused test clock, say).
    fn now(&self) -> Instant;

    /// Opens one connection with `config` (TCP within `OPEN_TIMEOUT`, TLS with ALPN `h2`
    /// checked by [`alpn_h2`], RFC 9113 §3.2) and starts its task or loop as a member of the
    /// client ([`Membership`]). The client then waits for the server's SETTINGS.
    fn open(
        &self,
        config: Config,
        member: Membership<Self::Mode>,
    ) -> impl Future<Output = Result<Self::Conn, Error>> + Send;

    /// Ready with true once `signal` moved past `seen`, with false once `deadline` passed.
    fn changed(
        &self,
        signal: &Signal,
        seen: u64,
        deadline: Instant,
    ) -> impl Future<Output = bool> + Send;

    /// The `:scheme` of a request whose URI has none: `https` over TLS.
    fn scheme(&self) -> &'static str;

    /// True to keep a copy of a body given whole ([`Body::whole`]), so a refused request is
    /// sent again even after its body went out; else only a body given back untouched is.
    /// The copy shares the bytes, but may cost one allocation per request.
    fn keeps_whole_bodies(&self) -> bool {
        false
    }
}

/// What a new connection needs of its client: where it counts header bytes, whom it wakes
/// when its slots change, where pushed responses go, and the guard it holds while it runs
/// (so [`Client::close`] waits for it).
pub struct Membership<M: Mode> {
    /// The client's count of header bytes sent (`pool::Seat::new`).
    pub header_bytes: Arc<AtomicU64>,
    /// Woken when the connection's slots change (`pool::Seat::new`'s `wake`).
    pub signal: Arc<Signal>,
    /// Pushed responses go here ([`Listener::sink`]).
    pub pushes: Listener<M>,
    /// Held by the connection's task or thread until it ends.
    pub running: Running,
}

impl<M: Mode> Membership<M> {
    /// The `wake` of the connection's `pool::Seat`: the client's waiters look again.
    pub fn wake(&self) -> Arc<dyn Fn() + Send + Sync> {
        let signal = self.signal.clone();
        Arc::new(move || signal.notify())
    }
}

/// Where a client's pushed responses go (RFC 9113 §8.4), for all of its connections: one
/// listener at a time; while there is none, promised streams are cancelled.
pub struct Listener<M: Mode>(Arc<Mutex<Option<PushSink<M>>>>);

impl<M: Mode> Clone for Listener<M> {
    fn clone(&self) -> Self {
        Listener(self.0.clone())
    }
}

impl<M: Mode> Default for Listener<M> {
    fn default() -> Self {
        Listener(Arc::default())
    }
}

impl<M: Mode> Listener<M> {
    /// Pushed responses from now on go to `sink` (it returns false once nobody takes them).
    pub fn set(&self, sink: PushSink<M>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(sink);
    }

    /// One connection's sink (`Session::pushes`), delivering to the listener of the moment.
    pub fn sink(&self) -> PushSink<M> {
        let listener = self.clone();
        Box::new(move |promise: PushPromise<M>| {
            let sink = listener.0.lock().unwrap_or_else(|e| e.into_inner());
            sink.as_ref().is_some_and(|deliver| deliver(promise))
        })
    }
}

/// The TLS handshake's outcome as HTTP/2 needs it: `h2` selected by ALPN (RFC 9113 §3.2).
pub fn alpn_h2(selected: Option<&[u8]>) -> Result<(), Error> {
    match selected {
        Some(h2core::shell::ALPN_H2) => Ok(()),
        _ => Err(Error::Malformed("ALPN: the server did not select h2")),
    }
}

/// Sends `cmd` (a PING, a counters request, RFC 9113 §6.7) to `conn` and waits for its answer.
pub async fn ask<M: Mode, C: Conn<M>, T>(
    conn: &C,
    (cmd, rx): (StreamCommand<M>, Receiver<Result<T, Error>>),
) -> Result<T, Error> {
    conn.send(Command::Stream(cmd))
        .map_err(|_| Error::ConnectionGone)?;
    rx.await.unwrap_or(Err(Error::ConnectionGone))
}

/// A request for `conn`, on a slot reserved in its `Slots` when `reserved`; dropping the
/// returned [`Pending`] before the head tells the connection (CANCEL, RFC 9113 §8.1).
fn request<M: Mode, C: Conn<M>>(
    conn: &C,
    head: Vec<Header>,
    body: Body<M>,
    options: RequestOptions,
    reserved: bool,
) -> (Command<M>, Pending<M>) {
    let abandon = conn.clone();
    let (reply, pending) = reply::channel(Some(Box::new(move || {
        let _ = abandon.send(Command::Abandoned);
    })));
    let cmd = Command::Request {
        head,
        body,
        reply,
        options,
        reserved,
    };
    (cmd, pending)
}

/// Sends a request on `conn` alone (no pool, no retry) and waits for the response head.
pub async fn send_on<M: Mode, C: Conn<M>>(
    conn: &C,
    head: Vec<Header>,
    body: Body<M>,
    options: RequestOptions,
) -> Result<Response<Body<M>>, Error> {
    let (cmd, pending) = request(conn, head, body, options, false);
    if conn.send(cmd).is_err() {
        return Err(Error::ConnectionGone);
    }
    match pending.await {
        Reply::Head(response) => Ok(response),
        Reply::Failed(e, _) => Err(e),
    }
}

/// A client for one origin: its connections, its pushed-response listener and its adapter.
/// Cheap to clone; when the last clone (and the last [`Exchange`]) is gone, every
/// connection closes gracefully once its streams are done.
pub struct Client<C: Connector> {
    inner: Arc<Inner<C>>,
}

impl<C: Connector> Clone for Client<C> {
    fn clone(&self) -> Self {
        Client {
            inner: self.inner.clone(),
        }
    }
}

struct Inner<C: Connector> {
    connector: C,
    config: Config,
    pool: Pool<C::Conn>,
    pushes: Listener<C::Mode>,
}

impl<C: Connector> Drop for Inner<C> {
    fn drop(&mut self) {
        // Nobody can send any more: GOAWAY once the streams are done (RFC 9113 §6.8).
        for c in self.pool.take_all() {
            c.shutdown();
        }
    }
}

/// A request's place in its exchange, kept to send it again (RFC 9113 §8.7).
struct Attempt {
    head: Vec<Header>,
    options: RequestOptions,
    retry: Retry,
    /// A body given whole, kept when the connector asks (cheap: `Bytes` is shared).
    whole: Option<Bytes>,
    bodiless: bool,
}

impl Attempt {
    fn of<M: Mode>(req: Request<Body<M>>, scheme: &str, keep: bool) -> (Attempt, Body<M>) {
        let head = crate::request_to_h2(&req, scheme);
        let options = RequestOptions::of(&req);
        let idempotent = req.method().is_idempotent();
        let body = req.into_body();
        let bodiless = body.is_end_stream();
        let whole = if keep { body.whole() } else { None };
        let retry = Retry::new(idempotent, bodiless);
        let attempt = Attempt {
            head,
            options,
            retry,
            whole,
            bodiless,
        };
        (attempt, body)
    }

    /// The body to send again after `err`, or the error that stands.
    fn again<M: Mode>(&mut self, err: Error, back: Option<Body<M>>) -> Result<Body<M>, Error> {
        // A connection gone with the body given back: the request never started.
        let failure = match err {
            Error::ConnectionGone if back.is_some() => Failure::Refused,
            _ => err.failure(),
        };
        let body = back.or_else(|| self.whole.clone().map(Body::from));
        if !self.retry.again(failure, body.is_some() || self.bodiless) {
            return Err(err);
        }
        Ok(body.unwrap_or_default())
    }
}

/// A request sent, its response on the way: [`Exchange::response`] waits for the head and
/// sends the request again if the server refused it. Dropped before the head, the stream is
/// reset with CANCEL (RFC 9113 §8.1).
pub struct Exchange<C: Connector> {
    client: Client<C>,
    attempt: Attempt,
    pending: Pending<C::Mode>,
}

impl<C: Connector> Exchange<C> {
    /// The response head (the body streams), after as many attempts as the rules allow.
    pub async fn response(mut self) -> Result<Response<Body<C::Mode>>, Error> {
        self.client.answer(&mut self.attempt, self.pending).await
    }
}

impl<C: Connector> Client<C> {
    /// A client with no connection yet, each one opened by `connector` with `config`.
    pub fn new(connector: C, config: Config) -> Client<C> {
        Client {
            inner: Arc::new(Inner {
                connector,
                config,
                pool: Pool::default(),
                pushes: Listener::default(),
            }),
        }
    }

    /// A client whose first connection is open now, so that an unreachable server or a
    /// failed handshake is reported here.
    pub async fn connect(connector: C, config: Config) -> Result<Client<C>, Error> {
        let client = Client::new(connector, config);
        let first = client.open().await?;
        client.inner.pool.add(first);
        Ok(client)
    }

    /// The adapter's side of this client.
    pub fn connector(&self) -> &C {
        &self.inner.connector
    }

    /// What a connection opened outside the client (a handshake, an upgrade) needs to be one
    /// of its members; [`Client::ready`] then [`Client::add`] it.
    pub fn membership(&self) -> Membership<C::Mode> {
        let pool = &self.inner.pool;
        Membership {
            header_bytes: pool.header_bytes(),
            signal: pool.signal().clone(),
            pushes: self.inner.pushes.clone(),
            running: pool.signal().running(),
        }
    }

    /// A ready connection opened outside the client takes requests.
    pub fn add(&self, conn: C::Conn) {
        self.inner.pool.add(conn);
    }

    /// Pushed responses from any connection go to `sink` from now on (RFC 9113 §8.4).
    pub fn listen(&self, sink: PushSink<C::Mode>) {
        self.inner.pushes.set(sink);
    }

    /// Opens a connection and waits for the server's SETTINGS, so its limits are known
    /// (RFC 9113 §6.5.2: until then a client that opened many streams could see them refused).
    async fn open(&self) -> Result<C::Conn, Error> {
        let inner = &self.inner;
        let config = inner.pool.config(&inner.config);
        let conn = inner.connector.open(config, self.membership()).await?;
        self.ready(&conn).await?;
        Ok(conn)
    }

    /// Waits until the server's SETTINGS arrived on `conn`, within `OPEN_TIMEOUT` (else the
    /// connection is shut down); an error if it ended first.
    pub async fn ready(&self, conn: &C::Conn) -> Result<(), Error> {
        let (connector, signal) = (&self.inner.connector, self.inner.pool.signal());
        let deadline = connector.now() + OPEN_TIMEOUT;
        loop {
            let seen = signal.generation();
            if conn.slots().is_ready() {
                break;
            }
            if !connector.changed(signal, seen, deadline).await {
                conn.shutdown();
                return Err(Error::Io(std::io::ErrorKind::TimedOut.into()));
            }
        }
        if conn.slots().is_closing() {
            return Err(Error::ConnectionGone);
        }
        Ok(())
    }

    /// A connection with a slot reserved for one request: one with room, else the one being
    /// opened once it is ready, else a new one.
    async fn pick(&self) -> Result<C::Conn, Error> {
        let (connector, pool) = (&self.inner.connector, &self.inner.pool);
        // Bounded: whoever opens gives up after its own timeouts and wakes us. Read from
        // the clock only when a request has to wait.
        let mut deadline = None;
        loop {
            match pool.choose() {
                Choice::Use(conn) => return Ok(conn),
                Choice::Open(opening) => {
                    let conn = self.open().await?;
                    opening.done(conn.clone());
                    return Ok(conn);
                }
                Choice::Wait(seen) => {
                    let deadline =
                        *deadline.get_or_insert_with(|| connector.now() + 4 * OPEN_TIMEOUT);
                    if !connector.changed(pool.signal(), seen, deadline).await {
                        return Err(Error::Io(std::io::ErrorKind::TimedOut.into()));
                    }
                }
            }
        }
    }

    /// Hands a request to a connection with a slot reserved for it.
    async fn dispatch(
        &self,
        attempt: &Attempt,
        mut body: Body<C::Mode>,
    ) -> Result<Pending<C::Mode>, Error> {
        // Bounded: a connection gone before taking the request leaves the pool, so each
        // round finds or opens another.
        for _ in 0..MAX_ATTEMPTS {
            let conn = self.pick().await?;
            let (head, options) = (attempt.head.clone(), attempt.options.clone());
            let (cmd, pending) = request(&conn, head, body, options, true);
            match conn.send(cmd) {
                Ok(()) => return Ok(pending),
                Err(cmd) => {
                    conn.slots().release();
                    conn.slots().finish();
                    let Command::Request { body: back, .. } = cmd else {
                        unreachable!("sent a request")
                    };
                    body = back;
                }
            }
        }
        Err(Error::ConnectionGone)
    }

    /// Waits for the head of a dispatched request, sending it again while the rules allow.
    async fn answer(
        &self,
        attempt: &mut Attempt,
        mut pending: Pending<C::Mode>,
    ) -> Result<Response<Body<C::Mode>>, Error> {
        loop {
            let (err, back) = match pending.await {
                Reply::Head(response) => return Ok(response),
                Reply::Failed(e, back) => (e, back),
            };
            let body = attempt.again(err, back)?;
            self.inner.pool.retried();
            pending = self.dispatch(attempt, body).await?;
        }
    }

    fn attempt(&self, req: Request<Body<C::Mode>>) -> (Attempt, Body<C::Mode>) {
        let connector = &self.inner.connector;
        Attempt::of(req, connector.scheme(), connector.keeps_whole_bodies())
    }

    /// Sends `req` on a connection with room for it, without waiting for the response.
    pub async fn start(&self, req: Request<Body<C::Mode>>) -> Result<Exchange<C>, Error> {
        let (attempt, body) = self.attempt(req);
        let pending = self.dispatch(&attempt, body).await?;
        Ok(Exchange {
            client: self.clone(),
            attempt,
            pending,
        })
    }

    /// Sends `req` and waits for the response head. A request the server refused unprocessed
    /// (REFUSED_STREAM, or above a GOAWAY's last-stream-id, RFC 9113 §8.7) is sent again while
    /// its body is whole; a bodiless idempotent one (RFC 9110 §9.2.2) also once after its
    /// connection failed (`h2core::shell::pool::Retry`).
    pub async fn send(
        &self,
        req: Request<Body<C::Mode>>,
    ) -> Result<Response<Body<C::Mode>>, Error> {
        let (mut attempt, body) = self.attempt(req);
        let pending = self.dispatch(&attempt, body).await?;
        self.answer(&mut attempt, pending).await
    }

    /// Measures a round trip with PING (RFC 9113 §6.7) on one of the connections.
    pub async fn ping(&self) -> Result<Duration, Error> {
        let conn = self.inner.pool.members().into_iter().next();
        ask(&conn.ok_or(Error::ConnectionGone)?, StreamCommand::ping()).await
    }

    /// The counters and the server's SETTINGS of each connection that takes new requests.
    pub async fn connection_info(&self) -> Result<Vec<ConnectionInfo>, Error> {
        let mut all = Vec::new();
        for conn in self.inner.pool.members() {
            all.push(ask(&conn, StreamCommand::info()).await?);
        }
        Ok(all)
    }

    /// How many connections are open and take new requests.
    pub fn connections(&self) -> usize {
        self.inner.pool.connections()
    }

    /// The counters since the client was created.
    pub fn stats(&self) -> ClientStats {
        self.inner.pool.stats()
    }

    /// Closes every connection gracefully and waits until each has ended (RFC 9113 §6.8):
    /// GOAWAY, requests in flight finish, then the connection drains until the server closes
    /// or `Config::drain_timeout` passes.
    pub async fn close(&self) {
        self.shutdown();
        let (connector, signal) = (&self.inner.connector, self.inner.pool.signal());
        loop {
            let seen = signal.generation();
            if signal.running_count() == 0 {
                return;
            }
            // Each connection ends within its drain deadline and says so; the bound only
            // makes a lost wake cost a look again.
            let deadline = connector.now() + Duration::from_secs(60);
            connector.changed(signal, seen, deadline).await;
        }
    }

    /// Closes every connection gracefully, without waiting; later requests open new ones.
    pub fn shutdown(&self) {
        for c in self.inner.pool.take_all() {
            c.shutdown();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::Blocking;
    use crate::reply::PushedResponse;
    use std::sync::mpsc;

    fn promise() -> PushPromise<Blocking> {
        PushPromise {
            request: Request::new(()),
            response: PushedResponse(reply::channel(None).1),
        }
    }

    #[test]
    fn pushes_go_to_the_listener_of_the_moment_and_are_refused_without_one() {
        let listener = Listener::<Blocking>::default();
        let (first, second) = (listener.sink(), listener.sink());
        assert!(
            !first(promise()),
            "nobody listens: the promise is cancelled"
        );
        let (tx, rx) = mpsc::channel();
        listener.set(Box::new(move |p| tx.send(p).is_ok()));
        assert!(
            first(promise()) && second(promise()),
            "every connection's sink"
        );
        assert_eq!(rx.try_iter().count(), 2);
        drop(rx);
        assert!(!first(promise()), "the receiver is gone");
    }

    #[test]
    fn only_h2_selected_by_alpn_is_http2() {
        assert!(alpn_h2(Some(b"h2")).is_ok());
        assert!(alpn_h2(Some(b"http/1.1")).is_err());
        assert!(alpn_h2(None).is_err());
    }
}
