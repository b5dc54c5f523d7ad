//! The flow-control figures of issue 19, measured in the simulator (`h2-sim`): a client and a
//! server `h2core::Connection` over a modeled link in virtual time, default configurations
//! on both sides (adaptive windows from 1 MiB per stream and 2 MiB per connection; the server
//! announces SETTINGS_NO_RFC7540_PRIORITIES = 1 and schedules by RFC 9218 urgency, which the
//! client sends in each request's `priority` header field), each adaptive figure beside the
//! same run with static windows (`Config::adaptive_windows` off). The budget scenario sets
//! `Config::memory_budget` to 16 MiB on both sides.
//!
//! ```sh
//! cargo run --release -p benches --bin sim -- [--json FILE]
//! ```
//! Prints a table, each figure beside its goal, and ends with one summary line:
//! `sim: rtt100_rtts_to_90pct=N static_pct=P rtt1_link_pct=P rtt1_peak_window=B
//! budget_link_pct=P budget_held=yes|no urgent_first_byte_ms=MS` (`never` when the link rate
//! was never reached). Every figure is measured; none is written here. The link's send queue
//! is 1 MiB each way, segments 16 KiB, no jitter (seed 0).

use h2_sim::{LinkConfig, Report, Request, Scenario};
use h2core::Config;
use std::time::Duration;

const MIB: u64 = 1024 * 1024;
const GBIT: u64 = 1_000_000_000;
const MS: Duration = Duration::from_millis(1);

/// The goals of issue 19.
const GOAL_RTTS_TO_90PCT: usize = 20;
const GOAL_LINK_PCT: f64 = 90.0;
const BUDGET: usize = 16 * MIB as usize;
/// "No larger than needed": at most twice the bandwidth-delay product (a window sent back
/// by halves needs up to one BDP of headroom).
const WINDOW_HEADROOM: u64 = 2;

struct Figures {
    rtts_to_90pct: Option<usize>,
    rtt100_pct: f64,
    static_rtts_to_90pct: Option<usize>,
    static_pct: f64,
    rtt1_link_pct: f64,
    rtt1_peak_window: u64,
    static_rtt1_link_pct: f64,
    static_rtt1_peak_window: u64,
    rtt1_bdp: u64,
    budget_link_pct: f64,
    budget_peak_client: usize,
    budget_peak_server: usize,
    static_budget_link_pct: f64,
    static_budget_peak_client: usize,
    static_budget_peak_server: usize,
    urgent_first_byte: Duration,
    urgent_goal: Duration,
    /// From the urgent request to its last byte, RFC 9218 (the default) and the RFC 7540 tree.
    urgent_done: Duration,
    urgent_done_tree: Duration,
}

/// The first round trip (counted from 1) in which the client received at least 90% of what
/// the link carries in one round trip.
fn rtts_to_90(report: &Report) -> Option<usize> {
    let rtt = report.link.rtt();
    let per_rtt = report.link.down.bandwidth as f64 / 8.0 * rtt.as_secs_f64();
    report
        .throughput(rtt)
        .iter()
        .position(|&b| b as f64 >= 0.9 * per_rtt)
        .map(|i| i + 1)
}

/// `scenario` with adaptive windows off on both sides: the static baseline.
fn static_windows(mut scenario: Scenario) -> Scenario {
    let off = |c: &mut Config| c.adaptive_windows = false;
    off(&mut scenario.client);
    off(&mut scenario.server);
    scenario
}

/// Runs `scenario` and checks every body byte arrived.
fn run(scenario: &Scenario, bytes: u64, what: &str) -> Report {
    let r = scenario.run();
    assert_eq!(r.bytes_received(), bytes, "{what} did not finish");
    r
}

fn measure() -> Figures {
    // 100 ms round trip, 1 Gbit/s: one 256 MiB download.
    let long = LinkConfig::symmetric(100 * MS, GBIT);
    let s = Scenario::new(long).request(Request::download(256 * MIB));
    let r = run(&s, 256 * MIB, "the long-path download");
    let rtts_to_90pct = rtts_to_90(&r);
    let rtt100_pct = r.link_utilization();
    let r = run(
        &static_windows(s),
        256 * MIB,
        "the static long-path download",
    );
    let static_rtts_to_90pct = rtts_to_90(&r);
    let static_pct = r.link_utilization();

    // 1 ms round trip, 10 Gbit/s: the same download.
    let short = LinkConfig::symmetric(MS, 10 * GBIT);
    let s = Scenario::new(short).request(Request::download(256 * MIB));
    let r = run(&s, 256 * MIB, "the short-path download");
    let rtt1_link_pct = r.link_utilization();
    let rtt1_peak_window = r.peak_stream_window;
    let r = run(
        &static_windows(s),
        256 * MIB,
        "the static short-path download",
    );
    let static_rtt1_link_pct = r.link_utilization();
    let static_rtt1_peak_window = r.peak_stream_window;
    let rtt1_bdp = 10 * GBIT / 8 / 1000;

    // 100 concurrent downloads of 2 MiB on the long path, under a 16 MiB budget each side.
    let mut s = Scenario::new(long);
    s.client.memory_budget = BUDGET;
    s.server.memory_budget = BUDGET;
    for _ in 0..100 {
        s = s.request(Request::download(2 * MIB));
    }
    let r = run(&s, 200 * MIB, "the 100 downloads");
    let budget_link_pct = r.link_utilization();
    let (budget_peak_client, budget_peak_server) = (r.client.peak_buffered, r.server.peak_buffered);
    let r = run(&static_windows(s), 200 * MIB, "the static 100 downloads");
    let static_budget_link_pct = r.link_utilization();
    let (static_budget_peak_client, static_budget_peak_server) =
        (r.client.peak_buffered, r.server.peak_buffered);

    // 10 bulk downloads at urgency 3, then at 1 s an urgency-0 request for 1 MiB.
    let urgent_size = MIB;
    let mut s = Scenario::new(long);
    for _ in 0..10 {
        s = s.request(Request::download(16 * MIB).urgency(3));
    }
    let s = s.request(
        Request::download(urgent_size)
            .urgency(0)
            .at(Duration::from_secs(1)),
    );
    // The same with a server that keeps the RFC 7540 tree (every stream an equal sibling).
    let mut tree = s.clone();
    tree.server.settings.no_rfc7540_priorities = false;
    let r = s.run();
    let urgent = &r.requests[10];
    let urgent_first_byte = urgent
        .time_to_first_byte()
        .expect("the urgent response's first byte");
    let done = |urgent: &h2_sim::StreamReport| {
        urgent.ended_at.expect("the urgent response ended") - Duration::from_secs(1)
    };
    let urgent_done = done(urgent);
    let urgent_done_tree = done(&tree.run().requests[10]);
    let transfer = Duration::from_secs_f64(urgent_size as f64 * 8.0 / GBIT as f64);
    let urgent_goal = 2 * long.rtt() + transfer;

    Figures {
        rtts_to_90pct,
        rtt100_pct,
        static_rtts_to_90pct,
        static_pct,
        rtt1_link_pct,
        rtt1_peak_window,
        static_rtt1_link_pct,
        static_rtt1_peak_window,
        rtt1_bdp,
        budget_link_pct,
        budget_peak_client,
        budget_peak_server,
        static_budget_link_pct,
        static_budget_peak_client,
        static_budget_peak_server,
        urgent_first_byte,
        urgent_goal,
        urgent_done,
        urgent_done_tree,
    }
}

fn met(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "not met"
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut json_path = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--json" => json_path = args.next(),
            _ => {
                eprintln!("usage: sim [--json FILE]");
                std::process::exit(2);
            }
        }
    }
    let f = measure();
    let rtts_text = |n: Option<usize>| n.map_or("never".to_string(), |n| n.to_string());
    let rtts = rtts_text(f.rtts_to_90pct);
    let rtts_met = f.rtts_to_90pct.is_some_and(|n| n <= GOAL_RTTS_TO_90PCT);
    let rtt1_met = f.rtt1_link_pct >= GOAL_LINK_PCT;
    let window_met = f.rtt1_peak_window <= WINDOW_HEADROOM * f.rtt1_bdp;
    let budget_link_met = f.budget_link_pct >= GOAL_LINK_PCT;
    let budget_held = f.budget_peak_client.max(f.budget_peak_server) <= BUDGET;
    let urgent_met = f.urgent_first_byte <= f.urgent_goal;

    let rows = [
        (
            "100 ms RTT, 1 Gbit/s, 256 MiB download: RTTs to 90% of link rate".to_string(),
            rtts.clone(),
            format!("<= {GOAL_RTTS_TO_90PCT} RTTs (adaptive windows)"),
            met(rtts_met),
        ),
        (
            "  link rate used over the transfer".to_string(),
            format!("{:.1}%", f.rtt100_pct),
            "(for comparison)".to_string(),
            "-",
        ),
        (
            "  static windows: RTTs to 90% / link rate used".to_string(),
            format!(
                "{} / {:.1}%",
                rtts_text(f.static_rtts_to_90pct),
                f.static_pct
            ),
            "(for comparison)".to_string(),
            "-",
        ),
        (
            "1 ms RTT, 10 Gbit/s, 256 MiB download: link rate used".to_string(),
            format!("{:.1}%", f.rtt1_link_pct),
            format!(">= {GOAL_LINK_PCT:.0}%"),
            met(rtt1_met),
        ),
        (
            "  peak stream window".to_string(),
            format!("{} B", f.rtt1_peak_window),
            format!(
                "no larger than needed: <= {WINDOW_HEADROOM} x BDP = {} B",
                WINDOW_HEADROOM * f.rtt1_bdp
            ),
            met(window_met),
        ),
        (
            "  static windows: link rate used / peak stream window".to_string(),
            format!(
                "{:.1}% / {} B",
                f.static_rtt1_link_pct, f.static_rtt1_peak_window
            ),
            "(for comparison)".to_string(),
            "-",
        ),
        (
            "100 concurrent 2 MiB downloads (100 ms, 1 Gbit/s): link rate used".to_string(),
            format!("{:.1}%", f.budget_link_pct),
            format!(">= {GOAL_LINK_PCT:.0}%"),
            met(budget_link_met),
        ),
        (
            "  peak bytes held (client / server)".to_string(),
            format!("{} / {} B", f.budget_peak_client, f.budget_peak_server),
            format!("<= 16 MiB budget ({BUDGET} B)"),
            met(budget_held),
        ),
        (
            "  static windows: link rate used / peak held (client / server)".to_string(),
            format!(
                "{:.1}% / {} / {} B",
                f.static_budget_link_pct, f.static_budget_peak_client, f.static_budget_peak_server
            ),
            "(for comparison)".to_string(),
            "-",
        ),
        (
            "urgency 0 (1 MiB) behind 10 urgency-3 downloads: first byte".to_string(),
            format!("{:.1} ms", ms(f.urgent_first_byte)),
            format!("<= 2 RTT + own transfer = {:.1} ms", ms(f.urgent_goal)),
            met(urgent_met),
        ),
        (
            "  its last byte (RFC 9218 by default / the RFC 7540 tree)".to_string(),
            format!(
                "{:.1} / {:.1} ms",
                ms(f.urgent_done),
                ms(f.urgent_done_tree)
            ),
            "(for comparison)".to_string(),
            "-",
        ),
    ];
    let w0 = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    let w1 = rows.iter().map(|r| r.1.len()).max().unwrap_or(0);
    let w2 = rows.iter().map(|r| r.2.len()).max().unwrap_or(0);
    println!(
        "{:w0$}  {:>w1$}  {:w2$}  status",
        "scenario", "figure", "goal"
    );
    for (what, figure, goal, status) in &rows {
        println!("{what:w0$}  {figure:>w1$}  {goal:w2$}  {status}");
    }
    println!(
        "sim: rtt100_rtts_to_90pct={rtts} static_pct={:.1} rtt1_link_pct={:.0} rtt1_peak_window={} budget_link_pct={:.0} budget_held={} urgent_first_byte_ms={:.0}",
        f.static_pct,
        f.rtt1_link_pct,
        f.rtt1_peak_window,
        f.budget_link_pct,
        if budget_held { "yes" } else { "no" },
        ms(f.urgent_first_byte),
    );
    if let Some(path) = json_path {
        let json = serde_json::json!({
            "rtt100_rtts_to_90pct": f.rtts_to_90pct,
            "rtt100_goal_rtts": GOAL_RTTS_TO_90PCT,
            "rtt100_met": rtts_met,
            "static_pct": f.static_pct,
            "rtt100_link_pct": f.rtt100_pct,
            "static_rtt100_rtts_to_90pct": f.static_rtts_to_90pct,
            "static_rtt1_link_pct": f.static_rtt1_link_pct,
            "static_rtt1_peak_window": f.static_rtt1_peak_window,
            "static_budget_link_pct": f.static_budget_link_pct,
            "static_budget_peak_client": f.static_budget_peak_client,
            "static_budget_peak_server": f.static_budget_peak_server,
            "rtt1_link_pct": f.rtt1_link_pct,
            "rtt1_met": rtt1_met,
            "rtt1_peak_window": f.rtt1_peak_window,
            "rtt1_window_limit": WINDOW_HEADROOM * f.rtt1_bdp,
            "rtt1_window_met": window_met,
            "budget_link_pct": f.budget_link_pct,
            "budget_link_met": budget_link_met,
            "budget_bytes": BUDGET,
            "budget_peak_client": f.budget_peak_client,
            "budget_peak_server": f.budget_peak_server,
            "budget_held": budget_held,
            "urgent_first_byte_ms": ms(f.urgent_first_byte),
            "urgent_goal_ms": ms(f.urgent_goal),
            "urgent_met": urgent_met,
            "urgent_done_ms": ms(f.urgent_done),
            "urgent_done_tree_ms": ms(f.urgent_done_tree),
            "goal_link_pct": GOAL_LINK_PCT,
        });
        std::fs::write(path, serde_json::to_string_pretty(&json)?)?;
    }
    Ok(())
}
