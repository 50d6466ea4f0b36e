//! What `lint` produces beside the snapshot: the file positions of task-definition parts
//! (keyed by [`part_key`]), the docker-compose and env files it read ([`ConfigFile`]),
//! and the variables env files define, all gathered in [`LintInputs`]. They are plain
//! data, so they live here with the snapshot: facts reads these snapshot-layer types and
//! never lint's, and lint keeps only the parsing that fills them in.

use std::collections::{BTreeMap, HashMap, HashSet};

/// Where something is in a linted file. Lines and columns are 1-based.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub file: String,
    pub line: usize,
    pub column: usize,
    /// JSON path or YAML key path (`containerDefinitions[0].environment[2]`,
    /// `services.studio.environment.STUDIO_PORT`), or the variable name in an env file.
    pub path: String,
}

impl Origin {
    pub fn locator(&self) -> String {
        if self.path.is_empty() {
            format!("{}:{}:{}", self.file, self.line, self.column)
        } else {
            format!("{}:{}:{} {}", self.file, self.line, self.column, self.path)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigKind {
    Compose,
    Env,
}

/// One environment entry of a compose service or an env file. Values are already
/// redacted; `from_variable` marks compose values that came from `${VAR}`
/// interpolation (so they are not counted as a second copy of the env file's secret).
#[derive(Debug, Clone)]
pub struct ConfigEnv {
    /// The compose service, or `None` in an env file.
    pub scope: Option<String>,
    pub name: String,
    pub value: String,
    pub from_variable: bool,
    pub origin: Origin,
}

/// A host port a compose service publishes.
#[derive(Debug, Clone)]
pub struct Published {
    pub service: String,
    pub host_ip: String,
    /// Interpolated when the variable is known, else the raw `${VAR}` text.
    pub host_port: String,
    pub container_port: String,
    pub protocol: String,
    pub origin: Origin,
}

#[derive(Debug, Clone)]
pub struct ComposeService {
    pub name: String,
    pub container_name: Option<String>,
    pub image: Option<String>,
    pub healthcheck: bool,
    pub origin: Origin,
}

/// A `${VAR}` reference without a default.
#[derive(Debug, Clone)]
pub struct VarRef {
    pub name: String,
    pub scope: Option<String>,
    pub origin: Origin,
}

#[derive(Debug, Clone)]
pub struct ConfigFile {
    pub path: String,
    pub kind: ConfigKind,
    pub env: Vec<ConfigEnv>,
    pub ports: Vec<Published>,
    pub services: Vec<ComposeService>,
    /// References with no default (`${VAR}`, `$VAR`, `${VAR:?msg}`).
    pub refs: Vec<VarRef>,
    /// Variables an env file defines.
    pub defines: Vec<String>,
}

/// What `lint` adds to a snapshot: positions and the non-ECS files.
#[derive(Debug, Default)]
pub struct LintInputs {
    /// Every file linted, as given or found.
    pub files: Vec<String>,
    /// Positions of task-definition parts, by [`part_key`].
    pub origins: HashMap<String, Origin>,
    /// `family:revision` keys whose revision was not in the file (register input shape).
    pub synthetic_revisions: HashSet<String>,
    pub configs: Vec<ConfigFile>,
    /// Variables defined by env files, with their (redacted) values.
    pub variables: BTreeMap<String, String>,
    /// Files found in folders that could not be read (named files fail instead).
    pub notes: Vec<String>,
}

impl LintInputs {
    /// Redacts what compose interpolation filled in from env files (image, ports) and
    /// the names read from them: like the snapshot, nothing here may hold raw text.
    pub(crate) fn redact(&mut self) {
        use crate::snapshot::redact::redact_message as r;
        for c in &mut self.configs {
            for s in &mut c.services {
                s.image = s.image.as_deref().map(r);
            }
            for p in &mut c.ports {
                p.host_ip = r(&p.host_ip);
                p.host_port = r(&p.host_port);
                p.container_port = r(&p.container_port);
            }
            for e in &mut c.env {
                e.name = r(&e.name);
            }
        }
    }
}

/// Key of a task-definition part: `family:rev`, plus `/container`, plus `/what[/name]`.
pub fn part_key(td: &str, container: Option<&str>, what: Option<&str>) -> String {
    let mut k = td.to_string();
    if let Some(c) = container {
        k.push('/');
        k.push_str(c);
    }
    if let Some(w) = what {
        k.push('/');
        k.push_str(w);
    }
    k
}

impl LintInputs {
    /// The position of a part, falling back to its container, then its task definition.
    pub fn origin_of(
        &self,
        td: &str,
        container: Option<&str>,
        what: Option<&str>,
    ) -> Option<&Origin> {
        self.origins
            .get(&part_key(td, container, what))
            .or_else(|| container.and_then(|c| self.origins.get(&part_key(td, Some(c), None))))
            .or_else(|| self.origins.get(td))
    }
}
