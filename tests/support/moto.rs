//! Test harness: one real moto server (the AWS API peer) per test process, on a free
//! loopback port, with ECS tasks on manual transition (they stay RUNNING until stopped),
//! stopped at exit. The server comes from `MOTO_SERVER` (scripts/test.sh installs it into
//! `.venv-moto`), else `.venv-moto/bin/moto_server`; a missing server fails loudly.
//!
//! Tests share the server and isolate themselves with unique names (cluster, VPC, log
//! group, database). Every client and every `sickbay` run here uses static test
//! credentials, the region and the loopback endpoint, with instance metadata disabled:
//! no traffic leaves loopback.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicI32, AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub const REGION: &str = "us-east-1";
pub const KEY_ID: &str = "AKIDSICKBAYTEST";
pub const SECRET: &str = "sickbay-test-secret";

pub struct Moto {
    pub url: String,
    pub port: u16,
}

static PID: AtomicI32 = AtomicI32::new(0);

extern "C" fn stop_moto() {
    let pid = PID.swap(0, Ordering::SeqCst);
    if pid > 0 {
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
    }
}

fn server_path() -> PathBuf {
    if let Some(p) = std::env::var_os("MOTO_SERVER").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv-moto/bin/moto_server")
}

/// A free loopback port (bound, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

fn start() -> Moto {
    let bin = server_path();
    assert!(
        bin.exists(),
        "moto server not found at {}: run scripts/test.sh (it installs moto into .venv-moto) or set MOTO_SERVER",
        bin.display()
    );
    let port = free_port();
    let mut cmd = Command::new(&bin);
    cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // The server dies with the test process even when that is killed: PDEATHSIG fires
    // when the spawning *thread* ends, so a thread that lives as long as the process
    // spawns it.
    unsafe {
        use std::os::unix::process::CommandExt;
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
            Ok(())
        });
    }
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || match cmd.spawn() {
        Ok(mut child) => {
            let _ = tx.send(Ok(child.id()));
            // Reaps the server when it exits; until then this thread keeps it alive.
            let _ = child.wait();
        }
        Err(e) => {
            let _ = tx.send(Err(e));
        }
    });
    let pid = rx.recv().unwrap().expect("start moto_server");
    PID.store(pid as i32, Ordering::SeqCst);
    unsafe {
        libc::atexit(stop_moto);
    }
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if http(&url, "POST", "/moto-api/reset", "").is_some() {
            break;
        }
        assert!(Instant::now() < deadline, "moto did not answer on {url}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let manual =
        r#"{"model_name":"ecs::task","transition":{"progression":"manual","times":1000000}}"#;
    http(
        &url,
        "POST",
        "/moto-api/state-manager/set-transition",
        manual,
    )
    .expect("set manual task transition");
    Moto { url, port }
}

/// The shared server.
pub fn moto() -> &'static Moto {
    static M: OnceLock<Moto> = OnceLock::new();
    M.get_or_init(start)
}

/// A minimal HTTP/1.1 request on loopback; the status line's code, or None when the
/// server does not answer.
pub fn http(url: &str, method: &str, path: &str, body: &str) -> Option<u16> {
    use std::io::{Read, Write};
    let addr = url.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).ok()?;
    let mut resp = String::new();
    s.read_to_string(&mut resp).ok()?;
    resp.split_whitespace().nth(1)?.parse().ok()
}

/// A name unique in this test process run (and across runs sharing a server).
pub fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// SDK configuration for seeding: static credentials, region, the moto endpoint.
pub async fn sdk_config() -> aws_config::SdkConfig {
    let creds = aws_credential_types::Credentials::new(KEY_ID, SECRET, None, None, "sickbay-tests");
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(sickbay::collect::https_client())
        .region(aws_config::Region::new(REGION))
        .endpoint_url(&moto().url)
        .credentials_provider(creds)
        .load()
        .await
}

/// A `sickbay` command with the safe AWS environment: static credentials, region, no
/// instance metadata, no profile files.
pub fn sickbay_cmd() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sickbay"));
    c.env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ACCESS_KEY_ID", KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_REGION", REGION)
        .env("AWS_CONFIG_FILE", "/nonexistent/sickbay-test-config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/sickbay-test-credentials",
        )
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_DEFAULT_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
        .env_remove("AWS_CONTAINER_CREDENTIALS_FULL_URI")
        .env_remove("AWS_WEB_IDENTITY_TOKEN_FILE")
        .env_remove("AWS_ROLE_ARN")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    c
}

/// Runs `sickbay doctor` live against moto with `args` and returns the output.
pub fn doctor(args: &[&str]) -> Output {
    sickbay_cmd()
        .arg("doctor")
        .args([
            "--endpoint-url",
            &moto().url,
            "--db",
            "off",
            "-o",
            "json",
            "--fail-on",
            "never",
            // moto answers SimulatePrincipalPolicy with HTTP 500; the simulation is
            // tested with aws-smithy-mocks (tests/collect_mocks.rs).
            "--iam-simulate",
            "off",
            // moto answers LookupEvents with HTTP 500 and records no events; account
            // changes are tested with aws-smithy-mocks.
            "--cloudtrail",
            "off",
        ])
        .args(args)
        .output()
        .expect("run sickbay")
}

/// The report of a successful run, parsed.
pub fn report(o: &Output) -> serde_json::Value {
    assert!(
        o.status.success(),
        "sickbay failed ({:?}): {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).expect("report JSON")
}

/// Rule ids of the ranked findings, in order.
pub fn rules(report: &serde_json::Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| f["rule"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Every rule id in the report: ranked findings and those folded under them.
pub fn all_rules(report: &serde_json::Value) -> Vec<String> {
    let mut out = rules(report);
    for f in report["findings"].as_array().into_iter().flatten() {
        for e in f["explains"].as_array().into_iter().flatten() {
            out.push(e["rule"].as_str().unwrap_or_default().to_string());
        }
    }
    out
}
