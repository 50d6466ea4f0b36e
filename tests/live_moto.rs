//! Live collection end to end against a real AWS API peer (the moto server): each test
//! seeds a broken set-up modelled on a seed incident through the API, runs
//! `sickbay doctor --endpoint-url ... --cluster ... -o json` and asserts the ranked
//! findings. moto cannot produce stop codes, non-zero exit codes, container reasons,
//! service events or unhealthy targets; those conversions are tested with
//! aws-smithy-mocks in `collect_mocks.rs`.

#[path = "support/moto.rs"]
mod moto;

#[path = "support/seed.rs"]
mod seed;

use aws_sdk_ec2::types::{IpPermission, IpRange, UserIdGroupPair};
use moto::{all_rules, doctor, report, rules, sickbay_cmd, unique};
use seed::{finding, rt, Aws, Net};

/// Seed 002 (hydrous): an arm64 image on X86_64 Fargate. The essential container exits
/// with `exec format error` in its log; a second service cannot pull its image through a
/// subnet without a route to the registry (and never created a log stream). Every
/// service in the cluster is collected (no --service).
#[test]
fn stopped_tasks_exec_format_error_and_pull_timeout() {
    let cluster = unique("hydrous");
    let group = format!("/ecs/{cluster}");
    rt().block_on(async {
        let aws = Aws::new().await;
        let net = aws.network(31).await;
        aws.cluster(&cluster).await;
        aws.log_group(&group).await;
        let rev = aws
            .task_def("hydrous-api", "api", "1234.dkr.ecr.us-east-1.amazonaws.com/api:latest", &[], &group)
            .await;
        let td = format!("hydrous-api:{rev}");
        aws.service(&cluster, "api", &td, &net).await;
        let t = aws.run_task(&cluster, &td, "service:api", &net).await;
        aws.put_logs(
            &group,
            &format!("ecs/api/{t}"),
            20,
            &["exec /usr/local/bin/uvicorn: exec format error"],
        )
        .await;
        aws.stop_task(&cluster, &t, "Essential container in task exited").await;

        let rev = aws
            .task_def("hydrous-web", "web", "nginx:latest", &[], &group)
            .await;
        let td = format!("hydrous-web:{rev}");
        // The puller's subnet has no way out at all.
        let (subnet, _) = aws.isolated_subnet(&net.vpc, "10.31.2.0/24").await;
        let private = Net { subnet, sg: net.sg.clone(), vpc: net.vpc.clone() };
        aws.service(&cluster, "web", &td, &private).await;
        let t = aws.run_task(&cluster, &td, "service:web", &private).await;
        aws.stop_task(
            &cluster,
            &t,
            "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref docker.io/library/nginx:latest: failed to do request: Head \"https://registry-1.docker.io/v2/library/nginx/manifests/latest\": dial tcp 54.236.113.205:443: i/o timeout",
        )
        .await;
    });
    let r = report(&doctor(&["--cluster", &cluster]));
    assert_eq!(r["status"], "complete", "{:#}", r["incomplete"]);
    let ids = rules(&r);
    assert!(ids.contains(&"IMG001".to_string()), "{ids:?}");
    // The pull timeout is verified: the web service's subnet has no way to the
    // internet, and the stopped reason folds under that cause.
    let net012 = finding(&r, "NET012");
    assert!(
        net012["services"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("web")),
        "{net012:#}"
    );
    assert!(
        net012["message"].as_str().unwrap().contains("internet"),
        "{net012:#}"
    );
    assert!(all_rules(&r).contains(&"IMG003".to_string()), "{ids:?}");
    assert!(
        ids.iter().position(|i| i == "IMG001")
            < ids.iter().position(|i| i == "ECS016").or(Some(usize::MAX))
    );
    assert!(finding(&r, "IMG001")["services"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!("api")));
    // The puller never logged: its stream is recorded as missing.
    assert!(all_rules(&r).contains(&"ECS016".to_string()), "{ids:?}");
}

/// Seed 001 (medusa): revision 1 cannot verify the RDS certificate
/// (SELF_SIGNED_CERT_IN_CHAIN); revision 2 ships the CA bundle and then fails on missing
/// relations (migrations never ran). DB001 is the current cause, TLS001 superseded. The
/// saved snapshot replays to the same findings.
#[test]
fn tls_then_missing_relation_across_revisions_and_replay() {
    let cluster = unique("medusa");
    let group = format!("/ecs/{cluster}");
    let family = unique("medusa-backend");
    let db = "postgres://medusa:hunter2@medusa-db.cluster-abc.us-east-1.rds.amazonaws.com:5432/medusa?sslmode=require";
    rt().block_on(async {
        let aws = Aws::new().await;
        let net = aws.network(32).await;
        aws.cluster(&cluster).await;
        aws.log_group(&group).await;
        let r1 = aws
            .task_def(&family, "backend", "1234.dkr.ecr.us-east-1.amazonaws.com/backend:v1.0.1", &[("DATABASE_URL", db)], &group)
            .await;
        let r2 = aws
            .task_def(
                &family,
                "backend",
                "1234.dkr.ecr.us-east-1.amazonaws.com/backend:v1.0.2",
                &[("DATABASE_URL", db), ("NODE_EXTRA_CA_CERTS", "/app/certs/rds-global-bundle.pem")],
                &group,
            )
            .await;
        let td1 = format!("{family}:{r1}");
        let td2 = format!("{family}:{r2}");
        aws.service(&cluster, "backend", &td2, &net).await;
        let t1 = aws.run_task(&cluster, &td1, "service:backend", &net).await;
        aws.put_logs(
            &group,
            &format!("ecs/backend/{t1}"),
            50,
            &[
                "> medusa start",
                r#"{"level":"error","message":"Pg connection failed to connect to the database. Retrying...\nError: self-signed certificate in certificate chain","code":"SELF_SIGNED_CERT_IN_CHAIN"}"#,
            ],
        )
        .await;
        aws.stop_task(&cluster, &t1, "Essential container in task exited").await;
        let t2 = aws.run_task(&cluster, &td2, "service:backend", &net).await;
        aws.put_logs(
            &group,
            &format!("ecs/backend/{t2}"),
            10,
            &[
                "> medusa start",
                r#"{"level":"error","message":"Loaders for module Tax failed: relation \"public.tax_provider\" does not exist"}"#,
            ],
        )
        .await;
        aws.stop_task(&cluster, &t2, "Essential container in task exited").await;
    });
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("incident.json");
    let live = report(&doctor(&[
        "--cluster",
        &cluster,
        "--service",
        "backend",
        "--since",
        "2h",
        "--save",
        saved.to_str().unwrap(),
    ]));
    let ids = rules(&live);
    let db001 = ids.iter().position(|i| i == "DB001").expect("DB001");
    let tls001 = ids.iter().position(|i| i == "TLS001").expect("TLS001");
    assert!(db001 < tls001, "{ids:?}");
    assert_eq!(finding(&live, "DB001")["recency"], "current");
    assert_eq!(finding(&live, "TLS001")["recency"], "superseded");

    // The saved snapshot is redacted and replays to the same findings.
    let text = std::fs::read_to_string(&saved).unwrap();
    assert!(!text.contains("hunter2"), "password saved in the snapshot");
    // The deployment keeps its own network configuration, for what-changed diffs.
    let snap: serde_json::Value = serde_json::from_str(&text).unwrap();
    let service = &snap["services"][0];
    let deployed = &service["deployments"][0]["network"];
    assert!(
        deployed["subnets"]
            .as_array()
            .is_some_and(|s| !s.is_empty()),
        "{service:#}"
    );
    assert_eq!(deployed, &service["network"], "{service:#}");
    let replay = report(
        &moto::sickbay_cmd()
            .args([
                "doctor",
                "--snapshot",
                saved.to_str().unwrap(),
                "-o",
                "json",
                "--fail-on",
                "never",
            ])
            .output()
            .unwrap(),
    );
    assert_eq!(rules(&replay), ids);
    assert_eq!(
        replay["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| &f["message"])
            .collect::<Vec<_>>(),
        live["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| &f["message"])
            .collect::<Vec<_>>()
    );
}

/// Seed 000 (supabase): studio's env hard-codes the IP of a pg-meta task that was
/// replaced; no running task or interface has it and the logs show EHOSTUNREACH. A
/// standalone family (`--family`) is collected alongside.
#[test]
fn stale_hardcoded_task_ip() {
    let cluster = unique("supabase");
    let group = format!("/ecs/{cluster}");
    let etl = unique("etl");
    rt().block_on(async {
        let aws = Aws::new().await;
        let net = aws.network(33).await;
        aws.cluster(&cluster).await;
        aws.log_group(&group).await;
        let rev = aws
            .task_def(
                "studio",
                "studio",
                "supabase/studio:latest",
                &[("STUDIO_PG_META_URL", "http://10.0.101.151:8080")],
                &group,
            )
            .await;
        let td = format!("studio:{rev}");
        aws.service(&cluster, "studio", &td, &net).await;
        let t = aws.run_task(&cluster, &td, "service:studio", &net).await;
        aws.put_logs(
            &group,
            &format!("ecs/studio/{t}"),
            5,
            &["Error: connect EHOSTUNREACH 10.0.101.151:8080"],
        )
        .await;
        let rev = aws.task_def(&etl, "etl", "etl:latest", &[], &group).await;
        let td = format!("{etl}:{rev}");
        let t = aws
            .run_task(&cluster, &td, &format!("family:{etl}"), &net)
            .await;
        aws.stop_task(&cluster, &t, "Essential container in task exited")
            .await;
    });
    let r = report(&doctor(&[
        "--cluster",
        &cluster,
        "--service",
        "studio",
        "--family",
        &etl,
    ]));
    let ids = rules(&r);
    assert_eq!(ids.first().map(String::as_str), Some("NET001"), "{ids:?}");
    let fams = r["target"]["families"].as_array().unwrap();
    assert!(fams.contains(&serde_json::json!(etl)), "{fams:?}");
}

/// The database's security group has no rule for the service's group on 5432; the RDS
/// endpoint comes from DescribeDBInstances, the groups from DescribeSecurityGroups.
#[test]
fn security_group_missing_db_rule() {
    let cluster = unique("shop");
    let group = format!("/ecs/{cluster}");
    let db_id = unique("shopdb");
    rt().block_on(async {
        let aws = Aws::new().await;
        let net = aws.network(34).await;
        let db_sg = aws.sg(&net.vpc, "db").await;
        // Only the bastion may connect, not the service.
        let bastion = aws.sg(&net.vpc, "bastion").await;
        aws.ec2
            .authorize_security_group_ingress()
            .group_id(&db_sg)
            .ip_permissions(
                IpPermission::builder()
                    .ip_protocol("tcp")
                    .from_port(5432)
                    .to_port(5432)
                    .user_id_group_pairs(UserIdGroupPair::builder().group_id(&bastion).build())
                    .ip_ranges(IpRange::builder().cidr_ip("192.168.0.0/24").build())
                    .build(),
            )
            .send()
            .await
            .unwrap();
        aws.rds
            .create_db_instance()
            .db_instance_identifier(&db_id)
            .engine("postgres")
            .db_instance_class("db.t3.micro")
            .allocated_storage(20)
            .master_username("app")
            .master_user_password("app-password-1")
            .vpc_security_group_ids(&db_sg)
            .send()
            .await
            .unwrap();
        let d = aws
            .rds
            .describe_db_instances()
            .db_instance_identifier(&db_id)
            .send()
            .await
            .unwrap();
        let host = d.db_instances()[0]
            .endpoint()
            .unwrap()
            .address()
            .unwrap()
            .to_string();
        aws.cluster(&cluster).await;
        aws.log_group(&group).await;
        let url = format!("postgres://app@{host}:5432/shop");
        let rev = aws
            .task_def(
                "shop-api",
                "api",
                "shop/api:1",
                &[("DATABASE_URL", &url)],
                &group,
            )
            .await;
        let td = format!("shop-api:{rev}");
        aws.service(&cluster, "api", &td, &net).await;
        let t = aws.run_task(&cluster, &td, "service:api", &net).await;
        aws.put_logs(
            &group,
            &format!("ecs/api/{t}"),
            5,
            &[&format!("Error: connect ETIMEDOUT {host}:5432")],
        )
        .await;
    });
    let r = report(&doctor(&["--cluster", &cluster, "--service", "api"]));
    let ids = rules(&r);
    assert_eq!(ids.first().map(String::as_str), Some("NET008"), "{ids:?}");
    let msg = finding(&r, "NET008")["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(msg.contains(&db_id) && msg.contains("5432"), "{msg}");
}

/// `--db auto` (the default) probes the databases the live task definitions name;
/// `--db off` does not. The URL names a host that a hosts file maps to loopback, on a
/// closed port, so the probe's TCP stage is refused without leaving the machine.
#[test]
fn live_collection_probes_discovered_databases_unless_off() {
    let cluster = unique("dbprobe");
    let group = format!("/ecs/{cluster}");
    let closed = moto::free_port();
    rt().block_on(async {
        let aws = Aws::new().await;
        let net = aws.network(35).await;
        aws.cluster(&cluster).await;
        aws.log_group(&group).await;
        let url = format!("postgres://app@db.probe.test:{closed}/shop");
        let rev = aws
            .task_def(
                "probe-api",
                "api",
                "shop/api:1",
                &[("DATABASE_URL", &url)],
                &group,
            )
            .await;
        let td = format!("probe-api:{rev}");
        aws.service(&cluster, "api", &td, &net).await;
    });
    let hosts = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(hosts.path(), "127.0.0.1 db.probe.test\n").unwrap();
    let run = |db: &[&str]| {
        let o = moto::sickbay_cmd()
            .env("SICKBAY_HOSTS_FILE", hosts.path())
            .args([
                "doctor",
                "--endpoint-url",
                &moto::moto().url,
                "--cluster",
                &cluster,
            ])
            .args(["--service", "api", "-o", "json", "--fail-on", "never"])
            .args(["--cloudtrail", "off", "--iam-simulate", "off"])
            .args(db)
            .output()
            .unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        report(&o)
    };
    let r = run(&[]);
    let probes = r["db_probes"].as_array().expect("db_probes");
    let p = probes
        .iter()
        .find(|p| p["target"] == format!("db.probe.test:{closed}/shop"))
        .unwrap_or_else(|| panic!("no probe of the URL: {probes:#?}"));
    let tcp = p["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stage"] == "tcp")
        .unwrap();
    assert_eq!(
        (tcp["status"].as_str(), tcp["code"].as_str()),
        (Some("fail"), Some("refused")),
        "{p:#}"
    );
    assert!(p["origin"].as_str().unwrap().contains("DATABASE_URL"));
    // The name resolved to loopback, so the refusal reads as a localhost one.
    let ids = rules(&r);
    assert!(
        ids.iter().any(|r| r == "NET003" || r == "NET004"),
        "{ids:?}"
    );
    let r = run(&["--db", "off"]);
    assert!(r["db_probes"].as_array().unwrap().is_empty());
}

/// An unknown cluster is one clear line and exit 2.
#[test]
fn unknown_cluster_exits_2() {
    moto::moto();
    let o = doctor(&["--cluster", "no-such-cluster-anywhere"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        err.trim_end(),
        "error: cluster no-such-cluster-anywhere not found in us-east-1; check --cluster and --region"
    );
}

/// A service that keeps running but degrades: three running tasks each log 3,000 lines
/// over 50 minutes, and the only failure (a refused connection to the database host) is
/// in each stream's first five lines. `--logs tail` keeps the last 200 lines of each
/// stream and misses it; `insights`, `filter` and the default (`auto`, which reads a
/// window this small in full) each find it, count all 15 lines across the three
/// streams, and say when it was first and last seen. (moto's Insights ignores the query's `filter` commands and
/// its FilterLogEvents treats an OR pattern as "everything", so here every line comes
/// back and the rules do all the filtering; `tests/logs_search.rs` pins the queries and
/// patterns, and `bench/logs_window.py` models the server's filtering.)
#[test]
fn window_finds_an_early_failure_that_the_tail_misses() {
    let cluster = unique("degrading");
    let group = format!("/ecs/{cluster}");
    rt().block_on(async {
        let aws = Aws::new().await;
        let net = aws.network(36).await;
        aws.cluster(&cluster).await;
        aws.log_group(&group).await;
        let rev = aws
            .task_def("degrading-api", "api", "nginx:latest", &[], &group)
            .await;
        let td = format!("degrading-api:{rev}");
        aws.service(&cluster, "api", &td, &net).await;
        for _ in 0..3 {
            let t = aws.run_task(&cluster, &td, "service:api", &net).await;
            let mut lines = vec!["Error: connect ECONNREFUSED 10.36.9.9:5432"; 5];
            lines.extend(std::iter::repeat_n("GET /health 200 1ms", 2995));
            aws.put_logs(&group, &format!("ecs/api/{t}"), 55, &lines)
                .await;
        }
    });
    let tail = report(&doctor(&["--cluster", &cluster, "--logs", "tail"]));
    assert!(
        !all_rules(&tail).contains(&"NET004".to_string()),
        "{:?}",
        all_rules(&tail)
    );
    let note = tail["notes"].as_array().unwrap().iter().find(|n| {
        n.as_str()
            .unwrap()
            .starts_with(&format!("Logs of {group}: only the last lines"))
    });
    assert!(note.is_some(), "{:#}", tail["notes"]);

    let notes = [
        (
            Some("insights"),
            "the whole window searched with Logs Insights queries for the rules' literals (9600 lines fetched from 3 streams; 3 matching lines kept, repeats within a stream folded), plus the last lines of each stream.",
        ),
        (
            Some("filter"),
            "the whole window searched with filter patterns for the rules' literals (9600 lines fetched from 3 streams; 3 matching lines kept, repeats within a stream folded), plus the last lines of each stream.",
        ),
        (
            None,
            "every line of the window tested against the rules (9000 lines in 3 streams; 3 matching lines kept, repeats within a stream folded).",
        ),
    ];
    for (mode, note) in notes {
        let started = chrono::Utc::now();
        let mut args = vec!["--cluster", &cluster];
        if let Some(m) = mode {
            args.extend(["--logs", m]);
        }
        let r = report(&doctor(&args));
        let f = finding(&r, "NET004");
        assert_eq!(f["occurrences"], 15, "{mode:?}: {f:#}");
        let at = |k: &str| {
            chrono::DateTime::parse_from_rfc3339(f[k].as_str().unwrap())
                .unwrap()
                .with_timezone(&chrono::Utc)
        };
        let (first, last) = (at("first_seen"), at("last_seen"));
        assert!(first < last, "{first} {last}");
        assert!(
            last - first < chrono::Duration::minutes(2),
            "{first} {last}"
        );
        assert!(started - first > chrono::Duration::minutes(54), "{first}");
        assert!(started - last < chrono::Duration::minutes(56), "{last}");
        let note = format!("Logs of {group}: {note}");
        assert!(
            r["notes"]
                .as_array()
                .unwrap()
                .contains(&serde_json::json!(note)),
            "{mode:?}: {:#}",
            r["notes"]
        );
    }
}

/// A service that has crash-looped for hours: the tasks that logged the failure are
/// gone from ECS (it lists stopped tasks for about an hour), but their streams are
/// still in the group. The default read finds them by last event (DescribeLogStreams,
/// newest first) under the running task's prefix and container, and counts their
/// lines; a stream of another container, one older than the window and `--logs tail`
/// are left out.
#[test]
fn streams_of_earlier_tasks_are_searched() {
    let cluster = unique("earlier");
    let group = format!("/ecs/{cluster}");
    rt().block_on(async {
        let aws = Aws::new().await;
        let net = aws.network(38).await;
        aws.cluster(&cluster).await;
        aws.log_group(&group).await;
        let rev = aws
            .task_def("earlier-api", "api", "nginx:latest", &[], &group)
            .await;
        let td = format!("earlier-api:{rev}");
        aws.service(&cluster, "api", &td, &net).await;
        let t = aws.run_task(&cluster, &td, "service:api", &net).await;
        aws.put_logs(
            &group,
            &format!("ecs/api/{t}"),
            5,
            &["GET /health 200 1ms"; 20],
        )
        .await;
        let refused = ["Error: connect ECONNREFUSED 10.38.9.9:5432"; 4];
        for old in [
            "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
            "1a1b2c3d4e5f60718293a4b5c6d7e8f9",
        ] {
            aws.put_logs(&group, &format!("ecs/api/{old}"), 90, &refused)
                .await;
        }
        // Another container's stream, and a stream older than the window.
        aws.put_logs(
            &group,
            "ecs/sidecar/2a1b2c3d4e5f60718293a4b5c6d7e8f9",
            90,
            &refused,
        )
        .await;
        aws.put_logs(
            &group,
            "ecs/api/3a1b2c3d4e5f60718293a4b5c6d7e8f9",
            600,
            &refused,
        )
        .await;
    });
    let r = report(&doctor(&["--cluster", &cluster, "--since", "3h"]));
    let f = finding(&r, "NET004");
    assert_eq!(f["occurrences"], 8, "{f:#}");
    let note = format!(
        "Logs of {group}: every line of the window tested against the rules (28 lines in 3 streams; 2 matching lines kept, repeats within a stream folded)."
    );
    assert!(
        r["notes"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!(note)),
        "{:#}",
        r["notes"]
    );
    let tail = report(&doctor(&[
        "--cluster",
        &cluster,
        "--since",
        "3h",
        "--logs",
        "tail",
    ]));
    assert!(
        !all_rules(&tail).contains(&"NET004".to_string()),
        "{:?}",
        all_rules(&tail)
    );
}

/// `sickbay diff FAMILY:1 FAMILY:2` reads both revisions from ECS: the changed host is
/// shown, the password inside the URL only as fingerprints; a missing revision is one
/// line and exit 2.
#[test]
fn diff_registered_revisions() {
    let family = unique("difffam");
    let group = format!("/ecs/{family}");
    let (r1, r2) = rt().block_on(async {
        let aws = Aws::new().await;
        let a = aws
            .task_def(
                &family,
                "app",
                "app:1",
                &[("DATABASE_URL", "postgres://u:Pa55-word-one@db-a:5432/x")],
                &group,
            )
            .await;
        let b = aws
            .task_def(
                &family,
                "app",
                "app:2",
                &[("DATABASE_URL", "postgres://u:Pa55-word-two@db-b:5432/x")],
                &group,
            )
            .await;
        (a, b)
    });
    let run = |a: &str, b: &str| {
        sickbay_cmd()
            .args([
                "diff",
                a,
                b,
                "--endpoint-url",
                &moto::moto().url,
                "-o",
                "json",
            ])
            .output()
            .unwrap()
    };
    let o = run(&format!("{family}:{r1}"), &format!("{family}:{r2}"));
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(!text.contains("Pa55-word"), "{text}");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let fields: Vec<&str> = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["image", "env DATABASE_URL"], "{v:#}");
    let url = &v["changes"][1];
    assert_eq!(url["secret"], true);
    assert!(
        url["after"].as_str().unwrap().contains("@db-b:5432"),
        "{url}"
    );

    let o = run(&format!("{family}:{r1}"), &format!("{family}:99"));
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.starts_with(&format!("error: task definition {family}:99: ")),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
}

/// What changed, live: revision 1 ran and logged normally; revision 2 moved
/// DATABASE_URL to a host that does not resolve. The report names revision 1 as last
/// good, lists the changed variable (password as fingerprints), and the DNS finding names
/// that change as its likely trigger. A second family that failed in both revisions says
/// plainly that there is no last good revision.
#[test]
fn what_changed_live_names_last_good_and_trigger() {
    let cluster = unique("changed");
    let group = format!("/ecs/{cluster}");
    let fam = unique("changed-api");
    let bad = unique("changed-worker");
    rt().block_on(async {
        let aws = Aws::new().await;
        let net = aws.network(37).await;
        aws.cluster(&cluster).await;
        aws.log_group(&group).await;
        let url = |host: &str| format!("postgres://app:Hunter-2-secret@{host}:5432/app");
        let r1 = aws
            .task_def(
                &fam,
                "api",
                "api:1",
                &[("DATABASE_URL", &url("db-a.internal"))],
                &group,
            )
            .await;
        let t = aws
            .run_task(&cluster, &format!("{fam}:{r1}"), "service:api", &net)
            .await;
        aws.put_logs(&group, &format!("ecs/api/{t}"), 50, &["listening on :8080"])
            .await;
        aws.stop_task(&cluster, &t, "Scaling activity initiated by deployment")
            .await;
        let r2 = aws
            .task_def(
                &fam,
                "api",
                "api:1",
                &[("DATABASE_URL", &url("db-b.internal"))],
                &group,
            )
            .await;
        aws.service(&cluster, "api", &format!("{fam}:{r2}"), &net)
            .await;
        let t = aws
            .run_task(&cluster, &format!("{fam}:{r2}"), "service:api", &net)
            .await;
        aws.put_logs(
            &group,
            &format!("ecs/api/{t}"),
            20,
            &["Error: getaddrinfo ENOTFOUND db-b.internal"],
        )
        .await;
        for image in ["worker:1", "worker:2"] {
            let rev = aws.task_def(&bad, "worker", image, &[], &group).await;
            let t = aws
                .run_task(&cluster, &format!("{bad}:{rev}"), "worker", &net)
                .await;
            aws.put_logs(
                &group,
                &format!("ecs/worker/{t}"),
                30,
                &["exec /app/worker: exec format error"],
            )
            .await;
        }
    });
    let o = doctor(&["--cluster", &cluster, "--service", "api", "--family", &bad]);
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(!text.contains("Hunter-2"), "a password leaked");
    let r = report(&o);
    let changed = r["what_changed"].as_array().unwrap();
    let api = changed
        .iter()
        .find(|w| w["family"] == fam.as_str())
        .unwrap_or_else(|| {
            panic!(
                "{:#} {:#} {:?}",
                r["what_changed"],
                r["timeline"],
                rules(&r)
            )
        });
    assert_eq!(api["base"], format!("{fam}:1"), "{api:#}");
    assert_eq!(api["last_good"], true, "{api:#}");
    let c = &api["changes"][0];
    assert_eq!(c["field"], "env DATABASE_URL", "{api:#}");
    assert!(
        c["after"].as_str().unwrap().contains("@db-b.internal:5432"),
        "{c}"
    );
    assert_eq!(c["secret"], true);
    let dns = finding(&r, "NET005");
    let trigger = dns["likely_trigger"].as_str().unwrap_or_default();
    assert!(
        trigger.starts_with(&format!(
            "began with {fam}:2, which changed api env DATABASE_URL"
        )),
        "{dns:#}"
    );
    let worker = changed
        .iter()
        .find(|w| w["family"] == bad.as_str())
        .expect("worker entry");
    assert_eq!(worker["last_good"], false, "{worker:#}");
    assert_eq!(worker["decided_by"], "no last good revision in the window");
}
