//! Runs hpack-test-case stories (<https://github.com/http2jp/hpack-test-case>) through our HPACK
//! decoder and encoder (RFC 7541), for h2core's `tests/hpack_corpus.rs`
//! (`cargo test -p h2core --test hpack_corpus -- --nocapture` prints each directory's summary).
//!
//! Every `*.json` story of each directory is run, in name order, with one decoder (and one
//! encoder) per story since a story's cases share one compression context. A case with `wire`
//! is decoded and compared with its `headers` (after applying its `header_table_size`, if any,
//! as our acknowledged SETTINGS_HEADER_TABLE_SIZE). A case without `wire` (the raw-data
//! directory) is encoded by our encoder and decoded back.

use bytes::{Bytes, BytesMut};
use h2core::hpack::{Decoder, Encoder, Header};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The results of one directory of stories.
#[derive(Debug, Default)]
pub struct DirReport {
    /// The directory's file name (e.g. `nghttp2`).
    pub name: String,
    /// Story files found.
    pub stories: usize,
    /// Stories whose cases all passed.
    pub stories_ok: usize,
    /// Cases found.
    pub cases: usize,
    /// Cases that passed.
    pub cases_ok: usize,
    /// Bytes of `wire` decoded (cases with `wire`).
    pub wire_bytes: usize,
    /// Bytes our encoder produced (cases without `wire`).
    pub encoded_bytes: usize,
    /// Per story file name: its wire bytes, or the bytes we encoded.
    pub story_bytes: Vec<(String, usize)>,
    /// One line per failed story: file, seqno and the first difference.
    pub failures: Vec<String>,
}

impl DirReport {
    /// The one-line summary printed for the directory.
    pub fn summary(&self) -> String {
        let mut line = format!(
            "{}: {}/{} stories, {}/{} cases ok",
            self.name, self.stories_ok, self.stories, self.cases_ok, self.cases
        );
        if self.wire_bytes > 0 {
            line += &format!(", {} wire bytes decoded", self.wire_bytes);
        }
        if self.encoded_bytes > 0 {
            line += &format!(", {} bytes encoded (round trip)", self.encoded_bytes);
        }
        line
    }
}

/// The corpus root: `$H2_HPACK_CORPUS`, else the shared copy next to the workspace.
pub fn corpus_root() -> PathBuf {
    match std::env::var_os("H2_HPACK_CORPUS") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/hpack-test-case"),
    }
}

/// One header block of a story.
#[derive(Debug, Clone)]
pub struct Case {
    /// The encoded block (`wire`), for directories that have one (e.g. `nghttp2`).
    pub wire: Option<Bytes>,
    /// The header list the block decodes to (or that is to be encoded).
    pub headers: Vec<Header>,
    /// `header_table_size`: the SETTINGS_HEADER_TABLE_SIZE in force from this case on.
    pub table_size: Option<usize>,
    /// `seqno`, else the case's index in its story.
    pub seqno: u64,
}

/// A story: blocks that share one compression context, so each needs a fresh decoder or
/// encoder.
#[derive(Debug, Clone)]
pub struct Story {
    /// The file name, e.g. `story_00.json`.
    pub name: String,
    /// The blocks, in order.
    pub cases: Vec<Case>,
}

/// Loads every `*.json` story of `dir`, in name order. `Err` says why not (typically: the
/// corpus is absent, or a story is not what the corpus's README describes).
pub fn load_dir(dir: &Path) -> Result<Vec<Story>, String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!("{}: no *.json story", dir.display()));
    }
    files.iter().map(|f| load_story(f)).collect()
}

fn load_story(file: &Path) -> Result<Story, String> {
    let err = |e: &dyn std::fmt::Display| format!("{}: {e}", file.display());
    let text = std::fs::read_to_string(file).map_err(|e| err(&e))?;
    let json: Value = serde_json::from_str(&text).map_err(|e| err(&e))?;
    let cases = json["cases"]
        .as_array()
        .ok_or_else(|| err(&"no cases"))?
        .iter()
        .enumerate()
        .map(|(i, case)| load_case(i, case))
        .collect::<Result<_, _>>()
        .map_err(|e| err(&e))?;
    let name = file.file_name().unwrap_or_default();
    Ok(Story {
        name: name.to_string_lossy().into_owned(),
        cases,
    })
}

fn load_case(i: usize, case: &Value) -> Result<Case, String> {
    let wire = match case["wire"].as_str() {
        Some(hex) => Some(Bytes::from(unhex(hex)?)),
        None => None,
    };
    let mut headers = Vec::new();
    for item in case["headers"].as_array().ok_or("case without headers")? {
        for (name, value) in item.as_object().ok_or("header is not an object")? {
            let value = value.as_str().ok_or("header value is not a string")?;
            headers.push(Header::new(
                Bytes::copy_from_slice(name.as_bytes()),
                Bytes::copy_from_slice(value.as_bytes()),
            ));
        }
    }
    Ok(Case {
        wire,
        headers,
        table_size: case["header_table_size"].as_u64().map(|s| s as usize),
        seqno: case["seqno"].as_u64().unwrap_or(i as u64),
    })
}

/// Runs every story of `dir`.
pub fn run_dir(dir: &Path) -> Result<DirReport, String> {
    let mut report = DirReport {
        name: dir
            .file_name()
            .map_or_else(|| dir.display().to_string(), |n| n.to_string_lossy().into()),
        ..DirReport::default()
    };
    for story in load_dir(dir)? {
        report.stories += 1;
        report.cases += story.cases.len();
        let result = run_story(&story.cases);
        report.cases_ok += result.cases_ok;
        report.wire_bytes += result.wire_bytes;
        report.encoded_bytes += result.encoded_bytes;
        let bytes = result.wire_bytes + result.encoded_bytes;
        report.story_bytes.push((story.name.clone(), bytes));
        match result.failure {
            None => report.stories_ok += 1,
            Some(why) => report
                .failures
                .push(format!("{}: {why}", dir.join(&story.name).display())),
        }
    }
    Ok(report)
}

#[derive(Default)]
struct StoryResult {
    cases_ok: usize,
    wire_bytes: usize,
    encoded_bytes: usize,
    failure: Option<String>,
}

/// Runs one story's cases in order; stops at the first failure, since the compression context
/// is then out of step.
fn run_story(cases: &[Case]) -> StoryResult {
    let mut result = StoryResult::default();
    let mut decoder = Decoder::new(4096);
    let mut encoder = Encoder::new();
    let mut buf = BytesMut::new();
    for case in cases {
        match run_case(case, &mut decoder, &mut encoder, &mut buf) {
            Ok((wire, encoded)) => {
                result.cases_ok += 1;
                result.wire_bytes += wire;
                result.encoded_bytes += encoded;
            }
            Err(why) => {
                result.failure = Some(format!("seqno {}: {why}", case.seqno));
                break;
            }
        }
    }
    result
}

/// Runs one case; returns (wire bytes decoded, bytes encoded).
fn run_case(
    case: &Case,
    decoder: &mut Decoder,
    encoder: &mut Encoder,
    buf: &mut BytesMut,
) -> Result<(usize, usize), String> {
    let expected = &case.headers;
    if let Some(size) = case.table_size {
        decoder.set_max_table_size(size);
        encoder.set_max_table_size(size);
    }
    let (block, encoded) = match &case.wire {
        Some(wire) => (wire.clone(), false),
        None => {
            buf.clear();
            encoder.encode(expected, buf);
            (buf.split().freeze(), true)
        }
    };
    let mut got = Vec::with_capacity(expected.len());
    decoder
        .decode(&block, |h| got.push(h))
        .map_err(|e| format!("decode error: {e}"))?;
    compare(expected, &got)?;
    Ok(if encoded {
        (0, block.len())
    } else {
        (block.len(), 0)
    })
}

fn compare(expected: &[Header], got: &[Header]) -> Result<(), String> {
    let show = |h: Option<&Header>| match h {
        Some(h) => format!(
            "{:?}: {:?}",
            String::from_utf8_lossy(&h.name),
            String::from_utf8_lossy(&h.value)
        ),
        None => "(nothing)".to_string(),
    };
    for i in 0..expected.len().max(got.len()) {
        let (e, g) = (expected.get(i), got.get(i));
        let same = match (e, g) {
            (Some(e), Some(g)) => e.name == g.name && e.value == g.value,
            _ => false,
        };
        if !same {
            return Err(format!("header {i}: expected {}, got {}", show(e), show(g)));
        }
    }
    Ok(())
}

fn unhex(hex: &str) -> Result<Vec<u8>, String> {
    let digit = |c: u8| match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        b'A'..=b'F' => Ok(c - b'A' + 10),
        _ => Err(format!("bad hex digit {:?}", c as char)),
    };
    let b = hex.as_bytes();
    if b.len() % 2 != 0 {
        return Err("odd-length hex".into());
    }
    b.chunks(2)
        .map(|p| Ok(digit(p[0])? << 4 | digit(p[1])?))
        .collect()
}
