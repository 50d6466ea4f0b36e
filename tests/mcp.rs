//! `sickbay mcp` driven by a real MCP client: the official Python SDK (`mcp` on PyPI,
//! installed by scripts/test.sh into .venv-tools, which sets `MCP_PYTHON`). The client
//! script (tests/support/mcp_client.py) lists the tools, calls doctor on a bundled
//! snapshot, lint on a fixture, scan with a planted secret, explain_rule and iam_policy,
//! and three error cases; it validates every structured result against the tool's
//! declared output schema. What it saw is golden.

use std::process::Command;

#[test]
fn a_real_mcp_client_lists_and_calls_every_tool() {
    let python = std::env::var("MCP_PYTHON").unwrap_or_else(|_| {
        panic!(
            "MCP_PYTHON is not set: run scripts/test.sh (it installs the mcp SDK into .venv-tools)"
        )
    });
    let out = Command::new(python)
        .arg("tests/support/mcp_client.py")
        .arg(env!("CARGO_BIN_EXE_sickbay"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run the MCP client");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "client failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(seen["server"], "sickbay");
    assert_eq!(seen["doctor"]["top"], "IMG013", "{seen}");
    assert_eq!(seen["scan"]["leaks"], false, "{seen}");
    assert_eq!(seen["bad_url"]["leaks"], false, "{seen}");
    assert_eq!(seen["missing_snapshot"]["is_error"], true, "{seen}");
    insta::assert_snapshot!(stdout);
}
