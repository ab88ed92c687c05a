//! Links the Linux binary freestanding: no C runtime, no libc, a static non-PIE image.
//! With the `defmt` feature, adds the host version of defmt's linker script.

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
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=defmt-host.x");
}
