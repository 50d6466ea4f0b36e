//! Facts derived once per snapshot. Every source a rule can look at is flattened into
//! text [`Record`]s with a [`Loc`] (service, task, revision, container, time), and the
//! structural questions that are awkward as regexes — which IPs are live, which
//! security-group paths are open, whether a URI and per-field DB variables disagree,
//! which secret fingerprints are reused — are computed here in code and exposed to rules
//! as `fact` records and named string sets.

use crate::rules::Source;
use crate::snapshot::{split_td, Snapshot};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

pub mod config;
mod dbconfig;
mod efs;
pub mod network;
mod records;
mod resources;
mod sets;
pub mod startpath;
mod taskdefs;

/// Where a record came from. Its names are shared (`Arc<str>`): the log lines of one
/// stream all carry the same ones, and cloning a name is then a count, not a copy.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Loc {
    pub service: Option<Arc<str>>,
    pub task_id: Option<Arc<str>>,
    pub family: Option<Arc<str>>,
    pub revision: Option<i64>,
    pub container: Option<Arc<str>>,
    pub log_group: Option<Arc<str>>,
    pub time: Option<DateTime<Utc>>,
    /// Last time, for a record that folds lines spanning a period (`time` is the first).
    pub last_time: Option<DateTime<Utc>>,
    /// Human-readable locator, e.g. `/ecs/api ecs/app/3f9c…` or `stdin:12`.
    pub locator: Arc<str>,
    /// File position, for records read from files by `lint`.
    pub origin: Option<crate::snapshot::Origin>,
}

/// Which kind of observation a record is, for recency ("was it fixed in a newer revision?").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ObsClass {
    Logs,
    Tasks,
    Config,
    Other,
}

impl Source {
    pub fn obs_class(self) -> ObsClass {
        match self {
            Source::Log => ObsClass::Logs,
            Source::StoppedReason
            | Source::StopCode
            | Source::ContainerReason
            | Source::ExitCode
            | Source::Task
            | Source::LogStream => ObsClass::Tasks,
            Source::TaskDefinition | Source::Compose | Source::EnvFile => ObsClass::Config,
            _ => ObsClass::Other,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Record {
    pub source: Source,
    /// For task-definition and fact records: which field.
    pub field: Option<&'static str>,
    pub text: String,
    pub loc: Loc,
    /// How many identical occurrences this record stands for.
    pub count: u64,
}

/// All records and fact sets of one snapshot.
#[derive(Debug, Default)]
pub struct Index {
    pub records: Vec<Record>,
    by_source: HashMap<(Source, Option<&'static str>), Vec<usize>>,
    pub sets: HashMap<&'static str, HashSet<String>>,
    /// Newest revision per family present in the snapshot.
    pub latest_revision: BTreeMap<String, i64>,
    /// (class, family, revision) combinations that have records.
    pub observed: HashSet<(ObsClass, String, i64)>,
    /// The last entry added to `observed`.
    last_observed: Option<(ObsClass, Arc<str>, i64)>,
    /// family → service running it.
    pub family_service: HashMap<String, String>,
    /// (file, line, column) of compose env values that came from `${VAR}`.
    pub interpolated: HashSet<(String, usize, usize)>,
}

impl Index {
    pub fn records_of(
        &self,
        source: Source,
        field: Option<&str>,
    ) -> impl Iterator<Item = usize> + '_ {
        let key = self
            .by_source
            .keys()
            .find(|(s, f)| *s == source && *f == field)
            .copied();
        key.and_then(|k| self.by_source.get(&k))
            .into_iter()
            .flatten()
            .copied()
    }

    pub fn set(&self, name: &str) -> Option<&HashSet<String>> {
        self.sets.get(name)
    }

    /// Adds a typed record (see [`crate::rules::shapes`]) under its own source and field.
    pub(crate) fn add<S: crate::rules::shapes::Shaped>(&mut self, record: &S, loc: Loc) {
        self.push(S::SHAPE.source, S::SHAPE.field, record.text(), loc, 1);
    }

    pub(crate) fn push(
        &mut self,
        source: Source,
        field: Option<&'static str>,
        text: String,
        loc: Loc,
        count: u64,
    ) {
        if let (Some(f), Some(r)) = (&loc.family, loc.revision) {
            let seen = (source.obs_class(), f, r);
            // Runs of records (a stream's lines) share one; skip hashing it again.
            if self.last_observed.as_ref().map(|(c, f, r)| (*c, f, *r)) != Some(seen) {
                self.observed.insert((seen.0, f.to_string(), r));
                self.last_observed = Some((seen.0, f.clone(), r));
            }
        }
        let i = self.records.len();
        self.records.push(Record {
            source,
            field,
            text,
            loc,
            count,
        });
        self.by_source.entry((source, field)).or_default().push(i);
    }

    /// Builds the index for a snapshot.
    pub fn build(snap: &Snapshot) -> Index {
        Index::build_with(snap, None)
    }

    /// Builds the index for a snapshot plus the files `lint` read (positions, compose
    /// services, env files).
    pub fn build_with(snap: &Snapshot, lint: Option<&crate::snapshot::LintInputs>) -> Index {
        let mut ix = Index::default();
        for td in &snap.task_definitions {
            let e = ix
                .latest_revision
                .entry(td.family.clone())
                .or_insert(td.revision);
            *e = (*e).max(td.revision);
        }
        for svc in &snap.services {
            if let Some((fam, _)) = svc.task_definition.as_deref().and_then(split_td) {
                ix.family_service.insert(fam, svc.name.clone());
            }
            for d in &svc.deployments {
                if let Some((fam, _)) = split_td(&d.task_definition) {
                    ix.family_service
                        .entry(fam)
                        .or_insert_with(|| svc.name.clone());
                }
            }
        }
        records::services(&mut ix, snap);
        let task_loc = records::tasks(&mut ix, snap);
        taskdefs::task_definitions(&mut ix, snap, lint);
        if let Some(l) = lint {
            config::files(&mut ix, l);
        }
        records::logs(&mut ix, snap, &task_loc);
        records::misc(&mut ix, snap);
        sets::sets(&mut ix, snap);
        config::sets(&mut ix, snap, lint);
        network::sg_paths(&mut ix, snap);
        network::lb_paths(&mut ix, snap);
        startpath::aws_paths(&mut ix, snap);
        resources::log_groups(&mut ix, snap);
        resources::secret_refs(&mut ix, snap);
        resources::images(&mut ix, snap);
        resources::roles(&mut ix, snap);
        efs::efs_paths(&mut ix, snap);
        dbconfig::db_config(&mut ix, snap, lint);
        config::env_hosts(&mut ix, snap, lint);
        config::task_health(&mut ix, snap, lint);
        config::secret_reuse(&mut ix);
        config::public_defaults(&mut ix);
        ix
    }
}

/// The task definition a service runs, when the snapshot has it.
pub(crate) fn service_td<'a>(
    snap: &'a Snapshot,
    svc: &crate::snapshot::Service,
) -> Option<&'a crate::snapshot::TaskDefinition> {
    let key = svc.task_definition.as_deref()?;
    snap.task_definitions.iter().find(|t| t.key() == key)
}

pub(crate) fn td_loc(ix: &Index, td: &str) -> (Option<String>, Option<i64>, Option<String>) {
    match split_td(td) {
        Some((f, r)) => {
            let svc = ix.family_service.get(&f).cloned();
            (Some(f), Some(r), svc)
        }
        None => (None, None, None),
    }
}

/// Host of a URL-shaped value (`scheme://[user[:pass]@]host[:port]/...`).
pub fn host_of(value: &str) -> Option<String> {
    let rest = value.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = hostport.strip_prefix('[') {
        v6.split(']').next()?
    } else {
        hostport.split(':').next()?
    };
    (!host.is_empty()).then(|| host.to_string())
}

/// Where an environment variable of a task definition is: its file position under
/// `lint`, else `task definition family:rev container C env NAME`.
pub(crate) fn env_loc(
    ix: &Index,
    td: &crate::snapshot::TaskDefinition,
    container: &str,
    name: &str,
    lint: Option<&crate::snapshot::LintInputs>,
) -> Loc {
    let key = td.key();
    let synthetic = lint.is_some_and(|l| l.synthetic_revisions.contains(&key));
    let origin = lint
        .and_then(|l| {
            l.origins.get(&crate::snapshot::part_key(
                &key,
                Some(container),
                Some(&format!("env/{name}")),
            ))
        })
        .cloned();
    Loc {
        service: ix.family_service.get(&td.family).cloned().map(Into::into),
        family: Some(td.family.as_str().into()),
        revision: (!synthetic).then_some(td.revision),
        container: Some(container.to_string().into()),
        time: td.registered_at,
        locator: match &origin {
            Some(o) => o.locator().into(),
            None => format!("task definition {key} container {container} env {name}").into(),
        },
        origin,
        ..Loc::default()
    }
}

/// The first 12 characters of an id (at a character boundary: ids come from input).
pub(crate) fn short(id: &str) -> &str {
    id.char_indices().nth(12).map_or(id, |(i, _)| &id[..i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_of_urls() {
        assert_eq!(host_of("postgres://u:p@db:5432/x").as_deref(), Some("db"));
        assert_eq!(host_of("http://10.0.1.2:8080").as_deref(), Some("10.0.1.2"));
        assert_eq!(host_of("not a url"), None);
    }
}
