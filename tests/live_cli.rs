//! Live collection's command-line contract without an AWS peer: the IAM policy
//! (golden), and the one-line errors with exit 2 when nothing can work: no credentials,
//! an endpoint that is down. No traffic leaves loopback: instance metadata is disabled
//! and the only endpoint is a closed loopback port.

#[path = "support/moto.rs"]
mod moto;

use std::time::{Duration, Instant};

#[test]
fn iam_policy_golden() {
    let o = moto::sickbay_cmd().arg("iam-policy").output().unwrap();
    assert!(o.status.success());
    let text = String::from_utf8(o.stdout).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["Statement"][0]["Effect"], "Allow");
    insta::assert_snapshot!(text);
}

/// A closed loopback port: exit 2 with one line naming the endpoint, quickly.
#[test]
fn endpoint_down_exits_2_quickly() {
    let port = moto::free_port();
    let url = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    let o = moto::sickbay_cmd()
        .args([
            "doctor",
            "--cluster",
            "prod",
            "--endpoint-url",
            &url,
            "--db",
            "off",
        ])
        .output()
        .unwrap();
    let elapsed = started.elapsed();
    let err = String::from_utf8_lossy(&o.stderr).replace(&port.to_string(), "PORT");
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(elapsed < Duration::from_secs(20), "took {elapsed:?}");
    insta::assert_snapshot!(err);
}

/// No credentials anywhere in the chain (environment, profile files, container and
/// instance metadata all absent or disabled): one line, exit 2, no network call.
#[test]
fn no_credentials_exits_2() {
    let port = moto::free_port();
    let url = format!("http://127.0.0.1:{port}");
    let o = moto::sickbay_cmd()
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .args(["doctor", "--cluster", "prod", "--endpoint-url", &url])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    insta::assert_snapshot!(err);
}

/// No region from flags, environment or profile: one line, exit 2.
#[test]
fn no_region_exits_2() {
    let o = moto::sickbay_cmd()
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .args([
            "doctor",
            "--cluster",
            "prod",
            "--endpoint-url",
            "http://127.0.0.1:9",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(
        err.trim_end(),
        "error: no AWS region: pass --region, or set AWS_REGION (or a region in your AWS profile)"
    );
}
