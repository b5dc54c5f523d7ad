//! The shared client (`h2_http::client`) over a fake connector, without sockets: which
//! connection takes a request, waiting for the one being opened, the server's SETTINGS within
//! OPEN_TIMEOUT, and the retry rules (RFC 9113 §8.7).

// A test picks its instants; the core still only receives time as an argument.
#![allow(clippy::disallowed_methods)]

use h2_http::block::block_on;
use h2_http::body::{Blocking, Body};
use h2_http::client::{Client, Conn, Connector, Membership};
use h2_http::drive::Command;
use h2_http::pool::{Member, Signal};
use h2_http::reply::Reply;
use h2_http::Error;
use h2core::shell::pool::{Slots, OPEN_TIMEOUT};
use h2core::{Config, Connection, Event, Reason};
use http::{Request, Response};
use std::collections::VecDeque;
use std::future::{ready, Future};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How the fake server answers the next request.
#[derive(Clone, Copy, Debug)]
enum Answer {
    Ok,
    Refused,
    ConnectionFailed,
}

#[derive(Default)]
struct Script {
    answers: Mutex<VecDeque<Answer>>,
    requests: AtomicUsize,
    shutdowns: AtomicUsize,
}

#[derive(Clone)]
struct FakeConn {
    slots: Arc<Slots>,
    script: Arc<Script>,
}

impl Member for FakeConn {
    fn slots(&self) -> &Slots {
        &self.slots
    }
}

impl Conn<Blocking> for FakeConn {
    fn send(&self, cmd: Command<Blocking>) -> Result<(), Command<Blocking>> {
        let Command::Request {
            reply, reserved, ..
        } = cmd
        else {
            return Ok(());
        };
        if reserved {
            self.slots.release();
        }
        self.script.requests.fetch_add(1, Ordering::SeqCst);
        let answer = self.script.answers.lock().unwrap().pop_front();
        reply.send(match answer.unwrap_or(Answer::Ok) {
            Answer::Ok => Reply::Head(Response::new(Body::empty())),
            Answer::Refused => Reply::Failed(Error::Reset(Reason::REFUSED_STREAM), None),
            Answer::ConnectionFailed => Reply::Failed(Error::ConnectionGone, None),
        });
        Ok(())
    }

    fn shutdown(&self) {
        self.script.shutdowns.fetch_add(1, Ordering::SeqCst);
    }
}

struct Fake {
    script: Arc<Script>,
    opened: AtomicUsize,
    /// How long opening a connection takes.
    open_delay: Duration,
    /// A server that never sends its SETTINGS; time is then virtual and jumps to each deadline.
    silent: Option<Mutex<Instant>>,
    /// Keep a copy of a body given whole (`Connector::keeps_whole_bodies`).
    keep: bool,
}

impl Fake {
    fn new(answers: &[Answer]) -> Fake {
        let script = Script::default();
        script.answers.lock().unwrap().extend(answers);
        Fake {
            script: Arc::new(script),
            opened: AtomicUsize::new(0),
            open_delay: Duration::ZERO,
            silent: None,
            keep: false,
        }
    }
}

impl Connector for Fake {
    type Mode = Blocking;
    type Conn = FakeConn;

    fn now(&self) -> Instant {
        self.silent
            .as_ref()
            .map_or_else(Instant::now, |c| *c.lock().unwrap())
    }

    fn open(
        &self,
        _config: Config,
        _member: Membership<Blocking>,
    ) -> impl Future<Output = Result<FakeConn, Error>> + Send {
        std::thread::sleep(self.open_delay);
        self.opened.fetch_add(1, Ordering::SeqCst);
        let slots = Arc::new(Slots::new());
        if self.silent.is_none() {
            // The server's SETTINGS arrived (no limit on streams).
            let conn = Connection::new(Config::client(), Instant::now());
            let settings = Event::RemoteSettingsChanged {
                changed: Default::default(),
            };
            slots.observe(&conn, &settings);
        }
        let script = self.script.clone();
        ready(Ok(FakeConn { slots, script }))
    }

    fn changed(
        &self,
        signal: &Signal,
        seen: u64,
        deadline: Instant,
    ) -> impl Future<Output = bool> + Send {
        if let Some(clock) = &self.silent {
            *clock.lock().unwrap() = deadline;
            return ready(false);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        ready(signal.wait_timeout(seen, left))
    }

    fn scheme(&self) -> &'static str {
        "http"
    }

    fn keeps_whole_bodies(&self) -> bool {
        self.keep
    }
}

fn get() -> Request<Body<Blocking>> {
    Request::get("http://example.com/")
        .body(Body::empty())
        .unwrap()
}

fn post() -> Request<Body<Blocking>> {
    Request::post("http://example.com/")
        .body(Body::from("payload"))
        .unwrap()
}

#[test]
fn a_refused_request_is_sent_again() {
    let fake = Fake::new(&[Answer::Refused, Answer::Refused, Answer::Ok]);
    let script = fake.script.clone();
    let client = block_on(Client::connect(fake, Config::client())).unwrap();
    let response = block_on(client.send(get())).unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(script.requests.load(Ordering::SeqCst), 3);
    assert_eq!(client.stats().retries, 2);
    assert_eq!(client.stats().connections_opened, 1);
}

#[test]
fn a_refused_request_is_sent_at_most_max_attempts_times() {
    let fake = Fake::new(&[Answer::Refused; 8]);
    let script = fake.script.clone();
    let client = block_on(Client::connect(fake, Config::client())).unwrap();
    let err = block_on(client.send(get())).unwrap_err();
    assert!(matches!(err, Error::Reset(Reason::REFUSED_STREAM)), "{err}");
    // MAX_ATTEMPTS, then once more: a bodiless GET may also be retried once as after a
    // failed connection.
    let sent = script.requests.load(Ordering::SeqCst) as u32;
    assert_eq!(sent, h2core::shell::pool::MAX_ATTEMPTS + 1);
}

#[test]
fn a_refused_request_whose_body_was_sent_is_not_sent_again() {
    let fake = Fake::new(&[Answer::Refused, Answer::Ok]);
    let client = block_on(Client::connect(fake, Config::client())).unwrap();
    // The fake took the body and gave none of it back; this connector keeps no copy.
    let err = block_on(client.send(post())).unwrap_err();
    assert!(matches!(err, Error::Reset(Reason::REFUSED_STREAM)), "{err}");
    assert_eq!(client.stats().retries, 0);
}

#[test]
fn a_refused_request_whose_whole_body_was_kept_is_sent_again() {
    let mut fake = Fake::new(&[Answer::Refused, Answer::Ok]);
    fake.keep = true;
    let client = block_on(Client::connect(fake, Config::client())).unwrap();
    assert_eq!(block_on(client.send(post())).unwrap().status(), 200);
    assert_eq!(client.stats().retries, 1);
}

#[test]
fn a_failed_connection_retries_a_bodiless_get_once_and_never_a_post() {
    let answers = [Answer::ConnectionFailed, Answer::ConnectionFailed];
    let client = block_on(Client::connect(Fake::new(&answers), Config::client())).unwrap();
    assert!(block_on(client.send(get())).is_err());
    assert_eq!(client.stats().retries, 1, "once");

    let client = block_on(Client::connect(Fake::new(&answers), Config::client())).unwrap();
    assert!(block_on(client.send(post())).is_err());
    assert_eq!(client.stats().retries, 0, "a POST may have been processed");
}

#[test]
fn requests_wait_for_the_connection_being_opened() {
    let mut fake = Fake::new(&[]);
    fake.open_delay = Duration::from_millis(200);
    let client = Client::new(fake, Config::client());
    let first = {
        let client = client.clone();
        std::thread::spawn(move || block_on(client.send(get())).map(|r| r.status()))
    };
    std::thread::sleep(Duration::from_millis(50));
    let second = block_on(client.send(get())).map(|r| r.status());
    assert_eq!(first.join().unwrap().unwrap(), 200);
    assert_eq!(second.unwrap(), 200);
    assert_eq!(client.connector().opened.load(Ordering::SeqCst), 1);
    assert_eq!(client.connections(), 1);
}

#[test]
fn a_connection_without_settings_is_given_up_after_open_timeout() {
    let mut fake = Fake::new(&[]);
    let start = Instant::now();
    fake.silent = Some(Mutex::new(start));
    let script = fake.script.clone();
    let client = Client::new(fake, Config::client());
    let err = block_on(client.send(get())).unwrap_err();
    assert!(
        matches!(&err, Error::Io(e) if e.kind() == std::io::ErrorKind::TimedOut),
        "{err}"
    );
    assert_eq!(client.connector().now(), start + OPEN_TIMEOUT);
    assert_eq!(
        script.shutdowns.load(Ordering::SeqCst),
        1,
        "the silent one is shut"
    );
    assert_eq!(script.requests.load(Ordering::SeqCst), 0);
}
