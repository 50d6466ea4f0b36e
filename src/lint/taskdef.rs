//! Task-definition JSON in the shapes people keep in repositories: the
//! `register-task-definition` input (`family`, `containerDefinitions` ...), the
//! `describe-task-definition` output (`{"taskDefinition": {...}}`), and a bare array of
//! container definitions (Terraform's `container_definitions`). Converted to the
//! snapshot's types, with the position of every part recorded in [`LintInputs`].

use super::json::{idx, key, Positions};
use super::{part_key, LintError, LintInputs, Origin};
use crate::snapshot::{
    ContainerDefinition, EnvVar, HealthCheck, LogConfiguration, PortMapping, RuntimePlatform,
    SecretRef, TaskDefinition,
};
use serde_json::Value;

struct Ctx<'a> {
    file: &'a str,
    pos: Positions,
}

impl Ctx<'_> {
    fn origin(&self, path: &str) -> Origin {
        let (line, column) = self.pos.get(path).unwrap_or((1, 1));
        Origin {
            file: self.file.to_string(),
            line,
            column,
            path: if path.is_empty() {
                "$".into()
            } else {
                path.to_string()
            },
        }
    }

    fn err(&self, path: &str, msg: impl Into<String>) -> LintError {
        let o = self.origin(path);
        LintError::at(
            self.file,
            o.line,
            o.column,
            format!("{}: {}", o.path, msg.into()),
        )
    }

    fn string(&self, v: &Value, path: &str) -> Result<Option<String>, LintError> {
        match v {
            Value::Null => Ok(None),
            Value::String(s) => Ok(Some(s.clone())),
            Value::Number(n) => Ok(Some(n.to_string())),
            Value::Bool(b) => Ok(Some(b.to_string())),
            _ => Err(self.err(path, "expected a string")),
        }
    }

    fn int(&self, v: &Value, path: &str) -> Result<Option<i64>, LintError> {
        match v {
            Value::Null => Ok(None),
            Value::Number(n) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| self.err(path, "expected an integer")),
            Value::String(s) => s
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| self.err(path, "expected an integer")),
            _ => Err(self.err(path, "expected an integer")),
        }
    }

    fn strings(&self, v: &Value, path: &str) -> Result<Vec<String>, LintError> {
        match v {
            Value::Null => Ok(Vec::new()),
            Value::Array(a) => a
                .iter()
                .enumerate()
                .map(|(i, x)| Ok(self.string(x, &idx(path, i))?.unwrap_or_default()))
                .collect(),
            _ => Err(self.err(path, "expected an array of strings")),
        }
    }

    fn array<'v>(&self, v: &'v Value, path: &str) -> Result<&'v [Value], LintError> {
        match v {
            Value::Null => Ok(&[]),
            Value::Array(a) => Ok(a),
            _ => Err(self.err(path, "expected an array")),
        }
    }
}

/// Parses a JSON file. `Ok(None)` when it is valid JSON but not a task definition.
pub fn parse(
    file: &str,
    text: &str,
    inputs: &mut LintInputs,
) -> Result<Option<Vec<TaskDefinition>>, LintError> {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let value: Value = serde_json::from_str(body).map_err(|e| {
        let msg = e.to_string();
        let msg = match msg.rfind(" at line ") {
            Some(i) => msg[..i].to_string(),
            None => msg,
        };
        LintError::at(
            file,
            e.line().max(1),
            e.column().max(1),
            format!("invalid JSON: {msg}"),
        )
    })?;
    let cx = Ctx {
        file,
        pos: Positions::index(text),
    };
    let stem = std::path::Path::new(file)
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| "task".into());
    let (td_value, root): (&Value, String) = match &value {
        Value::Object(o) if o.contains_key("taskDefinition") => {
            (&value["taskDefinition"], "taskDefinition".to_string())
        }
        Value::Object(o) if o.contains_key("containerDefinitions") => (&value, String::new()),
        Value::Array(a)
            if !a.is_empty()
                && a.iter()
                    .all(|c| c.get("name").is_some() && c.get("image").is_some()) =>
        {
            let td = convert_containers_only(&cx, a, &stem, inputs)?;
            return Ok(Some(vec![td]));
        }
        _ => return Ok(None),
    };
    if !td_value.is_object() {
        return Err(cx.err(&root, "expected an object"));
    }
    let td = convert(&cx, td_value, &root, &stem, inputs)?;
    Ok(Some(vec![td]))
}

fn next_revision(inputs: &LintInputs, family: &str) -> i64 {
    (1..)
        .find(|r| !inputs.origins.contains_key(&format!("{family}:{r}")))
        .unwrap_or(1)
}

fn convert_containers_only(
    cx: &Ctx,
    items: &[Value],
    family: &str,
    inputs: &mut LintInputs,
) -> Result<TaskDefinition, LintError> {
    let revision = next_revision(inputs, family);
    let key = format!("{family}:{revision}");
    inputs.synthetic_revisions.insert(key.clone());
    inputs.origins.insert(key.clone(), cx.origin(""));
    let mut td = TaskDefinition {
        family: family.to_string(),
        revision,
        ..TaskDefinition::default()
    };
    for (i, c) in items.iter().enumerate() {
        td.containers
            .push(container(cx, c, &idx("", i), &key, inputs)?);
    }
    Ok(td)
}

fn convert(
    cx: &Ctx,
    v: &Value,
    root: &str,
    stem: &str,
    inputs: &mut LintInputs,
) -> Result<TaskDefinition, LintError> {
    let p = |k: &str| key(root, k);
    let family = cx
        .string(&v["family"], &p("family"))?
        .filter(|f| !f.is_empty())
        .unwrap_or_else(|| stem.to_string());
    let (revision, synthetic) = match cx.int(&v["revision"], &p("revision"))? {
        Some(r) => (r, false),
        None => (next_revision(inputs, &family), true),
    };
    let tdkey = format!("{family}:{revision}");
    if synthetic {
        inputs.synthetic_revisions.insert(tdkey.clone());
    }
    inputs.origins.insert(tdkey.clone(), cx.origin(root));
    for (what, k) in [
        ("runtimePlatform", "runtimePlatform"),
        ("networkMode", "networkMode"),
    ] {
        if v.get(k).is_some() {
            inputs
                .origins
                .insert(part_key(&tdkey, None, Some(what)), cx.origin(&p(k)));
        }
    }
    let runtime_platform = runtime_platform(cx, v, root)?;
    let mut td = TaskDefinition {
        family,
        revision,
        arn: cx.string(&v["taskDefinitionArn"], &p("taskDefinitionArn"))?,
        registered_at: None,
        status: cx.string(&v["status"], &p("status"))?,
        network_mode: cx.string(&v["networkMode"], &p("networkMode"))?,
        requires_compatibilities: cx
            .strings(&v["requiresCompatibilities"], &p("requiresCompatibilities"))?,
        runtime_platform,
        cpu: cx.string(&v["cpu"], &p("cpu"))?,
        memory: cx.string(&v["memory"], &p("memory"))?,
        execution_role_arn: cx.string(&v["executionRoleArn"], &p("executionRoleArn"))?,
        task_role_arn: cx.string(&v["taskRoleArn"], &p("taskRoleArn"))?,
        containers: Vec::new(),
        efs_volumes: Vec::new(),
    };
    efs_volumes(cx, v, root, &mut td)?;
    let cpath = p("containerDefinitions");
    for (i, c) in cx
        .array(&v["containerDefinitions"], &cpath)?
        .iter()
        .enumerate()
    {
        td.containers
            .push(container(cx, c, &idx(&cpath, i), &tdkey, inputs)?);
    }
    Ok(td)
}

/// Reads the task definition's optional `runtimePlatform` object.
fn runtime_platform(cx: &Ctx, v: &Value, root: &str) -> Result<Option<RuntimePlatform>, LintError> {
    let p = |k: &str| key(root, k);
    Ok(match &v["runtimePlatform"] {
        Value::Null => None,
        rp @ Value::Object(_) => Some(RuntimePlatform {
            cpu_architecture: cx.string(
                &rp["cpuArchitecture"],
                &p("runtimePlatform.cpuArchitecture"),
            )?,
            os_family: cx.string(
                &rp["operatingSystemFamily"],
                &p("runtimePlatform.operatingSystemFamily"),
            )?,
        }),
        _ => return Err(cx.err(&p("runtimePlatform"), "expected an object")),
    })
}

/// Appends the EFS-backed entries of `volumes` to `td.efs_volumes`.
fn efs_volumes(cx: &Ctx, v: &Value, root: &str, td: &mut TaskDefinition) -> Result<(), LintError> {
    let vpath = key(root, "volumes");
    if !v["volumes"].is_null() {
        for (i, vol) in cx.array(&v["volumes"], &vpath)?.iter().enumerate() {
            let at = idx(&vpath, i);
            let efs = &vol["efsVolumeConfiguration"];
            if efs.is_null() {
                continue;
            }
            if let Some(id) = cx.string(
                &efs["fileSystemId"],
                &key(&key(&at, "efsVolumeConfiguration"), "fileSystemId"),
            )? {
                td.efs_volumes.push(crate::snapshot::EfsVolume {
                    volume: cx
                        .string(&vol["name"], &key(&at, "name"))?
                        .unwrap_or_default(),
                    file_system_id: id,
                });
            }
        }
    }
    Ok(())
}

fn container(
    cx: &Ctx,
    c: &Value,
    path: &str,
    tdkey: &str,
    inputs: &mut LintInputs,
) -> Result<ContainerDefinition, LintError> {
    if !c.is_object() {
        return Err(cx.err(path, "expected a container definition object"));
    }
    let p = |k: &str| key(path, k);
    let name = cx
        .string(&c["name"], &p("name"))?
        .ok_or_else(|| cx.err(path, "container definition without `name`"))?;
    let ck = part_key(tdkey, Some(&name), None);
    inputs.origins.insert(ck.clone(), cx.origin(path));
    mark_container_parts(cx, c, path, &ck, inputs);
    let mut out = ContainerDefinition {
        name: name.clone(),
        image: cx.string(&c["image"], &p("image"))?.unwrap_or_default(),
        essential: match &c["essential"] {
            Value::Null => true,
            Value::Bool(b) => *b,
            _ => return Err(cx.err(&p("essential"), "expected true or false")),
        },
        command: cx.strings(&c["command"], &p("command"))?,
        links: cx.strings(&c["links"], &p("links"))?,
        entry_point: cx.strings(&c["entryPoint"], &p("entryPoint"))?,
        memory: cx.int(&c["memory"], &p("memory"))?.map(|m| m as i32),
        memory_reservation: cx
            .int(&c["memoryReservation"], &p("memoryReservation"))?
            .map(|m| m as i32),
        ..ContainerDefinition::default()
    };
    environment(cx, c, path, &ck, inputs, &mut out)?;
    secrets(cx, c, path, &ck, inputs, &mut out)?;
    port_mappings(cx, c, path, &ck, inputs, &mut out)?;
    health_check(cx, c, path, &mut out)?;
    log_configuration(cx, c, path, &mut out)?;
    Ok(out)
}

/// Records the origins of the container parts rules point at (image, health check ...).
fn mark_container_parts(cx: &Ctx, c: &Value, path: &str, ck: &str, inputs: &mut LintInputs) {
    let p = |k: &str| key(path, k);
    let mut mark = |what: &str, json: &str| {
        if c.get(json).is_some() {
            inputs
                .origins
                .insert(format!("{ck}/{what}"), cx.origin(&p(json)));
        }
    };
    mark("image", "image");
    mark("health-check", "healthCheck");
    mark("log-driver", "logConfiguration");
    mark("command", "command");
}

/// Reads the container's `environment` entries, recording each variable's origin.
fn environment(
    cx: &Ctx,
    c: &Value,
    path: &str,
    ck: &str,
    inputs: &mut LintInputs,
    out: &mut ContainerDefinition,
) -> Result<(), LintError> {
    let epath = key(path, "environment");
    for (j, e) in cx.array(&c["environment"], &epath)?.iter().enumerate() {
        let ep = idx(&epath, j);
        let n = cx
            .string(&e["name"], &key(&ep, "name"))?
            .ok_or_else(|| cx.err(&ep, "environment entry without `name`"))?;
        let value = cx
            .string(&e["value"], &key(&ep, "value"))?
            .unwrap_or_default();
        let at = if e.get("value").is_some() {
            key(&ep, "value")
        } else {
            ep.clone()
        };
        let mut o = cx.origin(&at);
        o.path = format!("{ep} ({n})");
        inputs.origins.insert(format!("{ck}/env/{n}"), o);
        out.environment.push(EnvVar { name: n, value });
    }
    Ok(())
}

/// Reads the container's `secrets` references, recording each one's origin.
fn secrets(
    cx: &Ctx,
    c: &Value,
    path: &str,
    ck: &str,
    inputs: &mut LintInputs,
    out: &mut ContainerDefinition,
) -> Result<(), LintError> {
    let spath = key(path, "secrets");
    for (j, s) in cx.array(&c["secrets"], &spath)?.iter().enumerate() {
        let sp = idx(&spath, j);
        let n = cx
            .string(&s["name"], &key(&sp, "name"))?
            .ok_or_else(|| cx.err(&sp, "secret without `name`"))?;
        let mut o = cx.origin(&sp);
        o.path = format!("{sp} ({n})");
        inputs.origins.insert(format!("{ck}/secret/{n}"), o);
        out.secrets.push(SecretRef {
            name: n,
            value_from: cx
                .string(&s["valueFrom"], &key(&sp, "valueFrom"))?
                .unwrap_or_default(),
        });
    }
    Ok(())
}

/// Reads the container's `portMappings`, recording each mapping's origin.
fn port_mappings(
    cx: &Ctx,
    c: &Value,
    path: &str,
    ck: &str,
    inputs: &mut LintInputs,
    out: &mut ContainerDefinition,
) -> Result<(), LintError> {
    let ppath = key(path, "portMappings");
    for (j, m) in cx.array(&c["portMappings"], &ppath)?.iter().enumerate() {
        let mp = idx(&ppath, j);
        let container_port = cx
            .int(&m["containerPort"], &key(&mp, "containerPort"))?
            .ok_or_else(|| cx.err(&mp, "port mapping without `containerPort`"))?;
        inputs
            .origins
            .insert(format!("{ck}/port/{j}"), cx.origin(&mp));
        out.port_mappings.push(PortMapping {
            container_port: container_port as i32,
            host_port: cx
                .int(&m["hostPort"], &key(&mp, "hostPort"))?
                .map(|x| x as i32),
            protocol: cx.string(&m["protocol"], &key(&mp, "protocol"))?,
        });
    }
    Ok(())
}

/// Reads the container's optional `healthCheck` object.
fn health_check(
    cx: &Ctx,
    c: &Value,
    path: &str,
    out: &mut ContainerDefinition,
) -> Result<(), LintError> {
    let p = |k: &str| key(path, k);
    match &c["healthCheck"] {
        Value::Null => {}
        h @ Value::Object(_) => {
            out.health_check = Some(HealthCheck {
                command: cx.strings(&h["command"], &p("healthCheck.command"))?,
                interval: cx
                    .int(&h["interval"], &p("healthCheck.interval"))?
                    .map(|x| x as i32),
                timeout: cx
                    .int(&h["timeout"], &p("healthCheck.timeout"))?
                    .map(|x| x as i32),
                retries: cx
                    .int(&h["retries"], &p("healthCheck.retries"))?
                    .map(|x| x as i32),
                start_period: cx
                    .int(&h["startPeriod"], &p("healthCheck.startPeriod"))?
                    .map(|x| x as i32),
            })
        }
        _ => return Err(cx.err(&p("healthCheck"), "expected an object")),
    }
    Ok(())
}

/// Reads the container's optional `logConfiguration` object.
fn log_configuration(
    cx: &Ctx,
    c: &Value,
    path: &str,
    out: &mut ContainerDefinition,
) -> Result<(), LintError> {
    let p = |k: &str| key(path, k);
    match &c["logConfiguration"] {
        Value::Null => {}
        l @ Value::Object(_) => {
            let mut options = std::collections::BTreeMap::new();
            if let Value::Object(o) = &l["options"] {
                for (k, v) in o {
                    if let Some(s) = cx.string(v, &p(&format!("logConfiguration.options.{k}")))? {
                        options.insert(k.clone(), s);
                    }
                }
            }
            out.log_configuration = Some(LogConfiguration {
                log_driver: cx
                    .string(&l["logDriver"], &p("logConfiguration.logDriver"))?
                    .unwrap_or_default(),
                options,
            });
        }
        _ => return Err(cx.err(&p("logConfiguration"), "expected an object")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn efs_volumes_are_read_and_bad_ones_located() {
        let td = r#"{"family": "api", "volumes": [{"name": "data", "efsVolumeConfiguration": {"fileSystemId": "fs-0abc"}}, {"name": "tmp"}], "containerDefinitions": [{"name": "app", "image": "x"}]}"#;
        let mut inputs = LintInputs::default();
        let tds = parse("td.json", td, &mut inputs).unwrap().unwrap();
        assert_eq!(tds[0].efs_volumes.len(), 1);
        assert_eq!(tds[0].efs_volumes[0].file_system_id, "fs-0abc");
        assert_eq!(tds[0].efs_volumes[0].volume, "data");
        let bad = r#"{"family": "api", "volumes": {"name": "x"}, "containerDefinitions": []}"#;
        let err = parse("td.json", bad, &mut LintInputs::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("volumes") && err.contains("expected an array"),
            "{err}"
        );
    }

    #[test]
    fn both_shapes_and_positions() {
        let reg = "{\n  \"family\": \"api\",\n  \"networkMode\": \"awsvpc\",\n  \"containerDefinitions\": [\n    {\n      \"name\": \"app\",\n      \"image\": \"x\",\n      \"environment\": [\n        {\"name\": \"DB_HOST\", \"value\": \"db\"}\n      ]\n    }\n  ]\n}\n";
        let mut inputs = LintInputs::default();
        let tds = parse("td.json", reg, &mut inputs).unwrap().unwrap();
        assert_eq!(tds[0].key(), "api:1");
        assert!(inputs.synthetic_revisions.contains("api:1"));
        let o = inputs
            .origin_of("api:1", Some("app"), Some("env/DB_HOST"))
            .unwrap();
        assert_eq!((o.line, o.column), (9, 38));
        assert_eq!(o.path, "containerDefinitions[0].environment[0] (DB_HOST)");
        let desc = format!(
            "{{\"taskDefinition\": {}}}",
            reg.replace(
                "\"family\": \"api\",",
                "\"family\": \"api\", \"revision\": 7,"
            )
        );
        let tds = parse("d.json", &desc, &mut inputs).unwrap().unwrap();
        assert_eq!(tds[0].key(), "api:7");
        assert!(parse("p.json", "{\"name\": \"pkg\"}", &mut inputs)
            .unwrap()
            .is_none());
    }

    #[test]
    fn errors_have_positions() {
        let mut inputs = LintInputs::default();
        let e = parse(
            "td.json",
            "{\n  \"family\": \"a\",\n  \"containerDefinitions\": [\n",
            &mut inputs,
        )
        .unwrap_err();
        assert_eq!(e.line, 4, "{e}");
        let e = parse(
            "td.json",
            "{\"family\": \"a\", \"containerDefinitions\": {}}",
            &mut inputs,
        )
        .unwrap_err();
        assert_eq!((e.line, e.column), (1, 41));
        assert!(
            e.message
                .contains("containerDefinitions: expected an array"),
            "{e}"
        );
    }
}
