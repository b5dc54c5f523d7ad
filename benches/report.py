#!/usr/bin/env python3
"""Writes BENCHMARKS.md from what the benchmark runs left behind.

Sources:
- criterion: target/criterion/<group>/<bench>/new/{estimates,benchmark}.json (mean point
  estimate, throughput) for the `e2e`, `hpack` and `frame` sections;
- the Markdown table printed by `cargo run -p benches --bin hpack_size` (--size-report);
- target/bench-results/: memory.json (bin `memory`), load.tsv and load-meta.json (load.sh),
  bulk.json (bin `bulk`).

`--sections` names the sections rendered from fresh data; every other section, and its rows of
the goals table, is kept as it is in the existing output file. So `run.sh` (e2e, memory, hpack,
frame) and `load.sh` (load, bulk) each refresh their own part. Called by benches/run.sh and
benches/load.sh; it only reads what the runs left and writes one file.
"""

import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess

OURS = "h2core"
PEERS = ["hpack", "loona-hpack", "httlib-hpack"]
GOAL_HPACK = 1.5
GOAL_E2E = 2.0
GOAL_LOAD_H2 = 1.3
GOAL_LOAD_NGHTTPD = 1.0
GOAL_BULK = 0.9
GOAL_CORE_BYTES = 8 * 1024

# Section key -> heading, in the order they appear in the file.
SECTIONS = {
    "e2e": "In-memory end to end",
    "load": "Load (h2load)",
    "bulk": "Bulk download",
    "memory": "Memory per idle connection",
    "hpack": "HPACK (RFC 7541)",
    "frame": "Frame layer (RFC 9113 §4.1, §6)",
    # Written by hand from profiles; kept as it is by every run.
    "profile": "Profile: what is in the way",
}
HAND_WRITTEN = {"profile"}
GOALS_HEADING = "Goals (issue 8) and where we stand"
COMMAND = "bash benches/run.sh && bash benches/load.sh"


def anchor(heading):
    """GitHub's anchor for a heading."""
    a = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
    return "#" + a


def where(key):
    return f"[{SECTIONS[key]}]({anchor(SECTIONS[key])})"


def load(criterion, group, bench):
    base = os.path.join(criterion, group, bench, "new")
    try:
        with open(os.path.join(base, "estimates.json")) as f:
            mean_ns = json.load(f)["mean"]["point_estimate"]
        with open(os.path.join(base, "benchmark.json")) as f:
            throughput = json.load(f).get("throughput") or {}
    except (OSError, KeyError, ValueError):
        return None
    return {"ns": mean_ns, "bytes": throughput.get("Bytes"), "elements": throughput.get("Elements")}


def read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def fmt_time(ns):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


def fmt_rate(r):
    if r is None or r["bytes"] is None:
        return "–"
    mib_s = r["bytes"] / (r["ns"] / 1e9) / (1 << 20)
    if mib_s >= 1024:
        return f"{mib_s / 1024:.2f} GiB/s"
    return f"{mib_s:.1f} MiB/s"


def fmt_bytes(n):
    if abs(n) >= 1024:
        return f"{n / 1024:.1f} KiB"
    return f"{n:.0f} B"


def met(ok):
    return "yes" if ok else "**no**"


def machine():
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        rustc = subprocess.run(
            ["rustc", "--version"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        rustc = "unknown"
    return cpu, os.cpu_count(), rustc


def source_state():
    """The commit measured, and which sources had uncommitted changes."""
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = [
            d
            for d in ("h2core/src", "h2-tokio/src")
            if subprocess.run(
                ["git", "status", "--porcelain", "--", d],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
        ]
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"`{rev}`" + (f" plus uncommitted changes to {', '.join(dirty)}" if dirty else "")


def stamp(args, data, meta=None):
    """The line under a freshly rendered section's heading: when its data was written, how
    loaded the machine was and which source it measured (from the run's meta file, written by
    run.sh or load.sh when the run began; else from now)."""
    info = read_json(os.path.join(args.results, meta)) if meta else None
    info = info or {}
    try:
        t = datetime.datetime.fromtimestamp(os.path.getmtime(data), datetime.timezone.utc)
    except OSError:
        t = datetime.datetime.now(datetime.timezone.utc)
    when = t.strftime("%Y-%m-%d %H:%M UTC")
    loadavg = info.get("loadavg") or args.load
    load = f", load average (1, 5, 15 min) {loadavg} when the run began" if loadavg else ""
    source = info.get("source") or source_state()
    return f"*Measured {when}{load}; source {source}.*\n"


# ---------------------------------------------------------------------------------------------
# Sections. Each returns (lines, goal rows) or None when its data is missing.


def e2e_section(args):
    cases = [
        ("small", "6-byte body", 1),
        ("small", "6-byte body", 100),
        ("16k", "16 KiB body", 1),
        ("16k", "16 KiB body", 100),
    ]
    rows, ratios = [], []
    for size, what, conc in cases:
        group = f"e2e-{size}-c{conc}"
        ours, theirs = load(args.criterion, group, OURS), load(args.criterion, group, "h2")
        if ours is None or theirs is None or not ours["elements"]:
            continue
        n = ours["elements"]
        ratio = theirs["ns"] / ours["ns"]
        ratios.append((ratio, f"{what}, {conc} stream{'s' if conc > 1 else ''}"))
        per_s = lambda r: f"{r['elements'] / (r['ns'] / 1e9) / 1e3:.0f} k/s"  # noqa: E731
        rows.append(
            f"| {what}, {conc} stream{'s' if conc > 1 else ''} in flight | "
            f"{fmt_time(ours['ns'] / n)} ({per_s(ours)}) | "
            f"{fmt_time(theirs['ns'] / n)} ({per_s(theirs)}) | **{ratio:.2f}** |"
        )
    if not rows:
        return None
    data = os.path.join(args.criterion, "e2e-small-c1", OURS, "new", "estimates.json")
    out = [stamp(args, data, "run-meta.json")]
    out.append(
        "`benches/benches/e2e.rs` (criterion). A client and a server `h2core::Connection` wired "
        "back to back with no I/O (`benches/src/pair.rs`: each `poll_transmit` chunk is "
        "appended to the other side's receive buffer, the one copy a socket would make), beside "
        "hyperium's `h2` 0.4 client and server over `tokio::io::duplex` (4 MiB) on a "
        "current-thread runtime (`benches/src/h2peer.rs`). Both: `GET /` answered at once by "
        "`200` + `content-length` + the body, the client releasing flow control as it reads, "
        "h2core's default settings on both (MAX_CONCURRENT_STREAMS 100, 1 MiB stream / 2 MiB "
        "connection windows). Connections are set up outside the timed loop; an iteration is "
        "1,000 request/response pairs. With 100 streams, h2core keeps 100 requests open (a new "
        "one as each response ends); `h2` runs 100 tasks of 10 sequential requests.\n"
    )
    out.append("| case | h2core per request | `h2` per request | `h2` time / h2core time |")
    out.append("|---|---:|---:|---:|")
    out.extend(rows)
    out.append("")
    worst = min(ratios)
    goals = [
        f"| in-memory end to end ≥ {GOAL_E2E:.0f}× `h2` (request/response pairs per second) | "
        f"{worst[0]:.2f}× to {max(ratios)[0]:.2f}× (worst: {worst[1]}) | "
        f"{met(worst[0] >= GOAL_E2E)} | {where('e2e')} |"
    ]
    return out, goals


def load_section(args):
    path = os.path.join(args.results, "load.tsv")
    meta = read_json(os.path.join(args.results, "load-meta.json")) or {}
    try:
        with open(path) as f:
            lines = f.read().splitlines()[1:]
    except OSError:
        return None
    runs = {}  # (server, body) -> [req/s per round]
    cpus = {}  # (server, body) -> [server CPU µs per request, per round]
    failures = {}
    for line in lines:
        cells = line.split("\t")
        server, body, _round, rps, _ok, failed, errored = cells[:7]
        runs.setdefault((server, body), []).append(float(rps))
        if len(cells) > 7 and cells[7]:
            cpus.setdefault((server, body), []).append(float(cells[7]))
        failures[(server, body)] = failures.get((server, body), 0) + int(failed or 0) + int(
            errored or 0
        )
    if not runs:
        return None
    servers = list(dict.fromkeys(s for s, _ in runs))
    names = {
        "ours-tokio": "h2-tokio (ours), `h2-tokio/examples/server.rs`",
        "ours-async-std": "h2-async-std (ours)",
        "ours-mio": "h2-mio (ours)",
        "h2": "hyperium `h2` 0.4, `benches/src/bin/h2_peer_server.rs`",
        "nghttpd": "nghttpd (nghttp2 " + nghttp2_version() + ")",
    }
    out = [stamp(args, path, "load-meta.json")]
    out.append(
        f"`bash benches/load.sh`: `{meta.get('h2load', 'h2load -t 1 -c 64 -m 32')}` "
        f"(h2c by prior knowledge) after a warm-up (`{meta.get('warmup', '?')}`), "
        f"{meta.get('rounds', '?')} rounds interleaved (each round runs every server and body "
        "once), median of the rounds. "
        + (
            "Servers run on CPU 0 and h2load on CPU 1 (`taskset`), so each server has one core "
            "(our server and the `h2` peer start one tokio worker). "
            if meta.get("pinned")
            else "Not pinned to CPUs. "
        )
        + "Small body: `GET /` → `hello\\n` (nghttpd: `index.html`); 16 KiB: `GET /bytes/16384` "
        "(nghttpd: a 16,384-byte file `/bytes16384`). Our servers and the `h2` peer allocate "
        "the 16 KiB body per request; our async servers answer inside the connection's task, "
        "the `h2` peer from a task per request, h2-mio on its handler threads; nghttpd reads "
        "a file. *CPU/request* is the server's user + system time (all threads, "
        "`/proc/PID/stat`) over the requests completed: on a shared machine it is the steadier "
        "figure, since other work stealing the server's core lowers req/s but not CPU per "
        "request. Ratios above 1 mean ours is faster (more req/s, less CPU per request).\n"
    )
    goals = []
    ours = "ours-tokio"
    for body, what, label in (
        ("small", "Small body (6 bytes)", "small body"),
        ("16k", "16 KiB body", "16 KiB body"),
    ):
        out.append(f"### {what}\n")
        rounds = max(len(runs.get((s, body), [])) for s in servers)
        head = " | ".join(f"round {i + 1}" for i in range(rounds))
        out.append(
            f"| server | req/s: {head} | median req/s | ours / this (req/s) | "
            "median CPU µs/request | this / ours (CPU) |"
        )
        out.append("|---|" + "---:|" * (rounds + 4))
        med = {s: statistics.median(runs[(s, body)]) for s in servers if (s, body) in runs}
        cpu = {s: statistics.median(cpus[(s, body)]) for s in servers if (s, body) in cpus}
        for s in servers:
            if s not in med:
                continue
            cells = " | ".join(f"{r:,.0f}" for r in runs[(s, body)])
            if s == ours:
                ratio = cpu_ratio = "1.00 (reference)"
            else:
                ratio = f"**{med[ours] / med[s]:.2f}**" if ours in med else "–"
                cpu_ratio = (
                    f"{cpu[s] / cpu[ours]:.2f}" if s in cpu and cpu.get(ours) else "–"
                )
            cpu_cell = f"{cpu[s]:.2f}" if s in cpu else "–"
            fail = f" ({failures[(s, body)]} failed)" if failures.get((s, body)) else ""
            out.append(
                f"| {names.get(s, s)}{fail} | {cells} | {med[s]:,.0f} | {ratio} | {cpu_cell} "
                f"| {cpu_ratio} |"
            )
        out.append("")
        if ours in med:
            for peer, goal, name in (
                ("h2", GOAL_LOAD_H2, "hyperium `h2`"),
                ("nghttpd", GOAL_LOAD_NGHTTPD, "nghttpd"),
            ):
                if peer in med:
                    r = med[ours] / med[peer]
                    c = (
                        f" (CPU per request: {cpu[peer] / cpu[ours]:.2f}×)"
                        if peer in cpu and cpu.get(ours)
                        else ""
                    )
                    goals.append(
                        f"| load, {label}: tokio server ≥ {goal}× {name} in req/s | "
                        f"{r:.2f}×{c} | {met(r >= goal)} | {where('load')} |"
                    )
        others = [
            f"{names.get(s, s).split(' ')[0]} {med[s] / med['h2']:.2f}×"
            for s in ("ours-async-std", "ours-mio")
            if s in med and "h2" in med
        ]
        if others:
            goals.append(
                f"| load, {label}: our other servers (no goal; req/s vs hyperium `h2`) | "
                f"{', '.join(others)} | – | {where('load')} |"
            )
    for note in meta.get("skipped", []):
        out.append(f"- not measured: {note}")
    if meta.get("skipped"):
        out.append("")
        goals.append(
            "| load: async-std and mio servers | not measured (adapters not written yet) | – | "
            f"{where('load')} |"
        )
    return out, goals


def nghttp2_version():
    try:
        v = subprocess.run(["nghttpd", "--version"], capture_output=True, text=True).stdout
        return v.split("/")[-1].strip() or "?"
    except OSError:
        return "?"


def bulk_section(args):
    b = read_json(os.path.join(args.results, "bulk.json"))
    if b is None:
        return None
    out = [stamp(args, os.path.join(args.results, "bulk.json"), "load-meta.json")]
    out.append(
        f"`cargo run --release -p benches --bin bulk` (run by `load.sh`): one GET of "
        f"{b['bytes'] / (1 << 30):.2f} GiB over loopback through `h2-tokio`'s server and "
        "client in one process (h2c, default settings), beside a raw TCP copy of the same "
        f"bytes: the server writes {b['chunk'] // 1024} KiB chunks of one reused buffer (h2: "
        f"`Body::channel` fed clones of one `Bytes`), the client reads {b['read_buf'] // 1024} "
        "KiB at a time (h2-tokio's read size) and discards. One multi-thread tokio runtime "
        f"({b.get('workers', '?')} workers) for both; connection setup is outside the clock; "
        f"{b['rounds']} rounds alternating, median.\n"
    )
    out.append("| transfer | rounds (s) | median throughput |")
    out.append("|---|---|---:|")
    out.append(
        "| h2-tokio server → h2-tokio client | "
        + ", ".join(f"{t:.2f}" for t in b["h2_tokio_seconds"])
        + f" | {b['h2_tokio_gib_s']:.2f} GiB/s |"
    )
    out.append(
        "| raw TCP | "
        + ", ".join(f"{t:.2f}" for t in b["raw_tcp_seconds"])
        + f" | {b['raw_tcp_gib_s']:.2f} GiB/s |"
    )
    out.append(f"\nRatio h2-tokio / raw TCP: **{b['ratio']:.2f}**.\n")
    goals = [
        f"| bulk 1 GiB download ≥ {GOAL_BULK}× raw TCP | {b['ratio']:.2f}× | "
        f"{met(b['ratio'] >= GOAL_BULK)} | {where('bulk')} |"
    ]
    return out, goals


def memory_section(args):
    m = read_json(os.path.join(args.results, "memory.json"))
    if m is None:
        return None
    idle, used = m["core_idle"], m["core_after_request"]
    ours, theirs = m["h2_tokio"], m["h2"]
    out = [stamp(args, os.path.join(args.results, "memory.json"), "run-meta.json")]
    out.append(
        "`cargo run --release -p benches --bin memory` (run by `run.sh`): a counting "
        "`#[global_allocator]`. Core: "
        f"{idle['pairs']:,} client/server pairs of boxed `h2core::Connection` (the "
        f"{idle['struct_size']:,}-byte struct counts) after the preface and SETTINGS exchange, "
        "moved over memory; live heap split by role by dropping servers, then clients. "
        f"Adapters: {ours['connections']:,} idle h2c connections to an in-process server "
        "(multi-thread runtime), from blocking `std` sockets that send only the preface, "
        "SETTINGS and the ACK (they allocate nothing): live heap delta / connections.\n"
    )
    out.append("| what | live heap per connection | allocated (incl. freed) | allocations |")
    out.append("|---|---:|---:|---:|")
    for label, d in (("core, idle after the handshake", idle), ("core, after one request/response", used)):
        p = d["pair"]
        out.append(
            f"| {label}: client / server | {fmt_bytes(d['client_live'])} / "
            f"{fmt_bytes(d['server_live'])} | {fmt_bytes(p['allocated'] / 2)} | "
            f"{p['allocations'] / 2:.1f} |"
        )
    for label, d in (("h2-tokio server connection (ours)", ours), ("hyperium `h2` server connection", theirs)):
        p = d["per_connection"]
        out.append(
            f"| {label} | {fmt_bytes(p['live'])} | {fmt_bytes(p['allocated'])} | "
            f"{p['allocations']:.1f} |"
        )
    out.append("")
    ratio = theirs["per_connection"]["live"] / ours["per_connection"]["live"]
    out.append(f"Ratio `h2` / h2-tokio live heap per idle connection: **{ratio:.2f}**.\n")
    steady = m.get("core_per_request") or []
    if steady:
        out.append(
            "Core in steady state (a warm pair, 10,000 request/response pairs, client and server "
            "together; two of the allocations are the application's cloned header lists): "
            + "; ".join(
                f"{d['body']}-byte body, {d['concurrency']} in flight: "
                f"{d['allocations']:.1f} allocations, {fmt_bytes(d['bytes'])} per request"
                for d in steady
            )
            + ".\n"
        )
    out.append("Largest live allocations (bytes), traced for one more connection:\n")
    out.append(f"- core, one idle pair (client + server): {idle['largest_live_allocations']}")
    out.append(f"- core, one pair after a request: {used['largest_live_allocations']}")
    out.append(f"- h2-tokio, one idle server connection: {ours['largest_live_allocations']}")
    out.append(f"- `h2`, one idle server connection: {theirs['largest_live_allocations']}")
    out.append("")
    core = max(idle["client_live"], idle["server_live"])
    goals = [
        f"| core heap per idle connection ≤ {GOAL_CORE_BYTES // 1024} KiB | "
        f"{fmt_bytes(core)} | {met(core <= GOAL_CORE_BYTES)} | {where('memory')} |",
        f"| adapter heap per idle connection (no goal; vs `h2`) | h2-tokio "
        f"{fmt_bytes(ours['per_connection']['live'])}, `h2` "
        f"{fmt_bytes(theirs['per_connection']['live'])} ({ratio:.2f}×) | – | {where('memory')} |",
        mio_idle_row(args),
    ]
    return out, goals


def mio_idle_row(args):
    """The goal row of h2-mio/tests/idle.rs, from the line it printed (run.sh keeps it)."""
    path = os.path.join(args.results, "mio-idle.txt")
    line = open(path).read().strip() if os.path.exists(path) else ""
    m = re.search(r"\(\+(\d+) MiB, ([0-9.]+) KiB per connection\)", line)
    if not m:
        return "| 10,000 idle connections on mio | not measured this run | – | " + where("memory") + " |"
    return (
        f"| 10,000 idle connections on mio | served; VmRSS grew {m.group(1)} MiB "
        f"(≈{m.group(2)} KiB per connection), then requests still served "
        f"(`h2-mio/tests/idle.rs`) | yes | {where('memory')} |"
    )


def hpack_table(criterion, group, what, out):
    ours = load(criterion, group, OURS)
    rows = []
    best = None  # the fastest published crate: (name, ratio)
    for name in [OURS] + PEERS:
        r = load(criterion, group, name)
        if r is None:
            rows.append(f"| {name} | not run | – | – |")
            continue
        ratio = "1.00 (reference)" if name == OURS else "–"
        if name != OURS and ours is not None:
            x = r["ns"] / ours["ns"]
            ratio = f"{x:.2f}"
            if best is None or x < best[1]:
                best = (name, x)
        rows.append(f"| {name} | {fmt_time(r['ns'])} | {fmt_rate(r)} | {ratio} |")
    out.append(f"### {what}\n")
    out.append("| implementation | mean time per corpus pass | throughput | peer time / h2core time |")
    out.append("|---|---:|---:|---:|")
    out.extend(rows)
    out.append("")
    return best


def size_summary(size_report):
    """(h2core's size as % of nghttp2's, the table lines) from hpack_size's output."""
    lines = size_report.splitlines()
    pct = None
    for line in lines:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0] == OURS:
            try:
                pct = float(cells[2].rstrip("%"))
            except ValueError:
                pass
    return pct, lines


def hpack_section(args):
    if not args.size_report or load(args.criterion, "hpack-decode", OURS) is None:
        return None
    with open(args.size_report) as f:
        size_pct, size_lines = size_summary(f.read())
    data = os.path.join(args.criterion, "hpack-decode", OURS, "new", "estimates.json")
    body = [stamp(args, data, "run-meta.json")]
    body.append(
        "`benches/benches/hpack.rs` (criterion). Corpus: hpack-test-case (`$H2_HPACK_CORPUS` or "
        "`../shared/corpus/hpack-test-case`), read in place. One pass = every story of a corpus "
        "directory, a fresh decoder (or encoder) per story. Throughput counts octets of header "
        "names and values. Ratios above 1 mean h2core is faster.\n"
    )
    dec_best = hpack_table(
        args.criterion,
        "hpack-decode",
        "Decode: the `nghttp2` stories' wire (nghttp2's encodings)",
        body,
    )
    enc_best = hpack_table(
        args.criterion,
        "hpack-encode",
        "Encode: the `raw-data` stories' header lists",
        body,
    )
    body.append(
        "How each is driven (its cheapest public API; the differences are part of what is "
        "measured): h2core decodes to owned `Header`s whose literals share the block's memory; "
        "`hpack` 0.3 and `loona-hpack` 0.4 call back with `Cow`s borrowed from their table or "
        "the block, valid only inside the callback; `httlib-hpack` 0.1 decodes only from a "
        "`Vec<u8>` it drains into owned `Vec`s (so its pass includes copying each block) and "
        "encodes only owned `Vec`s (so its pass includes copying each field), with flags "
        "best-format + indexing + Huffman. `hpack` and `loona-hpack` never Huffman-code and "
        "index every new field, so their encoders do less work and compress less (see sizes). "
        "Every implementation's output is checked before timing: decoded octets match the "
        "corpus, encoded blocks decode back with h2core to the same lists. `hpack` and "
        "`loona-hpack` decode slowly because they build a `HashMap`-based Huffman decoder for "
        "every Huffman-coded string (`HuffmanDecoder::new`); the goals table compares with "
        "whichever peer is fastest.\n"
    )
    body.append("### Encoded size: `raw-data` header lists\n")
    body.append(
        "From `cargo run --release -p benches --bin hpack_size` (add `-- --stories` for one row "
        "per story). nghttp2's figure is the corpus's own `nghttp2` directory: its encodings of "
        "the same lists.\n"
    )
    body.extend(size_lines)
    body.append("")

    goals = []
    for label, best in (("decode", dec_best), ("encode", enc_best)):
        if best is None:
            goals.append(
                f"| HPACK {label} ≥ {GOAL_HPACK}× the fastest published crate | not measured | – "
                f"| {where('hpack')} |"
            )
        else:
            goals.append(
                f"| HPACK {label} ≥ {GOAL_HPACK}× the fastest published crate | "
                f"{best[1]:.2f}× `{best[0]}` | {met(best[1] >= GOAL_HPACK)} | {where('hpack')} |"
            )
    if size_pct is None:
        goals.append(f"| HPACK encoded size ≤ nghttp2's | not measured | – | {where('hpack')} |")
    else:
        goals.append(
            f"| HPACK encoded size ≤ nghttp2's | {size_pct:.2f}% of nghttp2's | "
            f"{met(size_pct <= 100.0)} | {where('hpack')} |"
        )
    return body, goals


def frame_section(args):
    frames = {"head-parse": 2000, "read-data-16k": 1000, "read-small": 2000}
    descr = {
        "head-parse": "`Head::parse`, 2,000 frame headers",
        "read-data-16k": "`FrameReader::read`, 1,000 DATA × 16 KiB",
        "read-small": "`FrameReader::read`, 1,000 HEADERS + 1,000 WINDOW_UPDATE",
    }
    if all(load(args.criterion, "frame", b) is None for b in frames):
        return None
    data = os.path.join(args.criterion, "frame", "head-parse", "new", "estimates.json")
    body = [stamp(args, data, "run-meta.json")]
    body.append("| benchmark | mean time | throughput | per frame |")
    body.append("|---|---:|---:|---:|")
    for bench, n in frames.items():
        r = load(args.criterion, "frame", bench)
        if r is None:
            body.append(f"| {descr[bench]} | not run | – | – |")
            continue
        body.append(
            f"| {descr[bench]} | {fmt_time(r['ns'])} | {fmt_rate(r)} | {fmt_time(r['ns'] / n)} |"
        )
    body.append(
        "\nThroughput counts the buffer's octets (header octets only for `head-parse`). DATA "
        "payloads are slices of the receive buffer, so the 16 KiB case measures per-frame "
        "overhead, not copying.\n"
    )
    return body, []


RENDER = {
    "e2e": e2e_section,
    "load": load_section,
    "bulk": bulk_section,
    "memory": memory_section,
    "hpack": hpack_section,
    "frame": frame_section,
}


# ---------------------------------------------------------------------------------------------
# Keeping what is not re-rendered.


def old_sections(path):
    """Heading -> body lines of each `## ` section of the existing file."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return {}
    sections, current = {}, None
    for line in text.splitlines():
        if line.startswith("## "):
            current = line[3:].strip()
            sections[current] = []
        elif current is not None:
            sections[current].append(line)
    return sections


def old_goal_rows(sections):
    """Section key -> goal rows of the existing goals table (older files: HPACK rows only)."""
    rows = {}
    for heading, lines in sections.items():
        if not heading.startswith("Goals"):
            continue
        for line in lines:
            if not line.startswith("| ") or line.startswith("| goal ") or line.startswith("|---"):
                continue
            key = next((k for k, h in SECTIONS.items() if f"[{h}]" in line), None)
            if key is None and ("HPACK" in line or "encoded size" in line):
                key = "hpack"
                line = line.replace("| encoded size", "| HPACK encoded size")
                line = line.rstrip() + f" {where('hpack')} |"
            if key is not None:
                rows.setdefault(key, []).append(line)
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--criterion", default="target/criterion")
    ap.add_argument("--results", default="target/bench-results")
    ap.add_argument("--size-report")
    ap.add_argument("--out", default="BENCHMARKS.md")
    ap.add_argument("--load", help="/proc/loadavg's 1, 5, 15 min figures when the run began")
    ap.add_argument(
        "--sections",
        default=",".join(k for k in SECTIONS if k not in HAND_WRITTEN),
        help="sections to render from fresh data (the rest is kept from --out)",
    )
    ap.add_argument("--print", default="", help="sections to also print to stdout")
    ap.add_argument(
        "--write-meta",
        metavar="FILE",
        help="only record --load and the source state in FILE (JSON, merged), for a run "
        "that begins now",
    )
    args = ap.parse_args()
    if args.write_meta:
        meta = read_json(args.write_meta) or {}
        meta.update({"loadavg": args.load, "source": source_state()})
        with open(args.write_meta, "w") as f:
            json.dump(meta, f, indent=2)
        return
    fresh = [s for s in args.sections.split(",") if s]
    for s in fresh:
        if s not in RENDER:
            ap.error(f"unknown section {s}; known: {', '.join(RENDER)}")

    old = old_sections(args.out)
    old_goals = old_goal_rows(old)
    bodies, goals = {}, {}
    for key, heading in SECTIONS.items():
        rendered = RENDER[key](args) if key in fresh and key in RENDER else None
        if rendered is not None:
            bodies[key], goals[key] = rendered
            continue
        if key in fresh:
            print(f"report.py: no data for section {key}; keeping the previous one")
        kept = old.get(heading)
        if kept is None and key == "frame":
            kept = next((v for h, v in old.items() if h.startswith("Frame layer")), None)
        if kept is not None:
            bodies[key] = kept
            goals[key] = old_goals.get(key, [])

    cpu, nproc, rustc = machine()
    out = ["# Benchmarks\n"]
    out.append(
        f"Regenerate everything with `{COMMAND}` (about 10 minutes on 2 cores; needs `h2load` "
        "and `nghttpd` from Debian's nghttp2-client and nghttp2-server). `run.sh` refreshes the "
        "criterion sections and memory, `load.sh` the load and bulk sections; each section "
        "says when it was measured. Every figure that has a goal is a ratio against a peer "
        "measured in the same run on the same machine (machines here are shared and noisy).\n"
    )
    out.append(f"- machine: {cpu}, {nproc} cores (`nproc`), {platform.system()} {platform.release()}")
    out.append(f"- toolchain: {rustc}; criterion benches in `[profile.bench]` (release + debug "
               "info), binaries in `--release`")
    out.append("- sources: `benches/` (criterion benches, `src/bin/` report binaries, `run.sh`, "
               "`load.sh`, `report.py`); `bash benches/profile.sh` profiles the e2e bench and "
               "the tokio server under load\n")
    out.append(f"## {GOALS_HEADING}\n")
    out.append("| goal | result | met | section |")
    out.append("|---|---|---|---|")
    for key in SECTIONS:
        out.extend(goals.get(key, []))
    out.append("")
    for key, heading in SECTIONS.items():
        if key not in bodies:
            continue
        out.append(f"## {heading}\n")
        body = list(bodies[key])
        while body and not body[0].strip():
            body.pop(0)
        while body and not body[-1].strip():
            body.pop()
        out.extend(body)
        out.append("")

    with open(args.out, "w") as f:
        f.write("\n".join(out).rstrip() + "\n")

    for key in [s for s in args.print.split(",") if s]:
        if key in bodies:
            print(f"## {SECTIONS[key]}\n")
            print("\n".join(bodies[key]).strip() + "\n")


if __name__ == "__main__":
    main()
