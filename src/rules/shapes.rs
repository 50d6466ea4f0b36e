//! The shapes of structured records: every `key=value` record a rule can read (task,
//! deployment, target health, probe stages, collection errors, log streams, compose
//! services and ports, and every derived `fact`) is one typed struct declared here. Facts
//! build the struct and call `text()`, so the order and names of keys are decided in this
//! one place; `rules check` holds each rule example of a structured source to the same
//! shape, and the table in `docs/rules.md` is generated from it. A builder that renames
//! or reorders a key therefore breaks the examples, loudly, instead of silently making
//! rules stop matching.

use super::Source;

/// One record shape: where it appears and its keys, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    pub source: Source,
    /// The `field` a signal names to read it (`sg-path`); `None` for sources without fields.
    pub field: Option<&'static str>,
    pub keys: &'static [&'static str],
    /// One sentence on when the record exists.
    pub about: &'static str,
}

/// A typed record: its shape, and its text.
pub trait Shaped {
    const SHAPE: Shape;
    fn text(&self) -> String;
}

/// A value in a record. Text is written as is (`None` as empty): only the last key's
/// value may hold spaces without ambiguity, and keys are found by ` key=` in order.
pub trait Value {
    fn write(&self, out: &mut String);
}

impl Value for String {
    fn write(&self, out: &mut String) {
        out.push_str(self);
    }
}
impl Value for &str {
    fn write(&self, out: &mut String) {
        out.push_str(self);
    }
}
impl Value for bool {
    fn write(&self, out: &mut String) {
        out.push_str(if *self { "true" } else { "false" });
    }
}
macro_rules! display_value {
    ($($t:ty),*) => {$(
        impl Value for $t {
            fn write(&self, out: &mut String) {
                out.push_str(&self.to_string());
            }
        }
    )*};
}
display_value!(i32, i64, u16, u64, usize);
impl<T: Value> Value for Option<T> {
    fn write(&self, out: &mut String) {
        if let Some(v) = self {
            v.write(out);
        }
    }
}

macro_rules! shapes {
    ($(
        $(#[doc = $doc:literal])+
        $name:ident ($source:ident, $field:expr) { $($key:ident : $ty:ty),+ $(,)? }
    )+) => {
        $(
            $(#[doc = $doc])+
            #[derive(Debug, Clone, Default)]
            pub struct $name { $(pub $key: $ty),+ }

            impl Shaped for $name {
                const SHAPE: Shape = Shape {
                    source: Source::$source,
                    field: $field,
                    keys: &[$(stringify!($key)),+],
                    about: concat!($($doc),+),
                };

                /// The record text: `key=value` pairs in declaration order.
                fn text(&self) -> String {
                    let mut out = String::new();
                    $(
                        if !out.is_empty() {
                            out.push(' ');
                        }
                        out.push_str(concat!(stringify!($key), "="));
                        Value::write(&self.$key, &mut out);
                    )+
                    out
                }
            }
        )+

        /// Every record shape.
        pub const SHAPES: &[Shape] = &[$(<$name as Shaped>::SHAPE),+];
    };
}

shapes! {
    /// One per service deployment.
    Deployment (Deployment, None) {
        status: String, rollout: String, failed_tasks: i32, desired: i32, running: i32,
        task_definition: String, reason: String,
    }
    /// One per task; `exit` lists `container:code`.
    Task (Task, None) {
        status: String, desired: String, stop_code: String, group: String,
        started_by: String, launch_type: String, exit: String,
    }
    /// One per registered target.
    TargetHealth (TargetHealth, None) {
        state: String, reason: String, description: String, target: String,
        port: Option<i32>, target_group: String,
    }
    /// One per log stream looked up for a task; `state` is `exists` or `missing`.
    LogStreamState (LogStream, None) {
        state: &'static str, stream: String, group: String, note: String,
    }
    /// One per database probe stage; only a failed stage carries its detail.
    ProbeStage (DbProbe, None) {
        stage: String, status: String, code: String, target: String, vantage: String,
        detail: String,
    }
    /// One per table the application expects that the probe did not find.
    ProbeMissingTable (DbProbe, None) { missing_table: String, target: String }
    /// When the probed server is a replica in recovery.
    ProbeInRecovery (DbProbe, None) { in_recovery: bool, target: String }
    /// One per certificate the database server presented.
    ProbeCert (DbProbe, None) { cert_subject: String, issuer: String, target: String }
    /// One per failed AWS call; `check` names what could not be verified.
    CollectError (CollectError, None) {
        action: String, code: String, check: String, message: String,
    }
    /// One per compose service linted.
    ComposeService (Compose, Some("service")) {
        name: String, image: String, healthcheck: &'static str,
    }
    /// One per compose port mapping; an undefined variable stays as `${VAR}`.
    ComposePort (Compose, Some("port")) {
        service: String, host_ip: String, host_port: String, container_port: String,
        protocol: String,
    }
    /// For every service or standalone family whose environment names a known endpoint, and that endpoint.
    SgPath (Fact, Some("sg-path")) {
        from: String, to: String, address: String, port: i32, allowed: bool, detail: String,
    }
    /// From each load balancer to the service it fronts, on the health-check port; an NLB without security groups must be admitted by its subnets' addresses.
    LbPath (Fact, Some("lb-path")) {
        from: String, kind: String, to: String, target_group: String, port: i32,
        allowed: bool, detail: String,
    }
    /// Per container (or compose service, or env file) with both a database URI and per-field host variables.
    DbConfig (Fact, Some("db-config")) {
        uri_var: String, uri_host: String, field_var: String, field_host: String,
        conflict: bool,
    }
    /// A secret value used in several places (newest revisions only; a place is a family or a linted file, a stack is the family name without its last `-part`, or the file).
    SecretReuse (Fact, Some("secret-reuse")) {
        fingerprint: String, names: String, places: usize, stacks: usize,
        place_list: String, stack_list: String,
    }
    /// Per Fargate service: whether every subnet it places tasks in has a way to each AWS service its task definition needs (`needs`: `ecr.api`, `ecr.dkr`, `s3`, `secretsmanager`, `ssm`, `logs`, `internet` for other registries). When not, `subnets` and `route_tables` are the ones without, `no_path` what they cannot reach, `interface` the interface endpoints that would fix it, and `nat` an available NAT gateway of the VPC (empty when none).
    AwsPath (Fact, Some("aws-path")) {
        from: String, vpc: String, subnets: String, route_tables: String,
        security_groups: String, public_ip: bool, nat: String, needs: String,
        no_path: String, interface: String, reachable: bool, detail: String,
    }
    /// Per awslogs log group a task definition in use names: whether it exists, and whether the task may create it (`awslogs-create-group`).
    LogGroup (Fact, Some("log-group")) {
        group: String, exists: bool, create_group: bool, task_definition: String,
    }
    /// Per secret a task definition in use references (`store` is `secretsmanager` or `ssm`): whether it exists. Only metadata is read, never a value.
    SecretRef (Fact, Some("secret-ref")) {
        var: String, store: String, reference: String, exists: bool, task_definition: String,
    }
    /// Per ECR image a task definition in use names: whether the repository and tag (or digest) exist, the platforms its index offers (`-` for a single-platform manifest), the platform a Fargate task needs (`unknown` on EC2), and whether they agree (`yes`, `no`, `unknown`); `note` is the registry's error code when it does not exist.
    Image (Fact, Some("image")) {
        image: String, exists: bool, platforms: String, wanted: String,
        platform_ok: &'static str, task_definition: String, note: String,
    }
    /// Per execution or task role (`kind`) of a task definition in use: whether it exists and whether its trust policy lets `ecs-tasks.amazonaws.com` assume it (`yes`, `no`, `unknown`).
    Role (Fact, Some("role")) {
        role: String, role_name: String, kind: &'static str, exists: bool,
        trusts_ecs_tasks: &'static str, task_definition: String,
    }
    /// Per task definition whose execution role was simulated and may not do all the agent needs: the denied `actions` and their `resources` (comma lists), how many, and `policy`, a compact policy document that grants exactly those.
    RolePermission (Fact, Some("role-permission")) {
        role: String, role_name: String, task_definition: String, actions: String,
        resources: String, denied: usize, policy: String,
    }
    /// Per service and EFS file system its task definition mounts: whether the file system exists, the subnets whose zone has no available mount target (`-` when none), the first mount-target and task security groups, whether the mount targets admit NFS (tcp/2049) from the tasks, and the verdict.
    EfsPath (Fact, Some("efs-path")) {
        from: String, file_system: String, task_definition: String, exists: bool,
        subnets: String, mount_sg: String, task_sg: String, nfs_allowed: bool,
        reachable: bool, detail: String,
    }
    /// One per route of the route tables collected.
    Route (Fact, Some("route")) {
        table: String, destination: String, target: String, state: String,
        target_state: String,
    }
    /// Per task-definition env value that names a dependency (a URL, or a `*_HOST`/`*_ADDR`/`*_SERVER`/`*_ENDPOINT` variable); kinds `loopback`, `any`, `private-ip`, `public-ip`, `ipv6`, `fqdn`, `single-label`; `listening` says whether a container of the same task maps that port.
    EnvHost (Fact, Some("env-host")) {
        var: String, host: String, port: Option<u16>, kind: &'static str,
        network_mode: String, listening: &'static str,
    }
    /// Per task definition; `service` and `load_balancer` are `yes`, `no` or `unknown` (under `lint`).
    TaskHealth (Fact, Some("task-health")) {
        containers: usize, with_health_check: usize, service: &'static str,
        load_balancer: &'static str,
    }
    /// An env value equal to a value published in a template.
    PublicDefault (Fact, Some("public-default")) {
        var: String, known: String, fingerprint: String,
    }
    /// A `${VAR}` without a default that no linted env file defines; `kind` is `compose` or `env-file`.
    UndefinedVar (Fact, Some("undefined-var")) {
        var: String, file: String, kind: &'static str, scope: String,
    }
    /// The same host port published by two services on overlapping addresses, across every compose file linted.
    PortConflict (Fact, Some("port-conflict")) {
        host_port: String, protocol: String, services: String, first: String,
    }
}

/// The shapes a record of `source` (and `field`) may have; empty for free text.
pub fn shapes_of(source: Source, field: Option<&str>) -> impl Iterator<Item = &'static Shape> + '_ {
    SHAPES
        .iter()
        .filter(move |s| s.source == source && (field.is_none() || s.field == field))
}

/// True when `source` (with `field`) holds structured records.
pub fn is_structured(source: Source, field: Option<&str>) -> bool {
    shapes_of(source, field).next().is_some()
}

/// True when `text` has exactly the keys of `shape`, in order.
pub fn fits(shape: &Shape, text: &str) -> bool {
    let Some((first, rest)) = shape.keys.split_first() else {
        return false;
    };
    let Some(mut tail) = text.strip_prefix(first).and_then(|t| t.strip_prefix('=')) else {
        return false;
    };
    for key in rest {
        let needle = format!(" {key}=");
        match tail.find(&needle) {
            Some(i) => tail = &tail[i + needle.len()..],
            None => return false,
        }
    }
    true
}

/// Why `text` fits no shape of `source`/`field`, or `None` when it fits one (or the
/// source is free text).
pub fn misfit(source: Source, field: Option<&str>, text: &str) -> Option<String> {
    let mut candidates = shapes_of(source, field).peekable();
    candidates.peek()?;
    let shapes: Vec<&Shape> = candidates.collect();
    if text.lines().all(|l| shapes.iter().any(|s| fits(s, l))) {
        return None;
    }
    let want: Vec<String> = shapes
        .iter()
        .map(|s| {
            s.keys
                .iter()
                .map(|k| format!("{k}="))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    Some(format!(
        "does not have the keys of a {} record, in order: {}",
        field.unwrap_or(source.as_str()),
        want.join(" | ")
    ))
}

/// The Markdown table of every shape, as kept in `docs/rules.md`.
pub fn markdown_table() -> String {
    let mut out = String::from("| source | field | keys, in order | when |\n|---|---|---|---|\n");
    for s in SHAPES {
        let keys: Vec<String> = s.keys.iter().map(|k| format!("`{k}`")).collect();
        out.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            s.source.as_str(),
            s.field.map_or("".into(), |f| format!("`{f}`")),
            keys.join(" "),
            s.about.trim()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_follows_declaration_order() {
        let p = SgPath {
            from: "service:api".into(),
            to: "rds:main".into(),
            address: "main.x".into(),
            port: 5432,
            allowed: false,
            detail: "no ingress rule".into(),
        };
        let t = p.text();
        assert_eq!(
            t,
            "from=service:api to=rds:main address=main.x port=5432 allowed=false detail=no ingress rule"
        );
        assert!(fits(&SgPath::SHAPE, &t));
        assert!(misfit(Source::Fact, Some("sg-path"), &t).is_none());
    }

    #[test]
    fn reordered_or_renamed_keys_do_not_fit() {
        let swapped = "to=rds:main from=service:api address=a port=1 allowed=true detail=";
        assert!(!fits(&SgPath::SHAPE, swapped));
        let m = misfit(Source::Fact, Some("sg-path"), swapped).unwrap();
        assert!(m.contains("from= to= address="), "{m}");
        assert!(misfit(Source::Fact, Some("route"), "table=a dest=b").is_some());
        // Free text has no shape.
        assert!(misfit(Source::Log, None, "anything").is_none());
    }

    #[test]
    fn several_shapes_per_source() {
        assert!(misfit(Source::DbProbe, None, "missing_table=public.x target=h").is_none());
        assert!(misfit(Source::DbProbe, None, "in_recovery=true target=h").is_none());
        assert!(misfit(Source::DbProbe, None, "stage=tls status=fail").is_some());
    }

    #[test]
    fn option_values_are_empty_when_absent() {
        let h = TargetHealth {
            state: "unhealthy".into(),
            ..Default::default()
        };
        assert!(h.text().contains(" port= target_group="));
    }

    #[test]
    fn docs_carry_the_generated_table() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/rules.md");
        let doc = std::fs::read_to_string(path).unwrap();
        let (begin, end) = ("<!-- shapes:begin -->\n", "<!-- shapes:end -->");
        let table = markdown_table();
        if std::env::var_os("SICKBAY_BLESS_DOCS").is_some() {
            let (head, rest) = doc.split_once(begin).expect("begin marker");
            let (_, tail) = rest.split_once(end).expect("end marker");
            std::fs::write(path, format!("{head}{begin}{table}{end}{tail}")).unwrap();
            return;
        }
        let inside = doc
            .split_once(begin)
            .and_then(|(_, r)| r.split_once(end))
            .map(|(t, _)| t)
            .expect("docs/rules.md has the shapes markers");
        assert!(
            inside == table,
            "docs/rules.md is out of date: run SICKBAY_BLESS_DOCS=1 cargo test --lib docs_carry"
        );
    }
}
