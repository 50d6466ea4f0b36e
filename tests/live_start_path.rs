//! The start path, verified live against moto: for each Fargate service, whether every
//! subnet has a way to the AWS services its task definition needs (NET012), and whether
//! its log groups exist (ECS022), before any task has failed. A healthy control service
//! in the same cluster must raise neither, and fixes must carry the real IDs.

#[path = "support/moto.rs"]
mod moto;
#[path = "support/seed.rs"]
mod seed;

use moto::{doctor, report, rules, unique};
use seed::{finding, rt, Aws, Net};
use serde_json::Value;

const ECR_IMAGE: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/api:1";

fn services_of(f: &Value) -> Vec<String> {
    f["services"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|s| s.as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Every finding of `rule` (rules with `per` make one per resource).
fn findings_of<'a>(r: &'a Value, rule: &str) -> Vec<&'a Value> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

fn fixes(f: &Value) -> String {
    f["fix"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

/// No task has run yet: the private service is still reported, with the subnet, route
/// table and VPC in its fix commands; the control service behind a NAT gateway is not.
#[test]
fn private_subnet_and_missing_log_group_before_any_task() {
    let cluster = unique("startpath");
    let good_group = format!("/ecs/{cluster}/ok");
    let missing_group = format!("/ecs/{cluster}/never-created");
    let (net, subnet, rtb) = rt().block_on(async {
        let aws = Aws::new().await;
        let net = aws.network(41).await;
        aws.cluster(&cluster).await;
        aws.log_group(&good_group).await;
        let (subnet, rtb) = aws.isolated_subnet(&net.vpc, "10.41.2.0/24").await;
        let private = Net {
            subnet: subnet.clone(),
            sg: net.sg.clone(),
            vpc: net.vpc.clone(),
        };
        let rev = aws
            .task_def("sp-api", "api", ECR_IMAGE, &[], &missing_group)
            .await;
        aws.service(&cluster, "api", &format!("sp-api:{rev}"), &private)
            .await;
        let rev = aws
            .task_def("sp-ok", "ok", ECR_IMAGE, &[], &good_group)
            .await;
        aws.service(&cluster, "ok", &format!("sp-ok:{rev}"), &net)
            .await;
        (net, subnet, rtb)
    });
    let r = report(&doctor(&["--cluster", &cluster]));
    assert_eq!(r["status"], "complete", "{:#}", r["incomplete"]);
    let ids = rules(&r);
    let f = finding(&r, "NET012");
    assert_eq!(services_of(f), ["api"], "{f:#}");
    let msg = f["message"].as_str().unwrap();
    for want in [
        subnet.as_str(),
        "ecr.api",
        "ecr.dkr",
        "logs",
        "s3",
        "no default route",
    ] {
        assert!(msg.contains(want), "{want} not in {msg}");
    }
    let fix = fixes(f);
    assert!(fix.contains(&format!("for rtb in {rtb}; do")), "{fix}");
    assert!(fix.contains(&format!("--vpc-id {}", net.vpc)), "{fix}");
    assert!(fix.contains(&format!("--subnet-ids {subnet} ")), "{fix}");
    assert!(fix.contains("for s in ecr.api ecr.dkr logs; do"), "{fix}");
    assert!(fix.contains("com.amazonaws.us-east-1.s3"), "{fix}");
    // The control VPC's NAT gateway is the one to route through.
    assert!(fix.contains("--nat-gateway-id nat-"), "{fix}");
    assert!(
        !fix.contains("<vpc>") && !fix.contains("<subnets>"),
        "{fix}"
    );

    let g = finding(&r, "ECS022");
    assert!(
        g["message"].as_str().unwrap().contains(&missing_group),
        "{g:#}"
    );
    assert_eq!(services_of(g), ["api"], "{g:#}");
    assert!(fixes(g).contains(&format!(
        "aws logs create-log-group --log-group-name {missing_group}"
    )));
    // Neither start-path rule fires for the healthy service.
    for f in r["findings"].as_array().unwrap() {
        if f["rule"] == "NET012" || f["rule"] == "ECS022" {
            assert!(!services_of(f).contains(&"ok".to_string()), "{f:#}");
        }
    }
    assert!(
        ids.iter().position(|i| i == "NET012")
            < ids.iter().position(|i| i == "CFG002").or(Some(usize::MAX))
    );
}

/// Interface endpoints with private DNS and an S3 gateway endpoint make a private subnet
/// whole; an endpoint with private DNS off does not, and the finding says so.
#[test]
fn vpc_endpoints_count_as_a_way_out_only_when_usable() {
    let cluster = unique("endpoints");
    let group = format!("/ecs/{cluster}");
    let (subnet, logs_endpoint) = rt().block_on(async {
        let aws = Aws::new().await;
        let net = aws.network(42).await;
        aws.cluster(&cluster).await;
        aws.log_group(&group).await;
        let (subnet, rtb) = aws.isolated_subnet(&net.vpc, "10.42.2.0/24").await;
        let vpce_sg = aws.sg(&net.vpc, "vpce").await;
        aws.allow_tcp(&vpce_sg, 443, &net.sg).await;
        let mut logs_endpoint = String::new();
        for (svc, dns) in [("ecr.api", true), ("ecr.dkr", true), ("logs", false)] {
            let out = aws
                .ec2
                .create_vpc_endpoint()
                .vpc_id(&net.vpc)
                .vpc_endpoint_type(aws_sdk_ec2::types::VpcEndpointType::Interface)
                .service_name(format!("com.amazonaws.us-east-1.{svc}"))
                .subnet_ids(&subnet)
                .security_group_ids(&vpce_sg)
                .private_dns_enabled(dns)
                .send()
                .await
                .unwrap();
            if svc == "logs" {
                logs_endpoint = out
                    .vpc_endpoint()
                    .unwrap()
                    .vpc_endpoint_id()
                    .unwrap()
                    .to_string();
            }
        }
        aws.ec2
            .create_vpc_endpoint()
            .vpc_id(&net.vpc)
            .vpc_endpoint_type(aws_sdk_ec2::types::VpcEndpointType::Gateway)
            .service_name("com.amazonaws.us-east-1.s3")
            .route_table_ids(&rtb)
            .send()
            .await
            .unwrap();
        let private = Net {
            subnet: subnet.clone(),
            sg: net.sg.clone(),
            vpc: net.vpc.clone(),
        };
        let rev = aws.task_def("ep-api", "api", ECR_IMAGE, &[], &group).await;
        aws.service(&cluster, "api", &format!("ep-api:{rev}"), &private)
            .await;
        (subnet, logs_endpoint)
    });
    let r = report(&doctor(&["--cluster", &cluster]));
    let f = finding(&r, "NET012");
    let msg = f["message"].as_str().unwrap();
    assert!(
        msg.contains(&format!("{subnet} cannot reach logs:")),
        "{msg}"
    );
    assert!(
        msg.contains(&format!(
            "endpoint {logs_endpoint} for logs: private DNS is off"
        )),
        "{msg}"
    );
    assert!(fixes(f).contains("for s in logs; do"), "{}", fixes(f));
}

/// Secrets and parameters are checked by metadata only: the missing ones are named, the
/// existing ones are not, and the value of an existing secret or parameter appears
/// nowhere (JSON, Markdown, `--save`), because it is never requested.
#[test]
fn missing_secret_and_parameter_are_named_and_values_never_read() {
    use aws_sdk_ecs::types::{ContainerDefinition, Secret};
    const PLANTED: &str = "sb-planted-value-9f8e7d6c5b4a3210";
    let cluster = unique("secrets");
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("saved.json");
    let (good_arn, missing_arn) = rt().block_on(async {
        let cfg = moto::sdk_config().await;
        let aws = Aws::new().await;
        let sm = aws_sdk_secretsmanager::Client::new(&cfg);
        let ssm = aws_sdk_ssm::Client::new(&cfg);
        let net = aws.network(43).await;
        aws.cluster(&cluster).await;
        let good = sm
            .create_secret()
            .name(unique("prod/db"))
            .secret_string(PLANTED)
            .send()
            .await
            .unwrap();
        let good_arn = good.arn().unwrap().to_string();
        let param = format!("/{}/api-key", unique("prod"));
        ssm.put_parameter()
            .name(&param)
            .value(PLANTED)
            .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
            .send()
            .await
            .unwrap();
        let missing_arn = format!(
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:{}-AbCdEf",
            unique("gone")
        );
        let secrets = [
            ("DB_PASSWORD", good_arn.clone()),
            ("OLD_TOKEN", format!("{missing_arn}:token::")),
            ("API_KEY", param.clone()),
            ("SIGNING_KEY", "/prod/never-created".to_string()),
        ];
        let mut c = ContainerDefinition::builder()
            .name("api")
            .image("nginx:1.27")
            .memory(512)
            .essential(true);
        for (n, v) in secrets {
            c = c.secrets(Secret::builder().name(n).value_from(v).build().unwrap());
        }
        aws.fargate_td("sec-api", c, |r| r).await;
        aws.service(&cluster, "api", "sec-api", &net).await;
        (good_arn, missing_arn)
    });
    let out = doctor(&["--cluster", &cluster, "--save", saved.to_str().unwrap()]);
    let r = report(&out);
    assert_eq!(r["status"], "complete", "{:#}", r["incomplete"]);
    let found = findings_of(&r, "SEC004");
    assert_eq!(found.len(), 2, "one finding per missing reference");
    let text = serde_json::to_string(&found).unwrap();
    assert!(text.contains(&missing_arn), "{text}");
    assert!(text.contains("/prod/never-created"), "{text}");
    assert!(
        text.contains("OLD_TOKEN") && text.contains("SIGNING_KEY"),
        "{text}"
    );
    assert!(
        !text.contains(&good_arn) && !text.contains("API_KEY"),
        "{text}"
    );
    assert!(rules(&r).contains(&"SEC004".to_string()));
    let md = moto::sickbay_cmd()
        .args([
            "doctor",
            "--snapshot",
            saved.to_str().unwrap(),
            "-o",
            "markdown",
            "--fail-on",
            "never",
        ])
        .output()
        .unwrap();
    let saved_text = std::fs::read_to_string(&saved).unwrap();
    assert!(
        saved_text.contains("\"secret_refs\""),
        "the checks are saved for replay"
    );
    for (what, blob) in [
        ("json", String::from_utf8_lossy(&out.stdout).to_string()),
        ("stderr", String::from_utf8_lossy(&out.stderr).to_string()),
        ("markdown", String::from_utf8_lossy(&md.stdout).to_string()),
        ("--save", saved_text),
    ] {
        assert!(!blob.contains(PLANTED), "{what} carries a secret value");
    }
    // Replayed offline, the saved checks give the same finding.
    assert!(String::from_utf8_lossy(&md.stdout).contains("SEC004"));
}

/// An OCI image index offering `platforms`, pushed under `tag` with its real digest
/// (moto would invent one).
async fn push_index(ecr: &aws_sdk_ecr::Client, repo: &str, tag: &str, platforms: &[&str]) {
    use sha2::Digest;
    let manifests: Vec<Value> = platforms
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let (os, arch) = p.split_once('/').unwrap();
            serde_json::json!({
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": format!("sha256:{:064x}", i + 1),
                "size": 1000,
                "platform": {"os": os, "architecture": arch}
            })
        })
        .collect();
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": manifests
    })
    .to_string();
    let digest = format!("sha256:{:x}", sha2::Sha256::digest(index.as_bytes()));
    ecr.put_image()
        .repository_name(repo)
        .image_manifest(&index)
        .image_manifest_media_type("application/vnd.oci.image.index.v1+json")
        .image_tag(tag)
        .image_digest(digest)
        .send()
        .await
        .unwrap();
}

/// ECR is read for the images in use: an arm64-only index for an X86_64 Fargate task is
/// seed 002's exec format error caught before it runs (IMG013), a tag that was never
/// pushed is IMG012, and a multi-platform image raises neither.
#[test]
fn ecr_missing_tag_and_arm64_only_index_for_x86_task() {
    let cluster = unique("ecr");
    let group = format!("/ecs/{cluster}");
    let repo = unique("hydrous/api");
    let registry = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
    let (arm, gone, multi) = (
        format!("{registry}/{repo}:arm-only"),
        format!("{registry}/{repo}:never-pushed"),
        format!("{registry}/{repo}:multi"),
    );
    rt().block_on(async {
        let cfg = moto::sdk_config().await;
        let ecr = aws_sdk_ecr::Client::new(&cfg);
        let aws = Aws::new().await;
        let net = aws.network(44).await;
        aws.cluster(&cluster).await;
        aws.log_group(&group).await;
        ecr.create_repository()
            .repository_name(&repo)
            .send()
            .await
            .unwrap();
        push_index(&ecr, &repo, "arm-only", &["linux/arm64"]).await;
        push_index(&ecr, &repo, "multi", &["linux/amd64", "linux/arm64"]).await;
        for (svc, image) in [("arm", &arm), ("gone", &gone), ("multi", &multi)] {
            let fam = format!("ecr-{svc}");
            let rev = aws.task_def(&fam, svc, image, &[], &group).await;
            aws.service(&cluster, svc, &format!("{fam}:{rev}"), &net)
                .await;
        }
    });
    let r = report(&doctor(&["--cluster", &cluster]));
    assert_eq!(r["status"], "complete", "{:#}", r["incomplete"]);
    let f = finding(&r, "IMG013");
    let msg = f["message"].as_str().unwrap();
    assert!(
        msg.contains(&arm)
            && msg.contains("offers only linux/arm64")
            && msg.contains("run on linux/amd64"),
        "{msg}"
    );
    assert_eq!(services_of(f), ["arm"]);
    let g = finding(&r, "IMG012");
    let msg = g["message"].as_str().unwrap();
    assert!(
        msg.contains(&gone) && msg.contains("ImageNotFoundException"),
        "{msg}"
    );
    assert_eq!(services_of(g), ["gone"]);
    for f in r["findings"].as_array().unwrap() {
        assert!(
            !services_of(f).contains(&"multi".to_string())
                || !f["rule"].as_str().unwrap().starts_with("IMG"),
            "{f:#}"
        );
    }
}

/// Roles are read with GetRole: a missing execution role and a task role that only
/// Lambda may assume are named; a role ECS tasks may assume raises nothing.
#[test]
fn missing_and_untrusted_roles_are_named() {
    use aws_sdk_ecs::types::ContainerDefinition;
    let cluster = unique("roles");
    let trust = |svc: &str| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Service":"{svc}"}},"Action":"sts:AssumeRole"}}]}}"#
        )
    };
    let (ok_role, lambda_role, gone_role) = (
        unique("exec-ok"),
        unique("task-lambda"),
        unique("exec-gone"),
    );
    let arn = |n: &str| format!("arn:aws:iam::123456789012:role/{n}");
    rt().block_on(async {
        let cfg = moto::sdk_config().await;
        let iam = aws_sdk_iam::Client::new(&cfg);
        let aws = Aws::new().await;
        let net = aws.network(45).await;
        aws.cluster(&cluster).await;
        for (name, svc) in [
            (&ok_role, "ecs-tasks.amazonaws.com"),
            (&lambda_role, "lambda.amazonaws.com"),
        ] {
            iam.create_role()
                .role_name(name)
                .assume_role_policy_document(trust(svc))
                .send()
                .await
                .unwrap();
        }
        for (svc, exec, task) in [
            ("bad", arn(&gone_role), arn(&lambda_role)),
            ("good", arn(&ok_role), arn(&ok_role)),
        ] {
            let c = ContainerDefinition::builder()
                .name(svc)
                .image("nginx:1.27")
                .memory(512)
                .essential(true);
            aws.fargate_td(&format!("roles-{svc}"), c, |r| {
                r.execution_role_arn(exec).task_role_arn(task)
            })
            .await;
            aws.service(&cluster, svc, &format!("roles-{svc}"), &net)
                .await;
        }
    });
    let r = report(&doctor(&["--cluster", &cluster]));
    assert_eq!(r["status"], "complete", "{:#}", r["incomplete"]);
    let found = findings_of(&r, "IAM003");
    assert_eq!(found.len(), 2, "one finding per role");
    let gone = found
        .iter()
        .find(|f| f["message"].as_str().unwrap().contains(&gone_role))
        .expect("the missing role");
    let msg = gone["message"].as_str().unwrap();
    assert!(
        msg.starts_with(&format!("The execution role {gone_role} of roles-bad:1"))
            && msg.contains("exists=false"),
        "{msg}"
    );
    assert!(
        fixes(gone).contains(&format!("--role-name {gone_role} --")),
        "{}",
        fixes(gone)
    );
    let lambda = found
        .iter()
        .find(|f| f["message"].as_str().unwrap().contains(&lambda_role))
        .expect("the untrusted role");
    let msg = lambda["message"].as_str().unwrap();
    assert!(
        msg.starts_with(&format!("The task role {lambda_role}"))
            && msg.contains("trusts ecs-tasks.amazonaws.com: no"),
        "{msg}"
    );
    let text = serde_json::to_string(&found).unwrap();
    assert!(!text.contains(&ok_role), "{text}");
    for f in &found {
        assert_eq!(services_of(f), ["bad"]);
    }
}

/// `sickbay verify FILE`: the same checks for a task-definition file before it is
/// deployed, placed as an existing service (its private subnet) or by flags. Exit codes
/// follow --fail-on, so a pipeline can gate on it.
#[test]
fn verify_a_file_before_deploy() {
    let cluster = unique("verify");
    let group_ok = format!("/ecs/{cluster}/ok");
    let dir = tempfile::tempdir().unwrap();
    let (net, private_subnet) = rt().block_on(async {
        let aws = Aws::new().await;
        let net = aws.network(46).await;
        aws.cluster(&cluster).await;
        aws.log_group(&group_ok).await;
        let (subnet, _) = aws.isolated_subnet(&net.vpc, "10.46.2.0/24").await;
        let private = Net {
            subnet: subnet.clone(),
            sg: net.sg.clone(),
            vpc: net.vpc.clone(),
        };
        let rev = aws
            .task_def("vf-api", "api", "nginx:1.27", &[], &group_ok)
            .await;
        aws.service(&cluster, "api", &format!("vf-api:{rev}"), &private)
            .await;
        (net, subnet)
    });
    let td = |image: &str, group: &str, secret: Option<&str>| {
        let mut c = serde_json::json!({
            "name": "api", "image": image, "essential": true, "memory": 512,
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": group, "awslogs-region": "us-east-1", "awslogs-stream-prefix": "ecs"}}
        });
        if let Some(s) = secret {
            c["secrets"] = serde_json::json!([{"name": "DB_PASSWORD", "valueFrom": s}]);
        }
        serde_json::json!({
            "family": "vf-api", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"],
            "cpu": "256", "memory": "512", "containerDefinitions": [c]
        })
        .to_string()
    };
    let bad = dir.path().join("bad.json");
    let missing_group = format!("/ecs/{cluster}/typo");
    std::fs::write(
        &bad,
        td(
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/nowhere:1",
            &missing_group,
            Some("arn:aws:secretsmanager:us-east-1:123456789012:secret:vf-missing-AbCdEf"),
        ),
    )
    .unwrap();
    let run = |file: &std::path::Path, extra: &[&str], fail_on: &str| {
        moto::sickbay_cmd()
            .args(["verify", file.to_str().unwrap(), "--cluster", &cluster])
            .args([
                "--endpoint-url",
                &moto::moto().url,
                "--iam-simulate",
                "off",
                "-o",
                "json",
                "--fail-on",
                fail_on,
            ])
            .args(extra)
            .output()
            .unwrap()
    };
    let o = run(&bad, &["--service", "api"], "high");
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    let ids = rules(&r);
    for want in ["NET012", "IMG012", "SEC004", "ECS022"] {
        assert!(
            ids.contains(&want.to_string()),
            "{want} missing from {ids:?}"
        );
    }
    let net012 = finding(&r, "NET012");
    assert!(
        net012["message"]
            .as_str()
            .unwrap()
            .contains(&private_subnet),
        "{net012:#}"
    );
    assert!(finding(&r, "ECS022")["message"]
        .as_str()
        .unwrap()
        .contains(&missing_group));

    // The same service placed by flags in the subnet with a NAT route, with a file
    // whose log group exists and that needs no secret: nothing on the start path.
    let good = dir.path().join("good.json");
    std::fs::write(&good, td("nginx:1.27", &group_ok, None)).unwrap();
    let o = run(
        &good,
        &[
            "--service",
            "api",
            "--subnets",
            &net.subnet,
            "--security-groups",
            &net.sg,
        ],
        "critical",
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    let ids = rules(&r);
    for never in ["NET012", "IMG012", "IMG013", "SEC004", "ECS022", "IAM003"] {
        assert!(!ids.contains(&never.to_string()), "{never} in {ids:?}");
    }
    assert_eq!(r["status"], "complete", "{:#}", r["incomplete"]);

    // Not a task definition: one line, exit 2.
    let junk = dir.path().join("junk.json");
    std::fs::write(&junk, "{\"hello\": 1}").unwrap();
    let o = run(&junk, &[], "high");
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr)
            .trim_end()
            .lines()
            .count(),
        1,
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A task-definition volume `data` on EFS file system `fs`.
fn data_volume(fs: &str) -> aws_sdk_ecs::types::Volume {
    use aws_sdk_ecs::types::{EfsVolumeConfiguration, Volume};
    let efs = EfsVolumeConfiguration::builder()
        .file_system_id(fs)
        .build()
        .unwrap();
    Volume::builder()
        .name("data")
        .efs_volume_configuration(efs)
        .build()
}

/// EFS: a service in two zones whose file system has a mount target in one zone only,
/// and whose mount target's group does not admit NFS from the tasks.
#[test]
fn efs_mount_target_missing_in_a_zone_and_nfs_blocked() {
    use aws_sdk_ecs::types::ContainerDefinition;
    let cluster = unique("efs");
    let (subnet_b, fs_id) = rt().block_on(async {
        let cfg = moto::sdk_config().await;
        let efs = aws_sdk_efs::Client::new(&cfg);
        let aws = Aws::new().await;
        let net = aws.network(47).await;
        aws.cluster(&cluster).await;
        // Two subnets in two zones of their own (moto places a subnet without a zone in
        // any of them); both use the main route table, which has the NAT route.
        let mut zoned = Vec::new();
        for (cidr, az) in [
            ("10.47.3.0/24", "us-east-1a"),
            ("10.47.2.0/24", "us-east-1b"),
        ] {
            let id = aws
                .ec2
                .create_subnet()
                .vpc_id(&net.vpc)
                .cidr_block(cidr)
                .availability_zone(az)
                .send()
                .await
                .unwrap()
                .subnet()
                .unwrap()
                .subnet_id()
                .unwrap()
                .to_string();
            zoned.push(id);
        }
        let (subnet_a, subnet_b) = (zoned[0].clone(), zoned[1].clone());
        let efs_sg = aws.sg(&net.vpc, "efs").await;
        let fs = efs
            .create_file_system()
            .creation_token(unique("fs"))
            .send()
            .await
            .unwrap()
            .file_system_id()
            .to_string();
        efs.create_mount_target()
            .file_system_id(&fs)
            .subnet_id(&subnet_a)
            .security_groups(&efs_sg)
            .send()
            .await
            .unwrap();
        let c = ContainerDefinition::builder()
            .name("app")
            .image("nginx:1.27")
            .memory(512)
            .essential(true);
        aws.fargate_td("efs-app", c, |r| r.volumes(data_volume(&fs)))
            .await;
        aws.service_in(&cluster, "app", "efs-app", &[&subnet_a, &subnet_b], &net.sg)
            .await;
        // A healthy control: a second file system with a mount target in both zones
        // whose group admits NFS from the tasks.
        let good_sg = aws.sg(&net.vpc, "efs-ok").await;
        aws.allow_tcp(&good_sg, 2049, &net.sg).await;
        let good = efs
            .create_file_system()
            .creation_token(unique("fs-ok"))
            .send()
            .await
            .unwrap()
            .file_system_id()
            .to_string();
        for sn in [&subnet_a, &subnet_b] {
            efs.create_mount_target()
                .file_system_id(&good)
                .subnet_id(sn)
                .security_groups(&good_sg)
                .send()
                .await
                .unwrap();
        }
        let c = ContainerDefinition::builder()
            .name("ok")
            .image("nginx:1.27")
            .memory(512)
            .essential(true);
        aws.fargate_td("efs-ok", c, |r| r.volumes(data_volume(&good)))
            .await;
        aws.service_in(&cluster, "ok", "efs-ok", &[&subnet_a, &subnet_b], &net.sg)
            .await;
        (subnet_b, fs)
    });
    let r = report(&doctor(&["--cluster", &cluster]));
    assert_eq!(r["status"], "complete", "{:#}", r["incomplete"]);
    let f = finding(&r, "NET013");
    let msg = f["message"].as_str().unwrap();
    assert!(msg.contains(&fs_id), "{msg}");
    assert!(
        msg.contains(&format!(
            "no available mount target in us-east-1b ({subnet_b})"
        )),
        "{msg}"
    );
    assert!(msg.contains("do not admit tcp/2049"), "{msg}");
    let fix = fixes(f);
    assert!(
        fix.contains(&format!(
            "for s in {subnet_b}; do aws efs create-mount-target --file-system-id {fs_id}"
        )),
        "{fix}"
    );
    assert!(fix.contains("--port 2049 --source-group sg-"), "{fix}");
    let all = findings_of(&r, "NET013");
    assert_eq!(
        all.len(),
        1,
        "the healthy file system raises nothing: {all:#?}"
    );
    assert_eq!(services_of(all[0]), ["app"]);
}
