//! The `db-config` fact: a connection URI and per-field host variables side by side in
//! one container, compose service or env file, and whether they name the same host.

use super::{env_loc, host_of, Index, Loc};
use crate::rules::shapes::DbConfig;
use crate::snapshot::Snapshot;
use std::collections::BTreeMap;

/// A connection URI and per-field host variables in the same container (or compose
/// service, or env file).
pub(super) fn db_config(
    ix: &mut Index,
    snap: &Snapshot,
    lint: Option<&crate::snapshot::LintInputs>,
) {
    struct Bag<'a> {
        vars: Vec<(&'a str, &'a str, Loc)>,
    }
    let mut bags: Vec<Bag> = Vec::new();
    for td in &snap.task_definitions {
        for c in &td.containers {
            let vars = c
                .environment
                .iter()
                .map(|e| {
                    let loc = env_loc(ix, td, &c.name, &e.name, lint);
                    (e.name.as_str(), e.value.as_str(), loc)
                })
                .collect();
            bags.push(Bag { vars });
        }
    }
    if let Some(l) = lint {
        for f in &l.configs {
            let mut scopes: BTreeMap<Option<&str>, Vec<(&str, &str, Loc)>> = BTreeMap::new();
            for e in &f.env {
                let loc = Loc {
                    container: e.scope.as_deref().map(Into::into),
                    locator: e.origin.locator().into(),
                    origin: Some(e.origin.clone()),
                    ..Loc::default()
                };
                scopes.entry(e.scope.as_deref()).or_default().push((
                    e.name.as_str(),
                    e.value.as_str(),
                    loc,
                ));
            }
            bags.extend(scopes.into_values().map(|vars| Bag { vars }));
        }
    }
    for bag in &bags {
        let uris: Vec<_> = bag
            .vars
            .iter()
            .filter(|(_, v, _)| crate::dbenv::db_url_scheme(v).is_some())
            .filter_map(|(n, v, l)| host_of(v.trim_start_matches("jdbc:")).map(|h| (*n, h, l)))
            .collect();
        let fields: Vec<_> = bag
            .vars
            .iter()
            .filter(|(n, _, _)| crate::dbenv::is_db_host_var(n))
            .collect();
        for (uname, uh, uloc) in &uris {
            for (fname, fval, floc) in &fields {
                let conflict = !uh.eq_ignore_ascii_case(fval.trim());
                let rec = DbConfig {
                    uri_var: uname.to_string(),
                    uri_host: uh.clone(),
                    field_var: fname.to_string(),
                    field_host: fval.to_string(),
                    conflict,
                };
                let mut loc = (*uloc).clone();
                loc.locator = match (&uloc.origin, &floc.origin) {
                    (Some(u), Some(f)) => format!(
                        "{} / {}:{}:{} {}",
                        u.locator(),
                        f.file,
                        f.line,
                        f.column,
                        f.path
                    )
                    .into(),
                    _ => format!("{} / {}", uloc.locator, fname).into(),
                };
                ix.add(&rec, loc);
            }
        }
    }
}
