//! `doctor --watch` against the moto server: a service that goes from failing to
//! stable between rounds, the test changing the state as an operator's fix would. moto
//! keeps a service's running count at 0 until UpdateService sets its desired count, and
//! then reports it running; the refused connections in the task's log are older than
//! the second round's window, so their cause clears.

#[path = "support/moto.rs"]
mod moto;

#[path = "support/seed.rs"]
mod seed;

use moto::{sickbay_cmd, unique};
use seed::{rt, Aws};
use std::io::{BufRead, BufReader, Read};
use std::process::Stdio;

/// `sickbay doctor --watch` on `cluster` against moto, with the table view and without
/// the calls moto cannot answer.
fn watch(cluster: &str, args: &[&str]) -> std::process::Command {
    let mut c = sickbay_cmd();
    c.arg("doctor")
        .args([
            "--endpoint-url",
            &moto::moto().url,
            "--db",
            "off",
            "-o",
            "table",
        ])
        .args(["--iam-simulate", "off", "--cloudtrail", "off"])
        .args(["--cluster", cluster])
        .args(args);
    c
}

/// The view with its clock times replaced, so it can be compared.
fn normalized(view: &str) -> String {
    let at = regex::Regex::new(r"(?m)^(round \d+) at \d\d:\d\d:\d\dZ$").unwrap();
    at.replace_all(view, "$1 at <time>").into_owned()
}

#[test]
fn watch_sees_a_failing_service_become_stable() {
    let cluster = unique("watched");
    let group = format!("/ecs/{cluster}");
    rt().block_on(async {
        let aws = Aws::new().await;
        let net = aws.network(39).await;
        aws.cluster(&cluster).await;
        aws.log_group(&group).await;
        let rev = aws
            .task_def("watched-api", "api", "nginx:latest", &[], &group)
            .await;
        let td = format!("watched-api:{rev}");
        aws.service(&cluster, "api", &td, &net).await;
        let t = aws.run_task(&cluster, &td, "service:api", &net).await;
        let refused = ["Error: connect ECONNREFUSED 10.39.9.9:5432"; 3];
        aws.put_logs(&group, &format!("ecs/api/{t}"), 2, &refused)
            .await;
    });
    let mut child = watch(
        &cluster,
        &["--watch", "2s", "--timeout", "2m", "--call-stats"],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut view = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        view.push_str(&line);
        view.push('\n');
        if line.starts_with("  next round in") {
            break;
        }
    }
    // The fix, between rounds: the service reaches its desired count.
    rt().block_on(async {
        let aws = Aws::new().await;
        aws.ecs
            .update_service()
            .cluster(&cluster)
            .service("api")
            .desired_count(1)
            .send()
            .await
            .unwrap();
    });
    for line in lines {
        view.push_str(&line.unwrap());
        view.push('\n');
    }
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{view}\n{err}");
    insta::assert_snapshot!(normalized(&view));
    // One collection per round, each within the same bounds.
    let rounds: Vec<serde_json::Value> = err
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rounds.len(), 2, "{err}");
    for r in &rounds {
        let calls = r["total_calls"].as_u64().unwrap();
        assert!((10..=40).contains(&calls), "{r}");
    }
}

/// A watch that cannot succeed ends at its deadline with exit 1 and says why.
#[test]
fn watch_gives_up_at_the_deadline() {
    let cluster = unique("unwatched");
    rt().block_on(async {
        let aws = Aws::new().await;
        let net = aws.network(40).await;
        aws.cluster(&cluster).await;
        let rev = aws
            .task_def(
                "unwatched-api",
                "api",
                "nginx:latest",
                &[],
                "/ecs/unwatched",
            )
            .await;
        aws.service(&cluster, "api", &format!("unwatched-api:{rev}"), &net)
            .await;
    });
    let out = watch(&cluster, &["--watch", "1s", "--timeout", "3s"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let view = String::from_utf8_lossy(&out.stdout);
    let last = view.lines().last().unwrap();
    assert!(
        last.starts_with("gave up after ") && last.contains("): not stable: api"),
        "{view}"
    );
}
