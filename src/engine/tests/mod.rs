//! Unit tests of the engine on small hand-built snapshots: each test states the
//! behaviour in its name.

use super::*;

mod changes;

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
