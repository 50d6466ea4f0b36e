//! `install.sh` against a local directory of release artifacts, as the release workflow
//! lays them out: it installs the binary for this machine (not another target's),
//! refuses a checksum mismatch without installing anything, and the glibc check script
//! tells an old enough binary from a too new one.

use sha2::Digest;
use std::path::Path;
use std::process::Command;

/// The target triple install.sh should pick on this machine.
fn this_target() -> String {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "x86_64",
        "aarch64" => "aarch64",
        other => panic!("unsupported test machine {other}"),
    };
    match std::env::consts::OS {
        "linux" => format!("{arch}-unknown-linux-gnu"),
        "macos" => format!("{arch}-apple-darwin"),
        other => panic!("unsupported test machine {other}"),
    }
}

/// Writes `sickbay-<target>.tar.gz` holding a `sickbay` that prints its target, and its
/// `.sha256` (or a wrong one).
fn release(dir: &Path, target: &str, good_sum: bool) {
    let stage = dir.join(format!("stage-{target}"));
    std::fs::create_dir_all(&stage).unwrap();
    std::fs::write(
        stage.join("sickbay"),
        format!("#!/bin/sh\necho sickbay {target}\n"),
    )
    .unwrap();
    let archive = format!("sickbay-{target}.tar.gz");
    let ok = Command::new("tar")
        .args([
            "-czf",
            dir.join(&archive).to_str().unwrap(),
            "-C",
            stage.to_str().unwrap(),
            "sickbay",
        ])
        .status()
        .unwrap();
    assert!(ok.success());
    let bytes = std::fs::read(dir.join(&archive)).unwrap();
    let mut sum = format!("{:x}", sha2::Sha256::digest(&bytes));
    if !good_sum {
        sum = sum.replace(&sum[..4], "0000");
    }
    std::fs::write(
        dir.join(format!("{archive}.sha256")),
        format!("{sum}  {archive}\n"),
    )
    .unwrap();
}

fn install(releases: &Path, bin: &Path) -> std::process::Output {
    Command::new("sh")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/install.sh"))
        .env("SICKBAY_DOWNLOAD_URL", releases)
        .env("SICKBAY_INSTALL_DIR", bin)
        .env_remove("SICKBAY_TARGET")
        .output()
        .unwrap()
}

#[test]
fn installs_the_binary_for_this_machine() {
    let d = tempfile::tempdir().unwrap();
    let releases = d.path().join("releases");
    std::fs::create_dir(&releases).unwrap();
    let me = this_target();
    for t in [
        "x86_64-unknown-linux-gnu",
        "aarch64-unknown-linux-gnu",
        "aarch64-apple-darwin",
        "x86_64-apple-darwin",
    ] {
        release(&releases, t, true);
    }
    let bin = d.path().join("bin");
    let o = install(&releases, &bin);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = Command::new(bin.join("sickbay")).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("sickbay {me}")
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!("installed {}", bin.join("sickbay").display())),
        "{err}"
    );
}

#[test]
fn a_checksum_mismatch_installs_nothing() {
    let d = tempfile::tempdir().unwrap();
    let releases = d.path().join("releases");
    std::fs::create_dir(&releases).unwrap();
    release(&releases, &this_target(), false);
    let bin = d.path().join("bin");
    let o = install(&releases, &bin);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("checksum mismatch") && err.contains("nothing installed"),
        "{err}"
    );
    assert!(!bin.join("sickbay").exists());
    // A missing release is one clear line too.
    let empty = d.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let o = install(&empty, &bin);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("cannot read"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn glibc_check_tells_old_enough_from_too_new() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/check-glibc.sh");
    // The shell of this machine needs some glibc: allowed under a high limit, refused
    // under one older than any real glibc.
    let sh = "/bin/sh";
    let ok = Command::new("sh")
        .args([script, sh, "9.99"])
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let bad = Command::new("sh")
        .args([script, sh, "2.0"])
        .output()
        .unwrap();
    assert_eq!(
        bad.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&bad.stdout)
    );
    assert!(String::from_utf8_lossy(&bad.stderr).contains("newer than 2.0"));
}
