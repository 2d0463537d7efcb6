//! Generates the message types from `proto/`. `protoc` comes from `protoc-bin-vendored`, so a
//! fresh machine needs no system install.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    // SAFETY: build scripts run single-threaded; nothing else reads the environment here.
    unsafe { std::env::set_var("PROTOC", protoc) };
    println!("cargo:rerun-if-changed=proto");
    tonic_prost_build::configure().compile_protos(
        &[
            "proto/lakegate/scan.proto",
            "proto/lakegate/registry.proto",
            "proto/lakegate/flight_sql.proto",
        ],
        &["proto"],
    )?;
    Ok(())
}
