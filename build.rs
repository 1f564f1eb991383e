//! Release builds of the daemon pack their relative relocations (DT_RELR,
//! `-z pack-relative-relocs`): a position-independent Rust binary carries
//! about 1 MB of `.rela.dyn` entries, one per pointer in vtables and static
//! tables, which RELR encodes in about 20 KB. The file is smaller and that
//! megabyte is no longer read into memory at every start.
//!
//! Only for `release` (tests and debug builds link as usual) and only for
//! GNU/Linux: GNU ld 2.38+ and glibc 2.36+ support it; an older ld ignores
//! the unknown `-z` keyword with a warning, and ld only emits DT_RELR when
//! the C library it links against can apply it.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let is = |var: &str, want: &str| std::env::var(var).is_ok_and(|v| v == want);
    if is("PROFILE", "release")
        && is("CARGO_CFG_TARGET_OS", "linux")
        && is("CARGO_CFG_TARGET_ENV", "gnu")
    {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}
