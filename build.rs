//! Embeds the built-in rule pack (`rules/**/*.toml`) into the binary, so a single
//! file runs in CloudShell, and asks the release link to fold identical functions
//! where the linker is known to be LLD.

use std::path::{Path, PathBuf};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "toml") {
            out.push(path);
        }
    }
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let rules = root.join("rules");
    println!("cargo:rerun-if-changed=rules");
    let mut files = Vec::new();
    collect(&rules, &mut files);
    files.sort();
    let mut src = String::from("/// (path relative to the crate, text) of every built-in rule.\npub static BUILTIN_RULES: &[(&str, &str)] = &[\n");
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let rel = f.strip_prefix(&root).unwrap().display().to_string();
        src.push_str(&format!(
            "    ({rel:?}, include_str!({:?})),\n",
            f.display().to_string()
        ));
    }
    src.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("builtin_rules.rs");
    std::fs::write(out, src).unwrap();
    fold_identical_code();
}

/// Release binaries on x86_64 Linux are linked by rustc's own LLD (the default since
/// Rust 1.90); `--icf=all` there merges the identical functions that generic code
/// instantiates in many crates (1.6 MB of the binary, README "Binary size and build
/// time"). Rust does not promise distinct addresses for distinct functions, and rustc
/// already merges functions within a crate. Any other linker (a configured one, as
/// cargo-zigbuild sets, or an older rustc's system `cc`) is left as it is.
fn fold_identical_code() {
    println!("cargo:rerun-if-env-changed=RUSTC_LINKER");
    let env = |k: &str| std::env::var(k).unwrap_or_default();
    let lld_target = env("TARGET") == "x86_64-unknown-linux-gnu" && env("RUSTC_LINKER").is_empty();
    if env("PROFILE") != "release" || !lld_target || rustc_minor() < 90 {
        return;
    }
    println!("cargo:rustc-link-arg-bins=-Wl,--icf=all");
}

/// Minor version of the compiler building the crate (`rustc 1.95.0 (...)`), 0 if unknown.
fn rustc_minor() -> u32 {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = std::process::Command::new(rustc).arg("--version").output();
    let text = out
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    text.split_whitespace()
        .nth(1)
        .and_then(|v| v.split('.').nth(1))
        .and_then(|m| m.parse().ok())
        .unwrap_or(0)
}
