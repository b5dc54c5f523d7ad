//! Encoded size (RFC 7541 compression ratio) over the hpack-test-case corpus.
//!
//! ```text
//! cargo run --release -p benches --bin hpack_size [-- --stories]
//! ```
//!
//! Encodes the header lists of every `raw-data` story with each implementation (a fresh encoder
//! per story), checks that h2core decodes each result back to the same lists, and prints a
//! Markdown table of total encoded octets beside nghttp2's encodings of the same lists (the
//! `nghttp2` directory's `wire`). `--stories` adds one row per story for h2core. Exits 1 if an
//! encoding does not round-trip; prints a note and exits 0 if the corpus is absent.

use benches::{encode_story, header_bytes, load_dir, wire_bytes, IMPLS};

fn main() {
    let per_story = std::env::args().any(|a| a == "--stories");
    let (raw, nghttp2) = match (load_dir("raw-data"), load_dir("nghttp2")) {
        (Ok(r), Ok(n)) => (r, n),
        (Err(e), _) | (_, Err(e)) => {
            println!("hpack corpus not found, no size report ({e})");
            return;
        }
    };
    let reference: u64 = nghttp2.iter().map(wire_bytes).sum();
    let plain = header_bytes(&raw);
    let cases: usize = raw.iter().map(|s| s.cases.len()).sum();
    println!(
        "{} stories, {cases} header lists, {plain} octets of names and values.\n",
        raw.len()
    );
    println!("| encoder | encoded octets | vs nghttp2 | of plain | round trip |");
    println!("|---|---:|---:|---:|---|");
    println!(
        "| nghttp2 (corpus `wire`) | {reference} | 100.00% | {:.2}% | (reference) |",
        pct(reference, plain)
    );
    let mut failed = false;
    let mut ours = Vec::new();
    for implementation in IMPLS {
        let mut total = 0u64;
        let mut problem = None;
        for story in &raw {
            let blocks = match encode_story(implementation, story) {
                Ok(b) => b,
                Err(e) => {
                    problem = Some(e);
                    break;
                }
            };
            let size: u64 = blocks.iter().map(|b| b.len() as u64).sum();
            total += size;
            if implementation == "h2core" {
                ours.push((story.name.clone(), size));
            }
            if let Err(e) = benches::check_round_trip(story, &blocks) {
                problem.get_or_insert(e);
            }
        }
        let check = match &problem {
            None => "ok".to_string(),
            Some(e) => {
                failed = true;
                format!("FAILED: {e}")
            }
        };
        println!(
            "| {implementation} | {total} | {:.2}% | {:.2}% | {check} |",
            pct(total, reference),
            pct(total, plain)
        );
    }
    if per_story {
        println!("\n| story | h2core | nghttp2 | vs nghttp2 |");
        println!("|---|---:|---:|---:|");
        for ((name, size), theirs) in ours.iter().zip(&nghttp2) {
            let theirs = wire_bytes(theirs);
            println!(
                "| {name} | {size} | {theirs} | {:.2}% |",
                pct(*size, theirs)
            );
        }
    }
    if failed {
        std::process::exit(1);
    }
}

fn pct(a: u64, b: u64) -> f64 {
    100.0 * a as f64 / b as f64
}
