//! Every saved fuzz input replays through the fuzz targets' own bodies
//! (`fuzz/fuzz_targets/bodies.rs`, shared with cargo-fuzz), properties included: the seeds the
//! fuzzer starts from (`fuzz/seeds/TARGET/`) and the inputs that found bugs
//! (`fuzz/regressions/TARGET/`). A target with no input in either directory fails the test, so
//! it cannot pass by replaying nothing.
//!
//! A crash found by `scripts/fuzz.sh` leaves its input in `fuzz/artifacts/TARGET/`: copy it to
//! `fuzz/regressions/TARGET/`, fix the core, and this test keeps it fixed. The seeds and the
//! first regressions are built by [`recipes`] (most with h2-testkit's frame DSL);
//! `FUZZ_WRITE_INPUTS=1 cargo test -p h2core --test fuzz_regressions` writes them again after a
//! recipe changes.

#[path = "../../fuzz/fuzz_targets/bodies.rs"]
mod bodies;

use bytes::{BufMut, BytesMut};
use h2_testkit::dsl::{encode_frames, get, hdrs, request, response, PeerFrame as F};
use h2core::frame::Reason;
use h2core::hpack::{Encoder, Header};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

fn inputs(kind: &str, target: &str) -> Vec<PathBuf> {
    let dir = fuzz_dir().join(kind).join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

#[test]
fn saved_fuzz_inputs_replay_with_their_properties() {
    let mut failures = Vec::new();
    for (target, body) in bodies::TARGETS {
        for kind in ["seeds", "regressions"] {
            let files = inputs(kind, target);
            if files.is_empty() {
                failures.push(format!("no input in fuzz/{kind}/{target}/"));
            }
            for file in &files {
                let input = std::fs::read(file).expect("readable fuzz input");
                if let Err(panic) = catch_unwind(AssertUnwindSafe(|| body(&input))) {
                    let msg = panic
                        .downcast_ref::<String>()
                        .map(String::as_str)
                        .or_else(|| panic.downcast_ref::<&str>().copied())
                        .unwrap_or("panic");
                    failures.push(format!("{}: {msg}", file.display()));
                }
            }
            println!("{target}: {} {kind} replayed", files.len());
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The checked-in seeds and first regressions are what their recipes build (or are written
/// with `FUZZ_WRITE_INPUTS=1`), so a reader can see what each input means.
#[test]
fn saved_inputs_match_their_recipes() {
    let write = std::env::var_os("FUZZ_WRITE_INPUTS").is_some_and(|v| v == "1");
    let mut stale = Vec::new();
    for (kind, target, name, bytes) in recipes() {
        let path = fuzz_dir().join(kind).join(target).join(name);
        if write {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &bytes).unwrap();
        } else if std::fs::read(&path).ok().as_deref() != Some(&bytes[..]) {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "missing or stale (FUZZ_WRITE_INPUTS=1 rewrites them):\n{}",
        stale.join("\n")
    );
}

/// `mode` byte first, as every target reads it, then the bytes.
fn with_mode(mode: u8, bytes: &[u8]) -> Vec<u8> {
    [&[mode][..], bytes].concat()
}

fn frames(mode: u8, frames: &[F]) -> Vec<u8> {
    with_mode(mode, &encode_frames(frames))
}

fn hpack_block(encoder: &mut Encoder, headers: &[Header]) -> Vec<u8> {
    let mut b = BytesMut::new();
    encoder.encode(headers, &mut b);
    b.to_vec()
}

type Recipe = (&'static str, &'static str, &'static str, Vec<u8>);

/// The seeds (small, legal, meaningful exchanges the fuzzer mutates) and the regressions
/// (inputs that broke the core, or the attacks and edge cases its fixes were about).
fn recipes() -> Vec<Recipe> {
    let mut r: Vec<Recipe> = Vec::new();
    let mut add = |kind, target, name, bytes: Vec<u8>| r.push((kind, target, name, bytes));
    const S: &str = "seeds";
    const R: &str = "regressions";
    let ping = [1, 2, 3, 4, 5, 6, 7, 8];

    // connection_server: what a client sends. Mode 0x06: 64-byte rounds from the preface.
    let cs = "connection_server";
    add(
        S,
        cs,
        "get",
        frames(0x06, &[F::Preface, F::settings(vec![]), F::get(1, "/")]),
    );
    add(
        S,
        cs,
        "post_body_window_update",
        frames(
            0x0a,
            &[
                F::Preface,
                F::settings(vec![(0x4, 65_535), (0x3, 100)]),
                F::request(1, "POST", "/upload"),
                F::data(1, &b"hello world"[..]),
                F::window_update(0, 1000),
                F::data(1, &b"!"[..]).eos(),
            ],
        ),
    );
    add(
        S,
        cs,
        "two_streams_continuation_ping",
        frames(
            0x02,
            &[
                F::Preface,
                F::settings(vec![(0x2, 0)]),
                F::SettingsAck,
                F::headers(1, get("/long")).pieces(3).eos(),
                F::ping(ping),
                F::request(3, "PUT", "/x").padded(4),
                F::rst(3, Reason::CANCEL),
                F::priority(5, 1, 16, false),
                F::goaway(1, Reason::NO_ERROR),
            ],
        ),
    );
    // Mode 0x11: past the preface, a passive application (takes no output until the end).
    add(
        S,
        cs,
        "past_preface_passive",
        frames(0x11, &[F::get(1, "/"), F::get(3, "/b"), F::ping(ping)]),
    );

    // connection_client: what a server answers to the body's two requests (streams 1, 3).
    let cc = "connection_client";
    add(
        S,
        cc,
        "responses",
        frames(
            0x06,
            &[
                F::settings(vec![(0x3, 100), (0x4, 1 << 20)]),
                F::SettingsAck,
                F::headers(1, response("200")).eos(),
                F::response(3, "200"),
                F::data(3, &b"body"[..]),
                F::headers(3, hdrs(&[("grpc-status", "0")])).eos(),
            ],
        ),
    );
    add(
        S,
        cc,
        "push_ping_goaway",
        frames(
            0x0a,
            &[
                F::settings(vec![]),
                F::push_promise(1, 2, get("/pushed")),
                F::headers(1, response("103")),
                F::response(1, "200"),
                F::response(2, "200"),
                F::data(2, &b"pushed"[..]).eos(),
                F::ping(ping),
                F::window_update(0, 1 << 16),
                F::goaway(3, Reason::NO_ERROR),
            ],
        ),
    );
    add(
        S,
        cc,
        "past_preface_reset",
        frames(
            0x01,
            &[
                F::rst(1, Reason::REFUSED_STREAM),
                F::response(3, "404").eos(),
            ],
        ),
    );

    // Edge cases the connection targets keep surviving (hand-made when the targets were
    // written), and the floods the guards were added for: for both roles.
    let preface = h2core::preface::PREFACE;
    let mut ping_flood = Vec::new();
    for _ in 0..200 {
        ping_flood.extend_from_slice(&encode_frames(&[F::ping(ping)]));
    }
    let mut settings_flood = Vec::new();
    for _ in 0..200 {
        settings_flood.extend_from_slice(&encode_frames(&[F::settings(vec![(0x3, 10)])]));
    }
    for target in [cs, cc] {
        add(R, target, "empty_after_mode", vec![1]);
        add(R, target, "all_ones", vec![0xff; 64]);
        add(R, target, "bare_preface", with_mode(0, preface));
        // Past the preface: a frame header claiming 16 MiB.
        add(
            R,
            target,
            "oversized_frame_header",
            with_mode(1, &[0xff, 0xff, 0xff, 0x0, 0x0, 0, 0, 0, 1]),
        );
        // A HEADERS that depends on itself (§5.3.1): a stream error, its block still decoded.
        add(
            R,
            target,
            "self_dependent_headers",
            with_mode(1, &[0, 0, 5, 0x1, 0x24, 0, 0, 0, 1, 0, 0, 0, 1, 16]),
        );
        // CONTINUATION and WINDOW_UPDATE of 2^31-1 on stream 0, time ticks (rounds from 0).
        add(
            R,
            target,
            "continuation_and_max_window_on_stream_0",
            with_mode(
                3,
                &[
                    0, 0, 0, 0x9, 0x4, 0, 0, 0, 0, 0, 0, 0, 4, 0x8, 0, 0, 0, 0, 0, 0x7f, 0xff,
                    0xff, 0xff,
                ],
            ),
        );
        // PING and SETTINGS floods at a peer that reads (mode 0x01) and one that does not
        // (0x11): the queued-ACK guard (CVE-2019-9512, CVE-2019-9515).
        add(R, target, "ping_flood", with_mode(0x0f, &ping_flood));
        add(R, target, "ping_flood_unread", with_mode(0x1f, &ping_flood));
        add(
            R,
            target,
            "settings_flood_unread",
            with_mode(0x1f, &settings_flood),
        );
    }
    // Streams past the cap, then reset (rapid reset, CVE-2023-44487); refused streams are
    // evicted like other closed ones.
    let mut rapid = vec![F::settings(vec![])];
    for i in 0..150u32 {
        rapid.push(F::request(1 + 2 * i, "POST", "/"));
        rapid.push(F::rst(1 + 2 * i, Reason::CANCEL));
    }
    add(
        R,
        cs,
        "rapid_reset",
        frames(0x0f, &[&[F::Preface][..], &rapid].concat()),
    );
    // Pushed streams beyond the cap (they were not capped once).
    let mut pushes = vec![F::settings(vec![])];
    for i in 0..120u32 {
        pushes.push(F::push_promise(1, 2 + 2 * i, get("/p")));
    }
    add(R, cc, "push_flood", frames(0x0f, &pushes));

    // frame_reader: first byte picks the max frame size (bit 0) and the split point.
    let fr = "frame_reader";
    let all_types = [
        F::settings(vec![(0x1, 4096), (0x4, 65_535)]),
        F::SettingsAck,
        F::headers(1, get("/")).pieces(2),
        F::data(1, &b"payload"[..]).padded(3).eos(),
        F::window_update(1, 10),
        F::priority(3, 1, 200, true),
        F::rst(3, Reason::STREAM_CLOSED),
        F::ping(ping),
        F::ping_ack(ping),
        F::goaway(7, Reason::PROTOCOL_ERROR),
        F::priority_update(1, "u=1, i"),
        F::raw_frame(0xfa, 0x3, 5, &b"ext"[..]),
    ];
    add(S, fr, "every_type", frames(0x10, &all_types));
    add(S, fr, "every_type_large_max", frames(0x21, &all_types));
    add(
        S,
        fr,
        "push_promise_headers_priority",
        frames(
            0x06,
            &[
                F::push_promise(1, 2, get("/a")),
                F::headers(3, get("/b"))
                    .with_priority(1, 10, false)
                    .padded(2),
            ],
        ),
    );
    add(
        R,
        fr,
        "oversized_frame",
        with_mode(0x02, &[0x00, 0x40, 0x01, 0x0, 0x0, 0, 0, 0, 1]),
    );
    add(
        R,
        fr,
        "self_dependent_headers",
        with_mode(0x04, &[0, 0, 5, 0x1, 0x24, 0, 0, 0, 1, 0, 0, 0, 1, 16]),
    );
    // Pad Length longer than the payload (§6.1): a connection error.
    add(
        R,
        fr,
        "padding_past_payload",
        with_mode(0x08, &[0, 0, 2, 0x0, 0x8, 0, 0, 0, 1, 9, b'x']),
    );
    // SETTINGS whose length is not a multiple of 6, WINDOW_UPDATE of 0, PING of 7 bytes.
    add(
        R,
        fr,
        "bad_lengths",
        with_mode(
            0x0c,
            &[
                0, 0, 4, 0x1, 0x4, 0, 0, 0, 1, 0, 0, 0, 0, // WINDOW_UPDATE 0 on stream 1
                0, 0, 5, 0x4, 0x0, 0, 0, 0, 0, 0, 1, 0, 0, 0, // SETTINGS of 5
                0, 0, 7, 0x6, 0x0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, // PING of 7
            ],
        ),
    );

    // hpack_decoder: first byte picks the table (bits 0-1), an unbounded list (bit 2), going on
    // after errors (bit 3); blocks are separated by 0xfe.
    let hd = "hpack_decoder";
    let mut enc = Encoder::new();
    let mut blocks = Vec::new();
    for headers in [
        request("GET", "/index.html"),
        h2_testkit::dsl::plus(
            request("GET", "/index.html"),
            &[("cache-control", "no-cache")],
        ),
        response("200"),
        hdrs(&[
            ("custom-key", "custom-value"),
            ("set-cookie", "a=b; Path=/"),
        ]),
    ] {
        let block = hpack_block(&mut enc, &headers);
        // The separator inside a block would make it two blocks: not the seed meant.
        assert!(!block.contains(&0xfe), "{headers:?}");
        blocks.push(block);
    }
    add(
        S,
        hd,
        "requests_responses",
        with_mode(0x02, &blocks.join(&0xfe)),
    );
    // RFC 7541 C.3.1-C.3.2 (literal, no Huffman) and C.4.1 (Huffman), written from the RFC.
    let c3 = [
        &b"\x82\x86\x84\x41\x0fwww.example.com"[..],
        &b"\x82\x86\x84\xbe\x58\x08no-cache"[..],
    ]
    .join(&0xfe);
    add(S, hd, "rfc7541_c3", with_mode(0x02, &c3));
    add(
        S,
        hd,
        "rfc7541_c4_huffman",
        with_mode(
            0x06,
            &[
                0x82, 0x86, 0x84, 0x41, 0x8c, 0xf1, 0xe3, 0xc2, 0xe5, 0xf2, 0x3a, 0x6b, 0xa0, 0xab,
                0x90, 0xf4, 0xff,
            ],
        ),
    );
    // A dynamic table size update of 0 then 100, then a literal that evicts (table 64).
    add(
        S,
        hd,
        "size_updates_eviction",
        with_mode(
            0x01,
            &[
                &[0x20, 0x3f, 0x45][..],
                b"\x40\x0along-name-\x1ea-value-that-fills-the-table-",
            ]
            .concat(),
        ),
    );
    // A size update after a field (RFC 7541 §4.2: only at the start of a block).
    add(
        R,
        hd,
        "size_update_after_field",
        with_mode(0x0a, &[0x82, 0x20]),
    );
    // A size update above the SETTINGS limit (table 0).
    add(
        R,
        hd,
        "size_update_over_limit",
        with_mode(0x08, &[0x3f, 0xe1, 0x1f]),
    );
    // An integer that overflows (§5.1), and a string length past the block.
    add(
        R,
        hd,
        "integer_overflow",
        with_mode(
            0x0e,
            &[
                0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f, 0xfe, 0x40, 0x7f,
                0xff, 0xff, 0x7f,
            ],
        ),
    );
    // Huffman with the EOS symbol, and with padding longer than 7 bits (§5.2).
    add(
        R,
        hd,
        "huffman_eos_and_long_padding",
        with_mode(
            0x0a,
            &[
                0x40, 0x84, 0xff, 0xff, 0xff, 0xff, 0x81, 0x01, 0xfe, 0x40, 0x82, 0x1f, 0xff, 0x00,
            ],
        ),
    );
    // A header list past 16 KiB from indexed repeats of one big entry (bounded collection).
    let mut big = vec![0x40, 0x01, b'x', 0x7f, 0x81, 0x1f];
    big.extend(std::iter::repeat_n(b'v', 4096));
    big.extend(std::iter::repeat_n(0xbe, 8));
    add(R, hd, "list_past_limit", with_mode(0x02, &big));

    // http1_server: first byte picks tight limits (bit 0), answering at once (bit 1), a
    // response of known length (bit 2) and the odd piece size (bits 3-7).
    let h1 = "http1_server";
    // Answered at once: the unread bodies are drained (Content-Length, then chunked with a
    // trailer) and the pipelined requests behind them still come, one exchange at a time.
    add(
        S,
        h1,
        "answered_before_bodies_drained",
        with_mode(
            0x2a,
            b"POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789\
              POST /b HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n\
              4\r\nabcd\r\n0\r\nX-T: 1\r\n\r\n\
              GET /c HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        ),
    );
    add(
        S,
        h1,
        "get_keep_alive_pipelined",
        with_mode(
            0x0e,
            b"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /b?q=1 HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n",
        ),
    );
    add(
        S,
        h1,
        "post_content_length_and_chunked",
        with_mode(
            0x20,
            b"POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello\
              POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n\
              3\r\nabc\r\n0\r\nX-Trailer: 1\r\n\r\n",
        ),
    );
    add(
        S,
        h1,
        "upgrade_h2c",
        with_mode(
            0x7e,
            b"GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n\
              HTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n",
        ),
    );
    add(
        R,
        h1,
        "content_length_and_chunked",
        with_mode(
            0x02,
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n\
              0\r\n\r\nGET /smuggled HTTP/1.1\r\n\r\n",
        ),
    );
    add(
        R,
        h1,
        "chunk_size_overflow",
        with_mode(
            0x04,
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff1\r\nx\r\n",
        ),
    );
    let mut many = b"GET / HTTP/1.1\r\n".to_vec();
    for i in 0..20 {
        many.put_slice(format!("X-H{i}: {}\r\n", "v".repeat(20)).as_bytes());
    }
    many.put_slice(b"\r\n");
    add(R, h1, "head_past_tight_limits", with_mode(0x01, &many));
    add(
        R,
        h1,
        "bare_lf_and_obs_fold",
        with_mode(0x00, b"GET / HTTP/1.1\nHost: a\n  folded\n\n\r\n"),
    );
    r
}
