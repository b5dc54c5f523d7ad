#!/usr/bin/env python3
"""Writes BENCHMARKS.md, all of it, from what one run of benches/run.sh left in its results
directory (target/bench-results, emptied when the run began):

- run.json: the commit, the machine, the toolchain, the load average and the configuration
  when the run began (written by `--begin`);
- steps.tsv: each step's exit status and duration;
- criterion/<group>/<bench>/new/{estimates,benchmark}.json (CRITERION_HOME): e2e, hpack, frame;
- hpack-size.md (bin hpack_size), memory.json (bin memory), mio_idle.log (h2-mio's idle test),
  load.tsv, load-meta.json and settings.tsv (load.sh), bulk.json (bin bulk), sim.json and
  sim.log (bin sim).

Nothing is read from an older BENCHMARKS.md. Every number in the output comes from those files;
the prose only explains method. A goal row says "yes" only when its step exited 0 and its
measurement met the goal; a failed or skipped step's rows say "not measured" and why.

Other modes: `--begin FILE` records the run's start; `--settings-from NAME FILE` turns the
frames `nghttp -nv` printed into a settings.tsv line (used by load.sh).
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
GOAL_LOAD_BEST = 1.5
GOAL_BULK = 0.9
GOAL_CORE_BYTES = 8 * 1024
COMMAND = "bash benches/run.sh"

# Section key -> (heading, the steps whose results it shows), in the order of the file.
SECTIONS = {
    "e2e": ("In-memory end to end", ["e2e"]),
    "load": ("Load (h2load)", ["load"]),
    "bulk": ("Bulk download", ["bulk"]),
    "sim": ("Simulated link: flow control (issue 19)", ["sim"]),
    "memory": ("Memory per idle connection", ["memory", "mio_idle"]),
    "hpack": ("HPACK (RFC 7541)", ["hpack", "hpack_size"]),
    "frame": ("Frame layer (RFC 9113 §4.1, §6)", ["frame"]),
}

# The layers each comparison puts side by side, named in the goals table and the sections.
E2E_OURS = "h2core client + server in memory (no I/O, no runtime, no tasks)"
E2E_THEIRS = (
    "hyperium `h2` client + server over `tokio::io::duplex` with tasks (the server and the "
    "client connection each a task, the 100-stream cases sending from 100 tasks; "
    "current-thread runtime)"
)
LOAD_OURS = "h2-tokio server (h2-tokio + h2core on tokio, loopback TCP)"
LOAD_H2 = "hyperium `h2` server written like `h2`'s `examples/server.rs` (h2 on tokio, loopback TCP)"
LOAD_NGHTTPD = "nghttpd (nghttp2 in C, its own event loop, loopback TCP)"
BULK_OURS = (
    "h2-tokio client + server (h2core framing and flow control, connection tasks, body "
    "channels, tokio TCP) over a warm loopback connection"
)
BULK_THEIRS = "raw tokio TCP over a warm loopback connection, the same read size"
# The example servers of the bulk step (the `--example NAME=...` names run.sh passes), each
# measured as a program beside raw TCP between two processes.
BULK_EXAMPLES = [("tokio", "h2-tokio"), ("async-std", "h2-async-std"), ("mio", "h2-mio")]
BULK_RAW_PROCESS = (
    "raw TCP from a server process of its own (std, blocking `write_all` of the same 16 KiB "
    "slices) to a tokio reader with the h2 client's read size, over a warm loopback connection"
)


def bulk_example_ours(package):
    return (
        f"`{package}/examples/server.rs` run as a program (a process of its own: its adapter's "
        "server, h2-http, h2core; `GET /bytes/N` as 16 KiB slices of one static buffer) to the "
        "h2-tokio client, over a warm loopback connection"
    )


def bulk_example_goal(package):
    return (
        f"bulk download from the {package} example server ≥ {GOAL_BULK}× raw TCP in bytes per "
        f"second: {bulk_example_ours(package)} vs {BULK_RAW_PROCESS}"
    )


def anchor(heading):
    """GitHub's anchor for a heading."""
    a = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
    return "#" + a


def where(key):
    heading = SECTIONS[key][0]
    return f"[{heading}]({anchor(heading)})"


def crit(args, group, bench):
    base = os.path.join(args.results, "criterion", group, bench, "new")
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


def fmt_duration(seconds):
    seconds = int(round(seconds))
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


def run(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


# ---------------------------------------------------------------------------------------------
# Steps and goal rows.


class Steps:
    """steps.tsv: step -> (status, seconds); status is an exit status or "skipped"."""

    def __init__(self, results):
        self.rows = {}
        try:
            with open(os.path.join(results, "steps.tsv")) as f:
                for line in f.read().splitlines()[1:]:
                    name, status, seconds = line.split("\t")
                    self.rows[name] = (status, float(seconds))
        except (OSError, ValueError):
            pass

    def ok(self, name):
        return self.rows.get(name, ("missing", 0))[0] == "0"

    def why_not(self, names):
        """None when every step in `names` passed, else why their results are not shown."""
        for name in names:
            status = self.rows.get(name, ("not run", 0))[0]
            if status == "skipped":
                return f"step `{name}` was not run (BENCH_STEPS)"
            if status == "not run":
                return f"step `{name}` did not run"
            if status != "0":
                return f"step `{name}` failed (exit status {status})"
        return None


def goal(label, result, ok, key):
    return f"| {label} | {result} | {'yes' if ok else '**no**'} | {where(key)} |"


def unmeasured(label, why, key):
    return f"| {label} | – | **not measured**: {why} | {where(key)} |"


def log_tail(args, step, n=8):
    try:
        with open(os.path.join(args.results, f"{step}.log"), errors="replace") as f:
            lines = f.read().splitlines()[-n:]
    except OSError:
        return []
    return ["```", *lines, "```", ""]


# ---------------------------------------------------------------------------------------------
# Sections. Each takes args and returns (body lines, goal rows); it raises Missing when the
# data its step should have left is not there.


class Missing(Exception):
    pass


E2E_GOAL = (
    f"in-memory end to end ≥ {GOAL_E2E:.0f}× in request/response pairs per second: "
    f"{E2E_OURS} vs {E2E_THEIRS}"
)


def e2e_section(args):
    cases = [("small", "6-byte body", 1), ("small", "6-byte body", 100),
             ("16k", "16 KiB body", 1), ("16k", "16 KiB body", 100)]
    rows, ratios = [], []
    for size, what, conc in cases:
        group = f"e2e-{size}-c{conc}"
        ours, theirs = crit(args, group, OURS), crit(args, group, "h2")
        if ours is None or theirs is None or not ours["elements"]:
            raise Missing(f"no criterion estimate for {group}")
        n = ours["elements"]
        ratio = theirs["ns"] / ours["ns"]
        case = f"{what}, {conc} stream{'s' if conc > 1 else ''} in flight"
        ratios.append((ratio, case))
        per_s = lambda r: f"{r['elements'] / (r['ns'] / 1e9) / 1e3:.0f} k/s"  # noqa: E731
        rows.append(
            f"| {case} | {fmt_time(ours['ns'] / n)} ({per_s(ours)}) | "
            f"{fmt_time(theirs['ns'] / n)} ({per_s(theirs)}) | **{ratio:.2f}** |"
        )
    out = [
        "`benches/benches/e2e.rs` (criterion). The two sides do not include the same layers: "
        f"**h2core** is {E2E_OURS}: a client and a server `h2core::Connection` wired back to "
        "back (`benches/src/pair.rs`: each `poll_transmit` chunk is appended to the other "
        f"side's receive buffer, the one copy a socket would make). **`h2`** is {E2E_THEIRS} "
        "(`benches/src/h2peer.rs`, a 4 MiB duplex pipe). So the ratio is the cost of `h2` with "
        "its runtime glue over the bare core, not of one protocol engine over another. Both: "
        "`GET /` answered at once by `200` + `content-length` + the body, the client releasing "
        "flow control as it reads, h2core's default settings on both (also given to `h2`). "
        "Connections are set up outside the timed loop; an iteration is 1,000 "
        "request/response pairs. With 100 streams, h2core keeps 100 requests open (a new one "
        "as each response ends); `h2` runs 100 tasks of 10 sequential requests.\n",
        "| case | h2core per request | `h2` per request | `h2` time / h2core time |",
        "|---|---:|---:|---:|",
        *rows,
        "",
    ]
    worst = min(ratios)
    goals = [
        goal(E2E_GOAL, f"{worst[0]:.2f}× to {max(ratios)[0]:.2f}× (worst: {worst[1]})",
             worst[0] >= GOAL_E2E, "e2e")
    ]
    return out, goals


# Load goals are judged in requests per server CPU-second (the inverse of CPU per request): on
# a shared machine other work steals a server's core and lowers its req/s, but not the CPU
# each request costs it. req/s is shown beside it.
def load_goal_label(label, peer):
    if peer == "h2":
        return (f"load, {label}: {LOAD_OURS} ≥ {GOAL_LOAD_H2}× {LOAD_H2}, in requests per "
                "server CPU-second")
    if peer == "best":
        return (f"load, {label}: the best of our example servers ≥ {GOAL_LOAD_BEST}× "
                f"{LOAD_NGHTTPD}, in requests per server CPU-second (about h2o's efficiency; "
                "h2o's own ratio beside it)")
    return (f"load, {label}: every example server ({LOAD_EXAMPLES}) ≥ {GOAL_LOAD_NGHTTPD}× "
            f"{LOAD_NGHTTPD}, in requests per server CPU-second")


LOAD_BODIES = (("small", "Small body (6 bytes)", "small body"), ("16k", "16 KiB body", "16 KiB body"))
# Our example servers, as load.sh names them, and the name the goals table gives them.
EXAMPLES = (("ours-tokio", "h2-tokio"), ("ours-async-std", "h2-async-std"), ("ours-mio", "h2-mio"))
LOAD_EXAMPLES = ", ".join(f"{n} `examples/server.rs`" for _, n in EXAMPLES) + ", loopback TCP"

# Scaling across cores: adapter -> (what doubles, the environment variable that sets it).
SCALE = {
    "mio": ("event loops", "H2_MIO_EVENT_LOOPS", "read by the example"),
    "tokio": ("worker threads", "TOKIO_WORKER_THREADS", "read by tokio's runtime"),
    "async-std": ("executor threads", "ASYNC_STD_THREAD_COUNT", "read by async-std's executor"),
}


def scale_goal_label(adapter):
    what, var, _ = SCALE[adapter]
    return (f"load, scaling: h2-{adapter} `examples/server.rs` with two {what} serves more req/s "
            f"than with one (`{var}`) when two h2load threads drive it, small body, not pinned "
            "(server and h2load share the machine's CPUs)")


def load_goal_labels():
    labels = []
    for body, _, label in LOAD_BODIES:
        labels += [load_goal_label(label, "h2"), load_goal_label(label, "nghttpd")]
        if body == "small":
            labels.append(load_goal_label(label, "best"))
    return labels + [scale_goal_label(a) for a in SCALE]


def read_runs(path, key_cells):
    """Rows of load.tsv or scale.tsv: (req/s lists, CPU µs lists, failed + errored counts),
    each keyed by the first `key_cells` cells. Raises OSError when the file is missing."""
    runs, cpus, failures = {}, {}, {}
    with open(path) as f:
        lines = f.read().splitlines()[1:]
    for line in lines:
        cells = line.split("\t")
        key = tuple(cells[:key_cells]) if key_cells > 1 else cells[0]
        _round, rps, _ok, failed, errored, cpu = cells[key_cells:key_cells + 6]
        runs.setdefault(key, []).append(float(rps))
        cpus.setdefault(key, []).append(float(cpu))
        failures[key] = failures.get(key, 0) + int(failed or 0) + int(errored or 0)
    return runs, cpus, failures


def load_section(args):
    path = os.path.join(args.results, "load.tsv")
    meta = read_json(os.path.join(args.results, "load-meta.json"))
    try:
        runs, cpus, failures = read_runs(path, 2)
    except OSError:
        raise Missing("no load.tsv")
    if meta is None or not runs:
        raise Missing("no load-meta.json or an empty load.tsv")
    servers = list(dict.fromkeys(s for s, _ in runs))
    base = meta.get("baseline_commit")
    base = f"at `{base}`" if base else "at an unnamed older commit"
    h2o_version = meta.get("h2o_version")
    names = {
        "ours-tokio": "h2-tokio (ours), `h2-tokio/examples/server.rs`",
        "ours-async-std": "h2-async-std (ours), `h2-async-std/examples/server.rs`",
        "ours-mio": "h2-mio (ours), `h2-mio/examples/server.rs`",
        "base-tokio": f"h2-tokio {base} (LOAD_BASELINE)",
        "base-async-std": f"h2-async-std {base} (LOAD_BASELINE)",
        "base-mio": f"h2-mio {base} (LOAD_BASELINE)",
        "h2": "hyperium `h2` 0.4, `benches/src/bin/h2_peer_server.rs`",
        "nghttpd": "nghttpd (nghttp2 " + nghttp2_version() + ")",
        "h2o": f"h2o {h2o_version or '?'} (C; `num-threads: 1`, `file.dir`)",
    }
    h2o_missing = next((n.split(": ", 1)[1] for n in meta.get("skipped", [])
                        if n.startswith("h2o:")), None)
    out = [
        f"`bash benches/load.sh` (a step of `run.sh`): `{meta['h2load']}` (h2c by prior "
        f"knowledge; h2load's own default windows) after a warm-up of `{meta['warmup']}` per "
        f"server and body, {meta['rounds']} round(s) interleaved (each round runs every "
        "server and body once), median of the rounds. "
        + (
            "Servers run on CPU 0 and h2load on CPU 1 (`taskset`), so each server has one core "
            "(thread counts below); tokio's runtime, async-std's executor and h2-mio's loops size "
            "their threads by the CPUs they may run on (one). "
            if meta.get("pinned")
            else "Not pinned to CPUs. "
        )
        + "Small body: `GET /` → `hello\\n` (nghttpd and h2o: `index.html`); 16 KiB: "
        "`GET /bytes/16384` (nghttpd and h2o: a 16,384-byte file `/bytes16384`, the same "
        "directory). Layers compared: every server is a separate process behind loopback TCP, "
        "driven by the same h2load; ours are the demo servers of each adapter (h2-tokio and "
        "h2-async-std answer inside the connection's task, h2-mio on its event loop's "
        "thread); the `h2` peer is written like `h2`'s `examples/server.rs` (accept loop, "
        "`h2::server::handshake` with `h2`'s defaults, a task per connection and a task per "
        "request that reads the request body, then answers) plus TCP_NODELAY; h2o runs one "
        "thread (`num-threads: 1`) with its file handler, h2c by prior knowledge on a plain "
        "port; ours and the `h2` peer allocate the 16 KiB body per request, nghttpd and h2o "
        "read a file. *CPU/request* is the server's user + system time (all threads, "
        "`/proc/PID/stat`) over the requests completed: on a shared machine it is the "
        "steadier figure, and the goals are judged on its inverse, requests per server "
        "CPU-second. Ratios to ours above 1 mean ours (h2-tokio) is faster (more req/s, less "
        "CPU per request); ratios to nghttpd above 1 mean this server does more requests per "
        "CPU-second than nghttpd.\n"
    ]
    out.extend(settings_table(args, servers, names))
    goals = []
    ours = "ours-tokio"
    for body, what, label in LOAD_BODIES:
        out.append(f"### {what}\n")
        rounds = max(len(runs.get((s, body), [])) for s in servers)
        head = " | ".join(f"round {i + 1}" for i in range(rounds))
        out.append(
            f"| server | req/s: {head} | median req/s | ours / this (req/s) | "
            "median CPU µs/request | this / ours (CPU) | per CPU-second: this / nghttpd |"
        )
        out.append("|---|" + "---:|" * (rounds + 5))
        med = {s: statistics.median(runs[(s, body)]) for s in servers if (s, body) in runs}
        cpu = {s: statistics.median(cpus[(s, body)]) for s in servers if (s, body) in cpus}
        # Requests per server CPU-second, relative to nghttpd.
        vs_nghttpd = {s: cpu["nghttpd"] / cpu[s] for s in cpu if "nghttpd" in cpu and cpu[s]}
        for s in servers:
            if s not in med:
                continue
            cells = " | ".join(f"{r:,.0f}" for r in runs[(s, body)])
            if s == ours:
                ratio = cpu_ratio = "1.00 (reference)"
            else:
                ratio = f"**{med[ours] / med[s]:.2f}**" if ours in med else "–"
                cpu_ratio = f"{cpu[s] / cpu[ours]:.2f}" if cpu.get(ours) else "–"
            if s == "nghttpd":
                per_cpu = "1.00 (reference)"
            else:
                per_cpu = f"{vs_nghttpd[s]:.2f}" if s in vs_nghttpd else "–"
            fail = f" ({failures[(s, body)]} requests failed)" if failures.get((s, body)) else ""
            out.append(
                f"| {names.get(s, s)}{fail} | {cells} | {med[s]:,.0f} | {ratio} | "
                f"{cpu[s]:.2f} | {cpu_ratio} | {per_cpu} |"
            )
        if h2o_missing:
            out.append(f"| h2o | not measured: {h2o_missing} |" + " – |" * (rounds + 4))
        out.append("")
        goals.extend(load_goals(body, label, med, cpu, vs_nghttpd, failures, h2o_missing))
        others = [
            f"{names[s].split(' ')[0]} {med[s] / med['h2']:.2f}×"
            for s in ("ours-async-std", "ours-mio")
            if s in med and "h2" in med
        ]
        if others:
            goals.append(
                f"| load, {label}: our other servers vs the `h2` peer (no goal; req/s) | "
                f"{', '.join(others)} | – | {where('load')} |"
            )
    for note in meta.get("skipped", []):
        out.append(f"- not measured: {note}")
    if meta.get("skipped"):
        out.append("")
    scale_out, scale_goals = scale_section(args, meta)
    out.extend(scale_out)
    goals.extend(scale_goals)
    return out, goals


def load_goals(body, label, med, cpu, vs_nghttpd, failures, h2o_missing):
    """The goal rows of one body: h2-tokio vs the `h2` peer, every example server vs nghttpd
    and, on the small body, the best of them vs nghttpd."""
    goals = []
    ours = "ours-tokio"
    glabel = load_goal_label(label, "h2")
    if ours not in med or "h2" not in med:
        goals.append(unmeasured(glabel, "a server was not measured", "load"))
    else:
        bad = failures.get((ours, body), 0) + failures.get(("h2", body), 0)
        per_cpu = cpu["h2"] / cpu[ours]
        shown = f"{per_cpu:.2f}× (req/s: {med[ours] / med['h2']:.2f}×)"
        if bad:
            goals.append(f"| {glabel} | {shown}, {bad} requests failed | **no** | {where('load')} |")
        else:
            goals.append(goal(glabel, shown, per_cpu >= GOAL_LOAD_H2, "load"))

    missing = [n for s, n in EXAMPLES if s not in vs_nghttpd]
    glabel = load_goal_label(label, "nghttpd")
    if "nghttpd" not in med or missing:
        why = f"{', '.join(missing) or 'nghttpd'} not measured"
        goals.append(unmeasured(glabel, why, "load"))
        examples = {}
    else:
        examples = {n: vs_nghttpd[s] for s, n in EXAMPLES}
        bad = sum(failures.get((s, body), 0) for s, _ in EXAMPLES + (("nghttpd", ""),))
        worst = min(examples, key=examples.get)
        shown = ", ".join(
            f"{n} {x:.2f}× (req/s: {med[s] / med['nghttpd']:.2f}×)"
            for (s, n), x in zip(EXAMPLES, examples.values())
        ) + f"; worst {worst}"
        if bad:
            goals.append(f"| {glabel} | {shown}, {bad} requests failed | **no** | {where('load')} |")
        else:
            goals.append(goal(glabel, shown, examples[worst] >= GOAL_LOAD_NGHTTPD, "load"))

    if body == "small":
        glabel = load_goal_label(label, "best")
        if not examples:
            goals.append(unmeasured(glabel, "an example server or nghttpd was not measured",
                                    "load"))
        else:
            best = max(examples, key=examples.get)
            if "h2o" in vs_nghttpd:
                h2o = f"h2o {vs_nghttpd['h2o']:.2f}× (req/s: {med['h2o'] / med['nghttpd']:.2f}×)"
            else:
                h2o = f"h2o not measured: {h2o_missing or 'no figures'}"
            goals.append(goal(glabel, f"{best} {examples[best]:.2f}×; {h2o}",
                              examples[best] >= GOAL_LOAD_BEST, "load"))
    return goals


def scale_section(args, meta):
    """The scaling subsection and its goal rows, from scale.tsv."""
    labels = [scale_goal_label(a) for a in SCALE]
    try:
        runs, cpus, failures = read_runs(os.path.join(args.results, "scale.tsv"), 2)
    except OSError:
        runs = {}
    out = ["### Scaling across cores: one thread of I/O vs two\n"]
    if not runs or "scale_h2load" not in meta:
        out.append("Not measured: load.sh left no scale.tsv.\n")
        return out, [unmeasured(label, "no scale.tsv", "load") for label in labels]
    threads = settings_info(args) or {}
    out.append(
        f"`{meta['scale_h2load']}` on the small body (`GET /`), after a warm-up of "
        f"`{meta['scale_warmup']}`, against each of our demo servers started twice: with one "
        "thread of I/O and with two, set by an environment variable ("
        + "; ".join(f"h2-{a}: `{var}`, {what} ({how})" for a, (what, var, how) in SCALE.items())
        + f"). {meta['rounds']} round(s) interleaved, median. Neither the servers nor h2load "
        "are pinned: on this machine's CPUs the server's threads share the cores with "
        "h2load's two threads, so the second thread of I/O can gain at most what h2load leaves "
        "free; the figure says whether the server spreads its connections over its threads "
        "(each connection's work stays on one), not how it would scale on idle cores. Threads: "
        "the server's after its warm-up (`/proc/PID/status`).\n"
    )
    rounds = max(len(r) for r in runs.values())
    head = " | ".join(f"round {i + 1}" for i in range(rounds))
    out.append(f"| server | setting | threads | req/s: {head} | median req/s | two / one (req/s) "
               "| median CPU µs/request |")
    out.append("|---|---|---:|" + "---:|" * (rounds + 3))
    goals = []
    for adapter, (what, var, _) in SCALE.items():
        med = {}
        for n in (1, 2):
            key = (f"scale-{adapter}-{n}", f"{var}={n}")
            if key not in runs:
                continue
            med[n] = statistics.median(runs[key])
            cells = " | ".join(f"{r:,.0f}" for r in runs[key])
            fail = f" ({failures[key]} requests failed)" if failures.get(key) else ""
            ratio = "1.00 (reference)" if n == 1 else (
                f"**{med[2] / med[1]:.2f}**" if 1 in med else "–")
            out.append(
                f"| h2-{adapter}{fail} | `{var}={n}` | {threads.get(key[0], {}).get('threads', '?')} "
                f"| {cells} | {med[n]:,.0f} | {ratio} | {statistics.median(cpus[key]):.2f} |"
            )
        label = scale_goal_label(adapter)
        if len(med) < 2:
            goals.append(unmeasured(label, f"h2-{adapter} was not measured", "load"))
            continue
        bad = sum(failures.get((f"scale-{adapter}-{n}", f"{var}={n}"), 0) for n in (1, 2))
        shown = (f"two: {med[2]:,.0f} req/s, one: {med[1]:,.0f} req/s, "
                 f"{med[2] / med[1]:.2f}×")
        if bad:
            goals.append(f"| {label} | {shown}, {bad} requests failed | **no** | {where('load')} |")
        else:
            goals.append(goal(label, shown, med[2] > med[1], "load"))
    out.append("")
    return out, goals


# RFC 9113 §6.5.2 initial values, for settings a server does not send.
RFC_DEFAULTS = {
    "HEADER_TABLE_SIZE": "4,096",
    "ENABLE_PUSH": "1",
    "MAX_CONCURRENT_STREAMS": "unlimited",
    "INITIAL_WINDOW_SIZE": "65,535",
    "MAX_FRAME_SIZE": "16,384",
    "MAX_HEADER_LIST_SIZE": "unlimited",
}


def settings_info(args):
    """settings.tsv: server -> {key: value}; None when the file is missing."""
    info = {}
    try:
        with open(os.path.join(args.results, "settings.tsv")) as f:
            for line in f.read().splitlines():
                cells = line.split("\t")
                d = info.setdefault(cells[0], {})
                for k, v in zip(cells[1::2], cells[2::2]):
                    d[k] = v
    except OSError:
        return None
    return info


def settings_table(args, servers, names):
    info = settings_info(args)
    if info is None:
        return ["Settings: not recorded (no settings.tsv).\n"]
    keys = ["MAX_CONCURRENT_STREAMS", "INITIAL_WINDOW_SIZE", "MAX_FRAME_SIZE",
            "HEADER_TABLE_SIZE", "MAX_HEADER_LIST_SIZE", "ENABLE_PUSH"]
    out = [
        "Each server's settings as it announced them to `nghttp -nv` (its SETTINGS frame; "
        "*italic* = not sent, so the RFC 9113 initial value holds), its connection receive "
        "window (65,535 plus the WINDOW_UPDATEs on stream 0 it sent before its first "
        "response), and its threads and allowed CPUs after the warm-up (`/proc/PID/status`):\n",
        "| server | " + " | ".join(k.replace("_", " ").lower() for k in keys)
        + " | connection window | threads | CPUs |",
        "|---|" + "---:|" * (len(keys) + 2) + "---|",
    ]
    for s in servers:
        d = info.get(s, {})
        sent = dict(kv.split("=", 1) for kv in d.get("settings", "").split(",") if "=" in kv)
        cells = [f"{int(sent[k]):,}" if k in sent else f"*{RFC_DEFAULTS[k]}*" for k in keys]
        window = d.get("connection_window")
        window = f"{int(window):,}" if window else "?"
        out.append(
            f"| {names.get(s, s)} | " + " | ".join(cells)
            + f" | {window} | {d.get('threads', '?')} | {d.get('cpus', '?')} |"
        )
    out.append("")
    return out


def settings_from(name, path):
    """One settings.tsv line from `nghttp -nv` output: the first SETTINGS frame received, and
    the stream-0 WINDOW_UPDATE increments received before the first HEADERS."""
    settings, window, state = {}, 65535, None
    with open(path, errors="replace") as f:
        for line in f:
            if re.search(r"recv SETTINGS frame .*flags=0x00", line) and not settings:
                state = "settings"
                continue
            if re.search(r"recv WINDOW_UPDATE frame .*stream_id=0>", line):
                state = "window"
                continue
            if re.search(r"recv HEADERS frame", line):
                break
            if "frame <" in line:
                state = None
                continue
            m = re.search(r"\[SETTINGS_([A-Z_]+)\(0x[0-9a-f]+\):(\d+)\]", line)
            if state == "settings" and m:
                settings[m.group(1)] = m.group(2)
            m = re.search(r"window_size_increment=(\d+)", line)
            if state == "window" and m:
                window += int(m.group(1))
    cells = ",".join(f"{k}={v}" for k, v in settings.items())
    print(f"{name}\tsettings\t{cells}\tconnection_window\t{window}")


def nghttp2_version():
    v = run(["nghttpd", "--version"])
    return (v or "?").split("/")[-1].strip() or "?"


BULK_GOAL = f"bulk download ≥ {GOAL_BULK}× raw TCP in bytes per second: {BULK_OURS} vs {BULK_THEIRS}"


def bulk_section(args):
    b = read_json(os.path.join(args.results, "bulk.json"))
    if b is None:
        raise Missing("no bulk.json")
    gib = b["bytes"] / (1 << 30)
    out = [
        f"`bulk` (`benches/src/bin/bulk.rs`, a step of `run.sh`): GETs of {gib:.2f} GiB over "
        "loopback in one process, on one multi-thread tokio runtime "
        f"({b['workers']} workers). Layers: **h2-tokio** is {BULK_OURS}: the server's handler "
        f"feeds a `Body::channel` {b['chunk'] // 1024} KiB clones of one `Bytes`, the client "
        "reads the body to its end, releasing flow control as it goes; default settings. "
        f"**raw TCP** is {BULK_THEIRS}: the server writes the same {b['chunk'] // 1024} KiB "
        "chunks with `write_all` after a one-byte \"go\", the client reserves "
        f"{b['read_chunk'] // 1024} KiB (`h2core::shell::READ_CHUNK`, what the h2 client's "
        "connection task reserves before each read) in a `BytesMut` and reads into it "
        f"(mean read this run: {b['raw_tcp_mean_read'] / 1024:.1f} KiB). Each side opens its "
        "connection once, before the rounds (the h2 client opened "
        f"{b['h2_connections_opened']}), and runs one untimed round on it first. The clock "
        "runs from the request to the last byte; rounds alternate between the two; median.\n",
        "| transfer | rounds (s) | median throughput |",
        "|---|---|---:|",
        "| h2-tokio server → h2-tokio client | "
        + ", ".join(f"{t:.2f}" for t in b["h2_tokio_seconds"])
        + f" | {b['h2_tokio_gib_s']:.2f} GiB/s |",
        "| raw TCP | "
        + ", ".join(f"{t:.2f}" for t in b["raw_tcp_seconds"])
        + f" | {b['raw_tcp_gib_s']:.2f} GiB/s |",
        "",
        f"Ratio h2-tokio / raw TCP: **{b['ratio']:.2f}**.\n",
    ]
    goals = [goal(BULK_GOAL, f"{b['ratio']:.2f}×", b["ratio"] >= GOAL_BULK, "bulk")]
    examples = {e["name"]: e for e in b.get("examples") or []}
    raw = b.get("raw_process")
    out.append("### The example servers as programs\n")
    if not raw or not examples:
        raise Missing("no example server was measured (bulk.json has no `examples`)")
    out += [
        f"The same download from each adapter's demo server, started as the program it is "
        "(`--listen 127.0.0.1:0`, built with `--release`; `benches/run.sh` passes the three "
        f"binaries to `bulk` with `--example`): `GET /bytes/{b['bytes']}`, which the example "
        f"serves as {raw['chunk'] // 1024} KiB slices of one static buffer under flow control, "
        "read to its end by the h2-tokio client in the `bulk` process (one connection per "
        "server, opened before the rounds, one untimed round first). Beside them, "
        f"**raw TCP between processes**: {BULK_RAW_PROCESS}; the server is `bulk --raw-server`, "
        f"the reader the raw TCP reader above (mean read this run: {raw['mean_read'] / 1024:.1f} "
        "KiB). Both sides of every transfer here are separate processes, so the comparison is "
        "program against program. Each round measures every transfer once, in turn; median.\n",
        "| transfer | rounds (s) | median throughput | ratio to raw TCP between processes |",
        "|---|---|---:|---:|",
    ]
    for name, package in BULK_EXAMPLES:
        e = examples.get(name)
        if e is None:
            goals.append(unmeasured(bulk_example_goal(package), "not passed to `bulk`", "bulk"))
            continue
        out.append(
            f"| `{package}` example server → h2-tokio client | "
            + ", ".join(f"{t:.2f}" for t in e["seconds"])
            + f" | {e['gib_s']:.2f} GiB/s | **{e['ratio']:.2f}** |"
        )
        goals.append(
            goal(bulk_example_goal(package), f"{e['ratio']:.2f}×", e["ratio"] >= GOAL_BULK, "bulk")
        )
    out += [
        "| raw TCP between processes | "
        + ", ".join(f"{t:.2f}" for t in raw["seconds"])
        + f" | {raw['gib_s']:.2f} GiB/s | 1.00 |",
        "",
    ]
    return out, goals


SIM_PREFIX = "simulated link (`h2-sim`, default configurations, virtual time): "
SIM_GOALS = [
    SIM_PREFIX + "100 ms RTT, 1 Gbit/s: a 256 MiB download reaches 90% of link rate within 20 RTTs",
    SIM_PREFIX + "1 ms RTT, 10 Gbit/s: a 256 MiB download uses ≥ 90% of link rate",
    SIM_PREFIX + "1 ms RTT, 10 Gbit/s: peak stream window no larger than needed (≤ 2 × BDP)",
    SIM_PREFIX + "100 concurrent downloads (100 ms RTT, 1 Gbit/s) use ≥ 90% of link rate",
    SIM_PREFIX + "100 concurrent downloads: bytes held never exceed a 16 MiB budget",
    SIM_PREFIX + "an urgency-0 request behind 10 urgency-3 downloads: first byte ≤ 2 RTT + its own transfer time",
]


def sim_section(args):
    s = read_json(os.path.join(args.results, "sim.json"))
    if s is None:
        raise Missing("no sim.json")
    try:
        with open(os.path.join(args.results, "sim.log")) as f:
            log = f.read().splitlines()
    except OSError:
        raise Missing("no sim.log")
    rtts = s["rtt100_rtts_to_90pct"]
    rtts_text = "never" if rtts is None else f"{rtts} RTTs"
    out = [
        "`sim` (`benches/src/bin/sim.rs`, a step of `run.sh`): an `h2core` client and server "
        "`Connection` over a simulated link (`h2-sim`) in virtual time, each driven as the "
        "adapters drive it (the shell's `Transport`, the adapter's turn order), default "
        "configurations on both sides: static windows (1 MiB per stream, 2 MiB per "
        "connection), no memory budget, RFC 7540 priorities unless both sides announce "
        "otherwise. Link: symmetric, 1 MiB send queue each way, 16 KiB segments, no jitter. "
        "Exact and repeatable: the figures depend on the code, not on the machine. The "
        "binary's output:\n",
        "```",
        *log,
        "```",
        "",
    ]
    rows = [
        goal(SIM_GOALS[0], f"{rtts_text} (static windows: {s['static_pct']:.1f}% of link rate)",
             s["rtt100_met"], "sim"),
        goal(SIM_GOALS[1], f"{s['rtt1_link_pct']:.1f}%", s["rtt1_met"], "sim"),
        goal(SIM_GOALS[2], f"{s['rtt1_peak_window']} B (limit {s['rtt1_window_limit']} B)",
             s["rtt1_window_met"], "sim"),
        goal(SIM_GOALS[3], f"{s['budget_link_pct']:.1f}%", s["budget_link_met"], "sim"),
        goal(SIM_GOALS[4],
             f"peak held: client {s['budget_peak_client'] / 2**20:.1f} MiB, server "
             f"{s['budget_peak_server'] / 2**20:.1f} MiB", s["budget_held"], "sim"),
        goal(SIM_GOALS[5],
             f"{s['urgent_first_byte_ms']:.1f} ms (limit {s['urgent_goal_ms']:.1f} ms)",
             s["urgent_met"], "sim"),
    ]
    return out, rows


CORE_GOAL = (
    f"core heap per idle connection ≤ {GOAL_CORE_BYTES // 1024} KiB "
    "(one `h2core::Connection`, no I/O, after the handshake)"
)
ADAPTER_ROW = (
    "adapter heap per idle connection (no goal): h2-tokio server connection (connection task, "
    "driver, buffers, h2core) vs hyperium `h2` server connection (its task and connection)"
)
IDLE_GOAL = (
    "10,000 idle connections on h2-mio's demo server (a separate process; its VmRSS), then "
    "requests still served"
)


def memory_section(args):
    m = read_json(os.path.join(args.results, "memory.json"))
    if m is None:
        raise Missing("no memory.json")
    idle, used = m["core_idle"], m["core_after_request"]
    ours, theirs = m["h2_tokio"], m["h2"]
    out = [
        "`memory` (`benches/src/bin/memory.rs`, a step of `run.sh`): a counting "
        f"`#[global_allocator]`. Core: {idle['pairs']:,} client/server pairs of boxed "
        f"`h2core::Connection` (the {idle['struct_size']:,}-byte struct counts) after the "
        "preface and SETTINGS exchange, moved over memory; live heap split by role by dropping "
        f"servers, then clients. Adapters: {ours['connections']:,} idle h2c connections to "
        "an in-process server (multi-thread runtime): h2-tokio's, and one on hyperium's `h2` "
        "(a task per connection, h2core's default settings), from blocking `std` sockets that "
        "send only the preface, SETTINGS and the ACK (they allocate nothing): live heap delta "
        "/ connections.\n",
        "| what | live heap per connection | allocated (incl. freed) | allocations |",
        "|---|---:|---:|---:|",
    ]
    for label, d in (("core, idle after the handshake", idle),
                     ("core, after one request/response", used)):
        p = d["pair"]
        out.append(
            f"| {label}: client / server | {fmt_bytes(d['client_live'])} / "
            f"{fmt_bytes(d['server_live'])} | {fmt_bytes(p['allocated'] / 2)} | "
            f"{p['allocations'] / 2:.1f} |"
        )
    for label, d in (("h2-tokio server connection (ours)", ours),
                     ("hyperium `h2` server connection", theirs)):
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
            "Core in steady state (a warm pair, client and server together; two of the "
            "allocations are the application's cloned header lists): "
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
        goal(CORE_GOAL, fmt_bytes(core), core <= GOAL_CORE_BYTES, "memory"),
        f"| {ADAPTER_ROW} | h2-tokio {fmt_bytes(ours['per_connection']['live'])}, `h2` "
        f"{fmt_bytes(theirs['per_connection']['live'])} (`h2` / ours {ratio:.2f}×) | – | "
        f"{where('memory')} |",
    ]
    return out, goals


def mio_idle(args, steps):
    """Lines and the goal row of h2-mio/tests/idle.rs: passed only when the test exited 0,
    printed its measurement and did not skip itself."""
    why = steps.why_not(["mio_idle"])
    text = ""
    try:
        with open(os.path.join(args.results, "mio_idle.log"), errors="replace") as f:
            text = f.read()
    except OSError:
        pass
    m = re.search(
        r"(\d+) idle connections(?: opened in ([^:]+))?: server VmRSS (\d+) KiB -> (\d+) KiB "
        r"\(\+(\d+) MiB, ([0-9.]+) KiB per connection\)",
        text,
    )
    skip = re.search(r"skipping: (.*)", text)
    out = ["### 10,000 idle connections (h2-mio)\n",
           "`cargo test --release -p h2-mio --test idle` (a step of `run.sh`, exit status "
           "checked): the demo server in its own process takes idle connections that each sent "
           "the preface and SETTINGS, then serves requests over HTTP/2 and HTTP/1.1; its VmRSS "
           "growth is printed by the test.\n"]
    if why is None and skip:
        why = f"the test skipped itself ({skip.group(1).strip()})"
    if why is None and not m:
        why = "the test passed but printed no measurement"
    if why is not None:
        out.append(f"Not measured: {why}.\n")
        out.extend(log_tail(args, "mio_idle"))
        return out, unmeasured(IDLE_GOAL, why, "memory")
    n, opened, before, after, mib, per = m.groups()
    out.append(
        f"{int(n):,} connections opened{f' in {opened}' if opened else ''}; server VmRSS "
        f"{int(before):,} KiB → "
        f"{int(after):,} KiB (+{mib} MiB, {per} KiB per connection); the test passed.\n"
    )
    return out, goal(IDLE_GOAL, f"VmRSS +{mib} MiB (≈{per} KiB per connection), requests "
                     "still served", True, "memory")


def hpack_table(args, group, what, out):
    ours = crit(args, group, OURS)
    if ours is None:
        raise Missing(f"no criterion estimate for {group}/{OURS}")
    rows = []
    best = None  # the fastest published crate: (name, ratio)
    for name in [OURS] + PEERS:
        r = crit(args, group, name)
        if r is None:
            rows.append(f"| {name} | not run | – | – |")
            continue
        ratio = "1.00 (reference)"
        if name != OURS:
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


def hpack_goal_labels():
    return [
        f"HPACK decode ≥ {GOAL_HPACK}× the fastest published crate (decoders alone, in process, "
        "same corpus)",
        f"HPACK encode ≥ {GOAL_HPACK}× the fastest published crate (encoders alone, in process, "
        "same corpus)",
        "HPACK encoded size ≤ nghttp2's (h2core's encoder vs nghttp2's encodings in the corpus)",
    ]


def hpack_section(args):
    try:
        with open(os.path.join(args.results, "hpack-size.md")) as f:
            size_lines = f.read().strip().splitlines()
    except OSError:
        raise Missing("no hpack-size.md")
    size_pct = None
    for line in size_lines:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0] == OURS:
            try:
                size_pct = float(cells[2].rstrip("%"))
            except ValueError:
                pass
    if size_pct is None:
        raise Missing("no h2core row in hpack-size.md")
    body = [
        "`benches/benches/hpack.rs` (criterion). Corpus: hpack-test-case (`$H2_HPACK_CORPUS` or "
        "`../shared/corpus/hpack-test-case`), read in place. One pass = every story of a corpus "
        "directory, a fresh decoder (or encoder) per story. Throughput counts octets of header "
        "names and values. Layers: the HPACK codecs alone, in this process. Ratios above 1 "
        "mean h2core is faster.\n"
    ]
    dec = hpack_table(args, "hpack-decode",
                      "Decode: the `nghttp2` stories' wire (nghttp2's encodings)", body)
    enc = hpack_table(args, "hpack-encode", "Encode: the `raw-data` stories' header lists", body)
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
        "corpus, encoded blocks decode back with h2core to the same lists. The goals table "
        "compares with whichever peer is fastest in this run.\n"
    )
    body.append("### Encoded size: `raw-data` header lists\n")
    body.append(
        "From `cargo run --release -p benches --bin hpack_size` (add `-- --stories` for one row "
        "per story). nghttp2's figure is the corpus's own `nghttp2` directory: its encodings of "
        "the same lists.\n"
    )
    body.extend(size_lines)
    body.append("")
    labels = hpack_goal_labels()
    goals = []
    for label, best in ((labels[0], dec), (labels[1], enc)):
        if best is None:
            goals.append(unmeasured(label, "no peer crate was measured", "hpack"))
        else:
            goals.append(goal(label, f"{best[1]:.2f}× `{best[0]}`", best[1] >= GOAL_HPACK, "hpack"))
    goals.append(goal(labels[2], f"{size_pct:.2f}% of nghttp2's", size_pct <= 100.0, "hpack"))
    return body, goals


def frame_section(args):
    frames = {"head-parse": 2000, "read-data-16k": 1000, "read-small": 2000}
    descr = {
        "head-parse": "`Head::parse`, 2,000 frame headers",
        "read-data-16k": "`FrameReader::read`, 1,000 DATA × 16 KiB",
        "read-small": "`FrameReader::read`, 1,000 HEADERS + 1,000 WINDOW_UPDATE",
    }
    body = ["`benches/benches/frame.rs` (criterion); no peer, so no goal.\n",
            "| benchmark | mean time | throughput | per frame |", "|---|---:|---:|---:|"]
    for bench, n in frames.items():
        r = crit(args, "frame", bench)
        if r is None:
            raise Missing(f"no criterion estimate for frame/{bench}")
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
    "e2e": (e2e_section, [E2E_GOAL]),
    "load": (load_section, load_goal_labels()),
    "bulk": (bulk_section, [BULK_GOAL] + [bulk_example_goal(p) for _, p in BULK_EXAMPLES]),
    "sim": (sim_section, SIM_GOALS),
    "memory": (memory_section, [CORE_GOAL]),
    "hpack": (hpack_section, hpack_goal_labels()),
    "frame": (frame_section, []),
}


# ---------------------------------------------------------------------------------------------
# The run's start, and the whole file.


def begin(args):
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(
                (line.split(":", 1)[1].strip() for line in f if line.startswith("model name")),
                cpu,
            )
    except OSError:
        pass
    try:
        status = subprocess.run(
            ["git", "status", "--porcelain"], capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        status = "?? (git status failed)\n"
    # BENCHMARKS.md is this run's output, not its input.
    dirty = [line[3:] for line in status.splitlines() if line[3:] != "BENCHMARKS.md"]
    meta = {
        "started": datetime.datetime.now(datetime.timezone.utc).timestamp(),
        "loadavg": open("/proc/loadavg").read().split()[:3],
        "commit": run(["git", "rev-parse", "--short", "HEAD"]) or "unknown",
        "dirty": dirty,
        "cpu": cpu,
        "nproc": os.cpu_count(),
        "kernel": f"{platform.system()} {platform.release()}",
        "rustc": run(["rustc", "--version"]) or "unknown",
        "h2load": run(["h2load", "--version"]),
        "quick": args.quick == "1",
        "steps": args.steps,
        "knobs": {k: os.environ.get(k) for k in args.knobs or []},
    }
    with open(args.begin, "w") as f:
        json.dump(meta, f, indent=2)


def render(args):
    meta = read_json(os.path.join(args.results, "run.json"))
    if meta is None:
        raise SystemExit("report.py: no run.json in the results; run benches/run.sh")
    steps = Steps(args.results)
    bodies, goals = {}, []
    for key, (heading, needs) in SECTIONS.items():
        fn, labels = RENDER[key]
        why = steps.why_not([n for n in needs if n != "mio_idle"])
        body = None
        if why is None:
            try:
                body, rows = fn(args)
                goals.extend(rows)
            except (Missing, KeyError, ValueError, TypeError) as e:
                why = f"its results are incomplete ({e})"
        if body is None:
            body = [f"Not measured: {why}.\n"]
            for n in needs:
                if n != "mio_idle" and not steps.ok(n):
                    body.extend(log_tail(args, n))
            goals.extend(unmeasured(label, why, key) for label in labels)
        if key == "memory":
            lines, row = mio_idle(args, steps)
            body = body + lines
            goals.append(row)
        bodies[key] = body

    now = datetime.datetime.now(datetime.timezone.utc)
    started = datetime.datetime.fromtimestamp(meta["started"], datetime.timezone.utc)
    end_load = open("/proc/loadavg").read().split()[:3]
    dirty = meta["dirty"]
    source = f"`{meta['commit']}`" + (
        f", **plus uncommitted changes** to {', '.join(f'`{d}`' for d in dirty[:8])}"
        + (f" and {len(dirty) - 8} more" if len(dirty) > 8 else "")
        if dirty
        else " (clean tree)"
    )
    knobs = ", ".join(f"{k}={v}" for k, v in meta["knobs"].items())
    out = [
        "# Benchmarks\n",
        f"Generated, all of it, by `{COMMAND}` from the measurements of one run; nothing in "
        "this file is written by hand or kept from an older run. A goal is met (\"yes\") only "
        "when its step exited 0 and its measurement met the goal. The machines here are "
        "shared: other builds and tests running at the same time make every figure noisy, so "
        "read the load average below, and compare ratios measured in the same run rather than "
        "absolute figures across runs. `bash benches/profile.sh` profiles the e2e bench and "
        "the tokio server under load; its findings are not part of this file.\n",
        f"- source: commit {source}",
        f"- run: started {started.strftime('%Y-%m-%d %H:%M UTC')}, took "
        f"{fmt_duration(now.timestamp() - meta['started'])}; "
        + ("**quick configuration** (`BENCH_QUICK=1`)" if meta["quick"] else "full configuration")
        + f": {knobs}",
        f"- load average (1, 5, 15 min): {' '.join(meta['loadavg'])} when the run began, "
        f"{' '.join(end_load)} when it ended",
        f"- machine: {meta['cpu']}, {meta['nproc']} CPUs (`nproc`), {meta['kernel']}",
        f"- toolchain: {meta['rustc']}; criterion benches in `[profile.bench]`, binaries in "
        f"`--release`; {meta['h2load'] or 'h2load not found'}",
        "",
        "| step | " + " | ".join(steps.rows) + " |",
        "|---|" + "---|" * len(steps.rows),
        "| exit status | " + " | ".join(
            "ok" if st == "0" else ("not run" if st == "skipped" else f"**failed ({st})**")
            for st, _ in steps.rows.values()) + " |",
        "| duration | " + " | ".join(fmt_duration(t) for _, t in steps.rows.values()) + " |",
        "",
        "## Goals\n",
        "Each row names the layers it compares.\n",
        "| goal | result | met | section |",
        "|---|---|---|---|",
        *goals,
        "",
    ]
    for key, (heading, _) in SECTIONS.items():
        out.append(f"## {heading}\n")
        out.extend(bodies[key])
        out.append("")
    with open(args.out, "w") as f:
        f.write("\n".join(out).rstrip() + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", default="target/bench-results")
    ap.add_argument("--out", default="BENCHMARKS.md")
    ap.add_argument("--begin", metavar="FILE", help="record the run's start in FILE and exit")
    ap.add_argument("--quick", default="0")
    ap.add_argument("--steps", default="")
    ap.add_argument("--knobs", nargs="*")
    ap.add_argument("--settings-from", nargs=2, metavar=("NAME", "FILE"))
    args = ap.parse_args()
    if args.begin:
        begin(args)
    elif args.settings_from:
        settings_from(*args.settings_from)
    else:
        render(args)


if __name__ == "__main__":
    main()
