//! Generates the RouteGuide messages (prost) and the service and client (tonic) from
//! proto/route_guide.proto, with the protoc shipped in the `protoc-bin-vendored` crate.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // prost-build runs the compiler named by PROTOC. A build script is single-threaded.
    std::env::set_var("PROTOC", protoc_bin_vendored::protoc_bin_path()?);
    tonic_prost_build::configure()
        // tonic's transport is not built: the generated client has no `connect`.
        .build_transport(false)
        .compile_protos(&["proto/route_guide.proto"], &["proto"])?;
    Ok(())
}
