//! Flow-control soak (RFC 9113 §5.2, §6.9): a client and a server `Connection` wired back to
//! back in memory, 1,000 concurrent streams each way with random window sizes, random reads
//! (capacity released late and in random pieces), random resets and a SETTINGS change midway.
//! Every stream not reset completes with exactly its bytes, and the loop never stalls: each
//! round moves bytes or releases capacity, or the test fails naming the stuck streams.
//!
//! `SOAK_SEED=n` replays one seed; `SOAK_SEEDS=k` runs k seeds.

use bytes::{Bytes, BytesMut};
use h2core::{Config, Connection, Event, Header, Reason, SettingsValues, StreamId};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

const STREAMS: usize = 1000;

/// A small deterministic generator (64-bit LCG, Knuth's constants; high bits out).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as u32
    }

    fn below(&mut self, n: u32) -> u32 {
        self.next() % n.max(1)
    }

    fn chance(&mut self, percent: u32) -> bool {
        self.below(100) < percent
    }
}

/// The bytes of body `k` in direction `dir` (0 request, 1 response): derived from k, so both
/// ends know what to expect.
fn body(k: usize, dir: usize, len: usize) -> Bytes {
    (0..len)
        .map(|i| (k * 31 + dir * 7 + i * 13) as u8)
        .collect::<Vec<u8>>()
        .into()
}

fn h(n: &str, v: &str) -> Header {
    Header::new(
        Bytes::copy_from_slice(n.as_bytes()),
        Bytes::copy_from_slice(v.as_bytes()),
    )
}

/// One end's application: what it still has to send per stream, what it received, and the
/// flow-controlled bytes it has not released yet.
#[derive(Default)]
struct App {
    to_send: BTreeMap<u32, Bytes>,
    received: BTreeMap<u32, Vec<u8>>,
    unreleased: BTreeMap<u32, usize>,
    ended: BTreeSet<u32>,
    reset: BTreeSet<u32>,
}

impl App {
    /// Queues DATA on streams with send capacity, in random pieces; returns bytes queued.
    fn send(&mut self, conn: &mut Connection, rng: &mut Rng) -> usize {
        let mut queued = 0;
        let ids: Vec<u32> = self.to_send.keys().copied().collect();
        for id in ids {
            let sid = StreamId::new(id);
            let cap = conn.send_capacity(sid);
            if cap == 0 {
                continue;
            }
            let rest = self.to_send.get_mut(&id).expect("listed");
            let n = rest.len().min(cap).min(1 + rng.below(16 * 1024) as usize);
            let piece = rest.split_to(n);
            let end = rest.is_empty();
            if end {
                self.to_send.remove(&id);
            }
            if conn.send_data(sid, piece, end).is_ok() {
                queued += n;
            }
        }
        queued
    }

    /// Releases received bytes: each stream's pending bytes with some probability, all of
    /// them when `all` (an application that eventually reads everything).
    fn release(&mut self, conn: &mut Connection, rng: &mut Rng, all: bool) -> usize {
        let mut released = 0;
        self.unreleased.retain(|&id, n| {
            if !all && !rng.chance(30) {
                return true;
            }
            let part = if all {
                *n
            } else {
                1 + rng.below(*n as u32) as usize
            };
            conn.release_capacity(StreamId::new(id), part);
            released += part;
            *n -= part;
            *n > 0
        });
        released
    }

    fn on_event(&mut self, e: &Event) {
        match e {
            Event::DataReceived {
                stream,
                data,
                flow_controlled_len,
                ..
            } => {
                self.received
                    .entry(stream.value())
                    .or_default()
                    .extend_from_slice(data);
                *self.unreleased.entry(stream.value()).or_default() +=
                    *flow_controlled_len as usize;
            }
            Event::StreamEnded { stream } => {
                self.ended.insert(stream.value());
            }
            Event::StreamReset { stream, .. } => {
                self.reset.insert(stream.value());
                self.to_send.remove(&stream.value());
            }
            Event::ConnectionTerminated { reason, detail, .. } => {
                panic!("connection terminated: {reason:?} {detail}")
            }
            _ => {}
        }
    }
}

/// Moves everything `from` has to write into `to`; returns the bytes moved.
fn transfer(from: &mut Connection, to: &mut Connection, now: Instant) -> usize {
    let mut moved = 0;
    let mut out = Vec::new();
    loop {
        out.clear();
        if from.poll_transmit(now, &mut out) == 0 {
            return moved;
        }
        let mut buf = BytesMut::new();
        for chunk in &out {
            buf.extend_from_slice(chunk);
        }
        moved += buf.len();
        to.handle_input(now, &mut buf).expect("no protocol error");
        assert!(buf.is_empty());
    }
}

fn random_config(mut c: Config, rng: &mut Rng) -> Config {
    c.settings.initial_window_size = 1024 + rng.below(256 * 1024);
    c.settings.max_concurrent_streams = Some(STREAMS as u32);
    c.connection_window = 65_535 + rng.below(4 << 20);
    c.window_policy.divisor = 1 + rng.below(4);
    c
}

struct Outcome {
    completed: usize,
    reset: usize,
    rounds: usize,
}

fn soak(seed: u64) -> Outcome {
    let mut rng = Rng(seed);
    let mut now = Instant::now();
    let mut client = Connection::new(random_config(Config::client(), &mut rng), now);
    let mut server = Connection::new(random_config(Config::server(), &mut rng), now);
    let (mut capp, mut sapp) = (App::default(), App::default());
    let sizes: Vec<(usize, usize)> = (0..STREAMS)
        .map(|_| (rng.below(12 * 1024) as usize, rng.below(12 * 1024) as usize))
        .collect();
    let index = |id: u32| (id as usize - 1) / 2;
    for (k, &(req, _)) in sizes.iter().enumerate() {
        let headers = vec![
            h(":method", "POST"),
            h(":scheme", "http"),
            h(":authority", "soak"),
            h(":path", &format!("/{k}")),
        ];
        let id = client.send_request(headers, req == 0).expect("request");
        assert_eq!(index(id.value()), k);
        if req > 0 {
            capp.to_send.insert(id.value(), body(k, 0, req));
        }
    }
    let resize_at = 5 + rng.below(40) as usize;
    let mut idle_rounds = 0;
    let mut rounds = 0;
    loop {
        rounds += 1;
        assert!(rounds < 20_000, "seed {seed}: no end after {rounds} rounds");
        now += Duration::from_millis(1);
        let mut progress = capp.send(&mut client, &mut rng) + sapp.send(&mut server, &mut rng);
        progress += transfer(&mut client, &mut server, now);
        progress += transfer(&mut server, &mut client, now);
        while let Some(e) = server.poll_event() {
            if let Event::RequestReceived { stream, .. } = &e {
                let k = index(stream.value());
                let resp = sizes[k].1;
                server
                    .send_response(*stream, vec![h(":status", "200")], resp == 0)
                    .expect("response");
                if resp > 0 {
                    sapp.to_send.insert(stream.value(), body(k, 1, resp));
                }
            }
            sapp.on_event(&e);
        }
        while let Some(e) = client.poll_event() {
            capp.on_event(&e);
        }
        // Random resets, by either side, of streams still in flight.
        if rng.chance(60) {
            // Mostly streams still in flight: the lowest not yet ended at the client.
            let first_open = (1..STREAMS as u32 * 2)
                .step_by(2)
                .find(|id| !capp.ended.contains(id) && !capp.reset.contains(id))
                .unwrap_or(1);
            let id = first_open + 2 * rng.below(200);
            let (conn, app) = if rng.chance(50) {
                (&mut client, &mut capp)
            } else {
                (&mut server, &mut sapp)
            };
            if conn.reset(StreamId::new(id), Reason::CANCEL).is_ok() {
                app.reset.insert(id);
                app.to_send.remove(&id);
            }
        }
        if rounds == resize_at {
            // Windows change under streams in flight (§6.9.2), possibly making them negative.
            for conn in [&mut client, &mut server] {
                let values = SettingsValues {
                    initial_window_size: 1 + rng.below(128 * 1024),
                    ..*conn.local_settings()
                };
                let values = SettingsValues {
                    max_concurrent_streams: Some(STREAMS as u32),
                    enable_push: false,
                    ..values
                };
                conn.update_settings(values, now).expect("settings");
            }
        }
        let all = idle_rounds > 0;
        progress += capp.release(&mut client, &mut rng, all);
        progress += sapp.release(&mut server, &mut rng, all);
        let done = (1..=STREAMS as u32 * 2).step_by(2).all(|id| {
            capp.reset.contains(&id)
                || sapp.reset.contains(&id)
                || (capp.ended.contains(&id) && sapp.ended.contains(&id))
        });
        if done {
            break;
        }
        if progress == 0 {
            idle_rounds += 1;
            // One round without progress is allowed (the next releases everything); a second
            // means a window is stuck at zero.
            assert!(
                idle_rounds < 3,
                "seed {seed}: stalled: {}",
                stuck(&client, &server)
            );
        } else {
            idle_rounds = 0;
        }
    }
    let mut completed = 0;
    let mut reset = 0;
    for (k, &(req, resp)) in sizes.iter().enumerate() {
        let id = 1 + 2 * k as u32;
        if capp.reset.contains(&id) || sapp.reset.contains(&id) {
            reset += 1;
            continue;
        }
        let got_req = sapp.received.get(&id).map_or(&[][..], |v| &v[..]);
        let got_resp = capp.received.get(&id).map_or(&[][..], |v| &v[..]);
        assert_eq!(
            got_req,
            &body(k, 0, req)[..],
            "seed {seed}: request body {k}"
        );
        assert_eq!(
            got_resp,
            &body(k, 1, resp)[..],
            "seed {seed}: response body {k}"
        );
        completed += 1;
    }
    Outcome {
        completed,
        reset,
        rounds,
    }
}

/// The streams that still wait to send, and why.
fn stuck(client: &Connection, server: &Connection) -> String {
    let mut s = String::new();
    for (name, c) in [("client", client), ("server", server)] {
        let waiting: Vec<String> = (1..=STREAMS as u32 * 2)
            .step_by(2)
            .filter(|&id| c.send_buffered(StreamId::new(id)) > 0)
            .take(5)
            .map(|id| format!("{id}: {:?}", c.stream_send_state(StreamId::new(id))))
            .collect();
        s.push_str(&format!("{name} {waiting:?}; "));
    }
    s
}

#[test]
fn thousand_streams_with_random_windows_reads_and_resets_all_complete() {
    let seeds: Vec<u64> = match std::env::var("SOAK_SEED") {
        Ok(s) => vec![s.parse().expect("SOAK_SEED is a number")],
        Err(_) => {
            let n = std::env::var("SOAK_SEEDS")
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(2);
            (1..=n).collect()
        }
    };
    for seed in seeds {
        let o = soak(seed);
        println!(
            "seed {seed}: {} streams completed, {} reset, {} rounds",
            o.completed, o.reset, o.rounds
        );
        assert!(
            o.completed >= STREAMS * 8 / 10,
            "seed {seed}: too few completed"
        );
        assert!(o.reset > 0, "seed {seed}: resets were exercised");
    }
}
