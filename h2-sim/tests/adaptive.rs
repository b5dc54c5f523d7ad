//! Adaptive receive windows and the memory budget (issue 19, items 2 and 3), in the simulator:
//! exact in virtual time, the same on every run.

use h2_sim::{Direction, FrameRecord, LinkConfig, Outcome, Read, Request, Scenario, WindowSignal};
use h2core::frame::FrameType;
use h2core::Config;
use std::time::Duration;

const MS: Duration = Duration::from_millis(1);
const MIB: u64 = 1024 * 1024;
const GBIT: u64 = 1_000_000_000;

/// 100 ms round trip, 1 Gbit/s each way: a bandwidth-delay product of 12.5 MB.
fn long_fat() -> LinkConfig {
    LinkConfig::symmetric(100 * MS, GBIT)
}

fn static_windows(mut c: Config) -> Config {
    c.adaptive_windows = false;
    c
}

/// PINGs that are not ACKs (RFC 9113 §6.7: flag 0x1).
fn pings(frames: &[FrameRecord]) -> Vec<&FrameRecord> {
    frames
        .iter()
        .filter(|f| f.kind == FrameType::PING && f.flags & 0x1 == 0)
        .collect()
}

#[test]
fn adaptive_windows_grow_on_a_long_fat_path() {
    let scenario = Scenario::new(long_fat()).request(Request::download(128 * MIB));
    let adaptive = scenario.run();
    let mut fixed = scenario.clone();
    fixed.client = static_windows(fixed.client);
    fixed.server = static_windows(fixed.server);
    let fixed = fixed.run();
    assert_eq!(adaptive.requests[0].outcome, Outcome::Complete);
    let initial = Config::client().settings.initial_window_size as u64;
    let max = Config::client().max_stream_window as u64;
    // The static window stays put; the adaptive one grows past the path's 12.5 MB, no
    // further than its cap.
    assert_eq!(fixed.peak_stream_window, initial);
    assert!(
        adaptive.peak_stream_window > 12_500_000 && adaptive.peak_stream_window <= max,
        "{}",
        adaptive.peak_stream_window
    );
    // Some round trip carries 90% of what the link can; the static window never gets close.
    let per_rtt = 1_000_000_000 / 8 / 10;
    let best = |r: &h2_sim::Report| r.throughput(100 * MS).into_iter().max().unwrap();
    assert!(best(&adaptive) * 10 >= per_rtt * 9, "{}", best(&adaptive));
    assert!(best(&fixed) * 10 < per_rtt * 2, "{}", best(&fixed));
    assert!(adaptive.transfer_time().unwrap() * 4 < fixed.transfer_time().unwrap());
    assert!(adaptive.client.stalls.is_empty() && adaptive.server.stalls.is_empty());
}

#[test]
fn at_most_one_bdp_ping_per_round_trip_and_none_while_idle() {
    // A 64 MiB download, half a minute idle, then another.
    let second = Duration::from_secs(30);
    let report = Scenario::new(long_fat())
        .request(Request::download(64 * MIB))
        .request(Request::download(8 * MIB).at(second))
        .with_transcript()
        .run();
    assert!(report
        .requests
        .iter()
        .all(|r| r.outcome == Outcome::Complete));
    let first_done = report.requests[0].ended_at.unwrap();
    assert!(first_done < Duration::from_secs(2), "{first_done:?}");
    let client_pings = pings(&report.transcript)
        .into_iter()
        .filter(|f| f.direction == Direction::Up)
        .map(|f| f.at)
        .collect::<Vec<_>>();
    // The client receives DATA, so it samples; one PING outstanding at a time, so two are at
    // least a round trip apart.
    assert!(client_pings.len() >= 4, "{client_pings:?}");
    for pair in client_pings.windows(2) {
        assert!(pair[1] - pair[0] >= 100 * MS, "{client_pings:?}");
    }
    // The server receives no DATA: it never pings.
    assert!(pings(&report.transcript)
        .iter()
        .all(|f| f.direction == Direction::Up));
    // Idle between the downloads (from one round trip after the first ended to the second
    // request): no PING at all, nor any other frame.
    let idle = first_done + 100 * MS..second;
    let in_idle: Vec<_> = report
        .transcript
        .iter()
        .filter(|f| idle.contains(&f.at))
        .collect();
    assert!(in_idle.is_empty(), "{in_idle:?}");
    // The second download samples again.
    assert!(client_pings.iter().any(|&t| t > second));
}

/// The credit granted to stream `id` by WINDOW_UPDATEs arriving in `range`.
fn granted(frames: &[FrameRecord], id: u32, range: std::ops::Range<Duration>) -> u64 {
    frames
        .iter()
        .filter(|f| f.stream == id && range.contains(&f.at))
        .filter_map(|f| match f.window {
            Some(WindowSignal::Increment(n)) => Some(n as u64),
            _ => None,
        })
        .sum()
}

#[test]
fn a_stalled_reader_shrinks_what_it_is_granted() {
    // The reader keeps up for 48 MiB (the window grows), stops for two seconds (the server
    // fills the window), then reads everything at once.
    let resume = Duration::from_secs(3);
    let report = Scenario::new(long_fat())
        .request(Request::download(96 * MIB).read(Read::PauseUntil {
            after: 48 * MIB,
            resume_at: resume,
        }))
        .with_transcript()
        .run();
    let r = &report.requests[0];
    assert_eq!((r.outcome, r.bytes), (Outcome::Complete, 96 * MIB));
    let initial = Config::client().settings.initial_window_size as u64;
    // Before the pause the window had grown well past the initial one, and the paused reader
    // holds all of it.
    assert!(report.peak_stream_window > 8 * initial);
    let held = report.client.peak_buffered as u64;
    assert!(
        held > 8 * initial && held <= report.peak_stream_window,
        "{held}"
    );
    // On resuming it releases all it held, yet the stream is granted only the initial window
    // again: the WINDOW_UPDATEs sent at `resume` reach the server half a round trip later.
    let at_resume = granted(&report.transcript, 1, resume..resume + 60 * MS);
    assert!(at_resume > 0 && at_resume <= initial, "{at_resume}");
    // ... and the window grows back as the reader keeps up again.
    let later = granted(&report.transcript, 1, resume + 60 * MS..resume + 2000 * MS);
    assert!(later > 4 * initial, "{later}");
}

/// 100 downloads of 2 MiB at once on the long fat path, under a 16 MiB budget on both sides
/// (the budget scenario of `benches/src/bin/sim.rs`).
fn hundred_downloads_under_budget(budget: usize) -> Scenario {
    let mut s = Scenario::new(long_fat());
    s.client.memory_budget = budget;
    s.server.memory_budget = budget;
    for _ in 0..100 {
        s = s.request(Request::download(2 * MIB));
    }
    s
}

#[test]
fn the_memory_budget_is_never_exceeded() {
    let budget = 16 * MIB as usize;
    let s = hundred_downloads_under_budget(budget);
    let report = s.run();
    assert!(report
        .requests
        .iter()
        .all(|r| r.outcome == Outcome::Complete));
    assert!(
        report.client.peak_buffered <= budget,
        "{}",
        report.client.peak_buffered
    );
    assert!(
        report.server.peak_buffered <= budget,
        "{}",
        report.server.peak_buffered
    );
    // Without the budget the server queues far more (400 KiB per stream).
    let mut unbounded = s.clone();
    unbounded.server.memory_budget = usize::MAX / 2;
    let u = unbounded.run();
    assert!(
        u.server.peak_buffered > budget,
        "{}",
        u.server.peak_buffered
    );
}

#[test]
fn a_hundred_downloads_under_the_budget_fill_the_link() {
    // Issue 19: at least 90% of the link over the transfer, the budget never exceeded. The
    // 200 MiB take 1.68 s at the link rate, after the request's round trip: 94% at best.
    let budget = 16 * MIB as usize;
    let report = hundred_downloads_under_budget(budget).run();
    assert_eq!(report.bytes_received(), 200 * MIB);
    let used = report.link_utilization();
    assert!(used >= 90.0, "{used:.1}% of the link");
    assert!(
        report.client.peak_buffered <= budget && report.server.peak_buffered <= budget,
        "{} / {}",
        report.client.peak_buffered,
        report.server.peak_buffered
    );
    // The connection window covered the 100 requests from the start: the first round trip
    // of responses already carries 90% of what the link can (12.5 MB), where a 2 MiB window
    // grown only by BDP samples carried 2 MiB in each of the first two.
    let per_rtt = GBIT / 8 / 10;
    let first = report.throughput(100 * MS)[1];
    assert!(
        first * 10 >= per_rtt * 9,
        "{first} bytes in the first round trip"
    );
    assert!(report.client.stalls.is_empty() && report.server.stalls.is_empty());
}

#[test]
fn readers_that_stop_hold_no_more_than_the_budget() {
    // 4 MiB budget, 20 ms: a third of the readers stop at once, the rest read; the windows
    // granted never let unread bytes pass the budget.
    let budget = 4 * MIB as usize;
    let mut s = Scenario::new(LinkConfig::symmetric(20 * MS, GBIT));
    s.client.memory_budget = budget;
    s.server.memory_budget = budget;
    s.limit = Duration::from_secs(20);
    for i in 0..30u64 {
        let read = if i % 3 == 0 {
            Read::StopAfter(0)
        } else {
            Read::All
        };
        s = s.request(Request::download(4 * MIB).read(read));
    }
    let report = s.run();
    assert!(
        report.client.peak_buffered <= budget,
        "{}",
        report.client.peak_buffered
    );
    assert!(
        report.server.peak_buffered <= budget,
        "{}",
        report.server.peak_buffered
    );
    let unread: u64 = report.requests.iter().map(|r| r.bytes - r.consumed).sum();
    assert!(unread > 0 && unread <= budget as u64, "{unread}");
}
