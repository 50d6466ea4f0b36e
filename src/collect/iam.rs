//! IAM: whether the execution and task roles the task definitions in use name exist and
//! trust `ecs-tasks.amazonaws.com` (GetRole), and whether each execution role may do what
//! the ECS agent does for that task definition (SimulatePrincipalPolicy on the exact
//! actions and resources: ECR auth and pull, log stream and events, the referenced
//! secrets and parameters, and kms:Decrypt where a customer key encrypts them).
//! Simulation can be turned off (`--iam-simulate off`) for accounts that deny it.

use super::ctx::Ctx;
use super::ops::Op;
use crate::snapshot::{PermissionCheck, RoleCheck, SecretCheck, TaskDefinition};
use std::collections::{BTreeMap, BTreeSet};

/// The last path segment of a role ARN (`arn:aws:iam::1:role/service-role/x` → `x`).
pub fn role_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// Account and partition of a role ARN.
fn account_of(arn: &str) -> Option<(&str, &str)> {
    let mut p = arn.split(':');
    let _arn = p.next()?;
    let partition = p.next()?;
    let _svc = p.next()?;
    let _region = p.next()?;
    Some((partition, p.next()?))
}

/// Every role ARN of `tds`.
pub fn wanted(tds: &[TaskDefinition]) -> BTreeSet<String> {
    tds.iter()
        .flat_map(|t| [&t.execution_role_arn, &t.task_role_arn])
        .flatten()
        .filter(|a| a.starts_with("arn:"))
        .cloned()
        .collect()
}

/// Looks every role up. A failed lookup other than "no such role" is left out.
pub async fn roles(
    ctx: &Ctx,
    client: &aws_sdk_iam::Client,
    arns: &BTreeSet<String>,
) -> Vec<RoleCheck> {
    let out = ctx
        .each(arns.iter().cloned(), |arn| async move {
            let req = client.get_role().role_name(role_name(&arn));
            match ctx.call(Op::IamGetRole, req.send()).await {
                Ok(o) => {
                    let doc = o
                        .role()
                        .map(|r| r.assume_role_policy_document().unwrap_or_default());
                    Some(RoleCheck {
                        arn,
                        exists: true,
                        trusts_ecs_tasks: doc.and_then(trusts_ecs_tasks),
                    })
                }
                Err(f) if f.code == "NoSuchEntity" || f.code == "NoSuchEntityException" => {
                    Some(RoleCheck {
                        arn,
                        exists: false,
                        trusts_ecs_tasks: None,
                    })
                }
                Err(f) => {
                    ctx.record(Op::IamGetRole, &f, None);
                    None
                }
            }
        })
        .await;
    out.into_iter().flatten().collect()
}

/// Whether a trust policy (JSON, URL-encoded as IAM returns it, or plain) allows
/// `ecs-tasks.amazonaws.com` to assume the role; `None` when it cannot be read.
pub fn trusts_ecs_tasks(doc: &str) -> Option<bool> {
    let decoded = percent_decode(doc);
    let v: serde_json::Value = serde_json::from_str(&decoded).ok()?;
    let list = |x: &serde_json::Value| -> Vec<String> {
        match x {
            serde_json::Value::String(s) => vec![s.clone()],
            serde_json::Value::Array(a) => a
                .iter()
                .filter_map(|i| i.as_str().map(String::from))
                .collect(),
            _ => Vec::new(),
        }
    };
    let stmts = match &v["Statement"] {
        serde_json::Value::Array(a) => a.clone(),
        o @ serde_json::Value::Object(_) => vec![o.clone()],
        _ => return Some(false),
    };
    Some(stmts.iter().any(|s| {
        s["Effect"] == "Allow"
            && list(&s["Action"])
                .iter()
                .any(|a| a == "sts:AssumeRole" || a == "sts:*" || a == "*")
            && list(&s["Principal"]["Service"])
                .iter()
                .any(|p| p == "ecs-tasks.amazonaws.com")
    }))
}

fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_string();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// (action, resource) pairs the agent needs of `td`'s execution role.
pub fn needs(td: &TaskDefinition, region: &str, secrets: &[SecretCheck]) -> Vec<(String, String)> {
    let Some(role) = &td.execution_role_arn else {
        return Vec::new();
    };
    let Some((partition, account)) = account_of(role) else {
        return Vec::new();
    };
    let mut out = BTreeSet::new();
    for c in &td.containers {
        if let Some(img) = super::ecr::parse(&c.image) {
            out.insert(("ecr:GetAuthorizationToken".to_string(), "*".to_string()));
            let repo = format!(
                "arn:{partition}:ecr:{}:{}:repository/{}",
                img.region, img.account, img.repository
            );
            for a in [
                "ecr:BatchGetImage",
                "ecr:GetDownloadUrlForLayer",
                "ecr:BatchCheckLayerAvailability",
            ] {
                out.insert((a.to_string(), repo.clone()));
            }
        }
        if let Some(l) = c
            .log_configuration
            .as_ref()
            .filter(|l| l.log_driver == "awslogs")
        {
            if let Some(g) = l.options.get("awslogs-group") {
                let r = l
                    .options
                    .get("awslogs-region")
                    .map_or(region, String::as_str);
                let arn = format!("arn:{partition}:logs:{r}:{account}:log-group:{g}:*");
                for a in ["logs:CreateLogStream", "logs:PutLogEvents"] {
                    out.insert((a.to_string(), arn.clone()));
                }
            }
        }
        for s in &c.secrets {
            match super::secrets::parse(&s.value_from, region) {
                Some(super::secrets::Ref::Secret { secret_id, .. }) => {
                    out.insert(("secretsmanager:GetSecretValue".into(), secret_id));
                }
                Some(super::secrets::Ref::Parameter { names, .. }) => {
                    let name = &names[0];
                    let arn = if name.starts_with("arn:") {
                        name.clone()
                    } else {
                        format!(
                            "arn:{partition}:ssm:{region}:{account}:parameter/{}",
                            name.trim_start_matches('/')
                        )
                    };
                    out.insert(("ssm:GetParameters".into(), arn));
                }
                None => {}
            }
            if let Some(k) = secrets
                .iter()
                .find(|x| x.reference == s.value_from)
                .and_then(|x| x.kms_key.clone())
                .filter(|k| k.starts_with("arn:"))
            {
                out.insert(("kms:Decrypt".into(), k));
            }
        }
    }
    out.into_iter().collect()
}

/// Simulates what each task definition's execution role must do, one call per role and
/// resource. A denied or failed simulation is recorded once and ends the simulation.
pub async fn simulate(
    ctx: &Ctx,
    client: &aws_sdk_iam::Client,
    tds: &[TaskDefinition],
    region: &str,
    secrets: &[SecretCheck],
    roles: &[RoleCheck],
) -> Vec<PermissionCheck> {
    // (role, resource) → (actions, task definitions)
    let mut calls: BTreeMap<(String, String), (BTreeSet<String>, BTreeSet<String>)> =
        BTreeMap::new();
    for td in tds {
        let Some(role) = &td.execution_role_arn else {
            continue;
        };
        // A role that does not exist is its own finding; nothing to simulate.
        if roles.iter().any(|r| &r.arn == role && !r.exists) {
            continue;
        }
        for (action, resource) in needs(td, region, secrets) {
            let e = calls.entry((role.clone(), resource)).or_default();
            e.0.insert(action);
            e.1.insert(td.key());
        }
    }
    let failed = std::sync::atomic::AtomicBool::new(false);
    let failed = &failed;
    let results = ctx
        .each(calls, |((role, resource), (actions, tds))| async move {
            if failed.load(std::sync::atomic::Ordering::Relaxed) {
                return Vec::new();
            }
            let req = client
                .simulate_principal_policy()
                .policy_source_arn(&role)
                .set_action_names(Some(actions.into_iter().collect()))
                .resource_arns(&resource);
            let Some(o) = ctx.get(Op::IamSimulatePrincipalPolicy, req.send()).await else {
                failed.store(true, std::sync::atomic::Ordering::Relaxed);
                return Vec::new();
            };
            let mut out = Vec::new();
            for r in o.evaluation_results() {
                for td in &tds {
                    out.push(PermissionCheck {
                        role: role.clone(),
                        task_definition: td.clone(),
                        action: r.eval_action_name().to_string(),
                        resource: r.eval_resource_name().unwrap_or(&resource).to_string(),
                        decision: r.eval_decision().as_str().to_string(),
                    });
                }
            }
            out
        })
        .await;
    let mut out: Vec<PermissionCheck> = results.into_iter().flatten().collect();
    out.sort_by(|a, b| {
        (&a.task_definition, &a.action, &a.resource).cmp(&(
            &b.task_definition,
            &b.action,
            &b.resource,
        ))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trust_policies() {
        let ok = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["ec2.amazonaws.com","ecs-tasks.amazonaws.com"]},"Action":"sts:AssumeRole"}]}"#;
        assert_eq!(trusts_ecs_tasks(ok), Some(true));
        let encoded = "%7B%22Statement%22%3A%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%22ecs-tasks.amazonaws.com%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%7D";
        assert_eq!(trusts_ecs_tasks(encoded), Some(true));
        let lambda = r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        assert_eq!(trusts_ecs_tasks(lambda), Some(false));
        assert_eq!(trusts_ecs_tasks("not json"), None);
    }

    #[test]
    fn needs_name_exact_actions_and_resources() {
        let td: TaskDefinition = serde_json::from_value(serde_json::json!({
            "family": "api", "revision": 3,
            "execution_role_arn": "arn:aws:iam::123456789012:role/exec",
            "containers": [{
                "name": "app",
                "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/api:1",
                "secrets": [{"name": "DB", "value_from": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf:password::"}],
                "log_configuration": {"log_driver": "awslogs", "options": {"awslogs-group": "/ecs/api"}}
            }]
        }))
        .unwrap();
        let n = needs(&td, "us-east-1", &[]);
        assert!(n.contains(&(
            "ecr:BatchGetImage".into(),
            "arn:aws:ecr:us-east-1:123456789012:repository/api".into()
        )));
        assert!(n.contains(&(
            "logs:PutLogEvents".into(),
            "arn:aws:logs:us-east-1:123456789012:log-group:/ecs/api:*".into()
        )));
        assert!(n.contains(&(
            "secretsmanager:GetSecretValue".into(),
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf".into()
        )));
        assert_eq!(role_name("arn:aws:iam::1:role/service-role/exec"), "exec");
    }
}
