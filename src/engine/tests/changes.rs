//! What-changed tests: the last good revision, the changed fields, deployment fields
//! and image digests, and which change the report names as the likely trigger.

use super::*;

/// Revision 1 ran cleanly; revision 2 moved DB_HOST and fails. The report names 1 as last
/// good, says how, and lists the one changed field and the finding that appeared. Without
/// a clean revision it says so plainly and compares with the previous one that ran.
#[test]
fn what_changed_compares_the_failing_revision_with_the_last_good_one() {
    let r = rules(&[&simple_rule("TST040", "cannot connect", "critical", &[])]);
    let snap = |first_fails: bool| {
        let first = if first_fails {
            "cannot connect"
        } else {
            "listening on :8080"
        };
        world(serde_json::json!({
            "tasks": [task("t1", 1, "STOPPED", &[]), task("t2", 2, "RUNNING", &[])],
            "task_definitions": [td(1, &[("DB_HOST", "db-a")]), td(2, &[("DB_HOST", "db-b")])],
            "logs": [log("t1", 1, first), log("t2", 5, "cannot connect")],
        }))
    };
    let report = analyze(&snap(false), &r);
    let w = &report.what_changed[..];
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(
        (w[0].failing.as_str(), w[0].base.as_deref()),
        ("app:2", Some("app:1"))
    );
    assert!(w[0].last_good);
    assert_eq!(
        w[0].decided_by,
        "it ran (0 running, 1 stopped tasks, with logs) without a failure finding"
    );
    assert_eq!(w[0].appeared, ["TST040"]);
    let fields: Vec<(&str, Option<&str>, Option<&str>)> = w[0]
        .changes
        .iter()
        .map(|c| (c.field.as_str(), c.before.as_deref(), c.after.as_deref()))
        .collect();
    assert_eq!(fields, [("env DB_HOST", Some("db-a"), Some("db-b"))]);

    let report = analyze(&snap(true), &r);
    let w = &report.what_changed[0];
    assert!(!w.last_good);
    assert_eq!(w.base.as_deref(), Some("app:1"));
    assert_eq!(w.decided_by, "no last good revision in the window");
}

/// A DNS failure that appeared with revision 2 names, of that revision's changes, the
/// one its evidence mentions (DB_HOST's new value), not merely the first listed (A_FLAG).
#[test]
fn likely_trigger_names_the_change_the_evidence_mentions() {
    let r = rules(&[&format!(
        r#"id = "TST050"
name = "dns"
title = "t"
severity = "critical"
message = "cannot resolve {{host}}"
triggered_by = ["env", "image"]
[[signal]]
source = "log"
pattern = 'cannot resolve (?P<host>[a-z0-9.-]+)'
{DOCS}"#
    )]);
    let snap = world(serde_json::json!({
        "tasks": [task("t1", 1, "STOPPED", &[]), task("t2", 2, "RUNNING", &[])],
        "task_definitions": [
            td(1, &[("A_FLAG", "1"), ("DB_HOST", "db-a.internal")]),
            td(2, &[("A_FLAG", "2"), ("DB_HOST", "db-b.internal")]),
        ],
        "logs": [log("t1", 1, "listening"), log("t2", 5, "cannot resolve db-b.internal")],
    }));
    let report = analyze(&snap, &r);
    assert_eq!(
        report.findings[0].likely_trigger.as_deref(),
        Some("began with app:2, which changed app env DB_HOST: db-a.internal -> db-b.internal")
    );
    // A rule that lists no trigger kinds gets none.
    let plain = rules(&[&simple_rule("TST051", "cannot resolve", "critical", &[])]);
    assert_eq!(analyze(&snap, &plain).findings[0].likely_trigger, None);
}

/// Revision 3 was registered with the same broken value but never ran: the failing
/// revision is 2, the newest that ran, not the newest that merely holds the config.
#[test]
fn what_changed_fails_only_a_revision_that_ran() {
    let r = rules(&[&join_rule()]);
    let snap = world(serde_json::json!({
        "tasks": [task("t1", 1, "STOPPED", &[]), task("t2", 2, "RUNNING", &[])],
        "task_definitions": [
            td(1, &[("API_HOST", "10.0.0.1")]),
            td(2, &[("API_HOST", "10.0.0.7")]),
            td(3, &[("API_HOST", "10.0.0.7")]),
        ],
        "logs": [log("t1", 1, "started"), log("t2", 5, "cannot reach 10.0.0.7")],
    }));
    let report = analyze(&snap, &r);
    let w = &report.what_changed[0];
    assert_eq!(
        (w.failing.as_str(), w.base.as_deref()),
        ("app:2", Some("app:1")),
        "{w:?}"
    );
    assert!(w.last_good);
}

#[test]
fn only_specific_resources_tie_a_finding_to_an_account_change() {
    for yes in [
        "rtb-0abc12345678",
        "sg-0123456789abcdef0",
        "arn:aws:iam::1:role/api-exec",
        "/ecs/payments-api",
    ] {
        assert!(changes::specific(yes), "{yes}");
    }
    for no in ["api", "payments-api", "prod", "rtb-1", "my-service-name"] {
        assert!(!changes::specific(no), "{no}");
    }
}

/// Revision 2 ran from a deployment with another security group and its tasks pulled a
/// new digest under the same tag: both are listed beside the task-definition diff, and a
/// rule that can be triggered by either names the one its evidence mentions.
#[test]
fn what_changed_lists_deployment_fields_and_the_digests_tasks_ran() {
    let r = rules(&[&format!(
        r#"id = "TST060"
name = "exec"
title = "t"
severity = "critical"
message = "exec format error in {{digest}}"
triggered_by = ["security-groups", "image-digest"]
[[signal]]
source = "log"
pattern = 'exec format error in (?P<digest>sha256:[a-f0-9]+)'
{DOCS}"#
    )]);
    let ran = |id: &str, rev: i64, digest: &str| {
        let mut t = task(id, rev, "STOPPED", &[]);
        t["containers"] = serde_json::json!([{"name": "app", "image_digest": digest}]);
        t
    };
    let deployment = |rev: i64, sg: &str, state: &str| {
        serde_json::json!({
            "id": format!("ecs-svc/{rev}"), "status": "ACTIVE",
            "task_definition": format!("app:{rev}"), "rollout_state": state,
            "created_at": format!("2025-01-01T0{rev}:00:00Z"),
            "network": {"subnets": ["subnet-1"], "security_groups": [sg]},
            "launch_type": "FARGATE", "platform_version": "1.4.0",
        })
    };
    let snap = world(serde_json::json!({
        "services": [{"name": "app", "deployments": [
            deployment(1, "sg-1111", "COMPLETED"), deployment(2, "sg-2222", "FAILED")]}],
        "tasks": [ran("t1", 1, "sha256:aaaa"), ran("t2", 2, "sha256:bbbb")],
        "task_definitions": [td(1, &[]), td(2, &[])],
        "logs": [log("t1", 1, "listening"), log("t2", 5, "exec format error in sha256:bbbb")],
    }));
    let report = analyze(&snap, &r);
    let w = &report.what_changed[0];
    assert_eq!(w.decided_by, "its service deployment completed");
    let fields: Vec<String> = w.changes.iter().map(|c| c.describe("->")).collect();
    assert_eq!(
        fields,
        [
            "service app security groups: sg-1111 -> sg-2222",
            "app image digest: sha256:aaaa -> sha256:bbbb",
        ]
    );
    assert_eq!(
        report.findings[0].likely_trigger.as_deref(),
        Some("began with app:2, which changed app image digest: sha256:aaaa -> sha256:bbbb")
    );
}

/// The last good revision's task definition is not in the snapshot: the comparison says
/// it was not made, rather than that nothing differs.
#[test]
fn what_changed_says_not_compared_when_a_task_definition_is_missing() {
    let r = rules(&[&simple_rule("TST070", "cannot connect", "critical", &[])]);
    let snap = world(serde_json::json!({
        "tasks": [task("t1", 1, "STOPPED", &[]), task("t2", 2, "RUNNING", &[])],
        "task_definitions": [td(2, &[("DB_HOST", "db-b")])],
        "logs": [log("t1", 1, "listening"), log("t2", 5, "cannot connect")],
    }));
    let report = analyze(&snap, &r);
    let w = &report.what_changed[0];
    assert_eq!(w.base.as_deref(), Some("app:1"));
    assert!(w.changes.is_empty());
    assert_eq!(
        crate::render::what_changed_none(w).as_deref(),
        Some("app:1 not in the snapshot, so the task definitions were not compared")
    );
}

/// The failure appeared at revision 2 (DB_HOST moved) and revision 3 only changed a
/// flag: the trigger names revision 2 and its change, not the newest failing revision.
#[test]
fn likely_trigger_names_the_first_revision_where_the_finding_appeared() {
    let r = rules(&[&format!(
        r#"id = "TST080"
name = "dns"
title = "t"
severity = "critical"
message = "cannot resolve {{host}}"
triggered_by = ["env"]
[[signal]]
source = "log"
pattern = 'cannot resolve (?P<host>[a-z0-9.-]+)'
{DOCS}"#
    )]);
    let snap = world(serde_json::json!({
        "tasks": [
            task("t1", 1, "STOPPED", &[]), task("t2", 2, "STOPPED", &[]),
            task("t3", 3, "RUNNING", &[]),
        ],
        "task_definitions": [
            td(1, &[("A_FLAG", "1"), ("DB_HOST", "db-a.internal")]),
            td(2, &[("A_FLAG", "1"), ("DB_HOST", "db-b.internal")]),
            td(3, &[("A_FLAG", "2"), ("DB_HOST", "db-b.internal")]),
        ],
        "logs": [
            log("t1", 1, "listening"),
            log("t2", 3, "cannot resolve db-b.internal"),
            log("t3", 5, "cannot resolve db-b.internal"),
        ],
    }));
    let report = analyze(&snap, &r);
    assert_eq!(report.what_changed[0].failing, "app:3");
    assert_eq!(
        report.findings[0].likely_trigger.as_deref(),
        Some("began with app:2, which changed app env DB_HOST: db-a.internal -> db-b.internal")
    );
}
