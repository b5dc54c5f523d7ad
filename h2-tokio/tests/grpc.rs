//! The RouteGuide example (`examples/grpc`, the crate `h2-grpc-example`, run as the program it
//! is) against another gRPC implementation, both ways: gRPC's Python
//! (grpcio) client calls our server, and our client calls grpcio's server. The Python stubs are
//! generated from the same route_guide.proto at test time (grpcio-tools). A Python without
//! grpcio and grpcio-tools fails these tests (`H2_ALLOW_MISSING_PEERS=1` skips them).

use h2_testkit::interop::{
    package_binary, require, require_python_grpc, run, Scratch, ServerProcess,
};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The example's `grpc` program, built once.
fn grpc() -> PathBuf {
    package_binary("h2-grpc-example", "grpc")
}

/// The example's crate (its route_guide.proto).
fn example_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/grpc")
}

/// The Python peers of these tests.
fn python_peer(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/grpc")
        .join(file)
}

/// Generates route_guide_pb2.py and route_guide_pb2_grpc.py into `scratch`/stubs.
fn python_stubs(python: &Path, scratch: &Scratch) -> PathBuf {
    let stubs = scratch.path("stubs");
    std::fs::create_dir_all(&stubs).expect("create stub dir");
    let out_arg = |flag: &str| format!("--{flag}={}", stubs.display());
    let out = run(Command::new(python)
        .args(["-m", "grpc_tools.protoc"])
        .arg(format!("-I{}", example_dir().join("proto").display()))
        .arg(out_arg("python_out"))
        .arg(out_arg("grpc_python_out"))
        .arg("route_guide.proto"));
    assert!(
        out.status.success(),
        "grpc_tools.protoc:\n{}",
        out.report_alone()
    );
    stubs
}

#[test]
fn python_grpc_client_makes_all_four_calls_to_our_server() {
    let Some(python) = require_python_grpc() else {
        return;
    };
    let scratch = Scratch::new("grpc_python_client");
    let stubs = python_stubs(&python, &scratch);
    let mut ours = Command::new(grpc());
    ours.args(["--listen", "127.0.0.1:0"]);
    let server = ServerProcess::spawn(ours, "grpc", &scratch);
    let out = run(Command::new(&python)
        .arg(python_peer("route_guide_client.py"))
        .arg(&stubs)
        .arg(server.port().to_string()));
    assert!(
        out.status.success(),
        "route_guide_client.py against `grpc --listen`:\n{}",
        out.report(&server)
    );
    let text = out.text();
    for call in [
        "GetFeature:",
        "ListFeatures:",
        "RecordRoute:",
        "RouteChat:",
        "unknown method: UNIMPLEMENTED",
    ] {
        assert!(text.contains(call), "{call} missing:\n{text}");
    }
}

#[test]
fn our_client_makes_all_four_calls_to_python_grpc_server() {
    let Some(python) = require_python_grpc() else {
        return;
    };
    let scratch = Scratch::new("grpc_python_server");
    let stubs = python_stubs(&python, &scratch);
    let mut peer = Command::new(&python);
    peer.arg(python_peer("route_guide_server.py")).arg(&stubs);
    let server = ServerProcess::spawn(peer, "route_guide_server.py", &scratch);
    let out = run(Command::new(grpc()).args(["--connect", &server.url("")]));
    assert!(
        out.status.success(),
        "`grpc --connect` against route_guide_server.py:\n{}",
        out.report(&server)
    );
    let text = out.text();
    for line in [
        "Feature called Berkshire Valley Management Area Trail, Jefferson, NJ, USA at latitude: 409146138, longitude: -746188906",
        "Found no feature at latitude: 0, longitude: 0",
        "Feature called U.S. 6, Shohola, PA 18458, USA at latitude: 413628156, longitude: -749015468",
        "Finished trip with 10 points",
        "Received message First message at latitude: 0, longitude: 0",
        "Received message Third message at latitude: 1, longitude: 0",
    ] {
        assert!(text.contains(line), "{line:?} missing:\n{text}");
    }
}

/// tonic answers an unknown method with a Status error: on the wire that must be gRPC's
/// trailers-only response, one HEADERS frame with END_STREAM and no content-length.
#[test]
fn a_status_error_goes_as_one_headers_frame_without_content_length() {
    let Some(nghttp) = require("nghttp") else {
        return;
    };
    let scratch = Scratch::new("grpc_trailers_only");
    let empty = scratch.path("empty");
    std::fs::write(&empty, b"").expect("write empty request body");
    let mut ours = Command::new(grpc());
    ours.args(["--listen", "127.0.0.1:0"]);
    let server = ServerProcess::spawn(ours, "grpc", &scratch);
    let out = run(Command::new(nghttp)
        .args([
            "-v",
            "-H",
            "content-type: application/grpc",
            "-H",
            "te: trailers",
            "-d",
        ])
        .arg(&empty)
        .arg(server.url("/routeguide.RouteGuide/NoSuchMethod")));
    assert!(out.status.success(), "nghttp:\n{}", out.report(&server));
    let text = out.text();
    let received: Vec<&str> = text.lines().filter(|l| l.contains("] recv ")).collect();
    let headers_frames: Vec<&&str> = received
        .iter()
        .filter(|l| l.contains("recv HEADERS frame"))
        .collect();
    assert_eq!(headers_frames.len(), 1, "{text}");
    // flags 0x05: END_STREAM and END_HEADERS.
    assert!(headers_frames[0].contains("flags=0x05"), "{text}");
    assert!(
        !received.iter().any(|l| l.contains("recv DATA frame")),
        "{text}"
    );
    let fields: Vec<&&str> = received
        .iter()
        .filter(|l| l.contains("recv (stream_id="))
        .collect();
    assert!(
        fields.iter().any(|l| l.ends_with("grpc-status: 12")),
        "{text}"
    );
    assert!(
        !fields.iter().any(|l| l.contains("content-length")),
        "{text}"
    );
}
