//! Scenarios in the simulator: exact in virtual time, fast, the same on every run.

use h2_sim::{Cut, LinkConfig, Outcome, Read, Request, Scenario};
use h2core::frame::FrameType;
use h2core::Config;
use std::time::Duration;

const MS: Duration = Duration::from_millis(1);
const KIB: u64 = 1024;
const MIB: u64 = 1024 * 1024;

/// 20 ms round trip, 100 Mbit/s each way.
fn lan() -> LinkConfig {
    LinkConfig::symmetric(20 * MS, 100_000_000)
}

#[test]
fn a_download_arrives_whole_and_its_timeline_adds_up() {
    let report = Scenario::new(lan())
        .request(Request::download(4 * MIB))
        .with_transcript()
        .run();
    let r = &report.requests[0];
    assert_eq!(r.outcome, Outcome::Complete);
    assert_eq!((r.bytes, r.consumed), (4 * MIB, 4 * MIB));
    // The request is sent at once (the client need not wait for the server's SETTINGS), so
    // its first byte comes one round trip after it, plus serialization.
    let ttfb = r.time_to_first_byte().unwrap();
    assert!(ttfb >= 20 * MS && ttfb < 25 * MS, "{ttfb:?}");
    let per_10ms = report.throughput(10 * MS);
    assert_eq!(per_10ms.iter().sum::<u64>(), 4 * MIB);
    assert_eq!(report.stream_throughput(0, 10 * MS), per_10ms);
    // 100 Mbit/s carry 125,000 bytes in 10 ms; arrivals come in whole 16 KiB segments.
    assert!(
        per_10ms.iter().all(|&b| b <= 125_000 + 16 * KIB),
        "{per_10ms:?}"
    );
    // Every DATA frame crossed the link and the transcript saw it.
    let data: u64 = report
        .transcript
        .iter()
        .filter(|f| f.kind == FrameType::DATA)
        .map(|f| f.length as u64)
        .sum();
    assert_eq!(data, 4 * MIB);
    assert!(report.client.stalls.is_empty() && report.server.stalls.is_empty());
    assert_eq!(report.server.streams, vec![(1, Outcome::Complete)]);
}

#[test]
fn the_same_seed_gives_the_same_transcript() {
    let scenario = |seed| {
        Scenario::new(lan().with_jitter(3 * MS))
            .request(Request::download(2 * MIB))
            .request(Request::download(MIB).at(5 * MS).read(Read::Rate(4 * MIB)))
            .request(Request::download(512 * KIB).at(7 * MS).urgency(1))
            .seed(seed)
            .with_transcript()
    };
    let a = scenario(7).run();
    let b = scenario(7).run();
    assert!(a.transcript.len() > 100);
    assert_eq!(a.transcript_text(), b.transcript_text());
    assert_eq!(a.requests, b.requests);
    // Another seed moves the jitter, and so the frames' times.
    let c = scenario(8).run();
    assert_ne!(a.transcript_text(), c.transcript_text());
    assert!(c.requests.iter().all(|r| r.outcome == Outcome::Complete));
}

#[test]
fn no_stream_waits_forever_with_data_to_send_and_window_available() {
    // Small windows, a small link queue, jitter, readers of every speed and staggered starts:
    // streams keep running out of window and queue, and every one must still finish.
    let mut client = Config::client();
    client.settings.initial_window_size = 32 * 1024;
    client.connection_window = 96 * 1024;
    for seed in 0..4 {
        let mut scenario = Scenario::new(lan().with_jitter(2 * MS).with_queue(8 * 1024)).seed(seed);
        scenario.client = client.clone();
        for i in 0..12u64 {
            let read = match i % 3 {
                0 => Read::All,
                1 => Read::Rate(2 * MIB),
                _ => Read::Rate(200 * KIB),
            };
            let request = Request::download(64 * KIB + i * 40 * KIB)
                .at(3 * MS * i as u32)
                .read(read)
                .urgency((i % 8) as u8);
            scenario = scenario.request(request);
        }
        let report = scenario.run();
        for r in &report.requests {
            assert_eq!(r.outcome, Outcome::Complete, "seed {seed}: {r:?}");
        }
        assert!(
            report
                .server
                .streams
                .iter()
                .all(|(_, o)| *o == Outcome::Complete),
            "seed {seed}: {:?}",
            report.server.streams
        );
        assert_eq!(report.server.stalls, vec![], "seed {seed}");
    }
}

#[test]
fn a_stalled_reader_on_one_stream_never_stops_the_others() {
    let report = Scenario::new(lan())
        .request(Request::download(8 * MIB).read(Read::StopAfter(100 * KIB)))
        .request(Request::download(4 * MIB).at(MS))
        .request(Request::download(4 * MIB).at(2 * MS))
        .run();
    let [stalled, a, b] = &report.requests[..] else {
        unreachable!()
    };
    assert_eq!((a.outcome, a.bytes), (Outcome::Complete, 4 * MIB));
    assert_eq!((b.outcome, b.bytes), (Outcome::Complete, 4 * MIB));
    // The stalled stream got its window and waits, open, for its reader: the 100 KiB it
    // read are below the policy's threshold (half the window) for a WINDOW_UPDATE.
    assert_eq!(stalled.outcome, Outcome::Open);
    assert_eq!(stalled.consumed, 100 * KIB);
    let window = Config::client().settings.initial_window_size as u64;
    assert_eq!(stalled.bytes, window);
    // What the client holds for its application is that unread window, no more.
    assert!(report.client.peak_buffered as u64 <= window);
    assert!(report.server.stalls.is_empty());
}

#[test]
fn a_link_reset_mid_transfer_ends_every_open_stream_with_an_error_on_both_sides() {
    let report = Scenario::new(lan())
        .request(Request::download(8 * MIB))
        .request(Request::download(8 * MIB).at(MS))
        // Urgency 0: the server sends it before the big ones (RFC 9218 §10; without a signal
        // all three have urgency 3 and go one after another in stream order).
        .request(Request::download(16 * KIB).at(2 * MS).urgency(0))
        // The small one is done by 100 ms; the big ones are not.
        .request(Request::download(8 * MIB).at(150 * MS))
        .cut(200 * MS, Cut::Reset)
        .run();
    let outcomes: Vec<_> = report.requests.iter().map(|r| r.outcome).collect();
    assert_eq!(outcomes[2], Outcome::Complete);
    for i in [0, 1, 3] {
        assert!(
            outcomes[i].is_error(),
            "client stream {i}: {:?}",
            outcomes[i]
        );
        assert!(report.requests[i].bytes < 8 * MIB);
    }
    let server_errors = report
        .server
        .streams
        .iter()
        .filter(|(_, o)| o.is_error())
        .count();
    assert_eq!(server_errors, 3, "{:?}", report.server.streams);
    // Both connections learned that their transport failed.
    let (_, client_remote) = report.client.terminated.expect("client ended");
    let (_, server_remote) = report.server.terminated.expect("server ended");
    assert!(client_remote && server_remote);
    assert_eq!(report.elapsed, 200 * MS);
}

#[test]
fn a_silent_cut_is_found_by_keepalive_and_ends_every_open_stream_on_both_sides() {
    let keepalive = |mut c: Config| {
        c.keepalive_interval = Some(Duration::from_secs(1));
        c.keepalive_timeout = Duration::from_secs(2);
        c
    };
    let mut scenario = Scenario::new(lan())
        .request(Request::download(64 * MIB))
        .request(Request::download(64 * MIB).at(MS))
        .cut(300 * MS, Cut::Silent);
    scenario.client = keepalive(scenario.client);
    scenario.server = keepalive(scenario.server);
    let report = scenario.run();
    for r in &report.requests {
        assert!(r.outcome.is_error(), "{r:?}");
        // Nothing tells the endpoints: silence for the keepalive interval from the last bytes
        // heard (at most one round trip before the cut), then an unanswered PING for its
        // timeout.
        let ended = r.ended_at.unwrap();
        assert!(ended >= 3280 * MS && ended <= 3300 * MS, "{ended:?}");
    }
    assert!(report.server.streams.iter().all(|(_, o)| o.is_error()));
    // Each side ended the connection itself.
    assert_eq!(report.client.terminated.map(|t| t.1), Some(false));
    assert_eq!(report.server.terminated.map(|t| t.1), Some(false));
}

#[test]
fn a_slow_reader_holds_at_most_one_window_and_paces_the_sender() {
    let report = Scenario::new(lan())
        .request(Request::download(4 * MIB).read(Read::Rate(MIB)))
        .run();
    let r = &report.requests[0];
    assert_eq!(r.outcome, Outcome::Complete);
    // 4 MiB read at 1 MiB/s take about 4 s from the first byte.
    let reading = r.ended_at.unwrap() - r.first_byte_at.unwrap();
    assert!(reading >= 2900 * MS && reading <= 4100 * MS, "{reading:?}");
    let window = Config::client().settings.initial_window_size as usize;
    assert!(
        report.client.peak_buffered <= window,
        "{}",
        report.client.peak_buffered
    );
    assert!(report.peak_stream_window <= window as u64);
}

#[test]
fn the_static_window_caps_a_long_path_at_one_window_per_round_trip() {
    // 100 ms and 1 Gbit/s: the 1 MiB stream window, not the link, sets the pace (adaptive
    // windows off: this is the static baseline, see tests/adaptive.rs).
    let mut scenario = Scenario::new(LinkConfig::symmetric(100 * MS, 1_000_000_000))
        .request(Request::download(16 * MIB));
    scenario.client.adaptive_windows = false;
    scenario.server.adaptive_windows = false;
    let report = scenario.run();
    let window = Config::client().settings.initial_window_size as u64;
    assert_eq!(report.peak_stream_window, window);
    let per_rtt = report.throughput(100 * MS);
    let best = per_rtt.iter().max().copied().unwrap();
    assert!(best <= window + window / 2, "{per_rtt:?}");
    assert!(
        report.link_utilization() < 15.0,
        "{}",
        report.link_utilization()
    );
}

/// [`lan`] with a 128 KiB send queue (10 ms at 100 Mbit/s): bytes already in the socket's
/// buffer cannot be reordered, so a 1 MiB queue alone would hold the urgent response 84 ms.
fn urgency_link() -> LinkConfig {
    lan().with_queue(128 * KIB as usize)
}

/// 10 urgency-3 bulk downloads, then an urgency-0 download of `urgent` bytes at `at`; the
/// server's configuration as given. Returns the urgent request's report.
fn urgent_behind_bulk(server_rfc9218: bool, urgent: u64, at: Duration) -> h2_sim::StreamReport {
    let mut scenario = Scenario::new(urgency_link());
    scenario.server.settings.no_rfc7540_priorities = server_rfc9218;
    for _ in 0..10 {
        scenario = scenario.request(Request::download(4 * MIB).urgency(3));
    }
    let report = scenario
        .request(Request::download(urgent).urgency(0).at(at))
        .run();
    assert!(report
        .requests
        .iter()
        .all(|r| r.outcome == Outcome::Complete));
    report.requests[10].clone()
}

#[test]
fn an_urgency_0_request_behind_10_bulk_downloads_gets_its_first_byte_within_2_rtt() {
    // RFC 9218 by default: the server announces SETTINGS_NO_RFC7540_PRIORITIES = 1 and sends
    // the urgency-0 response before the urgency-3 ones (§10), whatever they have queued.
    let (urgent, at) = (256 * KIB, 200 * MS);
    let own_transfer = Duration::from_secs_f64(urgent as f64 * 8.0 / 100e6);
    let rtt = urgency_link().rtt();
    let r = urgent_behind_bulk(true, urgent, at);
    let first_byte = r.time_to_first_byte().unwrap();
    assert!(first_byte <= 2 * rtt + own_transfer, "{first_byte:?}");
    // It has the link nearly to itself: done within 3 RTT plus its own transfer time (bytes
    // already queued, and connection window the bulk responses hold, come first).
    let done = r.ended_at.unwrap() - at;
    println!("urgency 0: first byte {first_byte:?}, done {done:?}");
    assert!(done <= 3 * rtt + own_transfer, "{done:?}");
    // A server that keeps the RFC 7540 tree shares the link among all 11 streams.
    let r = urgent_behind_bulk(false, urgent, at);
    let shared = r.ended_at.unwrap() - at;
    println!(
        "tree: first byte {:?}, done {shared:?}",
        r.time_to_first_byte().unwrap()
    );
    assert!(shared > 3 * done, "tree: {shared:?}, urgency: {done:?}");
}
