//! The client pool's keepalive backoff: a connection the server told `too_many_pings` (GOAWAY
//! ENHANCE_YOUR_CALM, as gRPC servers do) makes the pool's next connections ping half as often.

// A test picks its starting instant; the core still only receives time as an argument.
#![allow(clippy::disallowed_methods)]

use bytes::Bytes;
use h2_http::pool::{Choice, Member, Pool};
use h2core::shell::pool::Slots;
use h2core::{Config, Connection, Event, Reason, StreamId};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Clone)]
struct Conn(Arc<Slots>);

impl Member for Conn {
    fn slots(&self) -> &Slots {
        &self.0
    }
}

fn goaway(reason: Reason, debug: &'static [u8]) -> Event {
    Event::GoAwayReceived {
        last_stream_id: StreamId::new(0),
        error_code: reason,
        debug_data: Bytes::from_static(debug),
    }
}

/// A ready member of `pool` whose connection then sees `event`.
fn member_seeing(pool: &Pool<Conn>, event: &Event) {
    let conn = Connection::new(Config::client(), Instant::now());
    let slots = Arc::new(Slots::new());
    let settings = Event::RemoteSettingsChanged {
        changed: Default::default(),
    };
    slots.observe(&conn, &settings);
    pool.add(Conn(slots.clone()));
    slots.observe(&conn, event);
}

#[test]
fn too_many_pings_doubles_the_next_connections_keepalive() {
    let mut base = Config::client();
    base.keepalive_interval = Some(Duration::from_secs(10));
    let pool: Pool<Conn> = Pool::default();
    assert_eq!(
        pool.config(&base).keepalive_interval,
        base.keepalive_interval
    );

    // Another reason, or another debug text, is no backoff.
    member_seeing(&pool, &goaway(Reason::NO_ERROR, b"too_many_pings"));
    member_seeing(&pool, &goaway(Reason::ENHANCE_YOUR_CALM, b"slow down"));
    assert_eq!(pool.connections(), 0, "both went away");
    assert_eq!(
        pool.config(&base).keepalive_interval,
        Some(Duration::from_secs(10))
    );

    member_seeing(&pool, &goaway(Reason::ENHANCE_YOUR_CALM, b"too_many_pings"));
    assert!(
        matches!(pool.choose(), Choice::Open(_)),
        "it took no more requests"
    );
    assert_eq!(
        pool.config(&base).keepalive_interval,
        Some(Duration::from_secs(20))
    );
    member_seeing(&pool, &goaway(Reason::ENHANCE_YOUR_CALM, b"too_many_pings"));
    assert_eq!(pool.connections(), 0);
    assert_eq!(
        pool.config(&base).keepalive_interval,
        Some(Duration::from_secs(40))
    );

    // No keepalive stays none.
    assert_eq!(pool.config(&Config::client()).keepalive_interval, None);
}
