//! Regression (issue: nothing panics): a server that speaks the PostgreSQL protocol but
//! answers the catalog queries with one column instead of the expected three (a proxy or
//! a look-alike) made `db probe` panic on `Row::get(1)`. Now the schema stage is
//! inconclusive and the probe reports normally. The peer is a minimal protocol server in
//! this file: a real PostgreSQL cannot be made to answer with another shape.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;

fn msg(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![kind];
    m.extend_from_slice(&((body.len() + 4) as u32).to_be_bytes());
    m.extend_from_slice(body);
    m
}

fn read_exact_vec(s: &mut TcpStream, n: usize) -> Option<Vec<u8>> {
    let mut b = vec![0; n];
    s.read_exact(&mut b).ok()?;
    Some(b)
}

/// One connection: refuse TLS, accept any login, answer every query with one column.
fn serve(mut s: TcpStream) -> Option<()> {
    loop {
        let len = u32::from_be_bytes(read_exact_vec(&mut s, 4)?.try_into().ok()?) as usize;
        let body = read_exact_vec(&mut s, len.checked_sub(4)?)?;
        if body.get(..4) == Some(&80877103u32.to_be_bytes()[..]) {
            s.write_all(b"N").ok()?;
            continue;
        }
        break;
    }
    let mut out = msg(b'R', &0u32.to_be_bytes());
    out.extend(msg(b'S', b"server_version\x0015.0\x00"));
    out.extend(msg(b'Z', b"I"));
    s.write_all(&out).ok()?;
    loop {
        let kind = read_exact_vec(&mut s, 1)?[0];
        let len = u32::from_be_bytes(read_exact_vec(&mut s, 4)?.try_into().ok()?) as usize;
        read_exact_vec(&mut s, len.checked_sub(4)?)?;
        if kind == b'X' {
            return Some(());
        }
        let mut field = b"only\x00".to_vec();
        field.extend_from_slice(&0u32.to_be_bytes()); // table oid
        field.extend_from_slice(&0u16.to_be_bytes()); // column
        field.extend_from_slice(&25u32.to_be_bytes()); // text
        field.extend_from_slice(&(-1i16).to_be_bytes());
        field.extend_from_slice(&(-1i32).to_be_bytes());
        field.extend_from_slice(&0u16.to_be_bytes());
        let mut desc = 1u16.to_be_bytes().to_vec();
        desc.extend(field);
        let mut row = 1u16.to_be_bytes().to_vec();
        row.extend_from_slice(&4u32.to_be_bytes());
        row.extend_from_slice(b"15.0");
        let mut out = msg(b'T', &desc);
        out.extend(msg(b'D', &row));
        out.extend(msg(b'C', b"SELECT 1\x00"));
        out.extend(msg(b'Z', b"I"));
        s.write_all(&out).ok()?;
    }
}

#[test]
fn one_column_catalog_answer_is_inconclusive_not_a_panic() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in listener.incoming().flatten() {
            std::thread::spawn(move || serve(s));
        }
    });
    let out = Command::new(env!("CARGO_BIN_EXE_sickbay"))
        .args([
            "db",
            "probe",
            &format!("postgres://app:pw@127.0.0.1:{port}/app"),
            "--connect-timeout",
            "5",
            "-o",
            "json",
            "--fail-on",
            "never",
        ])
        .env("NO_COLOR", "1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("PGPASSWORD")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let stages = v["probe"]["stages"]
        .as_array()
        .or_else(|| v["stages"].as_array())
        .unwrap_or_else(|| panic!("{v}"));
    let schema = stages
        .iter()
        .find(|s| s["stage"] == "schema")
        .unwrap_or_else(|| panic!("{v}"));
    assert_eq!(schema["status"], "inconclusive", "{v}");
    assert_eq!(schema["code"], "unexpected_answer", "{v}");
}
