//! The request parameters of a CloudTrail event that say what a change was: the rule a
//! security-group call added or removed, the route a route call changed, the revision an
//! UpdateService set, the tag a PutImage moved, the setting a ModifyDBInstance changed.
//! Only leaves whose names are on [`KEPT`] are read; everything else in the request,
//! which can hold anything (a PutParameter's value, a PutSecretValue's string), is never
//! copied. What is kept still passes the snapshot's redactor with the rest.

use serde_json::Value;

/// Parameter names kept, wherever they sit in `requestParameters`.
const KEPT: &[&str] = &[
    // security groups (EC2's ipPermissions items and the newer rule ids)
    "ipProtocol",
    "fromPort",
    "toPort",
    "cidrIp",
    "cidrIpv6",
    "prefixListId",
    "securityGroupRuleId",
    // routes and network ACLs
    "destinationCidrBlock",
    "destinationIpv6CidrBlock",
    "gatewayId",
    "natGatewayId",
    "instanceId",
    "networkInterfaceId",
    "vpcEndpointId",
    "transitGatewayId",
    "ruleNumber",
    "ruleAction",
    "egress",
    "cidrBlock",
    // ECS
    "taskDefinition",
    "desiredCount",
    "forceNewDeployment",
    "launchType",
    "platformVersion",
    // ECR
    "imageTag",
    "imageDigest",
    // RDS
    "dBInstanceIdentifier",
    "dBClusterIdentifier",
    "dBInstanceClass",
    "caCertificateIdentifier",
    "applyImmediately",
    "forceFailover",
    "port",
    "publiclyAccessible",
    // Secrets Manager and SSM: which one, never its value
    "secretId",
    "versionStage",
    "overwrite",
];

/// Characters of detail kept at most.
const MAX_DETAIL: usize = 240;

/// `name=value` pairs of the kept parameters of a raw CloudTrail event, in document
/// order without repeats; `None` when it has none (or is not JSON).
pub fn detail(raw: &str) -> Option<String> {
    let event: Value = serde_json::from_str(raw).ok()?;
    let mut pairs: Vec<String> = Vec::new();
    if let Some(req) = event.get("requestParameters") {
        collect(req, &mut pairs);
    }
    let mut out = String::new();
    for p in pairs {
        if out.len() + p.len() + 1 > MAX_DETAIL {
            out.push_str(" …");
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&p);
    }
    (!out.is_empty()).then_some(out)
}

/// Whether the raw event says it was read-only (a by-resource query returns reads too).
pub fn read_only(raw: &str) -> bool {
    serde_json::from_str::<Value>(raw)
        .ok()
        .and_then(|v| v.get("readOnly").and_then(Value::as_bool))
        .unwrap_or(false)
}

fn collect(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                match x {
                    Value::String(_) | Value::Number(_) | Value::Bool(_)
                        if KEPT.contains(&k.as_str()) =>
                    {
                        let text = match x {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        };
                        let pair = format!("{k}={}", one_line(&text));
                        if !out.contains(&pair) {
                            out.push(pair);
                        }
                    }
                    _ => collect(x, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect(x, out)),
        _ => {}
    }
}

/// A value on one line, at most 80 characters.
fn one_line(s: &str) -> String {
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(80) {
        Some((i, _)) => format!("{}…", &flat[..i]),
        None => flat,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_revoked_ingress_rule_is_kept_and_other_parameters_are_not() {
        let raw = r#"{"readOnly":false,"requestParameters":{"groupId":"sg-0abc",
            "ipPermissions":{"items":[{"ipProtocol":"tcp","fromPort":5432,"toPort":5432,
            "ipRanges":{"items":[{"cidrIp":"10.0.0.0/16","description":"app tier"}]}}]},
            "secretString":"planted-value"}}"#;
        let d = detail(raw).unwrap();
        assert_eq!(
            d,
            "ipProtocol=tcp fromPort=5432 toPort=5432 cidrIp=10.0.0.0/16"
        );
        assert!(!read_only(raw));
    }

    #[test]
    fn a_parameter_value_is_never_kept() {
        let raw = r#"{"readOnly":false,"requestParameters":{"name":"/prod/db",
            "value":"s3cr3t-planted","overwrite":true,"type":"SecureString"}}"#;
        assert_eq!(detail(raw).as_deref(), Some("overwrite=true"));
    }

    #[test]
    fn no_kept_parameter_or_not_json_is_none_and_long_detail_is_cut() {
        assert_eq!(detail(r#"{"requestParameters":{"note":"x"}}"#), None);
        assert_eq!(detail("not json"), None);
        let many: Vec<String> = (0..60)
            .map(|i| format!(r#"{{"cidrIp":"10.{i}.0.0/16"}}"#))
            .collect();
        let raw = format!(r#"{{"requestParameters":{{"r":[{}]}}}}"#, many.join(","));
        let d = detail(&raw).unwrap();
        assert!(d.ends_with(" …") && d.len() <= MAX_DETAIL + 4, "{d}");
        assert!(read_only(r#"{"readOnly":true}"#));
    }
}
