//! Links the Linux binary freestanding: no C runtime, no libc, a static non-PIE image.
//! With the `defmt` feature, adds the host version of defmt's linker script. For a bare
//! target (`thumbv7em-none-eabihf`), links the footprint example with `cortex-m.x`.

fn main() {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os == "linux" {
        for arg in ["-nostartfiles", "-nostdlib", "-static", "-no-pie"] {
            println!("cargo:rustc-link-arg-bins={arg}");
        }
        if std::env::var_os("CARGO_FEATURE_DEFMT").is_some() {
            let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it");
            println!("cargo:rustc-link-arg-bins=-T{dir}/defmt-host.x");
        }
    }
    if os == "none" {
        let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it");
        println!("cargo:rustc-link-arg-examples=-T{dir}/cortex-m.x");
        if std::env::var_os("CARGO_FEATURE_DEFMT").is_some() {
            println!("cargo:rustc-link-arg-examples=-Tdefmt.x");
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=cortex-m.x");
    println!("cargo:rerun-if-changed=defmt-host.x");
}
