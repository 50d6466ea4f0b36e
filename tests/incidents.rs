//! Regression tests named after the seed incidents: the causes the write-ups took days
//! to find must come out of the bundled snapshots by themselves, in the right order.

use sickbay::report::{Recency, Report};
use sickbay::{analyze, RuleSet};

fn report(name: &str) -> Report {
    let path = format!(
        "{}/fixtures/incidents/{name}/snapshot.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let snap = sickbay::snapshot::load_snapshot(std::path::Path::new(&path)).unwrap();
    analyze(&snap, &RuleSet::builtin().unwrap())
}

fn rank(r: &Report, id: &str) -> usize {
    r.findings
        .iter()
        .find(|f| f.rule == id)
        .map(|f| f.rank)
        .unwrap_or_else(|| panic!("{id} not among top-level findings: {:?}", ids(r)))
}

fn ids(r: &Report) -> Vec<&str> {
    r.findings.iter().map(|f| f.rule.as_str()).collect()
}

fn folded_under(r: &Report, cause: &str, symptom: &str) -> bool {
    r.findings
        .iter()
        .any(|f| f.rule == cause && f.explains.iter().any(|c| c.rule == symptom))
}

#[test]
fn seed_000_supabase_stale_ip_compose_names_localhost() {
    let r = report("000-supabase-stale-task-ip");
    assert_eq!(r.findings[0].rule, "NET001", "{:?}", ids(&r));
    assert!(r.findings[0].message.contains("10.0.101.151"));
    assert!(r.findings[0].message.contains("STUDIO_PG_META_URL"));
    for id in ["NET002", "NET003", "CFG001", "NET009"] {
        assert!(
            rank(&r, id) <= 6,
            "{id} should be near the top: {:?}",
            ids(&r)
        );
    }
    let churn = r
        .churn
        .iter()
        .find(|c| c.family == "supabase-studio")
        .expect("studio churn");
    assert!(churn.revisions >= 10);
    assert!(churn.persisting.iter().any(|p| p == "NET001"));
    // Fix commands carry the real names.
    assert!(r.findings[0]
        .fix
        .iter()
        .any(|s| s.contains("--cluster supabase-production")));
}

#[test]
fn seed_001_medusa_tls_fixed_then_migrations() {
    let r = report("001-medusa-rds-ca-then-migrations");
    assert_eq!(r.findings[0].rule, "DB001", "{:?}", ids(&r));
    let tls = r
        .findings
        .iter()
        .find(|f| f.rule == "TLS001")
        .expect("TLS001");
    assert_eq!(tls.recency, Recency::Superseded);
    assert!(rank(&r, "ECS016") < rank(&r, "TLS001"));
    // The write-up's table: v9 SSL error -> v11 SSL fixed, not migrated -> v12 no logs.
    let tl = r
        .timeline
        .iter()
        .find(|t| t.family == "ysh-b2b-backend")
        .unwrap();
    let row = |rev: i64| tl.revisions.iter().find(|x| x.revision == rev).unwrap();
    assert!(row(9).findings.contains(&"TLS001".to_string()));
    assert!(row(11).findings.contains(&"DB001".to_string()));
    assert!(row(11).cleared.contains(&"TLS001".to_string()));
    assert!(row(12).findings.contains(&"ECS016".to_string()));
    assert!(!row(12).has_logs);
}

#[test]
fn seed_002_hydrous_arm64_image() {
    let r = report("002-hydrous-arm64-image");
    // The registry says hydrous:latest is arm64-only: the verified cause leads, and the
    // exec format error and the exit it causes fold under it.
    assert_eq!(r.findings[0].rule, "IMG013", "{:?}", ids(&r));
    assert!(folded_under(&r, "IMG013", "IMG001"), "{:?}", ids(&r));
    assert!(folded_under(&r, "IMG013", "ECS001"), "{:?}", ids(&r));
    assert!(r.findings[0]
        .message
        .contains("hydrous:latest offers only linux/arm64"));
    assert!(r.findings[0].fix.iter().any(|s| s.contains("linux/amd64")));
    // Revision 6's amd64 image is fine.
    assert!(!r.findings[0].message.contains("20250318"));
}

#[test]
fn seed_003_fluxion_scheduled_etl() {
    let r = report("003-fluxion-scheduled-etl");
    for id in ["ECS015", "NET010", "DB008"] {
        assert!(rank(&r, id) <= 3, "{id}: {:?}", ids(&r));
    }
}

#[test]
fn seed_004_docker_host_shared_jwt() {
    let r = report("004-supabase-docker-host-shared-jwt");
    for id in ["SEC001", "APP003"] {
        assert!(rank(&r, id) <= 3, "{id}: {:?}", ids(&r));
    }
    let sec = r.findings.iter().find(|f| f.rule == "SEC001").unwrap();
    assert!(sec
        .evidence
        .iter()
        .all(|e| !e.excerpt.contains("9f878Nhjk3TJ")));
}

/// What changed, on the seeds: revision 11 of the medusa backend added the CA bundle
/// setting, which cleared TLS001 (and DB001 appeared); supabase-studio's
/// STUDIO_PG_META_URL moved to another task IP between revisions 11 and 12.
#[test]
fn seeds_say_what_changed() {
    let r = report("001-medusa-rds-ca-then-migrations");
    let w = &r.what_changed[0];
    assert_eq!(w.failing, "ysh-b2b-backend:11");
    assert_eq!(w.cleared, ["TLS001"]);
    assert_eq!(w.appeared, ["DB001"]);
    assert!(w
        .changes
        .iter()
        .any(|c| c.field == "env NODE_EXTRA_CA_CERTS" && c.before.is_none()));

    let r = report("000-supabase-stale-task-ip");
    let w = r
        .what_changed
        .iter()
        .find(|w| w.family == "supabase-studio")
        .expect("studio entry");
    let c = w
        .changes
        .iter()
        .find(|c| c.field == "env STUDIO_PG_META_URL")
        .expect("STUDIO_PG_META_URL changed");
    assert_eq!(c.before.as_deref(), Some("http://10.0.100.6:8080"));
    assert_eq!(c.after.as_deref(), Some("http://10.0.101.151:8080"));
}

/// The start-path fixture: each broken link is its own finding naming its resource, the
/// verified network path leads because the stopped task's i/o timeout corroborates it,
/// fixes carry real IDs, and the existing secret's value was never read.
#[test]
fn start_path_fixture() {
    let path = format!(
        "{}/fixtures/start-path/snapshot.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let snap = sickbay::snapshot::load_snapshot(std::path::Path::new(&path)).unwrap();
    let r = analyze(&snap, &RuleSet::builtin().unwrap());
    assert_eq!(r.findings[0].rule, "NET012", "{:?}", ids(&r));
    assert!(folded_under(&r, "NET012", "ECS012"), "{:?}", ids(&r));
    for id in ["ECS022", "IAM003", "IMG013", "SEC004", "IAM004"] {
        assert!(rank(&r, id) <= 6, "{id}: {:?}", ids(&r));
    }
    assert!(folded_under(&r, "IMG013", "CFG010"), "{:?}", ids(&r));
    for f in &r.findings {
        for fix in &f.fix {
            for placeholder in [
                "<vpc>",
                "<subnets>",
                "<route_tables>",
                "<nat>",
                "<role_name>",
                "<group>",
            ] {
                assert!(!fix.contains(placeholder), "{}: {fix}", f.rule);
            }
        }
    }
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains("planted-not-read"));
    // CloudTrail: the route deleted before the failure is NET012's likely trigger; the
    // deployment that touched only the service's name claims nothing.
    let net = r.findings.iter().find(|f| f.rule == "NET012").unwrap();
    let trigger = net.likely_trigger.as_deref().unwrap_or_default();
    assert!(
        trigger.starts_with("began after DeleteRoute on rtb-")
            && trigger.contains("by terraform-ci"),
        "{trigger}"
    );
    assert!(r.findings.iter().all(|f| !f
        .likely_trigger
        .as_deref()
        .unwrap_or_default()
        .contains("UpdateService")));
    assert_eq!(r.account_changes.len(), 2);
}
