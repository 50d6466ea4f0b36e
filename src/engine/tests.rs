//! Unit tests of the engine on small hand-built snapshots: each test states the
//! behaviour in its name.

use super::*;

#[test]
fn template_fills_known_and_marks_unknown() {
    let mut v = BTreeMap::new();
    v.insert("cluster".to_string(), "prod".to_string());
    assert_eq!(
        fill_template(
            "aws ecs describe-services --cluster {cluster} --services {service}",
            &v
        ),
        "aws ecs describe-services --cluster prod --services <service>"
    );
    assert_eq!(
        fill_template("- ${SUPAVISOR_PORT}:6543 on {cluster}", &v),
        "- ${SUPAVISOR_PORT}:6543 on prod"
    );
    assert_eq!(
        fill_template("json {\"a\": 1} {x y}", &v),
        "json {\"a\": 1} {x y}"
    );
}

#[test]
fn template_spaces_lists_and_treats_empty_as_unknown() {
    let mut v = BTreeMap::new();
    v.insert(
        "subnets".to_string(),
        "subnet-1,subnet-2, subnet-3".to_string(),
    );
    v.insert("nat".to_string(), String::new());
    assert_eq!(
        fill_template("--subnet-ids {subnets|spaced} --nat-gateway-id {nat}", &v),
        "--subnet-ids subnet-1 subnet-2 subnet-3 --nat-gateway-id <nat>"
    );
    assert_eq!(
        fill_template("{subnets}", &v),
        "subnet-1,subnet-2, subnet-3"
    );
    assert_eq!(fill_template("{missing|spaced}", &v), "<missing>");
}

// ---------------------------------------------------------------- small worlds

fn rule(toml: &str) -> Rule {
    crate::rules::parse_rule(toml, "test.toml").expect("test rule parses")
}

fn rules(tomls: &[&str]) -> RuleSet {
    RuleSet::from_rules(tomls.iter().map(|t| rule(t)).collect()).unwrap()
}

/// A snapshot from JSON: `tasks` (id, revision of family `app`, status, IPs), log lines
/// per task, and task definitions with environment variables.
fn world(v: serde_json::Value) -> Sealed {
    let mut base = serde_json::json!({
        "schema_version": 1,
        "captured_at": "2025-01-01T12:00:00Z",
        "target": {"cluster": "demo", "region": "us-east-1"},
    });
    for (k, x) in v.as_object().unwrap() {
        base[k] = x.clone();
    }
    Sealed::new(serde_json::from_value(base).expect("test snapshot"))
}

fn task(id: &str, rev: i64, status: &str, ips: &[&str]) -> serde_json::Value {
    serde_json::json!({
        "id": id, "task_definition": format!("app:{rev}"), "group": "service:app",
        "last_status": status, "desired_status": status, "private_ips": ips,
    })
}

fn log(task: &str, minute: u32, message: &str) -> serde_json::Value {
    serde_json::json!({
        "group": "/ecs/app", "stream": format!("ecs/app/{task}"),
        "timestamp": format!("2025-01-01T11:{minute:02}:00Z"),
        "message": message, "task_id": task, "container": "app",
    })
}

fn td(rev: i64, env: &[(&str, &str)]) -> serde_json::Value {
    let env: Vec<_> = env
        .iter()
        .map(|(n, v)| serde_json::json!({"name": n, "value": v}))
        .collect();
    serde_json::json!({
        "family": "app", "revision": rev,
        "registered_at": format!("2025-01-01T0{rev}:00:00Z"),
        "containers": [{"name": "app", "image": "app:latest", "essential": true, "environment": env}],
    })
}

const DOCS: &str = "[docs]\nwhy = \"w\"\nfix = [\"f\"]\n";

/// Log says it cannot reach an IP; the env hard-codes the same IP (a join on `ip`).
fn join_rule() -> String {
    format!(
        r#"id = "TST001"
name = "join"
title = "t"
severity = "high"
message = "m {{ip}} {{var}}"
[[signal]]
source = "log"
pattern = 'cannot reach (?P<ip>\d+\.\d+\.\d+\.\d+)'
[[signal]]
source = "task-definition"
field = "env"
pattern = '^(?P<var>[A-Z_]+)=(?P<ip>\d+\.\d+\.\d+\.\d+)$'
{DOCS}"#
    )
}

fn not_live_rule() -> String {
    format!(
        r#"id = "TST002"
name = "not-live"
title = "t"
severity = "high"
message = "m {{ip}}"
[[signal]]
source = "log"
pattern = 'cannot reach (?P<ip>\d+\.\d+\.\d+\.\d+)'
[[condition]]
capture = "ip"
not_in = "live_ips"
{DOCS}"#
    )
}

fn simple_rule(id: &str, word: &str, severity: &str, explains: &[&str]) -> String {
    format!(
        "id = \"{id}\"\nname = \"r\"\ntitle = \"t\"\nseverity = \"{severity}\"\nmessage = \"m\"\nexplains = {explains:?}\n[[signal]]\nsource = \"log\"\npattern = '{word}'\n{DOCS}"
    )
}

fn ids(report: &Report) -> Vec<&str> {
    report.findings.iter().map(|f| f.rule.as_str()).collect()
}

#[test]
fn join_fires_only_when_the_shared_capture_agrees_across_signals() {
    let r = rules(&[&join_rule()]);
    let logs = serde_json::json!([log("t1", 1, "cannot reach 10.0.0.7")]);
    let agree = world(serde_json::json!({
        "tasks": [task("t1", 1, "RUNNING", &[])], "logs": logs,
        "task_definitions": [td(1, &[("API_HOST", "10.0.0.7")])],
    }));
    let report = analyze(&agree, &r);
    assert_eq!(ids(&report), ["TST001"]);
    assert_eq!(report.findings[0].message, "m 10.0.0.7 API_HOST");
    let differ = world(serde_json::json!({
        "tasks": [task("t1", 1, "RUNNING", &[])], "logs": logs,
        "task_definitions": [td(1, &[("API_HOST", "10.0.0.8")])],
    }));
    assert!(analyze(&differ, &r).findings.is_empty());
}

#[test]
fn not_in_condition_drops_a_value_that_is_in_the_set() {
    let r = rules(&[&not_live_rule()]);
    let snap = |ip: &str| {
        world(serde_json::json!({
            "tasks": [task("t1", 1, "RUNNING", &[ip])],
            "logs": [log("t1", 1, "cannot reach 10.0.0.7")],
        }))
    };
    assert!(
        analyze(&snap("10.0.0.7"), &r).findings.is_empty(),
        "live IP"
    );
    let report = analyze(&snap("10.0.0.9"), &r);
    assert_eq!(ids(&report), ["TST002"]);
    assert_eq!(report.findings[0].message, "m 10.0.0.7");
}

/// 300 distinct live IPs come first in the log; the one IP no task has comes last. The
/// binding cap (256) used to keep only the first bindings and miss it.
#[test]
fn binding_cap_never_hides_the_only_binding_that_satisfies_a_condition() {
    let live: Vec<String> = (0..300)
        .map(|i| format!("10.1.{}.{}", i / 200, i % 200))
        .collect();
    let live_refs: Vec<&str> = live.iter().map(String::as_str).collect();
    let mut logs: Vec<_> = live
        .iter()
        .map(|ip| log("t1", 1, &format!("cannot reach {ip}")))
        .collect();
    logs.push(log("t1", 2, "cannot reach 10.9.9.9"));
    let snap = world(serde_json::json!({
        "tasks": [task("t1", 1, "RUNNING", &live_refs)], "logs": logs,
    }));
    let report = analyze(&snap, &rules(&[&not_live_rule()]));
    assert_eq!(ids(&report), ["TST002"]);
    assert_eq!(report.findings[0].message, "m 10.9.9.9");
}

/// Same for a join: 300 env values come first, the one that matches the log last.
#[test]
fn binding_cap_never_hides_the_only_binding_that_joins() {
    let env: Vec<(String, String)> = (0..300)
        .map(|i| (format!("HOST_{i}"), format!("10.2.{}.{}", i / 200, i % 200)))
        .chain([("DB_HOST".to_string(), "10.0.0.7".to_string())])
        .collect();
    let env_refs: Vec<(&str, &str)> = env.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let mut logs: Vec<_> = (0..300)
        .map(|i| {
            log(
                "t1",
                1,
                &format!("cannot reach 10.3.{}.{}", i / 200, i % 200),
            )
        })
        .collect();
    logs.push(log("t1", 2, "cannot reach 10.0.0.7"));
    let snap = world(serde_json::json!({
        "tasks": [task("t1", 1, "RUNNING", &[])], "logs": logs,
        "task_definitions": [td(1, &env_refs)],
    }));
    let report = analyze(&snap, &rules(&[&join_rule()]));
    assert_eq!(ids(&report), ["TST001"]);
    assert_eq!(report.findings[0].message, "m 10.0.0.7 DB_HOST");
}

#[test]
fn a_symptom_folds_under_the_cause_that_explains_it() {
    let r = rules(&[
        &simple_rule("TST010", "root cause", "high", &["TST011"]),
        &simple_rule("TST011", "symptom", "critical", &[]),
        &simple_rule("TST012", "unrelated", "low", &[]),
    ]);
    let snap = world(serde_json::json!({
        "tasks": [task("t1", 1, "RUNNING", &[])],
        "logs": [log("t1", 1, "root cause"), log("t1", 2, "symptom"), log("t1", 3, "unrelated")],
    }));
    let report = analyze(&snap, &r);
    assert_eq!(ids(&report), ["TST010", "TST012"]);
    let folded: Vec<&str> = report.findings[0]
        .explains
        .iter()
        .map(|f| f.rule.as_str())
        .collect();
    assert_eq!(folded, ["TST011"]);
    // Without the cause the symptom stands on its own.
    let alone = world(serde_json::json!({
        "tasks": [task("t1", 1, "RUNNING", &[])],
        "logs": [log("t1", 2, "symptom")],
    }));
    assert_eq!(ids(&analyze(&alone, &r)), ["TST011"]);
}

/// Revision 1 logged the error; revision 2 ran later and logged without it.
#[test]
fn a_finding_seen_only_in_a_replaced_revision_is_superseded_and_ranked_lower() {
    let r = rules(&[
        &simple_rule("TST020", "old failure", "critical", &[]),
        &simple_rule("TST021", "new failure", "medium", &[]),
    ]);
    let snap = world(serde_json::json!({
        "tasks": [task("t1", 1, "STOPPED", &[]), task("t2", 2, "RUNNING", &[])],
        "task_definitions": [td(1, &[]), td(2, &[])],
        "logs": [log("t1", 1, "old failure"), log("t2", 5, "new failure")],
    }));
    let report = analyze(&snap, &r);
    assert_eq!(ids(&report), ["TST021", "TST020"]);
    let old = &report.findings[1];
    assert_eq!(old.recency, Recency::Superseded);
    assert_eq!(
        old.superseded_note.as_deref(),
        Some("last seen in app:1; not seen in app:2, which ran later")
    );
    assert_eq!(report.findings[0].recency, Recency::Current);
}

/// Five revisions registered within 72 hours, each still showing the failure.
#[test]
fn five_revisions_in_a_short_window_with_the_same_failure_is_churn() {
    let r = rules(&[&simple_rule("TST030", "still broken", "high", &[])]);
    let revs: Vec<i64> = (1..=5).collect();
    let snap = |n: usize| {
        world(serde_json::json!({
            "tasks": revs[..n].iter().map(|&v| task(&format!("t{v}"), v, "STOPPED", &[])).collect::<Vec<_>>(),
            "task_definitions": revs[..n].iter().map(|&v| td(v, &[])).collect::<Vec<_>>(),
            "logs": revs[..n].iter().map(|&v| log(&format!("t{v}"), v as u32, "still broken")).collect::<Vec<_>>(),
        }))
    };
    let report = analyze(&snap(5), &r);
    assert_eq!(report.churn.len(), 1, "{:?}", report.churn);
    assert_eq!(report.churn[0].family, "app");
    assert!(
        analyze(&snap(4), &r).churn.is_empty(),
        "four revisions are not churn"
    );
}

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
fn per_makes_one_finding_per_capture_value() {
    let mut snap = Snapshot::default();
    for r in ["a", "b"] {
        snap.roles.push(crate::snapshot::RoleCheck {
            arn: format!("arn:aws:iam::1:role/{r}"),
            exists: false,
            trusts_ecs_tasks: None,
        });
    }
    let td: crate::snapshot::TaskDefinition = serde_json::from_value(serde_json::json!({
        "family": "api", "revision": 1,
        "execution_role_arn": "arn:aws:iam::1:role/a",
        "task_role_arn": "arn:aws:iam::1:role/b",
        "containers": [{"name": "app", "image": "nginx"}]
    }))
    .unwrap();
    snap.task_definitions.push(td);
    snap.services.push(crate::snapshot::Service {
        name: "api".into(),
        task_definition: Some("api:1".into()),
        ..Default::default()
    });
    let text = |per: &str| {
        format!(
            r#"id = "TST001"
name = "t"
title = "t"
severity = "high"
message = "role {{role_name}}"
{per}
[[signal]]
source = "fact"
field = "role"
pattern = '''^role=\S+ role_name=(?P<role_name>\S+) kind=\S+ exists=false'''
[docs]
why = "w"
fix = ["aws iam get-role --role-name {{role_name}}"]
"#
        )
    };
    let ix = Index::build(&snap);
    let one = rule(&text(""));
    assert_eq!(evaluate(&one, &ix).len(), 1);
    let split = rule(&text(r#"per = "role_name""#));
    assert_eq!(evaluate(&split, &ix).len(), 2);
    let rs = RuleSet::from_rules(vec![split.clone()]).unwrap();
    let report = analyze(&crate::snapshot::Sealed::new(snap), &rs);
    let mut msgs: Vec<&str> = report.findings.iter().map(|f| f.message.as_str()).collect();
    msgs.sort();
    assert_eq!(msgs, ["role a", "role b"]);
    assert!(report
        .findings
        .iter()
        .any(|f| f.fix == ["aws iam get-role --role-name b"]));
    // A `per` that names no capture is a load error with its position.
    let bad = crate::rules::parse_rule(&text(r#"per = "nope""#), "t.toml")
        .unwrap_err()
        .to_string();
    assert!(bad.contains("t.toml:6:") && bad.contains("`per`"), "{bad}");
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

/// The log gate never changes what a signal matches: over every example of the built-in
/// pack (and their upper- and lower-case spellings) as log lines, each log-reading
/// signal finds the same groups with the gate as without it.
#[test]
fn the_log_gate_keeps_every_match_of_the_pack() {
    let rules = RuleSet::builtin().unwrap();
    let mut logs = Vec::new();
    for r in &rules.rules {
        for e in &r.examples {
            for text in [e.text.clone(), e.text.to_uppercase(), e.text.to_lowercase()] {
                logs.push(serde_json::json!({
                    "group": "/ecs/app", "stream": "ecs/app/t1", "message": text,
                    "task_id": "t1", "container": "app",
                }));
            }
        }
    }
    let snap = world(serde_json::json!({ "logs": logs }));
    let ix = Index::build(&snap);
    let gate = gate::Gate::new(&rules, &ix).expect("log records");
    let mut gated_away = 0usize;
    for (ri, r) in rules.rules.iter().enumerate() {
        for (si, s) in r.signals.iter().enumerate() {
            let Some(range) = gate.signal(ri, si, s.patterns.len()) else {
                continue;
            };
            let open = match_signal(s, &ix, None);
            let gated = match_signal(s, &ix, Some((&gate, range)));
            let key = |g: &[Group]| -> Vec<(Caps, Vec<usize>)> {
                g.iter()
                    .map(|x| (x.caps.clone(), x.records.clone()))
                    .collect()
            };
            assert_eq!(key(&gated), key(&open), "{} signal {si}", r.id);
            gated_away += ix
                .records_of(Source::Log, None)
                .filter(|&i| !gate.admits(i, range))
                .count();
        }
    }
    assert!(
        gated_away > 0,
        "the gate skipped nothing: the test proves nothing"
    );
}
