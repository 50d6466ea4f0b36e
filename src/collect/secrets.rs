//! Secrets Manager and SSM: whether each secret and parameter the task definitions in
//! use reference exists, and which KMS key encrypts it. Only metadata calls are made
//! (`DescribeSecret`, `DescribeParameters` with a `Name Equals` filter, 50 names per
//! call): a value is never requested. References in another region are not checked.

use super::ctx::Ctx;
use super::ops::Op;
use crate::snapshot::{SecretCheck, TaskDefinition};
use aws_sdk_ssm::types::ParameterStringFilter;
use std::collections::{BTreeMap, BTreeSet};

/// Names per DescribeParameters filter (the API's limit).
const NAMES_PER_CALL: usize = 50;

/// A reference, parsed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Ref {
    /// `secret_id` is the ARN without the `:json-key:stage:id` suffix, or the name.
    Secret {
        reference: String,
        secret_id: String,
    },
    /// The names the parameter may have (`/prod/db`; an ARN `parameter/db` is `db` or `/db`).
    Parameter {
        reference: String,
        names: Vec<String>,
    },
}

/// Parses a `valueFrom`; `None` for a reference into another region than `region`.
pub fn parse(value_from: &str, region: &str) -> Option<Ref> {
    let reference = value_from.to_string();
    if let Some(rest) = value_from.strip_prefix("arn:") {
        let parts: Vec<&str> = rest.split(':').collect();
        // partition:service:region:account:resource...
        if parts.len() < 5 || (!region.is_empty() && parts[2] != region) {
            return None;
        }
        return match parts[1] {
            "secretsmanager" => {
                let secret_id = value_from.split(':').take(7).collect::<Vec<_>>().join(":");
                Some(Ref::Secret {
                    reference,
                    secret_id,
                })
            }
            "ssm" => {
                let res = parts[4..].join(":");
                let path = res.strip_prefix("parameter")?;
                let mut names = vec![path.to_string()];
                let bare = path.trim_start_matches('/');
                if !bare.contains('/') && bare != path {
                    names.push(bare.to_string());
                }
                Some(Ref::Parameter { reference, names })
            }
            _ => None,
        };
    }
    // A bare name is an SSM parameter in the task's region.
    Some(Ref::Parameter {
        reference,
        names: vec![value_from.to_string()],
    })
}

/// The references of the task definitions' `secrets`, parsed.
pub fn wanted(tds: &[TaskDefinition], region: &str) -> BTreeSet<Ref> {
    tds.iter()
        .flat_map(|t| t.containers.iter())
        .flat_map(|c| c.secrets.iter())
        .filter_map(|s| parse(&s.value_from, region))
        .collect()
}

/// Looks every reference up. A denied or failed lookup leaves its references out (the
/// failure is in `collect_errors`, naming the action).
pub async fn check(
    ctx: &Ctx,
    sm: &aws_sdk_secretsmanager::Client,
    ssm: &aws_sdk_ssm::Client,
    refs: &BTreeSet<Ref>,
) -> Vec<SecretCheck> {
    let secrets: Vec<(String, String)> = refs
        .iter()
        .filter_map(|r| match r {
            Ref::Secret {
                reference,
                secret_id,
            } => Some((reference.clone(), secret_id.clone())),
            Ref::Parameter { .. } => None,
        })
        .collect();
    let params: Vec<(String, Vec<String>)> = refs
        .iter()
        .filter_map(|r| match r {
            Ref::Parameter { reference, names } => Some((reference.clone(), names.clone())),
            Ref::Secret { .. } => None,
        })
        .collect();
    let (mut out, found) = tokio::join!(
        async {
            ctx.each(secrets, |(reference, id)| async move {
                describe_secret(ctx, sm, reference, id).await
            })
            .await
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
        },
        parameters(ctx, ssm, &params)
    );
    if let Some(found) = found {
        for (reference, names) in &params {
            let hit = names.iter().find_map(|n| found.get(n));
            out.push(SecretCheck {
                reference: reference.clone(),
                store: "ssm".into(),
                exists: hit.is_some(),
                kms_key: hit
                    .cloned()
                    .flatten()
                    .filter(|k| !k.ends_with("alias/aws/ssm")),
            });
        }
    }
    out.sort_by(|a, b| a.reference.cmp(&b.reference));
    out
}

async fn describe_secret(
    ctx: &Ctx,
    client: &aws_sdk_secretsmanager::Client,
    reference: String,
    id: String,
) -> Option<SecretCheck> {
    let req = client.describe_secret().secret_id(&id);
    let (exists, kms_key) = match ctx.call(Op::SecretsDescribeSecret, req.send()).await {
        Ok(o) => (true, o.kms_key_id().map(String::from)),
        Err(f) if f.code == "ResourceNotFoundException" => (false, None),
        Err(f) => {
            ctx.record(Op::SecretsDescribeSecret, &f, None);
            return None;
        }
    };
    Some(SecretCheck {
        reference,
        store: "secretsmanager".into(),
        exists,
        kms_key,
    })
}

/// Name → its KMS key id, for every parameter found; `None` when a lookup failed.
async fn parameters(
    ctx: &Ctx,
    client: &aws_sdk_ssm::Client,
    params: &[(String, Vec<String>)],
) -> Option<BTreeMap<String, Option<String>>> {
    let names: BTreeSet<String> = params.iter().flat_map(|(_, n)| n.iter().cloned()).collect();
    let names: Vec<String> = names.into_iter().collect();
    let mut found = BTreeMap::new();
    for batch in names.chunks(NAMES_PER_CALL) {
        let filter = ParameterStringFilter::builder()
            .key("Name")
            .option("Equals")
            .set_values(Some(batch.to_vec()))
            .build()
            .ok()?;
        let mut token: Option<String> = None;
        for _page in 0..10 {
            let req = client
                .describe_parameters()
                .parameter_filters(filter.clone())
                .set_next_token(token.clone());
            let o = ctx.get(Op::SsmDescribeParameters, req.send()).await?;
            for p in o.parameters() {
                if let Some(n) = p.name() {
                    found.insert(n.to_string(), p.key_id().map(String::from));
                }
            }
            token = o.next_token().map(String::from);
            if token.is_none() {
                break;
            }
        }
    }
    Some(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_parse() {
        let arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf";
        assert_eq!(
            parse(&format!("{arn}:password::"), "us-east-1"),
            Some(Ref::Secret {
                reference: format!("{arn}:password::"),
                secret_id: arn.into()
            })
        );
        assert_eq!(
            parse("arn:aws:ssm:us-east-1:1:parameter/prod/db", "us-east-1"),
            Some(Ref::Parameter {
                reference: "arn:aws:ssm:us-east-1:1:parameter/prod/db".into(),
                names: vec!["/prod/db".into()]
            })
        );
        let Some(Ref::Parameter { names, .. }) =
            parse("arn:aws:ssm:us-east-1:1:parameter/db", "us-east-1")
        else {
            panic!()
        };
        assert_eq!(names, ["/db", "db"]);
        assert_eq!(
            parse("arn:aws:ssm:eu-west-1:1:parameter/db", "us-east-1"),
            None
        );
        assert!(matches!(
            parse("/prod/key", "us-east-1"),
            Some(Ref::Parameter { .. })
        ));
    }
}
