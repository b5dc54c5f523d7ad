//! Shared helpers for the benchmarks: loading the hpack-test-case corpus
//! (<https://github.com/http2jp/hpack-test-case>) and running one story through each HPACK
//! implementation compared (RFC 7541).
//!
//! The corpus is read in place from `$H2_HPACK_CORPUS`, else from the shared copy next to the
//! workspace; it is never copied into the repository. Everything here (JSON, hex) runs once,
//! before any timed loop; the `decode_*` and `encode_*` functions are what the benches time.
//!
//! Each implementation is driven through its cheapest public API, and the differences are part
//! of what is measured:
//! - h2core hands out owned [`Header`](h2core::hpack::Header)s whose literals share the block's memory;
//! - `hpack` and `loona-hpack` hand out `Cow`s borrowed from their tables or the block, valid
//!   only during the callback (keeping one means copying it);
//! - `httlib-hpack` only decodes from a `&mut Vec<u8>` it drains, into owned `Vec`s, and only
//!   encodes from owned `Vec`s, so its runs include those copies.
//!
//! The end-to-end bench and the memory report use [`pair`] (two h2core connections back to
//! back in memory) and [`h2peer`] (hyperium's `h2` client and server doing the same work).

pub mod h2peer;
pub mod pair;

use bytes::{Bytes, BytesMut};
use h2core::hpack::{Decoder, Encoder};

pub use h2_testkit::hpack_stories::{corpus_root, Case, Story};

/// Octets of header names and values in `story` (what the throughput figures count).
pub fn story_header_bytes(story: &Story) -> u64 {
    story
        .cases
        .iter()
        .flat_map(|c| &c.headers)
        .map(|h| (h.name.len() + h.value.len()) as u64)
        .sum()
}

/// Octets of `wire` in `story`.
pub fn wire_bytes(story: &Story) -> u64 {
    let wires = story.cases.iter().filter_map(|c| c.wire.as_ref());
    wires.map(|w| w.len() as u64).sum()
}

/// Octets of header names and values over `stories`.
pub fn header_bytes(stories: &[Story]) -> u64 {
    stories.iter().map(story_header_bytes).sum()
}

/// Loads every story of the corpus directory `dir` (e.g. `nghttp2`, `raw-data`), in name
/// order (`h2_testkit::hpack_stories::load_dir`).
pub fn load_dir(dir: &str) -> Result<Vec<Story>, String> {
    h2_testkit::hpack_stories::load_dir(&corpus_root().join(dir))
}

/// The implementations compared, in report order (ours first).
pub const IMPLS: [&str; 4] = ["h2core", "hpack", "loona-hpack", "httlib-hpack"];

/// The default SETTINGS_HEADER_TABLE_SIZE (RFC 9113 §6.5.2).
const TABLE_SIZE: usize = 4096;

/// Decodes every block of `story` with `implementation` (one of [`IMPLS`]), a fresh decoder
/// for the story; returns the octets of names and values decoded, so a caller can check them
/// against [`story_header_bytes`].
pub fn decode_story(implementation: &str, story: &Story) -> Result<u64, String> {
    match implementation {
        "h2core" => decode_h2core(story),
        "hpack" => decode_hpack(story),
        "loona-hpack" => decode_loona(story),
        "httlib-hpack" => decode_httlib(story),
        other => Err(format!("unknown implementation {other}")),
    }
}

fn wire(case: &Case) -> Result<&Bytes, String> {
    case.wire.as_ref().ok_or_else(|| "case without wire".into())
}

/// h2core: owned [`Header`](h2core::hpack::Header)s, literals sliced from the block.
pub fn decode_h2core(story: &Story) -> Result<u64, String> {
    let mut decoder = Decoder::new(TABLE_SIZE);
    let mut n = 0u64;
    for case in &story.cases {
        if let Some(size) = case.table_size {
            decoder.set_max_table_size(size);
        }
        decoder
            .decode(wire(case)?, |h| n += (h.name.len() + h.value.len()) as u64)
            .map_err(|e| e.to_string())?;
    }
    Ok(n)
}

/// `hpack` 0.3: borrowed names and values through `decode_with_cb`.
pub fn decode_hpack(story: &Story) -> Result<u64, String> {
    let mut decoder = hpack::Decoder::new();
    let mut n = 0u64;
    for case in &story.cases {
        if let Some(size) = case.table_size {
            decoder.set_max_table_size(size);
        }
        decoder
            .decode_with_cb(wire(case)?, |name, value| {
                n += (name.len() + value.len()) as u64
            })
            .map_err(|e| format!("{e:?}"))?;
    }
    Ok(n)
}

/// `loona-hpack`: borrowed names and values through `decode_with_cb`.
pub fn decode_loona(story: &Story) -> Result<u64, String> {
    let mut decoder = loona_hpack::Decoder::new();
    let mut n = 0u64;
    for case in &story.cases {
        if let Some(size) = case.table_size {
            decoder.set_max_table_size(size);
        }
        decoder
            .decode_with_cb(wire(case)?, |name, value| {
                n += (name.len() + value.len()) as u64
            })
            .map_err(|e| format!("{e:?}"))?;
    }
    Ok(n)
}

/// `httlib-hpack`: its only decode API drains a `Vec<u8>` into owned `(name, value, flags)`.
pub fn decode_httlib(story: &Story) -> Result<u64, String> {
    let mut decoder = httlib_hpack::Decoder::with_dynamic_size(TABLE_SIZE as u32);
    let mut n = 0u64;
    let mut out = Vec::new();
    for case in &story.cases {
        if let Some(size) = case.table_size {
            decoder.set_max_dynamic_size(size as u32);
        }
        let mut buf = wire(case)?.to_vec();
        out.clear();
        decoder
            .decode(&mut buf, &mut out)
            .map_err(|e| format!("{e:?}"))?;
        n += out
            .iter()
            .map(|(name, value, _)| (name.len() + value.len()) as u64)
            .sum::<u64>();
    }
    Ok(n)
}

/// Encodes every header list of `story` with `implementation` (one of [`IMPLS`]), a fresh
/// encoder for the story; returns the encoded blocks.
pub fn encode_story(implementation: &str, story: &Story) -> Result<Vec<Vec<u8>>, String> {
    let mut blocks = Vec::with_capacity(story.cases.len());
    let mut sink = |block: &[u8]| blocks.push(block.to_vec());
    match implementation {
        "h2core" => encode_h2core(story, &mut sink),
        "hpack" => encode_hpack(story, &mut sink),
        "loona-hpack" => encode_loona(story, &mut sink),
        "httlib-hpack" => encode_httlib(story, &mut sink),
        other => return Err(format!("unknown implementation {other}")),
    };
    Ok(blocks)
}

/// h2core, default policy (nghttp2's indexing choices, Huffman when shorter). `sink` sees each
/// block.
pub fn encode_h2core(story: &Story, sink: &mut impl FnMut(&[u8])) {
    let mut encoder = Encoder::new();
    let mut buf = BytesMut::with_capacity(4096);
    for case in &story.cases {
        if let Some(size) = case.table_size {
            encoder.set_max_table_size(size);
        }
        buf.clear();
        encoder.encode(&case.headers, &mut buf);
        sink(&buf);
    }
}

/// `hpack` 0.3: its only strategy (index everything new, never Huffman).
pub fn encode_hpack(story: &Story, sink: &mut impl FnMut(&[u8])) {
    let mut encoder = hpack::Encoder::new();
    let mut buf = Vec::with_capacity(4096);
    for case in &story.cases {
        buf.clear();
        let fields = case.headers.iter().map(|h| (&h.name[..], &h.value[..]));
        encoder
            .encode_into(fields, &mut buf)
            .expect("writing to a Vec");
        sink(&buf);
    }
}

/// `loona-hpack`: its only strategy (as `hpack`'s).
pub fn encode_loona(story: &Story, sink: &mut impl FnMut(&[u8])) {
    let mut encoder = loona_hpack::Encoder::new();
    let mut buf = Vec::with_capacity(4096);
    for case in &story.cases {
        if let Some(size) = case.table_size {
            encoder.set_max_table_size(size);
        }
        buf.clear();
        let fields = case.headers.iter().map(|h| (&h.name[..], &h.value[..]));
        encoder
            .encode_into(fields, &mut buf)
            .expect("writing to a Vec");
        sink(&buf);
    }
}

/// `httlib-hpack` flags: search both tables for the best representation, index new fields,
/// Huffman-code names and values (its most compact setting; it has no "only if shorter").
pub const HTTLIB_FLAGS: u8 = httlib_hpack::Encoder::BEST_FORMAT
    | httlib_hpack::Encoder::WITH_INDEXING
    | httlib_hpack::Encoder::HUFFMAN_NAME
    | httlib_hpack::Encoder::HUFFMAN_VALUE;

/// `httlib-hpack` with [`HTTLIB_FLAGS`]; its API takes each field as owned `Vec`s.
pub fn encode_httlib(story: &Story, sink: &mut impl FnMut(&[u8])) {
    let mut encoder = httlib_hpack::Encoder::with_dynamic_size(TABLE_SIZE as u32);
    let mut buf = Vec::with_capacity(4096);
    for case in &story.cases {
        buf.clear();
        for h in &case.headers {
            encoder
                .encode((h.name.to_vec(), h.value.to_vec(), HTTLIB_FLAGS), &mut buf)
                .expect("httlib-hpack encodes a field");
        }
        sink(&buf);
    }
}

/// Decodes `blocks` (the encoding of `story`'s header lists) with h2core and compares them
/// with the lists: proof that an encoder's output is valid HPACK that means what it should.
pub fn check_round_trip(story: &Story, blocks: &[Vec<u8>]) -> Result<(), String> {
    let mut decoder = Decoder::new(TABLE_SIZE);
    for (i, (case, block)) in story.cases.iter().zip(blocks).enumerate() {
        let mut got = Vec::with_capacity(case.headers.len());
        decoder
            .decode(&Bytes::copy_from_slice(block), |h| got.push(h))
            .map_err(|e| format!("{} case {i}: {e}", story.name))?;
        let same = got.len() == case.headers.len()
            && got
                .iter()
                .zip(&case.headers)
                .all(|(g, e)| g.name == e.name && g.value == e.value);
        if !same {
            return Err(format!("{} case {i}: decodes to other headers", story.name));
        }
    }
    Ok(())
}
