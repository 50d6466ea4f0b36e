//! Facts about secret values seen through their fingerprints: the same secret used in
//! several places, and values equal to a published default. Both read the env records
//! the other facts already pushed, so they run last.

use super::data_lines;
use crate::facts::{Index, Loc};
use crate::rules::shapes;
use crate::rules::Source;
use crate::snapshot::redact::{fingerprint, MARKER};
use std::collections::{BTreeMap, BTreeSet};

/// The "stack" a family belongs to: its name without the last `-part`
/// (`supabase-inst-a1b2-auth` → `supabase-inst-a1b2`).
fn stack_of(family: &str) -> &str {
    family.rsplit_once(['-', '_']).map_or(family, |(s, _)| s)
}

fn is_marker(v: &str) -> bool {
    v.starts_with(MARKER) && v.ends_with('>')
}

/// Secret fingerprints used in more than one place: task-definition families (newest
/// revision only, so history does not inflate the numbers) and linted files.
pub fn secret_reuse(ix: &mut Index) {
    // fingerprint → (variable names, places, stacks)
    type Uses = (BTreeSet<String>, BTreeSet<String>, BTreeSet<String>);
    let mut uses: BTreeMap<String, Uses> = BTreeMap::new();
    // Under `lint`, the first file position of each fingerprint, so the finding points
    // at a file.
    let mut first_origin: BTreeMap<String, crate::snapshot::Origin> = BTreeMap::new();
    for r in &ix.records {
        if r.field != Some("env") {
            continue;
        }
        let Some((name, value)) = r.text.split_once('=') else {
            continue;
        };
        if !is_marker(value) {
            continue;
        }
        let Some((place, stack)) = reuse_place(ix, r) else {
            continue;
        };
        if let Some(o) = &r.loc.origin {
            first_origin
                .entry(value.to_string())
                .or_insert_with(|| o.clone());
        }
        let u = uses.entry(value.to_string()).or_default();
        u.0.insert(name.to_string());
        u.1.insert(place);
        u.2.insert(stack);
    }
    let mut out = Vec::new();
    for (fp, (names, places, stacks)) in uses {
        if places.len() < 2 {
            continue;
        }
        let rec = shapes::SecretReuse {
            fingerprint: fp.clone(),
            names: names.iter().cloned().collect::<Vec<_>>().join(","),
            places: places.len(),
            stacks: stacks.len(),
            place_list: places.iter().cloned().collect::<Vec<_>>().join(","),
            stack_list: stacks.iter().cloned().collect::<Vec<_>>().join(","),
        };
        let name = names.iter().next().cloned().unwrap_or_default();
        let origin = first_origin.get(&fp).cloned();
        let locator = match &origin {
            Some(o) => format!("{} (and {} more places)", o.locator(), places.len() - 1),
            None => format!("env {name} in {} places", places.len()),
        };
        let loc = Loc {
            locator: locator.into(),
            origin,
            ..Loc::default()
        };
        out.push((rec, loc));
    }
    for (rec, loc) in out {
        ix.add(&rec, loc);
    }
}

/// The place and stack a secret env record counts for: a task-definition family (its
/// newest revision only) and its stack, or a linted file for both. `None` for records
/// that do not count (older revisions, compose values interpolated from an env file).
fn reuse_place(ix: &Index, r: &crate::facts::Record) -> Option<(String, String)> {
    match (r.source, &r.loc.family, &r.loc.origin) {
        (Source::TaskDefinition, Some(f), _) => {
            if let Some(rev) = r.loc.revision {
                if ix.latest_revision.get(&**f) != Some(&rev) {
                    return None;
                }
            }
            Some((f.to_string(), stack_of(f).to_string()))
        }
        (Source::Compose | Source::EnvFile, _, Some(o)) => {
            // Values interpolated from an env file are that file's copy.
            if r.source == Source::Compose && r.loc.container.is_some() && is_interpolated(ix, r) {
                return None;
            }
            Some((o.file.clone(), o.file.clone()))
        }
        _ => None,
    }
}

/// Set by `files` through the index: compose env records whose value came from `${VAR}`.
fn is_interpolated(ix: &Index, r: &crate::facts::Record) -> bool {
    ix.interpolated.contains(
        &r.loc
            .origin
            .as_ref()
            .map(|o| (o.file.clone(), o.line, o.column))
            .unwrap_or_default(),
    )
}

/// Values that ship in public templates and documentation (rule data, next to SEC003):
/// `label value` lines, compared by fingerprint.
pub(super) const PUBLIC_DEFAULTS: &str =
    include_str!("../../../rules/sec/SEC003-public-default-secrets.txt");

/// Env values whose fingerprint is a published default.
pub fn public_defaults(ix: &mut Index) {
    let known: BTreeMap<String, &str> = data_lines(PUBLIC_DEFAULTS)
        .filter_map(|l| l.split_once(char::is_whitespace))
        .map(|(label, value)| (fingerprint(value.trim()), label))
        .collect();
    let mut out = Vec::new();
    for r in &ix.records {
        if r.field != Some("env") {
            continue;
        }
        let Some((name, value)) = r.text.split_once('=') else {
            continue;
        };
        // A compose value interpolated from an env file is reported at the env file.
        if r.source == Source::Compose && is_interpolated(ix, r) {
            continue;
        }
        if let Some(label) = known.get(value) {
            let rec = shapes::PublicDefault {
                var: name.to_string(),
                known: label.to_string(),
                fingerprint: value.to_string(),
            };
            out.push((rec, r.loc.clone()));
        }
    }
    for (rec, loc) in out {
        ix.add(&rec, loc);
    }
}
